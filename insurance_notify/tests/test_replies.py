"""A client's reply reaches the broker: inbound SMS over real HTTP become
replies, activities and chatter notes (issue 18)."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from ..lib.notify_engine import fakes
from ..lib.notify_engine.gateways import SandboxGateway, SmsapiGateway
from .common import NotifyHttpCase
from .sms_common import TWILIO_SID, make_smsapi_gateway, make_twilio_gateway
from .test_sms_delivery_reports import twilio_signature

LOGGERS = (
    "odoo.addons.insurance_notify.controllers.main",
    "odoo.addons.insurance_notify.controllers.opt_out",
    "odoo.http",
)
NUMBER = "+48600123456"
LT_NUMBER = "+37061234567"


@tagged("post_install", "-at_install")
class TestReplies(NotifyHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"].search([("name", "=", "insurance_notify")])._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )
        cls.company = cls.env.ref("base.main_company")
        cls.Reply = cls.env["insurance.notify.reply"]
        cls.broker = new_test_user(
            cls.env,
            login="replies_broker",
            name="Anna Brokerka",
            groups="insurance_notify.group_insurance_user",
            lang="pl_PL",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.manager = new_test_user(
            cls.env,
            login="replies_manager",
            name="Marek Kierownik",
            groups="insurance_notify.group_insurance_manager",
            lang="pl_PL",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.other_company = cls.env["res.company"].create({"name": "Agentūra Vilnius"})
        cls.other_manager = new_test_user(
            cls.env,
            login="replies_vilnius",
            groups="insurance_notify.group_insurance_manager",
            lang="lt_LT",
            company_id=cls.other_company.id,
            company_ids=[cls.other_company.id],
        )
        cls.portal = new_test_user(cls.env, login="replies_portal", groups="base.group_portal")
        cls.client = cls.env["res.partner"].create(
            {
                "name": "Jan Kowalski",
                "mobile": "+48 600 123 456",
                "email": "jan.kowalski@example.com",
                "lang": "pl_PL",
                "consent_sms": True,
                "company_id": cls.company.id,
            }
        )
        insurer = cls.env["res.partner"].create({"name": "PZU", "is_insurer": True})
        product = cls.env["insurance.product"].create({"name": "OC", "code": "OCR"})
        today = fields.Date.today()
        cls.policy = cls.env["insurance.policy"].create(
            {
                "name": "POL/REPLY/1",
                "partner_id": cls.client.id,
                "insurer_id": insurer.id,
                "product_id": product.id,
                "date_start": today - timedelta(days=358),
                "date_end": today + timedelta(days=7),
                "state": "valid",
                "user_id": cls.broker.id,
                "company_id": cls.company.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.smsapi = make_smsapi_gateway(self.env, "http://127.0.0.1:9")
        self.twilio = make_twilio_gateway(self.env, "http://127.0.0.1:9")
        self.reminder = self.sent_reminder(self.policy, NUMBER, days_ago=2)

    def sent_reminder(self, document, number, days_ago=2, partner=None, **values):
        now = fields.Datetime.now()
        return (
            self.env["insurance.notify.message"]
            .sudo()
            .create(
                {
                    "key": f"reply-test-{document._name}-{document.id}-{number}-{days_ago}",
                    "company_id": document.company_id.id or self.company.id,
                    "res_model": document._name,
                    "res_id": document.id,
                    "policy_id": document.id if document._name == "insurance.policy" else False,
                    "partner_id": (partner or self.client).id,
                    "channel": "sms",
                    "number": number,
                    "timezone": "Europe/Warsaw",
                    "scheduled_at": now - timedelta(days=days_ago),
                    "body": "Polisa POL/REPLY/1 kończy się za 7 dni.",
                    "state": "sent",
                    "sent_at": now - timedelta(days=days_ago),
                    "gateway_id": self.smsapi.id,
                    **values,
                }
            )
        )

    def smsapi_inbound(self, text, number=NUMBER, secret=None, **form):
        params = fakes.smsapi_inbound_form(number, text, **form)
        path = f"/insurance_notify/inbound/smsapi/{secret or self.smsapi.webhook_secret}"
        return self.url_open(path, data=params)

    def twilio_inbound(self, text, number=LT_NUMBER, signature=None, **form):
        params = fakes.twilio_inbound_form(number, text, TWILIO_SID, **form)
        path = f"/insurance_notify/inbound/twilio/{self.twilio.webhook_secret}"
        if signature is None:
            signature = twilio_signature(self.base_url() + path, params)
        return self.url_open(path, data=params, headers={"X-Twilio-Signature": signature})

    def replies_from(self, number=NUMBER):
        return self.Reply.sudo().search([("number", "=", number)])

    def notes_with(self, record, text):
        return record.message_ids.filtered(lambda message: text in (message.body or ""))

    # ------------------------------------------------------------------
    # A reply to a reminder reaches the policy's broker
    # ------------------------------------------------------------------

    def test_a_polish_reply_becomes_the_brokers_activity_on_the_policy(self):
        response = self.smsapi_inbound("Tak, proszę o ofertę odnowienia <b>pilnie</b>")
        self.assertEqual((response.status_code, response.text), (200, "OK"))

        reply = self.replies_from()
        self.assertRecordValues(
            reply,
            [
                {
                    "partner_id": self.client.id,
                    "message_id": self.reminder.id,
                    "res_model": "insurance.policy",
                    "res_id": self.policy.id,
                    "kind": "renewal",
                    "channel": "sms",
                    "gateway_id": self.smsapi.id,
                    "user_id": self.broker.id,
                    "company_id": self.company.id,
                    "answered": False,
                }
            ],
        )
        self.assertTrue(reply.provider_ref.startswith("MO"))
        self.assertEqual(reply.text, "Tak, proszę o ofertę odnowienia <b>pilnie</b>")

        activity = reply.activity_id
        self.assertRecordValues(
            activity,
            [
                {
                    "res_model": "insurance.policy",
                    "res_id": self.policy.id,
                    "user_id": self.broker.id,
                    "date_deadline": self.env["insurance.notify.message"]._today(self.company),
                    "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
                }
            ],
        )
        # The client's words, escaped: no markup of theirs reaches the page.
        self.assertIn("Tak, proszę o ofertę odnowienia &lt;b&gt;pilnie&lt;/b&gt;", activity.note)
        self.assertNotIn("<b>pilnie", activity.note)

        # On the policy's chatter and on the client card, as internal notes.
        for record in (self.policy, self.client):
            notes = self.notes_with(record, "ofertę odnowienia")
            self.assertEqual(len(notes), 1, record._name)
            self.assertEqual(notes.subtype_id, self.env.ref("mail.mt_note"))
            self.assertEqual(notes.author_id, self.client)

        # The broker, working in Polish, sees the reply and the activity as theirs.
        as_broker = self.Reply.with_user(self.broker)
        self.assertEqual(as_broker.search([("user_id", "=", self.broker.id)]), reply)
        self.assertEqual(self.policy.with_user(self.broker).activity_ids, activity)

    def test_the_broker_sees_the_activity_summary_in_polish(self):
        self.smsapi_inbound("ODNÓW")
        self.assertIn("prosi o odnowienie", self.replies_from().activity_id.summary)

    def test_a_lithuanian_call_back_request_through_twilio_is_a_call(self):
        client = self.env["res.partner"].create(
            {
                "name": "Jonas Jonaitis",
                "mobile": LT_NUMBER,
                "lang": "lt_LT",
                "user_id": self.manager.id,
            }
        )
        self.sent_reminder(client, LT_NUMBER, partner=client)
        response = self.twilio_inbound("Prašau paskambinkite rytoj")
        self.assertEqual(response.status_code, 200)
        self.assertIn("<Response", response.text)
        reply = self.replies_from(LT_NUMBER)
        self.assertRecordValues(
            reply,
            [
                {
                    "kind": "call_back",
                    "partner_id": client.id,
                    "res_model": "res.partner",
                    "res_id": client.id,
                    "gateway_id": self.twilio.id,
                    # The card's salesperson: a client card has no other broker.
                    "user_id": self.manager.id,
                }
            ],
        )
        self.assertEqual(
            reply.activity_id.activity_type_id, self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual(len(self.notes_with(client, "paskambinkite")), 1, "one note on the card")

    def test_the_same_callback_delivered_twice_makes_one_reply(self):
        for _attempt in range(2):
            response = self.smsapi_inbound("Zadzwońcie", msg_id="MO-REDELIVERED")
            self.assertEqual(response.status_code, 200)
        reply = self.replies_from()
        self.assertEqual(len(reply), 1)
        self.assertEqual(len(self.policy.activity_ids), 1)
        self.assertEqual(len(self.notes_with(self.policy, "Zadzwońcie")), 1)
        # Twilio retries with the same MessageSid too.
        sid = "SM" + "7" * 32
        for _attempt in range(2):
            self.twilio_inbound("Taip", number=NUMBER, sid=sid)
        self.assertEqual(len(self.replies_from()), 2)

    def test_an_old_reminder_is_not_the_one_answered(self):
        self.reminder.sudo().write({"sent_at": fields.Datetime.now() - timedelta(days=31)})
        self.smsapi_inbound("Tak")
        reply = self.replies_from()
        # The client is still known by the number; the reply is on the card.
        self.assertRecordValues(
            reply,
            [{"message_id": False, "partner_id": self.client.id, "res_model": "res.partner"}],
        )
        self.assertTrue(reply.activity_id)

    # ------------------------------------------------------------------
    # Nothing is dropped; nobody else's
    # ------------------------------------------------------------------

    def test_an_unknown_numbers_reply_is_kept_for_the_replies_inbox(self):
        self.company.insurance_replies_user_id = self.manager
        response = self.smsapi_inbound("Kto to? Nie mam u was polisy", number="+48600999888")
        self.assertEqual(response.status_code, 200)
        reply = self.replies_from("+48600999888")
        self.assertRecordValues(
            reply,
            [{"partner_id": False, "message_id": False, "res_model": False, "kind": "other",
              "user_id": self.manager.id}],
        )  # fmt: skip
        # The activity is on the reply itself: nobody's document, the inbox's work.
        self.assertRecordValues(
            reply.activity_id,
            [
                {
                    "res_model": "insurance.notify.reply",
                    "res_id": reply.id,
                    "user_id": self.manager.id,
                }
            ],
        )
        inbox = self.Reply.with_user(self.manager).search([("answered", "=", False)])
        self.assertIn(reply, inbox)

    def test_without_a_setting_the_first_insurance_manager_gets_them(self):
        self.assertFalse(self.company.insurance_replies_user_id)
        first = self.company._insurance_replies_user()
        self.assertTrue(first.has_group("insurance_notify.group_insurance_manager"))
        self.smsapi_inbound("???", number="+48600999777")
        self.assertEqual(self.replies_from("+48600999777").user_id, first)

    @mute_logger(*LOGGERS)
    def test_a_forged_secret_or_signature_records_nothing(self):
        self.assertEqual(self.smsapi_inbound("Tak", secret="x" * 32).status_code, 404)
        self.assertEqual(self.twilio_inbound("Taip", signature="forged").status_code, 403)
        self.assertFalse(self.Reply.sudo().search([]))
        self.assertFalse(self.policy.activity_ids)

    def test_a_second_company_and_portal_users_see_nothing(self):
        self.smsapi_inbound("Tak")
        reply = self.replies_from()
        self.assertTrue(reply)
        self.assertFalse(self.Reply.with_user(self.other_manager).search([]))
        with self.assertRaises(AccessError):
            reply.with_user(self.other_manager).read(["text"])
        with self.assertRaises(AccessError):
            self.Reply.with_user(self.portal).search([])
        # The history is append-only, even for the broker it reached.
        with self.assertRaises(AccessError):
            reply.with_user(self.broker).write({"text": "changed"})
        with self.assertRaises(AccessError):
            reply.with_user(self.manager).unlink()

    # ------------------------------------------------------------------
    # STOP, floods, keywords, answers
    # ------------------------------------------------------------------

    def test_stop_withdraws_consent_and_is_noted_on_the_card(self):
        self.smsapi_inbound("STOP")
        self.client.invalidate_recordset()
        self.assertFalse(self.client.consent_sms)
        reply = self.replies_from()
        self.assertRecordValues(reply, [{"kind": "stop", "activity_id": False}])
        self.assertEqual(len(self.notes_with(self.client, "STOP")), 1)

    def test_a_flood_from_one_number_is_one_activity(self):
        for number in range(25):
            self.smsapi_inbound(f"Tak {number}")
        replies = self.replies_from()
        self.assertEqual(len(replies), 25, "every message is kept")
        self.assertEqual(len(self.policy.activity_ids), 1)
        self.assertEqual(len(replies.activity_id), 1)
        self.assertLessEqual(len(self.notes_with(self.policy, "Tak ")), 10)

    def test_company_keywords_from_the_settings(self):
        # Settings are the administrators' (Odoo's res.config.settings).
        settings = self.env["res.config.settings"].create({})
        settings.insurance_reply_renewal_words = "Jasne, poproszę"
        settings.execute()
        self.smsapi_inbound("jasne!")
        self.assertEqual(self.replies_from().kind, "renewal")
        self.smsapi_inbound("Tak", number="+48600999666")
        self.assertEqual(self.replies_from("+48600999666").kind, "other")

    def test_marking_the_activity_done_answers_the_reply(self):
        self.smsapi_inbound("Zadzwoń proszę")
        reply = self.replies_from()
        reply.sudo().received_at = fields.Datetime.now() - timedelta(minutes=42)
        reply.activity_id.with_user(self.broker).action_feedback(feedback="Oddzwoniłam")
        self.assertTrue(reply.answered)
        self.assertTrue(reply.answered_at)
        self.assertIn(reply.response_minutes, (41, 42, 43))

    # ------------------------------------------------------------------
    # E-mail replies
    # ------------------------------------------------------------------

    def test_an_email_reply_to_a_reminder_becomes_a_reply_on_the_policy(self):
        self.policy.message_post(body="Polisa założona")
        email_reminder = self.sent_reminder(
            self.policy, False, channel="email", email="jan.kowalski@example.com"
        )
        # The reminder e-mail refers to the policy's thread, as Odoo's own notifications do.
        references = email_reminder._email_values()["references"]
        self.assertTrue(references)
        raw = (
            "From: Jan Kowalski <Jan.Kowalski@example.com>\r\n"
            "To: biuro@example.com\r\n"
            "Subject: Re: Twoja polisa kończy się za 7 dni\r\n"
            "Message-ID: <odpowiedz-1@example.com>\r\n"
            f"In-Reply-To: {references}\r\n"
            f"References: {references}\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Proszę zadzwonić w sprawie odnowienia.\r\n"
        ).encode()
        for _delivery in range(2):
            self.env["mail.thread"].message_process(None, raw)
        reply = self.Reply.sudo().search([("email", "=", "jan.kowalski@example.com")])
        self.assertRecordValues(
            reply,
            [
                {
                    "channel": "email",
                    "kind": "call_back",
                    "partner_id": self.client.id,
                    "message_id": email_reminder.id,
                    "res_model": "insurance.policy",
                    "res_id": self.policy.id,
                    "user_id": self.broker.id,
                    "provider_ref": "<odpowiedz-1@example.com>",
                }
            ],
        )
        self.assertIn("zadzwonić", reply.text)
        self.assertEqual(reply.activity_id.user_id, self.broker)
        # The e-mail itself is on the policy (the mail gateway put it there); the card has a note.
        self.assertTrue(self.notes_with(self.policy, "zadzwonić"))
        self.assertEqual(len(self.notes_with(self.client, "zadzwonić")), 1)

    def test_other_mail_on_the_policy_is_no_reply(self):
        self.policy.message_post(body="Polisa założona")
        first = self.policy.message_ids[-1:]
        raw = (
            "From: someone@example.org\r\n"
            "To: biuro@example.com\r\n"
            "Subject: Re: x\r\n"
            "Message-ID: <other-1@example.org>\r\n"
            f"In-Reply-To: {first.message_id}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            "Hello\r\n"
        ).encode()
        self.env["mail.thread"].message_process(None, raw)
        self.assertFalse(self.Reply.sudo().search([("channel", "=", "email")]))

    # ------------------------------------------------------------------
    # The broker answers by SMS
    # ------------------------------------------------------------------

    def sandbox_reply(self, text, number=NUMBER):
        """A reply received through a sandbox gateway (its answer stays here)."""
        sandbox = (
            self.env["insurance.notify.gateway"]
            .sudo()
            .create(
                {"name": "Sandbox replies", "provider": "sandbox", "company_id": self.company.id}
            )
        )
        inbound = fakes.smsapi_inbound_form(number, text)
        reply = self.Reply.sudo()._receive_sms(
            sandbox,
            SmsapiGateway(token="t").parse_inbound(inbound)[0],
        )
        # Any hour of the day the test runs: the answer leaves at once.
        self.env["insurance.notify.answer"]._for(self.company).write(
            {"window_start": 0.0, "window_end": 24.0}
        )
        return reply

    def test_the_broker_answers_by_sms_and_the_provider_receives_it(self):
        SandboxGateway.reset()
        reply = self.sandbox_reply("Zadzwońcie proszę")
        activity = reply.activity_id
        self.assertTrue(activity)
        action = reply.with_user(self.broker).action_reply_by_sms()
        composer = (
            self.env[action["res_model"]]
            .with_user(self.broker)
            .with_context(action["context"])
            .create({"body": "Dzień dobry, zadzwonię dziś o 15:00. Anna"})
        )
        self.assertIn("Zadzwońcie proszę", composer.thread)
        self.assertEqual((composer.sms_parts, composer.sms_encoding), (1, "UCS-2"))
        composer.action_send()
        self.env["insurance.notify.message"]._cron_dispatch()

        # (The demo book's own reminders may leave in the same dispatch.)
        sent = [sms for sms in SandboxGateway.outbox if sms.key.startswith("answer-")]
        self.assertEqual({sms.number for sms in sent}, {NUMBER})
        self.assertEqual([sms.body for sms in sent], ["Dzień dobry, zadzwonię dziś o 15:00. Anna"])
        message = (
            self.env["insurance.notify.message"]
            .sudo()
            .search([("sender_ref", "like", "insurance.notify.answer,")])
        )
        self.assertRecordValues(
            message, [{"state": "sent", "number": NUMBER, "partner_id": self.client.id}]
        )
        self.assertTrue(reply.answered)
        self.assertFalse(activity.exists() and activity.active, "the activity is done")

    def test_a_client_who_sent_stop_is_never_answered_by_sms(self):
        self.smsapi_inbound("STOP")
        stop = self.replies_from()
        with self.assertRaisesRegex(UserError, "STOP"):
            stop.with_user(self.broker).action_reply_by_sms()
        # Nor a later message from the same number.
        self.smsapi_inbound("Jednak zadzwońcie")
        later = self.replies_from() - stop
        with self.assertRaisesRegex(UserError, "STOP"):
            later.with_user(self.broker).action_reply_by_sms()
        self.assertFalse(
            self.env["insurance.notify.message"]
            .sudo()
            .search([("sender_ref", "like", "insurance.notify.answer,")])
        )

    def test_a_second_company_cannot_answer_the_first_ones_replies(self):
        reply = self.sandbox_reply("Tak")
        with self.assertRaises(AccessError):
            reply.with_user(self.other_manager).action_reply_by_sms()

    # ------------------------------------------------------------------
    # The daily report names the replies nobody answered in time
    # ------------------------------------------------------------------

    def test_the_daily_report_names_unanswered_replies_past_the_target(self):
        self.smsapi_inbound("Tak, <i>odnówcie</i> proszę")
        old = self.replies_from()
        old.sudo().received_at = fields.Datetime.now() - timedelta(days=4)
        self.smsapi_inbound("Tak, dziękuję", number="+48600999555")
        fresh = self.replies_from("+48600999555")
        now = fields.Datetime.now()
        late = self.Reply._late(self.company, now)
        self.assertIn(old, late)
        self.assertNotIn(fresh, late)

        rule = (
            self.env["insurance.notify.rule"]
            .sudo()
            .search([("company_id", "=", self.company.id)], limit=1)
        )
        self.assertTrue(rule, "the demo book has automatic notifications")
        today = self.env["insurance.notify.message"]._today(self.company)
        stats = rule._report_stats(today, "Europe/Warsaw")
        mail = rule._report_mail(self.manager, today, stats)
        self.assertIn("Jan Kowalski", mail.body_html)
        self.assertIn("odnówcie", mail.body_html)
        self.assertNotIn("<i>odnówcie", mail.body_html, "the client's text is escaped")
        self.assertNotIn("dziękuję", mail.body_html)
        # Answered: no longer named.
        old._mark_answered()
        self.assertNotIn(old, self.Reply._late(self.company, now))
        # Another company's manager never reads them in their report.
        mail = rule._report_mail(self.other_manager, today, stats)
        self.assertNotIn("odnówcie", mail.body_html)

    def test_reply_by_sms_from_the_policy_and_the_client_card(self):
        self.smsapi_inbound("Tak")
        reply = self.replies_from()
        self.assertEqual(self.policy.with_user(self.broker).reply_count, 1)
        self.assertEqual(self.client.with_user(self.broker).insurance_reply_count, 1)
        for record in (self.policy, self.client):
            method = (
                "action_reply_by_sms"
                if record._name == "insurance.policy"
                else "action_insurance_reply_by_sms"
            )
            action = getattr(record.with_user(self.broker), method)()
            self.assertEqual(action["res_model"], "insurance.notify.reply.compose")
            self.assertEqual(action["context"], {"default_reply_id": reply.id})
        other = self.env["res.partner"].create({"name": "Bez odpowiedzi"})
        with self.assertRaisesRegex(UserError, "No SMS"):
            other.with_user(self.broker).action_insurance_reply_by_sms()

    def test_the_composer_counts_as_the_broker_types(self):
        reply = self.sandbox_reply("Tak")
        action = reply.with_user(self.broker).action_reply_by_sms()
        composer = Form(
            self.env[action["res_model"]].with_user(self.broker).with_context(action["context"])
        )
        composer.body = "Dzień dobry"
        self.assertEqual((composer.sms_parts, composer.sms_encoding), (1, "UCS-2"))
        composer.body = "Dzien dobry " * 20
        self.assertEqual((composer.sms_parts, composer.sms_encoding), (2, "GSM-7"))

    def test_a_composer_on_another_companys_reply_shows_nothing_and_sends_nothing(self):
        reply = self.sandbox_reply("Tak, poufne")
        composer = (
            self.env["insurance.notify.reply.compose"]
            .with_user(self.other_manager)
            .create({"reply_id": reply.id, "body": "x"})
        )
        self.assertFalse(composer.thread)
        with self.assertRaises(AccessError):
            composer.action_send()

    def test_a_reply_to_a_task_reminder_reaches_the_tasks_assignee(self):
        project = self.env["project.project"].create({"name": "Szkody"})
        task = self.env["project.task"].create(
            {
                "name": "Oględziny szkody",
                "project_id": project.id,
                "partner_id": self.client.id,
                "user_ids": [(6, 0, self.manager.ids)],
            }
        )
        self.reminder.sudo().write({"sent_at": fields.Datetime.now() - timedelta(days=5)})
        self.sent_reminder(task, NUMBER, days_ago=1)
        self.smsapi_inbound("Proszę zadzwonić przed przyjazdem")
        reply = self.replies_from()
        self.assertRecordValues(
            reply,
            [{"res_model": "project.task", "res_id": task.id, "user_id": self.manager.id,
              "kind": "call_back"}],
        )  # fmt: skip
        self.assertEqual(task.activity_ids.user_id, self.manager)
        self.assertEqual(len(self.notes_with(task, "przed przyjazdem")), 1)

    def test_a_policy_without_a_broker_goes_to_the_clients_salesperson(self):
        self.policy.sudo().user_id = False
        self.client.sudo().user_id = self.manager
        self.smsapi_inbound("Tak")
        self.assertRecordValues(
            self.replies_from(), [{"res_model": "insurance.policy", "user_id": self.manager.id}]
        )
        self.assertEqual(self.policy.activity_ids.user_id, self.manager)

    def test_the_median_response_time_by_broker(self):
        for index, minutes in enumerate((5, 10, 600)):
            self.smsapi_inbound(f"Tak {index}", number=f"+4860099911{index}")
            reply = self.replies_from(f"+4860099911{index}")
            reply.sudo().write({"user_id": self.broker.id, "response_minutes": minutes,
                                "answered_at": fields.Datetime.now()})  # fmt: skip
        groups = self.Reply.with_user(self.manager).read_group(
            [("user_id", "=", self.broker.id), ("answered", "=", True)],
            ["response_minutes"],
            ["user_id"],
        )
        self.assertEqual(groups[0]["response_minutes"], 10)
        with self.assertRaises(ValueError):
            self.Reply._read_group([], ["user_id"], ["text:median"])
