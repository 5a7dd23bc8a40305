"""Opt-out: a reply STOP (SMSAPI, Twilio) and the unsubscribe link of an e-mail."""

from urllib.parse import urlencode

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import NotifyHttpCase
from .sms_common import make_smsapi_gateway, make_twilio_gateway
from .test_sms_delivery_reports import twilio_signature

LOGGERS = (
    "odoo.addons.insurance_notify.controllers.main",
    "odoo.addons.insurance_notify.controllers.opt_out",
    "odoo.http",
)
NUMBER = "+48600123456"


@tagged("post_install", "-at_install")
class TestOptOut(NotifyHttpCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.smsapi = make_smsapi_gateway(self.env, "http://127.0.0.1:9")
        self.twilio = make_twilio_gateway(self.env, "http://127.0.0.1:9")
        self.client = self.env["res.partner"].create(
            {
                "name": "Jan Stop",
                "mobile": "+48 600 123 456",
                "email": "jan.stop@example.com",
                "consent_sms": True,
                "consent_email": True,
                "consent_marketing": True,
            }
        )

    def sms_blacklisted(self, number=NUMBER):
        return bool(self.env["phone.blacklist"].search([("number", "=", number)]))

    def email_blacklisted(self, email="jan.stop@example.com"):
        return bool(self.env["mail.blacklist"].search([("email", "=", email)]))

    def stop_trail(self, channel="consent_sms", source="stop"):
        return self.env["insurance.consent.log"].search(
            [
                ("partner_id", "=", self.client.id),
                ("consent", "=", channel),
                ("source", "=", source),
            ]
        )

    def smsapi_inbound(self, text, number="48600123456", secret=None, post=True):
        params = {
            "sms_from": number,
            "sms_to": "4100",
            "sms_text": text,
            "sms_date": "1795000000",
            "MsgId": "MO1",
        }
        path = f"/insurance_notify/inbound/smsapi/{secret or self.smsapi.webhook_secret}"
        if post:
            return self.url_open(path, data=params)
        return self.url_open(f"{path}?{urlencode(params)}")

    def twilio_inbound(self, text, number=NUMBER, signature=None, secret=None):
        params = {"From": number, "To": "+15005550006", "Body": text, "MessageSid": "SM" + "2" * 32}
        path = f"/insurance_notify/inbound/twilio/{secret or self.twilio.webhook_secret}"
        if signature is None:
            signature = twilio_signature(self.base_url() + path, params)
        return self.url_open(path, data=params, headers={"X-Twilio-Signature": signature})

    # ------------------------------------------------------------------
    # SMS
    # ------------------------------------------------------------------

    def test_smsapi_stop_withdraws_sms_consent_and_blacklists_the_number(self):
        response = self.smsapi_inbound("STOP")
        self.assertEqual((response.status_code, response.text), (200, "OK"))
        self.client.invalidate_recordset()
        self.assertFalse(self.client.consent_sms)
        self.assertTrue(self.client.consent_email, "only that channel")
        self.assertTrue(self.sms_blacklisted())
        self.assertRecordValues(
            self.stop_trail(),
            [{"old_display": "Given", "new_display": "Not given", "source": "stop"}],
        )

    def test_polish_and_lithuanian_words_any_case_by_get(self):
        response = self.smsapi_inbound("rezygnuję z sms", post=False)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(self.sms_blacklisted())
        self.assertTrue(self.stop_trail())

    def test_a_queued_message_is_not_sent_after_stop(self):
        message = (
            self.env["insurance.notify.message"]
            .sudo()
            .create(
                {
                    "key": "stop-test",
                    "company_id": self.env.company.id,
                    "res_model": "res.partner",
                    "res_id": self.client.id,
                    "partner_id": self.client.id,
                    "channel": "sms",
                    "number": NUMBER,
                    "timezone": "Europe/Warsaw",
                    "scheduled_at": "2026-11-23 09:00:00",
                    "body": "Marketing text",
                    "batch_id": self.env["insurance.notify.batch"]
                    .create({"kind": "broadcast", "body": "x", "state": "running"})
                    .id,
                }
            )
        )
        self.smsapi_inbound("Stop!")
        message._recheck_consent()
        self.assertRecordValues(
            message, [{"state": "skipped", "reason": "SMS blacklisted (opted out)"}]
        )

    def test_an_unknown_number_is_blacklisted_too(self):
        response = self.smsapi_inbound("STOP", number="48600999888")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(self.sms_blacklisted("+48600999888"))
        self.assertFalse(self.stop_trail())

    def test_a_reply_that_only_starts_with_a_keyword_keeps_the_consent(self):
        # Carriers match the whole reply; these are a client's words for the broker.
        for text in (
            "Cancel the meeting on Friday please",
            "End date of my policy?",
            "Stop by tomorrow, I'll sign",
            "Nie",
            "Rezygnuję z OC, zostaję przy AC",
        ):
            response = self.smsapi_inbound(text)
            self.assertEqual((response.status_code, response.text), (200, "OK"))
        self.assertEqual(self.twilio_inbound("Atsisakau draudimo, bet ne SMS").status_code, 200)
        self.assertFalse(self.sms_blacklisted())
        self.client.invalidate_recordset()
        self.assertTrue(self.client.consent_sms)
        self.assertFalse(self.stop_trail())

    def test_a_keyword_with_blanks_and_punctuation_around_it_is_a_stop(self):
        self.smsapi_inbound("  Wypisz mnie!  ")
        self.client.invalidate_recordset()
        self.assertFalse(self.client.consent_sms)
        self.assertTrue(self.sms_blacklisted())
        self.assertEqual(self.stop_trail().proof_text, "Replied WYPISZ MNIE to " + self.smsapi.name)

    def test_another_reply_changes_nothing(self):
        response = self.smsapi_inbound("Thanks, paid yesterday")
        self.assertEqual((response.status_code, response.text), (200, "OK"))
        self.assertFalse(self.sms_blacklisted())
        self.client.invalidate_recordset()
        self.assertTrue(self.client.consent_sms)

    @mute_logger(*LOGGERS)
    def test_a_bad_secret_or_signature_is_refused_and_changes_nothing(self):
        self.assertEqual(self.smsapi_inbound("STOP", secret="x" * 32).status_code, 404)
        self.assertEqual(self.smsapi_inbound("STOP", secret="short").status_code, 404)
        # The DLR secret of the other provider is no inbound secret for this one.
        self.assertEqual(
            self.smsapi_inbound("STOP", secret=self.twilio.webhook_secret).status_code, 404
        )
        self.assertEqual(self.twilio_inbound("STOP", signature="bad").status_code, 403)
        self.assertEqual(self.twilio_inbound("STOP", signature="").status_code, 403)
        self.assertEqual(self.twilio_inbound("STOP", secret="y" * 32).status_code, 404)
        self.assertFalse(self.sms_blacklisted())
        self.client.invalidate_recordset()
        self.assertTrue(self.client.consent_sms)
        self.assertFalse(self.stop_trail())

    def test_twilio_signed_stop(self):
        response = self.twilio_inbound("atsisakau")
        self.assertEqual(response.status_code, 200)
        self.assertIn("<Response", response.text)
        self.client.invalidate_recordset()
        self.assertFalse(self.client.consent_sms)
        self.assertTrue(self.sms_blacklisted())
        self.assertTrue(self.stop_trail())

    # ------------------------------------------------------------------
    # E-mail
    # ------------------------------------------------------------------

    def test_the_unsubscribe_link_asks_then_unsubscribes(self):
        url = self.client._insurance_unsubscribe_url()
        self.assertTrue(url.startswith(f"{self.base_url()}/insurance_notify/unsubscribe/"))
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("jan.stop@example.com", page.text)
        self.assertIn("<form", page.text)
        # The QWeb page of the add-on (views/insurance_unsubscribe_templates.xml).
        self.assertIn('<meta name="robots" content="noindex"', page.text)
        self.assertIn('name="confirm"', page.text)
        self.assertFalse(self.email_blacklisted(), "opening the link changes nothing")

        done = self.url_open(url, data={"confirm": "1"})
        self.assertEqual(done.status_code, 200)
        self.assertIn("no more e-mails", done.text)
        self.assertTrue(self.email_blacklisted())
        self.client.invalidate_recordset()
        self.assertFalse(self.client.consent_email)
        self.assertTrue(self.client.consent_sms)
        self.assertTrue(self.stop_trail("consent_email", "portal"))

    @mute_logger(*LOGGERS)
    def test_a_bad_or_foreign_token_is_refused_and_changes_nothing(self):
        other = self.env["res.partner"].create({"name": "Other", "email": "other@example.com"})
        token = self.client._insurance_unsubscribe_url().rsplit("/", 1)[1]
        for path in (
            f"/insurance_notify/unsubscribe/{self.client.id}/{token[:-2]}xx",
            f"/insurance_notify/unsubscribe/{self.client.id}/garbage",
            f"/insurance_notify/unsubscribe/{other.id}/{token}",
            f"/insurance_notify/unsubscribe/{self.client.id}/",
        ):
            response = self.url_open(path, data={"confirm": "1"})
            self.assertEqual(response.status_code, 404, path)
        self.assertFalse(self.email_blacklisted())
        self.assertFalse(self.email_blacklisted("other@example.com"))
        self.client.invalidate_recordset()
        self.assertTrue(self.client.consent_email)
