from odoo.exceptions import AccessError, UserError
from odoo.tests.common import new_test_user

from odoo.addons.mail.tests.common import MockEmail

from .common import NotifyCase, warsaw


class TestSendReportNow(NotifyCase, MockEmail):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.email = "office@agency.example"
        cls.manager = new_test_user(
            cls.env,
            login="report_manager",
            name="Maria Kierownik",
            email="maria@agency.example",
            groups="insurance_notify.group_insurance_manager",
        )
        cls.broker = new_test_user(
            cls.env, login="report_broker", groups="insurance_notify.group_insurance_user"
        )

    def test_a_report_set_up_today_is_seen_today_and_tomorrows_still_leaves(self):
        self.env["ir.config_parameter"].sudo().set_param("insurance_notify.daily_report_date", "")
        rule = self.make_rule("7", report_user_ids=self.manager.ids).with_user(self.manager)
        self.set_now(warsaw(self.TODAY, 15))  # configured in the afternoon
        with self.mock_mail_gateway():
            action = rule.action_send_report_now()
            self.env["mail.mail"].sudo().search([("email_to", "ilike", "maria@")]).send()
        self.assertIn("Maria Kierownik", action["params"]["message"])
        self.assertSentEmail(self.env.company.email_formatted, [self.manager.email_formatted])
        # The morning report of tomorrow is not spent by it.
        self.assertFalse(
            self.env["ir.config_parameter"].sudo().get_param("insurance_notify.daily_report_date")
        )

    def test_without_readers_it_says_so(self):
        rule = self.make_rule("7").with_user(self.manager)
        with self.assertRaisesRegex(UserError, "daily report"):
            rule.action_send_report_now()

    def test_a_broker_cannot_send_it(self):
        rule = self.make_rule("7", report_user_ids=self.manager.ids)
        with self.assertRaises(AccessError):
            rule.with_user(self.broker).action_send_report_now()
