import base64
import hashlib
import hmac
from urllib.parse import urlencode

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyHttpCase
from .sms_common import (
    TOKEN,
    TWILIO_TOKEN,
    FakeSmsapi,
    make_smsapi_gateway,
    make_twilio_gateway,
)

DLR_LOGGERS = (
    "odoo.addons.insurance_notify.controllers.main",
    "odoo.addons.insurance_notify.lib.notify_engine.gateways.smsapi",
)


def twilio_signature(url, params, token=TWILIO_TOKEN):
    payload = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest())


@tagged("post_install", "-at_install")
class TestDemoTestSmsEndToEnd(NotifyHttpCase):
    def test_a_test_sms_reaches_smsapi_and_its_report_marks_it_delivered(self):
        """From the demo database: the wizard's SMS reaches a loopback SMSAPI
        with the documented parameters, and SMSAPI's report marks it delivered."""
        SandboxGateway.reset()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        policy = self.env.ref("insurance_notify.policy_kowalski_motor")
        with FakeSmsapi() as fake:
            gateway = make_smsapi_gateway(self.env, fake.url)
            wizard = self.env["insurance.sms.test"].create(
                {"policy_id": policy.id, "number": "600 123 456"}
            )
            self.assertEqual(wizard.gateway_id, gateway)
            wizard.action_send()
            self.assertFalse(fake.received, "nothing is sent inside the user's request")
            self.env["insurance.notify.message"]._cron_dispatch()
            wizard.action_refresh()

        self.assertEqual(len(fake.received), 1)
        request = fake.received[0]
        message = wizard.message_id
        form = request.form
        self.assertEqual((request.method, request.path), ("POST", "/sms.do"))
        self.assertEqual(request.headers["authorization"], f"Bearer {TOKEN}")
        self.assertEqual(form["to"], "48600123456")
        self.assertEqual(form["from"], "Broker")
        self.assertEqual(form["idx"], message.key)
        self.assertTrue(message.key.startswith("test-"))
        self.assertEqual(form["check_idx"], "1")
        self.assertEqual(form["message"], message.body)
        self.assertIn(policy.name, form["message"])
        self.assertEqual(
            form["notify_url"],
            f"{self.base_url()}/insurance_notify/dlr/smsapi/{gateway.webhook_secret}",
        )
        self.assertNotIn("test", form)
        self.assertRecordValues(
            wizard, [{"state": "sent", "sms_parts": 1, "answer": "accepted, id SMSAPI1, 1 part(s)"}]
        )
        self.assertRecordValues(
            message,
            [{"state": "sent", "provider_ref": "SMSAPI1", "number": "+48600123456"}],
        )
        self.assertFalse(
            self.env["insurance.notify.message"].search(
                [("state", "=", "queued"), ("key", "=like", "test-%")]
            )
        )
        # The demo's own reminders may leave in the same dispatch, depending on
        # the hour of the run; the test SMS never goes to the sandbox.
        self.assertNotIn(message.key, [sms.key for sms in SandboxGateway.outbox])

        report = {"MsgId": "SMSAPI1", "status": "404", "idx": message.key, "donedate": "1"}
        response = self.url_open(f"{form['notify_url']}?{urlencode(report)}")
        self.assertEqual((response.status_code, response.text), (200, "OK"))
        self.assertEqual(message.state, "delivered")


