"""Bulk sends: pick records like a rule, queue them, send in the background, STOP."""

from datetime import timedelta

from odoo.exceptions import UserError, ValidationError

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase, warsaw


class BulkCase(NotifyCase):
    def make_batch(self, **values):
        return self.env["insurance.notify.batch"].create(
            {
                "name": "Ending in December",
                "kind": "bulk",
                "target": "policy_expiry",
                "channel": "sms",
                "sms_template_id": self.template.id,
                **values,
            }
        )

    def counts(self, batch):
        batch.invalidate_recordset()
        return {
            "total_count": batch.total_count,
            "queued_count": batch.queued_count,
            "sent_count": batch.sent_count,
            "failed_count": batch.failed_count,
            "skipped_count": batch.skipped_count,
            "cancelled_count": batch.cancelled_count,
        }


class TestBulkSend(BulkCase):
    def test_filters_count_and_preview_before_sending(self):
        other_insurer = self.env["res.partner"].create({"name": "Other", "is_insurer": True})
        first = self.make_policy(10)
        self.make_policy(12, insurer_id=other_insurer.id)
        self.make_policy(40)  # outside the dates
        self.make_policy(11, state="draft")  # not a valid policy
        batch = self.make_batch(
            date_from=self.TODAY,
            date_to=self.TODAY + timedelta(days=30),
            insurer_ids=[(6, 0, self.insurer.ids)],
        )
        self.assertEqual(batch.recipient_count, 1)
        self.assertEqual(batch.preview, f"Policy {first.name} ends on {first.date_end}.")
        self.assertEqual(batch.sms_parts, 1)
        self.assertFalse(batch.notify_message_ids, "nothing is queued before Send")

        batch.action_start()
        self.assertEqual(batch.state, "running")
        message = batch.notify_message_ids
        self.assertRecordValues(
            message,
            [
                {
                    "res_id": first.id,
                    "state": "queued",
                    "key": f"batch-{batch.id}-insurance.policy-{first.id}-sms",
                    "number": "+48600123456",
                }
            ],
        )
        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")
        self.assertEqual(SandboxGateway.outbox[0].body, message.body)
        self.assertEqual(batch.state, "done")
        self.assertEqual(self.counts(batch)["sent_count"], 1)
        self.assertEqual(batch.progress, 100.0)

    def test_a_broker_filter_and_installments_due(self):
        broker = self.env["res.users"].create({"name": "Broker B", "login": "broker_b"})
        policy = self.make_policy(100, user_id=broker.id)
        self.make_policy(100)  # another broker's
        installment = self.env["insurance.policy.installment"].create(
            {"policy_id": policy.id, "date_due": self.TODAY + timedelta(days=3), "amount": 250}
        )
        template = self.env["sms.template"].create(
            {
                "name": "Installment",
                "model_id": self.env["ir.model"]._get_id("insurance.policy.installment"),
                "body": "Installment {{ object.amount }} due {{ object.date_due }}",
            }
        )
        batch = self.make_batch(
            target="installment_due", sms_template_id=template.id, user_ids=[(6, 0, broker.ids)]
        )
        self.assertEqual(batch.recipient_count, 1)
        batch.action_start()
        self.assertEqual(batch.notify_message_ids.res_id, installment.id)
        self.assertEqual(batch.notify_message_ids.res_model, "insurance.policy.installment")

    def test_it_waits_for_the_sending_window(self):
        self.set_now(warsaw(self.TODAY, 21))
        self.make_policy(10)
        batch = self.make_batch()
        batch.action_start()
        self.Message._cron_dispatch()
        self.assertEqual(batch.notify_message_ids.state, "queued")
        self.assertEqual(
            batch.notify_message_ids.scheduled_at, warsaw(self.TODAY + timedelta(days=1), 8)
        )
        self.assertFalse(SandboxGateway.outbox)
        self.assertEqual(batch.state, "running")

    def test_no_number_or_a_blacklisted_number_is_skipped_with_the_reason(self):
        other = self.env["res.partner"].create({"name": "No Mobile"})
        self.make_policy(10)
        self.make_policy(10, partner_id=other.id)
        batch = self.make_batch()
        batch.action_start()
        self.assertEqual(
            sorted(batch.notify_message_ids.mapped("reason"), key=str),
            sorted([False, "no valid mobile number"], key=str),
        )
        self.env["phone.blacklist"]._add(["+48600123456"])
        self.Message._cron_dispatch()
        self.assertEqual(
            set(batch.notify_message_ids.mapped("state")), {"skipped"}, "a STOP wins when sending"
        )
        self.assertFalse(SandboxGateway.outbox)
        self.assertEqual(batch.state, "done")


