from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestRulesTour(NotifyHttpCase):
    def setUp(self):
        super().setUp()
        self.env["insurance.notify.rule"].search([]).action_archive()
        # The company's local date, as the dry run reads it (not UTC's: near
        # midnight they differ).
        today = self.env["insurance.notify.message"]._today()
        self.template = self.env["sms.template"].create(
            {
                "name": "Tour expiry template",
                "model_id": self.env["ir.model"]._get_id("insurance.policy"),
                "body": "Policy {{ object.name }} ends on {{ object.date_end }}.",
            }
        )
        self.client = self.env["res.partner"].create(
            {
                "name": "Tour Dry Client",
                "mobile": "+48 600 777 888",
                "country_id": self.env.ref("base.pl").id,
            }
        )
        self.policy = self.env["insurance.policy"].create(
            {
                "name": "TOUR/DRY/1",
                "partner_id": self.client.id,
                "insurer_id": self.env["res.partner"]
                .create({"name": "Tour Insurer", "is_insurer": True})
                .id,
                "product_id": self.env["insurance.product"].create({"name": "Tour Motor"}).id,
                "date_start": today - timedelta(days=300),
                # Seven days before its end is tomorrow.
                "date_end": today + timedelta(days=8),
                "state": "valid",
            }
        )
        self.sent = self.env["insurance.notify.message"].create(
            {
                "key": "tour-sent-1",
                "company_id": self.env.company.id,
                "res_model": "insurance.policy",
                "res_id": self.policy.id,
                "policy_id": self.policy.id,
                "partner_id": self.client.id,
                "channel": "sms",
                "number": "+48600777888",
                "state": "sent",
                "scheduled_at": fields.Datetime.now() - timedelta(days=7),
                "sent_at": fields.Datetime.now() - timedelta(days=7),
                "body": "Policy TOUR/DRY/1 ends soon.",
            }
        )

    def test_an_administrator_creates_a_rule_checks_tomorrow_and_finds_the_history(self):
        self.start_tour("/odoo", "insurance_notify_rules_dry_run", login="admin")

        rule = self.env["insurance.notify.rule"].search([("name", "=", "Tour expiry SMS")])
        self.assertRecordValues(
            rule,
            [{"event_type": "policy_expiry", "offsets": "7", "sms_template_id": self.template.id}],
        )
        # The dry run planned nothing: the client still has only last week's message.
        self.assertEqual(
            self.env["insurance.notify.message"].search([("partner_id", "=", self.client.id)]),
            self.sent,
        )
