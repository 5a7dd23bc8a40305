from datetime import date, timedelta

from odoo.addons.mail.tests.common import MockEmail

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase, warsaw


class EventsCase(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.installment_template = cls.env["sms.template"].create(
            {
                "name": "Installment",
                "model_id": cls.env["ir.model"]._get_id("insurance.policy.installment"),
                "body": "{{ object.amount }} due {{ object.date_due }} "
                "for {{ object.policy_id.name }}",
            }
        )
        cls.partner_template = cls.env["sms.template"].create(
            {
                "name": "Partner",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "body": "Dear {{ object.name }}",
            }
        )

    def installment(self, due_in, state="open"):
        policy = self.make_policy(200)
        return self.env["insurance.policy.installment"].create(
            {
                "policy_id": policy.id,
                "date_due": self.TODAY + timedelta(days=due_in),
                "amount": 250,
                "state": state,
            }
        )


class TestInstallmentEvents(EventsCase):
    def test_an_installment_due_in_five_days_is_reminded_with_its_amount(self):
        installment = self.installment(5)
        self.make_rule(
            "5", event_type="installment_due", sms_template_id=self.installment_template.id
        )
        self.run_crons()
        message = self.messages_of(installment)
        self.assertRecordValues(
            message, [{"state": "sent", "policy_id": installment.policy_id.id, "offset": 5}]
        )
        self.assertIn("250", SandboxGateway.outbox[0].body)
        self.assertIn(installment.policy_id.name, SandboxGateway.outbox[0].body)

    def test_a_paid_installment_is_skipped_with_the_reason(self):
        installment = self.installment(5, state="paid")
        self.make_rule(
            "5", event_type="installment_due", sms_template_id=self.installment_template.id
        )
        self.assertRecordValues(
            self.messages_of(installment), [{"state": "skipped", "reason": "installment paid"}]
        )

    def test_overdue_offsets_count_days_after_the_due_date(self):
        overdue = self.installment(-3)
        paid_late = self.installment(-3, state="paid")
        not_yet = self.installment(3)
        self.make_rule(
            "3,10", event_type="installment_overdue", sms_template_id=self.installment_template.id
        )
        self.assertEqual(self.messages_of(overdue).offset, 3)
        self.assertFalse(self.messages_of(paid_late | not_yet))
        self.set_now(warsaw(self.TODAY + timedelta(days=7), 10))
        self.run_crons()
        self.assertEqual(sorted(self.messages_of(overdue).mapped("offset")), [3, 10])

    def test_paying_an_installment_cancels_its_queued_reminder(self):
        installment = self.installment(5)
        self.set_now(warsaw(self.TODAY, 22))
        self.make_rule(
            "5", event_type="installment_due", sms_template_id=self.installment_template.id
        )
        installment.action_mark_paid()
        self.assertEqual(self.messages_of(installment).state, "cancelled")


class TestPartnerEvents(EventsCase):
    def setUp(self):
        super().setUp()
        # A shared card is a company's client once it holds one of its policies.
        self.make_policy(200)

    def test_a_birthday_is_wished_on_the_day_every_year(self):
        self.client.write({"birthdate": date(1980, 11, 23), "consent_birthday": True})
        self.make_rule(
            "0",
            event_type="birthday",
            sms_template_id=self.partner_template.id,
            consent_mode="specific",
        )
        self.assertEqual(self.messages_of(self.client).event_date, self.TODAY)
        next_year = date(2027, 11, 23)
        self.set_now(warsaw(next_year, 10))
        self.run_crons()
        self.assertEqual(
            self.messages_of(self.client).mapped("event_date"), [next_year, self.TODAY]
        )

    def test_a_29_february_birthday_is_wished_on_the_28th_in_other_years(self):
        self.client.write({"birthdate": date(1984, 2, 29), "consent_birthday": True})
        self.set_now(warsaw(date(2027, 2, 28), 10))
        self.make_rule("0", event_type="birthday", sms_template_id=self.partner_template.id)
        self.assertEqual(self.messages_of(self.client).event_date, date(2027, 2, 28))

    def test_a_consent_about_to_lapse_gets_a_renewal_request(self):
        self.client.consent_valid_until = self.TODAY + timedelta(days=14)
        self.make_rule("14", event_type="consent_renewal", sms_template_id=self.partner_template.id)
        self.run_crons()
        self.assertEqual(self.messages_of(self.client).state, "sent")


class TestConsent(EventsCase):
    def test_general_mode_needs_marketing_and_channel_consent(self):
        policy = self.make_policy(7)
        self.make_rule("7", consent_mode="general")
        self.assertRecordValues(
            self.messages_of(policy), [{"state": "skipped", "reason": "no consent to SMS"}]
        )
        self.client.write({"consent_sms": True, "consent_marketing": True})
        other = self.make_policy(7, name="OTHER/7")
        self.Rule.search([]).write({"offsets": "7"})
        self.assertEqual(self.messages_of(other).state, "queued")

    def test_specific_mode_needs_the_consent_to_that_notification(self):
        self.client.write({"consent_sms": True, "consent_marketing": True})
        policy = self.make_policy(7)
        self.make_rule("7", consent_mode="specific")
        self.assertEqual(self.messages_of(policy).reason, "no consent to this notification")

    def test_a_withdrawal_wins_over_a_queued_message(self):
        self.client.write({"consent_sms": True, "consent_marketing": True})
        policy = self.make_policy(7)
        self.set_now(warsaw(self.TODAY, 22))
        self.make_rule("7", consent_mode="general")
        message = self.messages_of(policy)
        self.assertEqual(message.state, "queued")
        self.client.consent_sms = False
        self.set_now(warsaw(self.TODAY + timedelta(days=1), 9))
        self.Message._cron_dispatch()
        self.assertRecordValues(message, [{"state": "skipped", "reason": "no consent to SMS"}])
        self.assertFalse(SandboxGateway.outbox)

    def test_an_opt_out_stops_even_a_service_reminder(self):
        policy = self.make_policy(7)
        self.set_now(warsaw(self.TODAY, 22))
        self.make_rule("7")
        self.env["phone.blacklist"].sudo().add("+48600123456")
        self.set_now(warsaw(self.TODAY + timedelta(days=1), 9))
        self.Message._cron_dispatch()
        self.assertEqual(self.messages_of(policy).reason, "SMS blacklisted (opted out)")


class TestEmailChannel(MockEmail, EventsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client.email = "jan.testowy@example.com"
        cls.mail_template = cls.env["mail.template"].create(
            {
                "name": "Expiry mail",
                "model_id": cls.env["ir.model"]._get_id("insurance.policy"),
                "subject": "Policy {{ object.name }} ends soon",
                "body_html": "<p>Your policy ends on <t t-out='object.date_end'/>.</p>",
            }
        )

    def test_an_email_rule_sends_through_the_mail_template(self):
        policy = self.make_policy(7)
        with self.mock_mail_gateway():
            self.make_rule(
                "7", channel="email", mail_template_id=self.mail_template.id, sms_template_id=False
            )
            self.Message._cron_dispatch()
        message = self.messages_of(policy)
        self.assertRecordValues(
            message,
            [
                {
                    "channel": "email",
                    "state": "sent",
                    "email": "jan.testowy@example.com",
                    "body": f"Policy {policy.name} ends soon",
                }
            ],
        )
        self.assertSentEmail(
            self.env.user.partner_id.email_formatted,
            ["jan.testowy@example.com"],
            subject=f"Policy {policy.name} ends soon",
        )
        self.assertFalse(SandboxGateway.outbox)

    def test_sms_else_email_falls_back_for_clients_without_a_mobile(self):
        with_mobile = self.make_policy(7)
        other_client = self.env["res.partner"].create(
            {"name": "No Mobile", "email": "no.mobile@example.com"}
        )
        without_mobile = self.make_policy(7, partner_id=other_client.id, name="NOMOBILE/7")
        with self.mock_mail_gateway():
            self.make_rule("7", channel="sms_email", mail_template_id=self.mail_template.id)
            self.Message._cron_dispatch()
        self.assertEqual(self.messages_of(with_mobile).channel, "sms")
        self.assertEqual(self.messages_of(without_mobile).channel, "email")
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertEqual(len(self._mails), 1)

    def test_sms_else_email_skips_a_client_with_neither(self):
        nobody = self.env["res.partner"].create({"name": "Unreachable"})
        policy = self.make_policy(7, partner_id=nobody.id, name="NOBODY/7")
        self.make_rule("7", channel="sms_email", mail_template_id=self.mail_template.id)
        self.assertRecordValues(
            self.messages_of(policy), [{"state": "skipped", "reason": "no valid mobile number"}]
        )