@tagged("post_install", "-at_install")
class TestDeliveryReports(NotifyHttpCase):
    def setUp(self):
        super().setUp()
        self.smsapi = make_smsapi_gateway(self.env, "http://127.0.0.1:9")
        self.twilio = make_twilio_gateway(self.env, "http://127.0.0.1:9")
        policy = self.env.ref("insurance_notify.policy_kowalski_motor")
        self.Message = self.env["insurance.notify.message"].sudo()
        self.message = self.make_message(self.smsapi, "SMSAPI-77", "k-smsapi")
        self.twilio_message = self.make_message(self.twilio, "SM" + "1" * 32, "k-twilio")
        self.policy = policy

    def make_message(self, gateway, ref, key):
        policy = self.env.ref("insurance_notify.policy_kowalski_motor")
        return (
            self.env["insurance.notify.message"]
            .sudo()
            .create(
                {
                    "key": key,
                    "company_id": policy.company_id.id,
                    "res_model": policy._name,
                    "res_id": policy.id,
                    "channel": "sms",
                    "state": "sent",
                    "gateway_id": gateway.id,
                    "provider_ref": ref,
                    "number": "+48600123456",
                }
            )
        )

    def smsapi_report(self, secret=None, **params):
        url = f"/insurance_notify/dlr/smsapi/{secret or self.smsapi.webhook_secret}"
        return self.url_open(f"{url}?{urlencode(params)}")

    def twilio_report(self, params, secret=None, signature=None):
        path = f"/insurance_notify/dlr/twilio/{secret or self.twilio.webhook_secret}"
        url = self.base_url() + path
        if signature is None:
            signature = twilio_signature(url, params)
        return self.url_open(path, data=params, headers={"X-Twilio-Signature": signature})

    def test_smsapi_delivered_report_is_idempotent(self):
        for _attempt in range(2):
            response = self.smsapi_report(MsgId="SMSAPI-77", status="404", idx="k-smsapi")
            self.assertEqual((response.status_code, response.text), (200, "OK"))
            self.assertEqual(self.message.state, "delivered")
        # A late "sent" or failure report does not undo a delivery.
        self.smsapi_report(MsgId="SMSAPI-77", status="403")
        self.smsapi_report(MsgId="SMSAPI-77", status="405")
        self.assertEqual(self.message.state, "delivered")

    def test_smsapi_failures_fail_the_message_with_the_status(self):
        for status, name in (("405", "undelivered"), ("402", "expired"), ("REJECTED", "rejected")):
            with self.subTest(status=status):
                self.message.write({"state": "sent", "reason": False})
                response = self.smsapi_report(MsgId="SMSAPI-77", status=status)
                self.assertEqual(response.status_code, 200)
                self.assertRecordValues(
                    self.message, [{"state": "failed", "reason": f"not delivered: {name}"}]
                )

    def test_smsapi_sent_report_keeps_the_message_sent(self):
        self.smsapi_report(MsgId="SMSAPI-77", status="403")
        self.assertEqual(self.message.state, "sent")

    @mute_logger(*DLR_LOGGERS)
    def test_bad_secret_or_unknown_id_is_refused_and_changes_nothing(self):
        response = self.smsapi_report(secret="x" * 32, MsgId="SMSAPI-77", status="404")
        self.assertEqual(response.status_code, 404)
        # The Twilio gateway's secret is no SMSAPI secret.
        response = self.smsapi_report(
            secret=self.twilio.webhook_secret, MsgId="SMSAPI-77", status="404"
        )
        self.assertEqual(response.status_code, 404)
        response = self.smsapi_report(MsgId="NOPE", status="404", idx="nope")
        self.assertEqual(response.status_code, 404)
        response = self.smsapi_report()
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.message.state, "sent")

    @mute_logger(*DLR_LOGGERS)
    def test_a_report_of_another_gateway_does_not_touch_this_message(self):
        other = make_smsapi_gateway(self.env, "http://127.0.0.1:9", name="Other")
        response = self.smsapi_report(secret=other.webhook_secret, MsgId="SMSAPI-77", status="404")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.message.state, "sent")

    def test_twilio_signed_reports_move_the_message(self):
        sid = self.twilio_message.provider_ref
        response = self.twilio_report({"MessageSid": sid, "MessageStatus": "delivered"})
        self.assertEqual(response.status_code, 204)
        self.assertEqual(self.twilio_message.state, "delivered")
        response = self.twilio_report({"MessageSid": sid, "MessageStatus": "delivered"})
        self.assertEqual(response.status_code, 204)
        self.assertEqual(self.twilio_message.state, "delivered")

    def test_twilio_undelivered_fails_the_message(self):
        sid = self.twilio_message.provider_ref
        params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
        self.assertEqual(self.twilio_report(params).status_code, 204)
        self.assertRecordValues(
            self.twilio_message,
            [{"state": "failed", "reason": "not delivered: undelivered (error 30003)"}],
        )

    @mute_logger(*DLR_LOGGERS)
    def test_twilio_bad_signature_or_secret_is_refused(self):
        params = {"MessageSid": self.twilio_message.provider_ref, "MessageStatus": "delivered"}
        response = self.twilio_report(params, signature="bm90IGEgc2lnbmF0dXJl")
        self.assertEqual(response.status_code, 403)
        response = self.twilio_report(params, signature="")
        self.assertEqual(response.status_code, 403)
        # Signed with the right token for the wrong address.
        response = self.twilio_report(params, secret="y" * 32)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.twilio_message.state, "sent")

    @mute_logger(*DLR_LOGGERS)
    def test_twilio_unknown_sid_is_404(self):
        response = self.twilio_report({"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"})
        self.assertEqual(response.status_code, 404)