class TestBulkNeverTwice(BulkCase):
    def test_a_started_send_cannot_start_again(self):
        self.make_policy(10)
        batch = self.make_batch()
        batch.action_start()
        with self.assertRaises(UserError):
            batch.action_start()
        self.Message._cron_dispatch()
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 1)

    def test_a_policy_the_automatic_run_reminded_today_is_skipped(self):
        reminded = self.make_policy(7)
        other = self.make_policy(10)
        self.make_rule("7")  # plans and queues the reminder about `reminded` today
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 1)
        batch = self.make_batch()
        batch.action_start()
        self.assertRecordValues(
            batch.notify_message_ids.sorted("res_id"),
            [
                {"res_id": reminded.id, "state": "skipped", "reason": "already reminded"},
                {"res_id": other.id, "state": "queued", "reason": False},
            ],
        )
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 2)

    def test_a_copy_of_a_send_is_a_new_send(self):
        self.make_policy(10)
        batch = self.make_batch()
        batch.action_start()
        self.Message._cron_dispatch()
        again = batch.copy()
        self.assertEqual(again.state, "draft")
        again.action_start()
        self.assertEqual(again.notify_message_ids.reason, "already reminded")


class TestBulkConsent(BulkCase):
    def test_the_consent_of_the_send_and_its_override(self):
        self.client.write({"consent_sms": True, "consent_marketing": True})
        self.make_policy(10)
        batch = self.make_batch(consent_mode="specific")
        batch.action_start()
        self.assertEqual(batch.notify_message_ids.reason, "no consent to this notification")

        overridden = self.make_batch(consent_mode="specific", consent_override=True)
        overridden.action_start()
        self.assertEqual(overridden.notify_message_ids.state, "queued")
        self.Message._cron_dispatch()
        self.assertEqual(overridden.notify_message_ids.state, "sent")
        log = overridden.message_ids.filtered(lambda m: "Consent override used by" in m.body)
        self.assertEqual(len(log), 1)
        self.assertIn(self.env.user.name, log.body)

    def test_the_consent_mode_follows_the_rule_of_the_same_kind(self):
        self.make_rule("7", consent_mode="specific")
        self.assertEqual(self.make_batch().consent_mode, "specific")
        marketing = self.make_batch(target="all_clients", sms_template_id=False, body="Hi")
        self.assertEqual(marketing.consent_mode, "general")

    def test_an_override_never_passes_a_blacklist(self):
        self.make_policy(10)
        self.env["phone.blacklist"]._add(["+48600123456"])
        batch = self.make_batch(consent_mode="specific", consent_override=True)
        batch.action_start()
        self.assertEqual(batch.notify_message_ids.reason, "SMS blacklisted (opted out)")

    def test_marketing_consent_cannot_be_overridden(self):
        with self.assertRaises(ValidationError):
            self.make_batch(
                target="all_clients",
                consent_override=True,
                sms_template_id=False,
                body="Happy holidays",
            )
        with self.assertRaises(ValidationError):
            self.make_batch(
                target="all_clients",
                consent_mode="none",
                sms_template_id=False,
                body="Happy holidays",
            )

    def test_all_clients_need_marketing_consent(self):
        self.make_policy(10)
        batch = self.make_batch(target="all_clients", sms_template_id=False, body="Happy holidays")
        self.assertEqual(batch.recipient_count, 1)
        batch.action_start()
        self.assertEqual(batch.notify_message_ids.reason, "no consent to SMS")
        self.client.write({"consent_sms": True, "consent_marketing": True})
        again = batch.copy()
        again.action_start()
        self.Message._cron_dispatch()
        self.assertEqual(again.notify_message_ids.state, "sent")
        self.assertEqual(SandboxGateway.outbox[0].body, "Happy holidays")


