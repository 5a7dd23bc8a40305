"""Invoice reminders have outcomes too: paid in full by the due date plus the
company's grace period."""

from datetime import timedelta

from odoo.addons.insurance_notify.lib.notify_engine.gateways import SandboxGateway
from odoo.addons.insurance_notify.tests.common import warsaw

from .common import InvoiceCase


class TestInvoiceOutcomes(InvoiceCase):
    def test_paying_the_invoice_converts_its_reminder_at_once(self):
        invoice = self.make_invoice(due_in=3)
        self.invoice_rule("invoice_due", "3")
        self.run_crons()
        message = self.messages_of(self.due_lines(invoice))
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertRecordValues(message, [{"state": "sent", "outcome": "pending"}])
        self.set_now(warsaw(self.TODAY + timedelta(days=2), 10))
        self.pay(invoice)
        self.assertRecordValues(message, [{"outcome": "converted", "outcome_days": 0}])
        # Paid with the payment's date (the register wizard's), not the day it was typed.
        self.assertEqual(message.outcome_date, self.TODAY)

    def test_a_partly_paid_invoice_does_not_convert(self):
        invoice = self.make_invoice(due_in=3)
        self.invoice_rule("invoice_due", "3")
        self.run_crons()
        message = self.messages_of(self.due_lines(invoice))
        self.pay(invoice, amount=840)
        self.assertEqual(message.outcome, "pending")
        deadline = self.TODAY + timedelta(days=3 + 30)
        self.set_now(warsaw(deadline + timedelta(days=1), 3))
        self.Message._cron_settle_outcomes()
        self.assertRecordValues(message, [{"outcome": "not_converted", "outcome_date": deadline}])
