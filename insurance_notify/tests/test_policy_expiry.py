import contextlib
from datetime import timedelta

from psycopg2.errors import UniqueViolation

from odoo.exceptions import UserError, ValidationError
from odoo.tools import mute_logger

from odoo.addons.insurance_notify.models.insurance_notify_sender import QueueItem

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase, warsaw


class TestPolicyExpiryEndToEnd(NotifyCase):
    def test_a_policy_ending_in_seven_days_gets_one_sms_once(self):
        policy = self.make_policy(7)
        self.make_rule("7")

        self.Rule._cron_plan()
        message = self.messages_of(policy)
        self.assertEqual(len(message), 1)
        self.assertRecordValues(
            message,
            [{"state": "queued", "offset": 7, "number": "+48600123456", "channel": "sms"}],
        )

        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")
        expected = f"Policy {policy.name} ends on {policy.date_end}."
        self.assertEqual(message.body, expected)
        self.assertEqual(message.sms_parts, 1)
        self.assertTrue(message.provider_ref)
        self.assertEqual(
            [(sms.number, sms.body, sms.key) for sms in SandboxGateway.outbox],
            [("+48600123456", expected, message.key)],
        )

        self.run_crons()
        self.assertEqual(self.messages_of(policy), message)
        self.assertEqual(len(SandboxGateway.outbox), 1)

        logged = policy.message_ids.filtered(lambda m: "reminder sent to" in (m.body or ""))
        self.assertEqual(len(logged), 1)
        self.assertIn("+48600123456", logged.body)
        self.assertIn(expected, logged.body)

    def test_the_next_day_plans_nothing_new_for_the_same_offset(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        self.run_crons()
        self.set_now(warsaw(self.TODAY + timedelta(days=1), 10))
        self.run_crons()
        self.assertEqual(len(self.messages_of(policy)), 1)
        self.assertEqual(len(SandboxGateway.outbox), 1)

    def test_a_cancelled_or_draft_policy_gets_nothing_and_says_why(self):
        cancelled = self.make_policy(7, state="cancelled")
        draft = self.make_policy(7, state="draft")
        self.make_rule("7")
        self.run_crons()
        self.assertRecordValues(
            self.messages_of(cancelled | draft).sorted("res_id"),
            [
                {"res_id": cancelled.id, "state": "skipped", "reason": "policy cancelled"},
                {"res_id": draft.id, "state": "skipped", "reason": "policy draft"},
            ],
        )
        self.assertFalse(SandboxGateway.outbox)

    def test_cancelling_a_policy_cancels_its_queued_reminder(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        self.Rule._cron_plan()
        policy.action_cancel()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "cancelled")
        self.Message._cron_dispatch()
        self.assertFalse(SandboxGateway.outbox)

    def test_each_offset_is_sent_on_its_own_day(self):
        policy = self.make_policy(21)
        self.make_rule("21,14,7")
        for day in (0, 7, 14):
            self.set_now(warsaw(self.TODAY + timedelta(days=day), 10))
            self.run_crons()
        self.assertEqual(sorted(self.messages_of(policy).mapped("offset")), [7, 14, 21])
        self.assertEqual(len(SandboxGateway.outbox), 3)

    def test_missed_days_send_only_the_latest_missed_offset(self):
        rule = self.make_rule("21,14,7")
        policy = self.make_policy(21)
        # The planner did not run for 15 days: the 21- and 14-day reminders were missed.
        self.set_now(warsaw(self.TODAY + timedelta(days=14), 10))
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.mapped("offset"), [7])
        self.assertEqual(message.state, "sent")
        self.assertEqual(rule.last_planned_date, self.TODAY + timedelta(days=14))

    def test_a_rule_works_the_day_it_is_created(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        message = self.messages_of(policy)
        self.assertEqual(message.state, "queued")
        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")

    def test_changing_the_offsets_plans_today_again(self):
        policy = self.make_policy(10)
        rule = self.make_rule("7")
        self.assertFalse(self.messages_of(policy))
        rule.offsets = "10,7"
        self.assertEqual(self.messages_of(policy).mapped("offset"), [10])

    def test_an_archived_rule_plans_nothing(self):
        policy = self.make_policy(7)
        self.make_rule("7", active=False)
        self.run_crons()
        self.assertFalse(self.messages_of(policy))

    def test_filters_limit_the_rule_to_chosen_insurers(self):
        other_insurer = self.env["res.partner"].create({"name": "Other", "is_insurer": True})
        mine = self.make_policy(7)
        theirs = self.make_policy(7, insurer_id=other_insurer.id, name="OTHER/1")
        self.make_rule("7", insurer_ids=[(6, 0, self.insurer.ids)])
        self.Rule._cron_plan()
        self.assertTrue(self.messages_of(mine))
        self.assertFalse(self.messages_of(theirs))


class TestSendingWindow(NotifyCase):
    def test_a_night_run_holds_messages_until_the_morning(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        self.set_now(warsaw(self.TODAY, 22, 30))
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.scheduled_at, warsaw(self.TODAY + timedelta(days=1), 8))
        self.assertFalse(SandboxGateway.outbox)

        self.set_now(warsaw(self.TODAY + timedelta(days=1), 8, 5))
        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")

    def test_a_client_in_vilnius_is_reached_in_vilnius_hours(self):
        self.client.tz = "Europe/Vilnius"
        policy = self.make_policy(7)
        self.make_rule("7")
        # 19:30 in Warsaw is 20:30 in Vilnius: past the window there.
        self.set_now(warsaw(self.TODAY, 19, 30))
        self.run_crons()
        self.assertEqual(self.messages_of(policy).state, "queued")
        self.assertFalse(SandboxGateway.outbox)


class WorkerDied(BaseException):
    """A crash no code of ours catches."""


class TestNeverLostNeverTwice(NotifyCase):
    def test_a_client_without_mobile_is_skipped_with_a_reason(self):
        self.client.mobile = False
        policy = self.make_policy(7)
        self.make_rule("7")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "skipped")
        self.assertEqual(message.reason, "no valid mobile number")

    def test_a_blacklisted_number_is_skipped_with_a_reason(self):
        self.env["phone.blacklist"].sudo().add("+48600123456")
        policy = self.make_policy(7)
        self.make_rule("7")
        self.run_crons()
        self.assertEqual(self.messages_of(policy).reason, "SMS blacklisted (opted out)")
        self.assertFalse(SandboxGateway.outbox)

    def test_a_crash_after_the_gateway_call_does_not_send_twice(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        self.Rule._cron_plan()
        message = self.messages_of(policy)
        # The worker dies after the provider took the message, before its
        # answer is written: the database still says "sending".
        original_send = SandboxGateway.send

        def send_then_die(gateway, messages):
            original_send(gateway, messages)
            raise WorkerDied

        self.patch(SandboxGateway, "send", send_then_die)
        with contextlib.suppress(WorkerDied):
            self.Message._cron_dispatch()
        self.assertEqual(message.state, "sending")
        self.assertEqual(len(SandboxGateway.outbox), 1)

        self.patch(SandboxGateway, "send", original_send)
        self.set_now(self.now + timedelta(minutes=30))
        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")
        self.assertEqual(len(SandboxGateway.outbox), 1, "the sandbox refuses a key it has kept")

    def test_a_message_key_is_unique(self):
        self.make_policy(7)
        rule = self.make_rule("7")
        self.Rule._cron_plan()
        message = self.Message.search([("rule_id", "=", rule.id)])
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(UniqueViolation),
            self.cr.savepoint(),
        ):
            message.copy({"key": message.key})