class TestBulkBadInputs(BulkCase):
    def test_no_text_no_clients_wrong_template_wrong_dates(self):
        self.make_policy(10)
        with self.assertRaises(UserError):
            self.make_batch(sms_template_id=False).action_start()
        with self.assertRaises(UserError):
            self.make_batch(channel="email", sms_template_id=False, body="x").action_start()
        with self.assertRaises(UserError):
            self.make_batch(date_from=self.TODAY + timedelta(days=300)).action_start()
        with self.assertRaises(ValidationError):
            self.make_batch(target="installment_due")  # a policy template
        with self.assertRaises(ValidationError):
            self.make_batch(date_from=self.TODAY, date_to=self.TODAY - timedelta(days=1))
        self.assertFalse(self.Message.search([]))


class TestBulkStop(BulkCase):
    def test_500_messages_stopped_after_about_100_leave_the_rest_cancelled(self):
        self.env["insurance.policy"].create(
            [
                {
                    "name": f"BULK/{number}",
                    "partner_id": self.client.id,
                    "insurer_id": self.insurer.id,
                    "product_id": self.product.id,
                    "date_start": self.TODAY - timedelta(days=300),
                    "date_end": self.TODAY + timedelta(days=20),
                    "state": "valid",
                }
                for number in range(500)
            ]
        )
        batch = self.make_batch()
        self.assertEqual(batch.recipient_count, 500)
        batch.action_start()
        self.assertEqual(self.counts(batch)["queued_count"], 500)

        send = SandboxGateway.send

        def send_then_press_stop(gateway, messages):
            results = send(gateway, messages)
            if len(SandboxGateway.outbox) >= 100:
                batch.action_stop()
            return results

        self.patch(SandboxGateway, "send", send_then_press_stop)
        self.Message._cron_dispatch(batch_size=50)

        counts = self.counts(batch)
        sent = len(SandboxGateway.outbox)
        self.assertGreaterEqual(sent, 100)
        self.assertLessEqual(sent, 110)
        self.assertEqual(
            counts,
            {
                "total_count": 500,
                "queued_count": 0,
                "sent_count": sent,
                "failed_count": 0,
                "skipped_count": 0,
                "cancelled_count": 500 - sent,
            },
        )
        self.assertEqual(batch.state, "stopped")
        self.assertEqual(batch.stopped_by_id, self.env.user)
        cancelled = batch.notify_message_ids.filtered(lambda m: m.state == "cancelled")
        self.assertEqual(set(cancelled.mapped("reason")), {f"stopped by {self.env.user.name}"})
        self.assertFalse(
            self.Message.search(
                [("batch_id", "=", batch.id), ("state", "in", ("queued", "sending"))]
            )
        )
        # Nothing cancelled goes later.
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), sent)

    def test_stop_pressed_after_the_dispatcher_took_its_rows(self):
        """The dispatcher commits its rows as sending, then the broker presses
        STOP: it looks at the batch again before sending and cancels them."""
        for days in (10, 11, 12):
            self.make_policy(days)
        batch = self.make_batch()
        batch.action_start()
        commit = type(self.Message)._commit

        def commit_then_stop(message_model):
            commit(message_model)
            if batch.state == "running":
                batch.action_stop()

        self.patch(type(self.Message), "_commit", commit_then_stop)
        self.Message._cron_dispatch()
        self.assertFalse(SandboxGateway.outbox)
        self.assertEqual(set(batch.notify_message_ids.mapped("state")), {"cancelled"})
        self.assertEqual(self.counts(batch)["cancelled_count"], 3)

    def test_stop_only_stops_a_running_send(self):
        batch = self.make_batch()
        batch.action_stop()
        self.assertEqual(batch.state, "draft")
