"""WhatsApp as a rule's channel: "WhatsApp, else SMS" decided per client at
planning (WhatsApp consent, an approved template in the client's language),
sent as a template message through the WhatsApp gateway, and never sent twice
after a crash. Asserted on what the loopback Meta and the sandbox received."""

import contextlib
import json
from datetime import timedelta

from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from ..lib.notify_engine.fakes import FakeMeta
from ..lib.notify_engine.gateways import SandboxGateway
from ..lib.notify_engine.gateways.whatsapp import WhatsAppGateway
from .common import NotifyCase

TOKEN = "EAAGm0PX4ZCpsBA-kanal-token-9876543210"
PHONE_ID = "106540352242922"
APP_SECRET = "app-s3cret-kanal"


class WorkerDied(BaseException):
    """A crash no code of ours catches (the process is gone)."""


class WhatsappCase(NotifyCase):
    """A WhatsApp gateway on a loopback Meta, the Polish and Lithuanian
    expiry templates approved, a Polish manager, and two Polish clients: Anna
    with WhatsApp consent, Jan without."""

    def setUp(self):
        super().setUp()
        self.meta = self.enterContext(FakeMeta(TOKEN, PHONE_ID, APP_SECRET))
        self.enterContext(
            mute_logger("odoo.addons.insurance_notify.models.insurance_notify_dispatch")
        )
        self.env.ref("base.lang_pl").active = True
        self.manager = new_test_user(
            self.env,
            "wa_kanal_manager",
            groups="insurance_notify.group_insurance_manager",
            lang="pl_PL",
        )
        self.gateway = (
            self.env["insurance.notify.gateway"]
            .sudo()
            .create(
                {
                    "name": "WhatsApp",
                    "provider": "whatsapp",
                    "api_url": self.meta.url,
                    "whatsapp_access_token": TOKEN,
                    "whatsapp_phone_number_id": PHONE_ID,
                    "whatsapp_business_account_id": self.meta.waba_id,
                    "whatsapp_app_secret": APP_SECRET,
                    # First in the list: still no SMS may go through it.
                    "sequence": 1,
                }
            )
        )
        self.template_pl = self.env.ref("insurance_notify.whatsapp_template_policy_expiry_pl")
        self.template_pl.sudo().write({"status": "approved", "company_id": self.env.company.id})
        self.env.ref("insurance_notify.whatsapp_template_policy_expiry_lt").sudo().write(
            {"status": "approved", "company_id": self.env.company.id}
        )
        self.meta.approved = {("policy_expiry_reminder", "pl"), ("policy_expiry_reminder", "lt")}
        self.anna = self.env["res.partner"].create(
            {
                "name": "Anna Nowak",
                "mobile": "+48 600 111 222",
                "country_id": self.env.ref("base.pl").id,
                "tz": "Europe/Warsaw",
                "lang": "pl_PL",
                "consent_sms": True,
                "consent_whatsapp": True,
            }
        )
        self.jan = self.env["res.partner"].create(
            {
                "name": "Jan Kowalski",
                "mobile": "+48 600 333 444",
                "country_id": self.env.ref("base.pl").id,
                "tz": "Europe/Warsaw",
                "lang": "pl_PL",
                "consent_sms": True,
                "consent_whatsapp": False,
            }
        )

    def whatsapp_rule(self, channel="whatsapp_sms"):
        return (
            self.env["insurance.notify.rule"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Koniec polisy",
                    "event_type": "policy_expiry",
                    "channel": channel,
                    "offsets": "7",
                    "sms_template_id": self.template.id,
                }
            )
        )

    def apply_status(self, wamid, status):
        raw, _headers = self.meta.status_webhook(wamid, status)
        adapter = self.gateway._make_adapter()
        self.gateway._apply_delivery_reports(adapter.parse_delivery_report(json.loads(raw)))


