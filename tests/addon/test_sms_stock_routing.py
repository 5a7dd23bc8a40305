from odoo.tools import mute_logger

from odoo.addons.sms.tools.sms_api import SmsApi

from notify_engine.gateways import DeliveryReport, SandboxGateway

from .common import NotifyCase
from .sms_common import FakeSmsapi, make_smsapi_gateway


class TestStockSmsRouting(NotifyCase):
    """Chatter SMS, the composer and automated actions leave through our gateway."""

    def post_sms(self, body="Hello from the chatter"):
        message = self.client._message_sms(body)
        self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).send(unlink_sent=False)
        sms = self.env["sms.sms"].sudo().search([("mail_message_id", "=", message.id)])
        return message, sms

    def test_a_chatter_sms_goes_through_the_sandbox_instead_of_iap(self):
        message, sms = self.post_sms()
        self.assertEqual(
            [(s.number, s.body, s.key) for s in SandboxGateway.outbox],
            [("+48600123456", "Hello from the chatter", sms.uuid)],
        )
        self.assertEqual(sms.state, "pending")
        self.assertTrue(sms.provider_ref.startswith("sandbox-"))
        self.assertEqual(message.notification_ids.notification_status, "pending")
        self.assertEqual(sms.sms_tracker_id.provider_ref, sms.provider_ref)

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
        message, sms = self.post_sms()
        gateway = self.env.ref("insurance_notify.gateway_sandbox")
        found = gateway._apply_delivery_reports(
            [DeliveryReport(provider_ref=sms.provider_ref, key=None, state="delivered")]
        )
        self.assertEqual(found, 1)
        self.assertEqual(message.notification_ids.notification_status, "sent")
        self.assertEqual(sms.state, "sent")

    def test_an_undelivered_report_bounces_the_notification(self):
        message, sms = self.post_sms()
        gateway = self.env.ref("insurance_notify.gateway_sandbox")
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

    @mute_logger("notify_engine.gateways.smsapi")
    def test_provider_errors_map_to_stock_failure_types(self):
        with FakeSmsapi() as fake:
            make_smsapi_gateway(self.env, fake.url)
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

    def test_without_a_gateway_stock_odoo_keeps_iap(self):
        self.env["insurance.notify.gateway"].search([]).action_archive()
        calls = []

        def fake_iap(_api, messages, delivery_reports_url=False):
            calls.append(messages)
            return [
                {"uuid": number["uuid"], "state": "success"}
                for message in messages
                for number in message["numbers"]
            ]

        self.patch(SmsApi, "_send_sms_batch", fake_iap)
        _message, sms = self.post_sms()
        self.assertEqual(calls[0][0]["content"], "Hello from the chatter")
        self.assertEqual(sms.state, "pending")
        self.assertFalse(SandboxGateway.outbox)
