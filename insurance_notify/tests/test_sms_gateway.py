from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import mute_logger

from ..lib.notify_engine.gateways import (
    DeliveryReport,
    SandboxGateway,
    SendResult,
    SmsapiGateway,
    TwilioGateway,
)
from .common import NotifyCase
from .sms_common import TOKEN, FakeSmsapi, make_smsapi_gateway, make_twilio_gateway


class TestGatewayConfiguration(NotifyCase):
    def test_credentials_are_for_the_system_group_only(self):
        gateway = make_smsapi_gateway(self.env, "http://127.0.0.1:9")
        manager = self.env["res.users"].create(
            {
                "name": "Insurance Manager",
                "login": "insurance_manager_not_system",
                "groups_id": [
                    (6, 0, [self.env.ref("insurance_notify.group_insurance_manager").id])
                ],
            }
        )
        self.assertFalse(manager.has_group("base.group_system"))
        as_manager = gateway.with_user(manager)
        self.assertEqual(as_manager.name, "SMSAPI test")
        for field in ("smsapi_token", "twilio_auth_token", "webhook_secret"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                as_manager.read([field])
        self.assertEqual(gateway.with_user(self.env.ref("base.user_admin")).smsapi_token, TOKEN)

    def test_the_form_shows_credentials_to_the_system_group_only(self):
        manager = self.env["res.users"].create(
            {
                "name": "Insurance Manager",
                "login": "insurance_manager_form",
                "groups_id": [
                    (6, 0, [self.env.ref("insurance_notify.group_insurance_manager").id])
                ],
            }
        )
        Gateway = self.env["insurance.notify.gateway"]
        admin_arch = Gateway.with_user(self.env.ref("base.user_admin")).get_views(
            [(False, "form")]
        )["views"]["form"]["arch"]
        manager_arch = Gateway.with_user(manager).get_views([(False, "form")])["views"]["form"][
            "arch"
        ]
        for name in ("smsapi_token", "twilio_auth_token", "delivery_report_url"):
            self.assertIn(f'name="{name}"', admin_arch)
            self.assertNotIn(f'name="{name}"', manager_arch)
        self.assertIn('name="cost_per_part"', manager_arch)
        for model in ("insurance.sms.test", "sms.template.preview", "sms.template"):
            arch = self.env[model].get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertIn("sms_", arch)

    def test_each_provider_gets_its_adapter_with_the_delivery_report_address(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://erp.example")
        smsapi = make_smsapi_gateway(self.env, "http://127.0.0.1:9", test_mode=True)
        adapter = smsapi._make_adapter()
        self.assertIsInstance(adapter, SmsapiGateway)
        self.assertTrue(adapter.test_mode)
        self.assertEqual(adapter.sender, "Broker")
        self.assertEqual(
            adapter.notify_url,
            f"https://erp.example/insurance_notify/dlr/smsapi/{smsapi.webhook_secret}",
        )
        self.assertGreaterEqual(len(smsapi.webhook_secret), 24)

        twilio = make_twilio_gateway(self.env, "http://127.0.0.1:9")
        adapter = twilio._make_adapter()
        self.assertIsInstance(adapter, TwilioGateway)
        self.assertEqual(
            adapter.status_callback,
            f"https://erp.example/insurance_notify/dlr/twilio/{twilio.webhook_secret}",
        )
        self.assertNotEqual(smsapi.webhook_secret, twilio.webhook_secret)
        sandbox = self.env.ref("insurance_notify.gateway_sandbox")
        self.assertIsInstance(sandbox._make_adapter(), SandboxGateway)

    def test_a_gateway_without_credentials_says_so(self):
        gateway = make_smsapi_gateway(self.env, "http://127.0.0.1:9", smsapi_token=False)
        with self.assertRaisesRegex(UserError, "has no SMSAPI token"):
            gateway._make_adapter()

    def test_test_connection_gives_a_clear_answer(self):
        with FakeSmsapi() as fake:
            gateway = make_smsapi_gateway(self.env, fake.url, test_mode=True)
            action = gateway.action_test_connection()
            self.assertEqual(action["params"]["type"], "success")
            self.assertEqual(action["params"]["message"], "SMSAPI answered: points: 42.5")
            self.assertEqual(fake.received[-1].path, "/profile")
            self.assertEqual(fake.received[-1].headers["authorization"], f"Bearer {TOKEN}")

            fake.fail_with(101, "Authorization failed")
            with mute_logger("odoo.addons.insurance_notify.lib.notify_engine.gateways.smsapi"):
                action = gateway.action_test_connection()
            self.assertEqual(action["params"]["type"], "danger")
            self.assertIn("SMSAPI error 101", action["params"]["message"])
            self.assertNotIn(TOKEN, action["params"]["message"])


class TestDispatcherLength(NotifyCase):
    def setUp(self):
        super().setUp()
        self.client.name = "Łukasz Żółć"
        self.template.body = "Dzień dobry {{ object.partner_id.name }}, polisa {{ object.name }}."

    def test_without_transliteration_polish_letters_need_ucs2(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.sms_encoding, "UCS-2")
        self.assertIn("Łukasz Żółć", message.body)

    def test_transliteration_on_the_rule_sends_gsm7(self):
        policy = self.make_policy(7)
        self.make_rule("7", sms_transliterate=True)
        self.run_crons()
        message = self.messages_of(policy)
        expected = f"Dzien dobry Lukasz Zolc, polisa {policy.name}."
        self.assertRecordValues(
            message, [{"state": "sent", "body": expected, "sms_encoding": "GSM-7", "sms_parts": 1}]
        )
        self.assertEqual(SandboxGateway.outbox[-1].body, expected)

    def test_transliteration_on_the_template_applies_too(self):
        policy = self.make_policy(7)
        self.template.sms_transliterate = True
        self.make_rule("7")
        self.run_crons()
        self.assertEqual(self.messages_of(policy).sms_encoding, "GSM-7")

    def test_a_message_over_the_part_limit_fails_and_is_not_sent(self):
        self.template.body = "ą" * 71 + " {{ object.name }}"
        policy = self.make_policy(7)
        self.make_rule("7", sms_max_parts=1)
        self.run_crons()
        message = self.messages_of(policy)
        self.assertRecordValues(
            message, [{"state": "failed", "reason": "too long (2 parts > 1)", "sms_parts": 2}]
        )
        self.assertFalse(SandboxGateway.outbox)

    def test_the_template_limit_applies_when_the_rule_has_none(self):
        self.template.write({"body": "x" * 161, "sms_max_parts": 1})
        policy = self.make_policy(7)
        self.make_rule("7")
        self.run_crons()
        self.assertEqual(self.messages_of(policy).reason, "too long (2 parts > 1)")

    def test_a_rule_without_template_fails_and_stays_failed(self):
        policy = self.make_policy(7)
        rule = self.make_rule("7")
        # A rule cannot be saved without one, and a template in use cannot be
        # deleted; whatever still removes it (SQL, a module) leaves it bare.
        with self.assertRaises(UserError):
            self.template.unlink()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE insurance_notify_rule SET sms_template_id = NULL WHERE id = %s", [rule.id]
        )
        rule.invalidate_recordset()
        self.run_crons()
        message = self.messages_of(policy)
        self.assertRecordValues(
            message, [{"state": "failed", "reason": "the rule has no SMS template"}]
        )
        self.assertFalse(SandboxGateway.outbox)

    def test_the_cost_is_parts_times_the_cost_per_part(self):
        sandbox = self.env.ref("insurance_notify.gateway_sandbox")
        sandbox.cost_per_part = 0.25
        self.template.body = "ą" * 100 + " {{ object.name }}"
        policy = self.make_policy(7)
        self.make_rule("7", gateway_id=sandbox.id)
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.sms_parts, 2)
        self.assertAlmostEqual(message.cost, 0.5)
        self.assertEqual(message.currency_id, sandbox.currency_id)