class TestWhatsappChannel(WhatsappCase):
    def test_whatsapp_else_sms_sends_a_polish_template_to_the_consenting_client_only(self):
        rule = self.whatsapp_rule()
        policy_anna = self.make_policy(7, partner_id=self.anna.id)
        policy_jan = self.make_policy(7, partner_id=self.jan.id)

        # The dry run shows the channel each client will get.
        wizard = (
            self.env["insurance.notify.dry.run"]
            .with_user(self.manager)
            .create({"day": self.TODAY, "rule_ids": [(6, 0, rule.ids)]})
        )
        wizard.action_run()
        lines = {line.partner_id: line for line in wizard.sudo().line_ids}
        self.assertEqual(lines[self.anna].channel, "whatsapp")
        self.assertEqual(lines[self.anna].state, "send")
        self.assertIn("Dzień dobry Anna Nowak, Twoja polisa", lines[self.anna].text)
        self.assertEqual(lines[self.jan].channel, "sms")

        self.run_crons()

        self.assertEqual(len(self.meta.sent), 1)
        [payload] = self.meta.sent
        self.assertEqual(payload["to"], "48600111222")
        self.assertEqual(payload["type"], "template")
        self.assertEqual(payload["template"]["name"], "policy_expiry_reminder")
        self.assertEqual(payload["template"]["language"], {"code": "pl"})
        params = [p["text"] for p in payload["template"]["components"][0]["parameters"]]
        self.assertEqual(params[:2], ["Anna Nowak", policy_anna.name])
        self.assertEqual(len(params), 4)
        message_anna = self.messages_of(policy_anna)
        self.assertEqual(message_anna.channel, "whatsapp")
        self.assertEqual(message_anna.state, "sent")
        self.assertEqual(message_anna.gateway_id, self.gateway)
        self.assertEqual(payload["biz_opaque_callback_data"], message_anna.key)
        self.assertEqual(
            message_anna.body,
            f"Dzień dobry Anna Nowak, Twoja polisa {policy_anna.name} kończy się {params[2]}. "
            f"Aby ją odnowić, skontaktuj się z nami: {params[3]}.",
        )

        self.assertEqual([sms.number for sms in SandboxGateway.outbox], ["+48600333444"])
        message_jan = self.messages_of(policy_jan)
        self.assertEqual(message_jan.channel, "sms")
        self.assertNotEqual(message_jan.gateway_id, self.gateway)

    def test_whatsapp_only_skips_a_client_without_whatsapp_consent(self):
        self.whatsapp_rule("whatsapp")
        policy_jan = self.make_policy(7, partner_id=self.jan.id)
        self.run_crons()
        message = self.messages_of(policy_jan)
        self.assertEqual((message.state, message.reason_code), ("skipped", "no_whatsapp_consent"))
        self.assertFalse(self.meta.sent)
        self.assertFalse(SandboxGateway.outbox)

    def test_a_marketing_template_needs_marketing_consent_and_sms_goes_instead(self):
        self.template_pl.sudo().category = "marketing"
        self.whatsapp_rule()
        policy = self.make_policy(7, partner_id=self.anna.id)
        self.run_crons()
        self.assertEqual(self.messages_of(policy).channel, "sms")
        self.assertFalse(self.meta.sent)

        self.anna.consent_marketing = True
        other = self.make_policy(7, partner_id=self.anna.id)
        self.run_crons()
        message = self.messages_of(other)
        self.assertEqual(message.channel, "whatsapp")
        # One automatic message a client a day, across SMS and WhatsApp.
        self.assertEqual((message.state, message.reason_code), ("queued", "over_cap"))
        self.assertFalse(self.meta.sent)
        self.set_now(self.now + timedelta(days=1))
        self.Message._cron_dispatch()
        self.assertEqual(len(self.meta.sent), 1)
        self.assertEqual(message.state, "sent")

    def test_a_lithuanian_client_gets_the_lithuanian_template(self):
        self.env.ref("base.lang_lt").active = True
        self.anna.lang = "lt_LT"
        self.whatsapp_rule("whatsapp")
        self.make_policy(7, partner_id=self.anna.id)
        self.run_crons()
        [payload] = self.meta.sent
        self.assertEqual(payload["template"]["language"], {"code": "lt"})

    def test_a_crash_after_meta_accepted_sends_nothing_twice_and_the_webhook_confirms(self):
        self.whatsapp_rule("whatsapp")
        policy = self.make_policy(7, partner_id=self.anna.id)
        self.Rule._cron_plan()
        original = WhatsAppGateway.send

        def send_then_die(adapter, messages):
            original(adapter, messages)
            raise WorkerDied

        self.patch(WhatsAppGateway, "send", send_then_die)
        with contextlib.suppress(WorkerDied):
            self.Message._cron_dispatch()
        self.patch(WhatsAppGateway, "send", original)
        message = self.messages_of(policy)
        self.assertEqual(message.state, "sending")
        self.assertEqual(len(self.meta.sent), 1)

        # Later runs do not send it again: Meta cannot be asked, the webhook tells.
        for minutes in (20, 60, 180):
            self.set_now(self.now + timedelta(minutes=minutes))
            self.Message._cron_dispatch()
        self.assertEqual(len(self.meta.sent), 1)
        message.invalidate_recordset()
        self.assertEqual(message.state, "sending")

        [wamid] = self.meta.ids
        self.apply_status(wamid, "sent")
        message.invalidate_recordset()
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.provider_ref, wamid)
        self.apply_status(wamid, "delivered")
        message.invalidate_recordset()
        self.assertEqual(message.state, "delivered")
        self.set_now(self.now + timedelta(days=2))
        self.Message._cron_dispatch()
        self.assertEqual(len(self.meta.sent), 1)

    def test_a_lost_answer_without_any_webhook_fails_visibly_after_the_give_up_time(self):
        self.whatsapp_rule("whatsapp")
        policy = self.make_policy(7, partner_id=self.anna.id)
        self.meta.lose_answers = True
        self.run_crons()
        self.meta.lose_answers = False
        message = self.messages_of(policy)
        self.assertEqual(message.state, "sending")
        self.assertEqual(len(self.meta.sent), 1)

        self.set_now(self.now + timedelta(hours=2))
        self.Message._cron_dispatch()
        message.invalidate_recordset()
        self.assertEqual(message.state, "sending")

        self.set_now(self.now + timedelta(hours=self.gateway.max_delay_hours))
        self.Message._cron_dispatch()
        message.invalidate_recordset()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.reason_code, "whatsapp_unconfirmed")
        self.assertEqual(len(self.meta.sent), 1)

    # -- a broker's answer to a WhatsApp reply ---------------------------

    def client_writes(self, text):
        raw, _headers = self.meta.inbound_webhook("+48600111222", text, name="Anna")
        adapter = self.gateway._make_adapter()
        self.gateway._apply_inbound(adapter.parse_inbound(json.loads(raw)))
        return self.env["insurance.notify.reply"].search(
            [("number", "=", "+48600111222")], order="id desc", limit=1
        )

    def answer(self, reply, text):
        composer = (
            self.env["insurance.notify.reply.compose"]
            .with_user(self.manager)
            .create({"reply_id": reply.id, "body": text})
        )
        composer.action_send()
        self.Message._cron_dispatch()
        return self.Message.search([("key", "like", f"answer-{reply.id}-")])

    def test_an_answer_within_24_hours_goes_as_whatsapp_free_text(self):
        reply = self.client_writes("Czy mogę przedłużyć polisę?")
        self.assertEqual(reply.channel, "whatsapp")
        message = self.answer(reply, "Tak, zadzwonię jutro.")
        self.assertEqual((message.channel, message.state), ("whatsapp", "sent"))
        self.assertEqual(message.gateway_id, self.gateway)
        [payload] = self.meta.sent
        self.assertEqual(payload["type"], "text")
        self.assertEqual(payload["text"]["body"], "Tak, zadzwonię jutro.")
        self.assertEqual(payload["to"], "48600111222")
        self.assertFalse(SandboxGateway.outbox)

    def test_an_answer_after_24_hours_goes_by_sms(self):
        reply = self.client_writes("Proszę o kontakt")
        # Our own later messages do not reopen the window: only the client's.
        self.set_now(self.now + timedelta(hours=25))
        message = self.answer(reply, "Dzień dobry, oddzwonimy.")
        self.assertEqual((message.channel, message.state), ("sms", "sent"))
        self.assertNotEqual(message.gateway_id, self.gateway)
        self.assertFalse(self.meta.sent)
        self.assertEqual([sms.body for sms in SandboxGateway.outbox], ["Dzień dobry, oddzwonimy."])
