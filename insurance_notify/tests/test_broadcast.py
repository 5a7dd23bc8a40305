"""Broadcasts: a free text to chosen clients, marketing consent required."""

from odoo.exceptions import UserError, ValidationError

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase

OFFICE_MOVE = "Our office moves to ul. Długa 5 on Monday."


class TestBroadcast(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client.write(
            {
                "consent_sms": True,
                "consent_email": True,
                "consent_marketing": True,
                "email": "jan@example.com",
            }
        )
        cls.no_marketing = cls.env["res.partner"].create(
            {
                "name": "Anna Bez Zgody",
                "mobile": "+48 600 222 333",
                "consent_sms": True,
                "email": "anna@example.com",
                "consent_email": True,
            }
        )
        cls.gateway = cls.env.ref("insurance_notify.gateway_sandbox")
        cls.gateway.write({"cost_per_part": 0.16, "opt_out_text": "STOP to 4100"})

    def broadcast(self, **values):
        return self.env["insurance.notify.batch"].create(
            {
                "name": "Office move",
                "kind": "broadcast",
                "channel": "sms",
                "body": OFFICE_MOVE,
                "gateway_id": self.gateway.id,
                "partner_ids": [(6, 0, (self.client | self.no_marketing).ids)],
                **values,
            }
        )

    def test_parts_and_cost_are_shown_before_sending(self):
        batch = self.broadcast(opt_out_line=False)
        self.assertEqual(batch.consent_mode, "general")
        self.assertEqual(batch.recipient_count, 2)
        self.assertEqual(batch.preview, OFFICE_MOVE)
        self.assertEqual(batch.sms_parts, 1)
        # Only the client with marketing consent is sent to: the cost is the review's.
        self.assertAlmostEqual(batch.cost_estimate, 0.16)
        batch.body = "Ł" * 71  # UCS-2: 70 a part
        self.assertEqual(batch.sms_parts, 2)
        self.assertAlmostEqual(batch.cost_estimate, 2 * 0.16)

    def test_only_clients_with_marketing_consent_get_it_with_the_opt_out_line(self):
        batch = self.broadcast(sms_sender="Broker24")
        self.assertTrue(batch.opt_out_line)
        self.assertEqual(batch.preview, f"{OFFICE_MOVE}\nSTOP to 4100")
        batch.action_start()
        self.Message._cron_dispatch()
        by_partner = {m.partner_id: m for m in batch.notify_message_ids}
        self.assertRecordValues(
            by_partner[self.client], [{"state": "sent", "body": f"{OFFICE_MOVE}\nSTOP to 4100"}]
        )
        self.assertRecordValues(
            by_partner[self.no_marketing], [{"state": "skipped", "reason": "no marketing consent"}]
        )
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertEqual(SandboxGateway.outbox[0].sender, "Broker24")
        self.assertEqual(SandboxGateway.outbox[0].number, "+48600123456")
        # Logged like every other message: history and the client's chatter.
        self.assertEqual(self.client.insurance_notify_message_count, 1)
        self.assertIn(OFFICE_MOVE, self.client.message_ids[0].body)

    def test_an_email_broadcast_has_the_subject_text_and_an_unsubscribe_link(self):
        batch = self.broadcast(
            channel="email", subject="We are moving", email_from="office@broker.example"
        )
        batch.action_start()
        self.Message._cron_dispatch()
        message = batch.notify_message_ids.filtered(lambda m: m.partner_id == self.client)
        self.assertEqual(message.state, "sent")
        mail = self.env["mail.mail"].search([("email_to", "=", "jan@example.com")], limit=1)
        self.assertEqual(mail.subject, "We are moving")
        self.assertEqual(mail.email_from, "office@broker.example")
        self.assertIn("Długa 5", mail.body_html)
        self.assertIn(f"/insurance_notify/unsubscribe/{self.client.id}/", mail.body_html)
        self.assertIn("List-Unsubscribe", mail.headers)
        self.assertNotIn("STOP to 4100", mail.body_html)
        skipped = batch.notify_message_ids - message
        self.assertEqual(skipped.reason, "no marketing consent")

    def test_bad_inputs(self):
        with self.assertRaises(UserError):
            self.broadcast(body=" ").action_start()
        with self.assertRaises(UserError):
            self.broadcast(partner_ids=[(5, 0, 0)]).action_start()
        with self.assertRaises(UserError):
            self.broadcast(channel="email").action_start()  # no subject
        with self.assertRaises(ValidationError):
            self.broadcast(consent_mode="none")
        with self.assertRaises(ValidationError):
            self.broadcast(consent_override=True)
        self.assertFalse(self.Message.search([]))

    def test_the_clients_list_action_preselects_the_clients(self):
        action = self.env.ref("insurance_notify.action_insurance_broadcast_partners")
        self.assertEqual(action.binding_model_id.model, "res.partner")
        batch = (
            self.env["insurance.notify.batch"]
            .with_context(default_kind="broadcast", default_partner_ids=self.client.ids)
            .create({"body": "Season's greetings"})
        )
        self.assertEqual(batch.name, "New broadcast")
        self.assertEqual(batch.partner_ids, self.client)