class TestSmsPreview(NotifyCase):
    def preview(self, template, record, **values):
        return (
            self.env["sms.template.preview"]
            .with_context(default_sms_template_id=template.id)
            .create({"resource_ref": f"{record._name},{record.id}", **values})
        )

    def test_the_preview_shows_encoding_characters_parts_and_cost(self):
        self.env.ref("insurance_notify.gateway_sandbox").cost_per_part = 0.1
        self.env["insurance.notify.gateway"].search([]).filtered(
            lambda g: g != self.env.ref("insurance_notify.gateway_sandbox")
        ).action_archive()
        policy = self.make_policy(7, name="POL/€/1")
        preview = self.preview(self.template, policy)
        body = f"Policy POL/€/1 ends on {policy.date_end}."
        self.assertRecordValues(
            preview,
            [
                {
                    "body": body,
                    "sms_encoding": "GSM-7",
                    "sms_chars": len(body),
                    "sms_units": len(body) + 1,  # € is an extension character
                    "sms_parts": 1,
                    "sms_warning": False,
                }
            ],
        )
        self.assertAlmostEqual(preview.sms_cost, 0.1)

    def test_the_rule_preview_applies_transliteration_and_warns_over_the_limit(self):
        self.template.body = "Żółć {{ object.name }} " + "ł" * 80
        policy = self.make_policy(7)
        rule = self.make_rule("7", sms_transliterate=True, sms_max_parts=1)
        action = rule.action_preview_sms()
        self.assertEqual(action["res_model"], "sms.template.preview")
        preview = self.preview(self.template, policy, rule_id=rule.id)
        self.assertEqual(preview.sms_encoding, "GSM-7")
        self.assertTrue(preview.sms_text.startswith("Zolc "))
        self.assertEqual(preview.sms_parts, 1)
        self.assertFalse(preview.sms_warning)

        rule.sms_transliterate = False
        preview = self.preview(self.template, policy, rule_id=rule.id)
        self.assertEqual((preview.sms_encoding, preview.sms_parts), ("UCS-2", 2))
        self.assertEqual(
            preview.sms_warning,
            "Too long: 2 parts > limit 1. Reminders like this one fail and are not sent.",
        )

    def test_an_unknown_placeholder_gives_a_clear_error(self):
        # Refused when saved (test_template_authoring.py); one that cannot be
        # checked then (a method failing on this record) fails clearly here.
        with self.assertRaisesRegex(ValidationError, "object.no_such_field"):
            self.template.body = "Policy {{ object.no_such_field }}"
        self.template.body = "Policy {{ object.name.no_such_method() }}"
        policy = self.make_policy(7)
        with (
            mute_logger("odoo.addons.mail.models.mail_render_mixin"),
            self.assertRaisesRegex(UserError, "cannot be rendered for this record"),
        ):
            self.preview(self.template, policy).body  # noqa: B018


class TestReportOutrunningTheAnswer(NotifyCase):
    def test_a_delivery_before_the_send_answer_stays_delivered(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        self.Rule._cron_plan()
        message = self.messages_of(policy)
        message.write({"state": "sending", "provider_ref": "sandbox-x"})
        sandbox = self.env.ref("insurance_notify.gateway_sandbox")
        message.gateway_id = sandbox
        left = self.Message._apply_delivery_reports(
            sandbox, [DeliveryReport(provider_ref="sandbox-x", key=None, state="delivered")]
        )
        self.assertEqual((left, message.state), ([], "delivered"))
        message._write_result(SendResult(message.key, True, "sandbox-x", 1), self.now)
        self.assertEqual(message.state, "delivered")
