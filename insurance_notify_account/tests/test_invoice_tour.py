from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from odoo.addons.insurance_notify.tests.common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestInvoicePaymentTour(NotifyHttpCase):
    def test_a_payment_cancels_the_queued_reminder(self):
        env = self.env
        env["insurance.notify.rule"].search([]).action_archive()
        today = env["insurance.notify.message"]._today()
        client = env["res.partner"].create(
            {"name": "Tour Invoice Client", "mobile": "+48 600 999 222", "lang": "en_US"}
        )
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": client.id,
                "invoice_date": today - timedelta(days=10),
                "invoice_date_due": today + timedelta(days=3),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Premium", "price_unit": 500.0, "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )
        invoice.action_post()
        rule = env.ref("insurance_notify_account.rule_invoice_due")
        # Whatever the hour the suite runs at, the reminder waits in the queue:
        # the planner queues it, only the dispatcher cron sends it.
        rule.action_unarchive()
        line = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        message = env["insurance.notify.message"].search(
            [("res_model", "=", "account.move.line"), ("res_id", "=", line.id)]
        )
        self.assertEqual(message.state, "queued")

        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
            "insurance_notify_account_invoice_payment",
            login="admin",
        )
        self.assertRecordValues(
            message,
            [{"state": "cancelled", "reason_code": "invoice_paid", "reason": "invoice paid"}],
        )