class TestRuleInput(NotifyCase):
    def test_bad_offsets_are_refused_with_a_clear_message(self):
        for offsets, expected in (
            ("21;x", "“21;x” is not a number of days"),
            ("", "Enter at least one number of days"),
            ("7,-3", "cannot be negative"),
        ):
            with self.subTest(offsets=offsets), self.assertRaisesRegex(ValidationError, expected):
                self.make_rule(offsets)

    def test_duplicate_offsets_are_dropped_in_the_form(self):
        rule = self.make_rule("7")
        rule.offsets = "7, 14,7 ,21"
        rule._onchange_offsets()
        self.assertEqual(rule.offsets, "21,14,7")

    def test_a_window_that_ends_before_it_starts_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "must start before it ends"):
            self.make_rule("7", window_start=20, window_end=8)

    def test_a_template_for_another_model_is_refused(self):
        partner_template = self.env["sms.template"].create(
            {
                "name": "Partner",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "body": "x",
            }
        )
        with self.assertRaisesRegex(ValidationError, "is written for res.partner records"):
            self.make_rule("7", sms_template_id=partner_template.id)


class TestOtherPolicyEvents(NotifyCase):
    def test_an_inspection_ending_in_seven_days_gets_its_own_reminder(self):
        policy = self.make_policy(200, inspection_date=self.TODAY + timedelta(days=7))
        no_inspection = self.make_policy(201)
        self.make_rule("7", event_type="inspection_expiry")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertRecordValues(message, [{"state": "sent", "event_date": policy.inspection_date}])
        self.assertFalse(self.messages_of(no_inspection))

    def test_draft_policies_are_reminded_only_when_the_rule_says_so(self):
        draft = self.make_policy(7, state="draft")
        self.make_rule("7")
        self.assertEqual(self.messages_of(draft).state, "skipped")
        self.make_rule("7", policy_scope="valid_draft", name="Drafts too")
        self.assertEqual(sorted(self.messages_of(draft).mapped("state")), ["queued", "skipped"])

    def test_a_weekdays_only_rule_holds_saturday_messages_until_monday(self):
        saturday = self.TODAY - timedelta(days=self.TODAY.weekday()) + timedelta(days=5)
        self.set_now(warsaw(saturday, 10))
        policy = self.make_policy((saturday - self.TODAY).days + 7)
        self.make_rule("7", send_days="mon_fri")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.scheduled_at, warsaw(saturday + timedelta(days=2), 8))


