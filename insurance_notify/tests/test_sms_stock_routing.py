from odoo.exceptions import ValidationError
from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from odoo.addons.sms.tools.sms_api import SmsApi

from ..lib.notify_engine.gateways import DeliveryReport, SandboxGateway
from .common import NotifyCase
from .sms_common import FakeSmsapi, make_smsapi_gateway


def fake_iap(calls):
    """A stand-in for IAP's SMS endpoint that records what it was asked to send."""

    def send(_api, messages, delivery_reports_url=False):
        calls.append(messages)
        return [
            {"uuid": number["uuid"], "state": "success"}
            for message in messages
            for number in message["numbers"]
        ]

    return send


class TestStockSmsRouting(NotifyCase):
    """Chatter SMS, the composer and automated actions leave through the gateway
    an administrator chose in the settings. The demo data chooses none (stock
    SMS stay on IAP); here the administrator chooses the sandbox, as
    ``make run`` does for its demo database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env,
            login="routing_admin",
            groups="base.group_system,base.group_partner_manager,"
            "insurance_notify.group_insurance_manager",
        )
        cls.demo_routing = cls.env["res.company"].search(
            [("insurance_stock_sms_gateway_id", "!=", False)]
        )
        cls.env["res.config.settings"].with_user(cls.admin).create(
            {"insurance_stock_sms_gateway_id": cls.env.ref("insurance_notify.gateway_sandbox").id}
        ).execute()

    def post_sms(self, body="Hello from the chatter", user=None):
        client = self.client.with_user(user) if user else self.client
        message = client._message_sms(body)
        self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).with_user(
            user or self.env.user
        ).send(unlink_sent=False)
        sms = self.env["sms.sms"].sudo().search([("mail_message_id", "=", message.id)])
        return message, sms

    def choose_in_settings(self, gateway, user=None):
        """What an administrator does in Settings > Insurance > SMS."""
        settings = self.env["res.config.settings"].with_user(user or self.admin)
        settings.create({"insurance_stock_sms_gateway_id": gateway.id}).execute()

    def test_the_demo_data_leaves_stock_sms_on_iap(self):
        # Odoo's runbot and OCA's CI run the stock suites on a demo database:
        # the demo must not change where their SMS go.
        self.assertFalse(self.demo_routing)
        self.choose_in_settings(self.env["insurance.notify.gateway"])
        calls = []
        self.patch(SmsApi, "_send_sms_batch", fake_iap(calls))
        _message, sms = self.post_sms("Demo chatter", user=self.admin)
        self.assertEqual([m["content"] for m in calls[0]], ["Demo chatter"])
        self.assertEqual(sms.state, "pending")
        self.assertFalse(SandboxGateway.outbox)

    def test_a_chatter_sms_goes_to_the_sandbox_and_says_it_was_not_sent(self):
        message, sms = self.post_sms()
        self.assertEqual(
            [(s.number, s.body, s.key) for s in SandboxGateway.outbox],
            [("+48600123456", "Hello from the chatter", sms.uuid)],
        )
        self.assertEqual(sms.state, "canceled")
        self.assertTrue(sms.provider_ref.startswith("sandbox-"))
        self.assertRecordValues(
            message.notification_ids,
            [
                {
                    "notification_status": "canceled",
                    "failure_type": "unknown",
                    "failure_reason": "Sandbox (not sent)",
                }
            ],
        )

    def test_the_sandbox_mark_is_in_the_readers_language(self):
        self.env["res.lang"]._activate_lang("pl_PL")
        self.env["res.lang"]._activate_lang("lt_LT")
        for lang, expected in (
            ("pl_PL", "Piaskownica (nie wysłano)"),
            ("lt_LT", "Smėlio dėžė (neišsiųsta)"),
        ):
            with self.subTest(lang=lang):
                self.env["ir.module.module"]._load_module_terms(["insurance_notify"], [lang])
                message = self.client.with_context(lang=lang)._message_sms("Cześć / Labas")
                self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).with_context(
                    lang=lang
                ).send(unlink_sent=False)
                self.assertEqual(message.notification_ids.failure_reason, expected)

    def test_the_sms_composer_goes_through_the_gateway(self):
        composer = (
            self.env["sms.composer"]
            .with_context(active_model="res.partner", active_id=self.client.id)
            .create({"body": "Composer text", "composition_mode": "comment"})
        )
        composer.action_send_sms()
        self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).send()
        self.assertEqual([s.body for s in SandboxGateway.outbox], ["Composer text"])

    def test_a_delivery_report_marks_the_chatter_notification_delivered(self):
        with FakeSmsapi() as fake:
            gateway = make_smsapi_gateway(self.env, fake.url)
            self.choose_in_settings(gateway)
            message, sms = self.post_sms(user=self.admin)
        self.assertEqual(sms.state, "pending")
        self.assertEqual(sms.sms_tracker_id.provider_ref, sms.provider_ref)
        found = gateway._apply_delivery_reports(
            [DeliveryReport(provider_ref=sms.provider_ref, key=None, state="delivered")]
        )
        self.assertEqual(found, 1)
        self.assertEqual(message.notification_ids.notification_status, "sent")
        self.assertEqual(sms.state, "sent")

    def test_an_undelivered_report_bounces_the_notification(self):
        with FakeSmsapi() as fake:
            gateway = make_smsapi_gateway(self.env, fake.url)
            self.choose_in_settings(gateway)
            message, sms = self.post_sms(user=self.admin)
        gateway._apply_delivery_reports(
            [DeliveryReport(provider_ref=None, key=sms.uuid, state="failed", reason="EXPIRED")]
        )
        self.assertRecordValues(
            message.notification_ids,
            [{"notification_status": "exception", "failure_type": "sms_expired"}],
        )

    def test_a_number_that_cannot_be_read_fails_as_number_format(self):
        # The client card refuses such a number; older data may still hold one.
        self.env.cr.execute("UPDATE res_partner SET mobile = '12' WHERE id = %s", [self.client.id])
        self.client.invalidate_recordset(["mobile"])
        _message, sms = self.post_sms()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_number_format"))
        self.assertFalse(SandboxGateway.outbox)

    @mute_logger("odoo.addons.insurance_notify.lib.notify_engine.gateways.smsapi")
    def test_provider_errors_map_to_stock_failure_types(self):
        with FakeSmsapi() as fake:
            self.choose_in_settings(make_smsapi_gateway(self.env, fake.url))
            for code, failure_type in (
                (13, "sms_number_format"),
                (103, "sms_credit"),
                (101, "sms_acc"),
                (999, "sms_server"),
            ):
                with self.subTest(code=code):
                    fake.fail_with(code)
                    message, sms = self.post_sms()
                    self.assertEqual((sms.state, sms.failure_type), ("error", failure_type))
                    self.assertEqual(message.notification_ids.failure_type, failure_type)
            fake.respond(FakeSmsapi()._answer)
            _message, sms = self.post_sms()
            self.assertEqual(sms.state, "pending")
            self.assertEqual(fake.received[-1].form["idx"], sms.uuid)
            self.assertEqual(fake.received[-1].form["to"], "48600123456")

    def test_an_archived_chosen_gateway_sends_nothing_stock_sms_use_iap(self):
        self.env["insurance.notify.gateway"].search([]).action_archive()
        calls = []
        self.patch(SmsApi, "_send_sms_batch", fake_iap(calls))
        _message, sms = self.post_sms()
        self.assertEqual(calls[0][0]["content"], "Hello from the chatter")
        self.assertEqual(sms.state, "pending")
        self.assertFalse(SandboxGateway.outbox)

    def test_without_a_choice_stock_sms_use_iap_even_with_gateways(self):
        # A fresh install: gateways for reminders exist, nobody chose one for stock SMS.
        self.choose_in_settings(self.env["insurance.notify.gateway"])
        self.assertFalse(self.env.company.insurance_stock_sms_gateway_id)
        calls = []
        self.patch(SmsApi, "_send_sms_batch", fake_iap(calls))
        with FakeSmsapi() as fake:
            make_smsapi_gateway(self.env, fake.url)
            _message, sms = self.post_sms(user=self.admin)
            self.assertFalse(fake.received)
        self.assertEqual([m["content"] for m in calls[0]], ["Hello from the chatter"])
        self.assertEqual(sms.state, "pending")
        self.assertFalse(SandboxGateway.outbox)

    def test_an_administrator_chooses_a_gateway_and_stock_sms_go_through_it(self):
        calls = []
        self.patch(SmsApi, "_send_sms_batch", fake_iap(calls))
        with FakeSmsapi() as fake:
            gateway = make_smsapi_gateway(self.env, fake.url, sequence=50)
            self.choose_in_settings(gateway)
            self.assertEqual(self.env.company.insurance_stock_sms_gateway_id, gateway)
            message, sms = self.post_sms("Chatter through SMSAPI", user=self.admin)
            composer = (
                self.env["sms.composer"]
                .with_user(self.admin)
                .with_context(active_model="res.partner", active_id=self.client.id)
                .create({"body": "Composer through SMSAPI", "composition_mode": "comment"})
            )
            composer.action_send_sms()
            self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).with_user(
                self.admin
            ).send()
            self.assertEqual(
                [(r.form["to"], r.form["message"]) for r in fake.received],
                [
                    ("48600123456", "Chatter through SMSAPI"),
                    ("48600123456", "Composer through SMSAPI"),
                ],
            )
        self.assertFalse(calls)
        self.assertFalse(SandboxGateway.outbox)
        self.assertEqual(sms.state, "pending")
        self.assertEqual(message.notification_ids.notification_status, "pending")

    def test_going_back_to_iap_in_the_settings(self):
        calls = []
        self.patch(SmsApi, "_send_sms_batch", fake_iap(calls))
        self.choose_in_settings(self.env["insurance.notify.gateway"])
        self.post_sms(user=self.admin)
        self.assertEqual(len(calls), 1)
        self.assertFalse(SandboxGateway.outbox)

    def test_the_choice_is_per_company(self):
        other = self.env["res.company"].create({"name": "Second Agency"})
        other_admin = new_test_user(
            self.env,
            login="routing_admin_2",
            groups="base.group_system,base.group_partner_manager",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        calls = []
        self.patch(SmsApi, "_send_sms_batch", fake_iap(calls))
        client = self.client.with_user(other_admin)
        client.sudo().company_id = False
        client._message_sms("From the second agency")
        self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).with_user(
            other_admin
        ).send()
        self.assertEqual(len(calls), 1)
        self.assertFalse(SandboxGateway.outbox)
        # The first company's sandbox cannot be chosen for the second.
        with self.assertRaisesRegex(ValidationError, "belongs to"):
            other.insurance_stock_sms_gateway_id = self.env.ref("insurance_notify.gateway_sandbox")

    def test_only_administrators_see_the_stock_sms_setting(self):
        manager = new_test_user(
            self.env, login="routing_manager", groups="insurance_notify.group_insurance_manager"
        )
        fields = self.env["res.config.settings"].with_user(manager).fields_get()
        self.assertNotIn("insurance_stock_sms_gateway_id", fields)
        self.assertIn(
            "insurance_stock_sms_gateway_id",
            self.env["res.config.settings"].with_user(self.admin).fields_get(),
        )
