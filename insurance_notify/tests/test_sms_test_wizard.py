from odoo.exceptions import UserError
from odoo.tools import mute_logger

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase
from .sms_common import FakeSmsapi, make_smsapi_gateway


class TestSendTestSms(NotifyCase):
    def setUp(self):
        super().setUp()
        self.policy = self.make_policy(7, name="POL/TEST/1")
        self.template.body = "Polisa {{ object.name }} dla {{ object.partner_id.name }}."

    def wizard(self, **values):
        return self.env["insurance.sms.test"].create(
            {"policy_id": self.policy.id, "sms_template_id": self.template.id, **values}
        )

    def test_one_sms_goes_through_the_default_gateway_and_nothing_stays_queued(self):
        wizard = self.wizard(number="+48 601 234 567")
        self.assertEqual(wizard.gateway_id, self.env.ref("insurance_notify.gateway_sandbox"))
        action = wizard.action_send()
        self.assertEqual((action["res_model"], action["res_id"]), ("insurance.sms.test", wizard.id))
        # Nothing leaves inside the user's request: the dispatcher sends it.
        self.assertEqual(wizard.state, "queued")
        self.assertFalse(SandboxGateway.outbox)
        self.send_queued(wizard)
        self.assertEqual(
            [(s.number, s.body) for s in SandboxGateway.outbox],
            [("+48601234567", "Polisa POL/TEST/1 dla Jan Testowy.")],
        )
        self.assertRecordValues(
            wizard, [{"state": "sent", "sms_parts": 1, "sms_encoding": "GSM-7"}]
        )
        self.assertIn("accepted", wizard.answer)
        self.assertRecordValues(
            wizard.message_id,
            [{"state": "sent", "policy_id": self.policy.id, "number": "+48601234567"}],
        )
        self.assertFalse(self.Message.search([("state", "in", ("queued", "sending"))]))
        # The dispatcher has nothing left to send again.
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 1)

    def send_queued(self, wizard):
        self.Message._cron_dispatch()
        wizard.action_refresh()

    def test_the_number_defaults_to_the_client_mobile(self):
        wizard = self.env["insurance.sms.test"].new({"policy_id": self.policy.id})
        wizard._onchange_policy_id()
        self.assertEqual(wizard.number, "+48600123456")

    def test_an_invalid_number_is_refused_clearly(self):
        for number in ("12", "not a number", "+48 22 123"):
            with self.subTest(number=number):
                wizard = self.wizard(number=number)
                with self.assertRaisesRegex(UserError, "is not a valid phone number"):
                    wizard.action_send()
        self.assertFalse(SandboxGateway.outbox)
        self.assertFalse(self.Message.search([("key", "=like", "test-%")]))

    def test_a_template_over_its_limit_is_refused(self):
        self.template.write({"body": "x" * 200, "sms_max_parts": 1})
        with self.assertRaisesRegex(UserError, r"too long \(2 parts > 1\)"):
            self.wizard(number="+48601234567").action_send()
        self.assertFalse(SandboxGateway.outbox)

    def test_transliteration_of_the_template_is_applied(self):
        self.client.name = "Łucja Żak"
        self.template.sms_transliterate = True
        wizard = self.wizard(number="+48601234567")
        wizard.action_send()
        self.send_queued(wizard)
        self.assertEqual(wizard.body, "Polisa POL/TEST/1 dla Lucja Zak.")
        self.assertEqual(SandboxGateway.outbox[-1].body, wizard.body)

    @mute_logger(
        "odoo.addons.insurance_notify.lib.notify_engine.gateways.smsapi",
        "odoo.addons.insurance_notify.models.insurance_notify_message",
    )
    def test_a_refusal_shows_the_gateway_answer_and_fails_without_retry(self):
        with FakeSmsapi() as fake:
            gateway = make_smsapi_gateway(self.env, fake.url)
            for code, text, error in (
                (13, "No correct phone numbers", "invalid_number"),
                (999, "Internal", "provider"),
            ):
                with self.subTest(code=code):
                    fake.fail_with(code, text)
                    wizard = self.wizard(number="+48601234567", gateway_id=gateway.id)
                    wizard.action_send()
                    self.send_queued(wizard)
                    self.assertEqual(wizard.state, "failed")
                    self.assertIn(f"refused: {error} ", wizard.answer)
                    self.assertIn(text, wizard.answer)
                    self.assertEqual(wizard.message_id.state, "failed")
        self.assertFalse(self.Message.search([("state", "in", ("queued", "sending"))]))

    def test_smsapi_test_mode_adds_test_1(self):
        with FakeSmsapi() as fake:
            gateway = make_smsapi_gateway(self.env, fake.url, test_mode=True)
            wizard = self.wizard(number="+37068688960", gateway_id=gateway.id)
            wizard.action_send()
            self.send_queued(wizard)
        self.assertEqual(fake.received[0].form["test"], "1")
        self.assertEqual(fake.received[0].form["to"], "37068688960")