class TestSendNow(NotifyCase):
    def test_send_now_takes_the_key_of_the_automatic_run(self):
        rule = self.make_rule("21,14,7")
        # Entered late: ten days left, the 21- and 14-day reminders were never planned.
        policy = self.make_policy(10)
        self.Rule._cron_plan()
        self.assertFalse(self.messages_of(policy))

        message = self.Message._send_now(policy, "policy_expiry")
        self.assertRecordValues(message, [{"state": "queued", "offset": 14, "rule_id": rule.id}])
        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")
        self.assertEqual(len(SandboxGateway.outbox), 1)

        # Again by hand, or the next automatic runs: the 14-day one is not sent twice,
        # the 7-day one still goes on its day.
        self.Message._send_now(policy, "policy_expiry")
        self.set_now(warsaw(self.TODAY + timedelta(days=3), 10))
        self.run_crons()
        self.assertEqual(sorted(self.messages_of(policy).mapped("offset")), [7, 14])
        self.assertEqual(len(SandboxGateway.outbox), 2)

    def test_send_now_before_any_offset_takes_the_first_one(self):
        self.make_rule("21,14,7")
        policy = self.make_policy(40)
        self.assertEqual(self.Message._send_now(policy, "policy_expiry").offset, 21)

    def test_send_now_at_night_waits_for_the_window(self):
        self.make_rule("7")
        policy = self.make_policy(9)
        self.set_now(warsaw(self.TODAY, 23))
        message = self.Message._send_now(policy, "policy_expiry")
        self.assertEqual(message.state, "queued")
        self.assertFalse(SandboxGateway.outbox)

    def test_send_now_without_a_rule_says_so(self):
        policy = self.make_policy(7)
        with self.assertRaisesRegex(UserError, "No active automatic notification"):
            self.Message._send_now(policy, "policy_expiry")

    def test_send_now_for_a_past_event_says_so(self):
        self.make_rule("7")
        policy = self.make_policy(-2)
        with self.assertRaisesRegex(UserError, "No reminder applies"):
            self.Message._send_now(policy, "policy_expiry")


class TestMessagesWithoutRule(NotifyCase):
    """The test SMS queues a message no sender planned: its own text, at once."""

    def queue(self, **values):
        policy = self.make_policy(30)
        item = QueueItem(
            res_model="insurance.policy",
            res_id=policy.id,
            partner_id=self.client.id,
            policy_id=policy.id,
            number="+48600123456",
            key=f"manual-{policy.id}",
            gateway_id=self.env.ref("insurance_notify.gateway_sandbox").id,
            **values,
        )
        sender = self.env["insurance.notify.direct"]._for("test", self.env.company)
        return self.Message._enqueue(sender, [item])

    def test_a_free_text_is_sent_as_written(self):
        message = self.queue(body="Our office moves to ul. Długa 5 on Monday.")
        self.Message._cron_dispatch()
        self.assertEqual(SandboxGateway.outbox[0].body, message.body)
        self.assertEqual(message.sms_encoding, "UCS-2")

    def test_it_leaves_at_once_even_at_night(self):
        self.set_now(warsaw(self.TODAY, 23))
        message = self.queue(body="Test")
        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")
        self.assertEqual(SandboxGateway.outbox[0].body, "Test")
