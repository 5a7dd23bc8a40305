"""What the client's phone shows when several reminders fall on one day."""

from datetime import timedelta

from odoo.tests.common import new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase, warsaw


class TestOneMessageADay(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.client.write({"name": "Jan Kowalski", "lang": "en_US"})
        policy_model = cls.env["ir.model"]._get_id("insurance.policy")
        installment_model = cls.env["ir.model"]._get_id("insurance.policy.installment")
        Template = cls.env["sms.template"]
        cls.template.body = "Hello Jan, policy {{ object.name }} ends soon. Your broker Ewa."
        cls.inspection_template = Template.create(
            {
                "name": "Inspection",
                "model_id": policy_model,
                "body": "Hello Jan, the inspection of {{ object.vehicle_plate }} is due. "
                "Your broker Ewa.",
            }
        )
        cls.installment_template = Template.create(
            {
                "name": "Installment",
                "model_id": installment_model,
                "body": "Hello Jan, {{ object.amount }} is due on {{ object.date_due }}. "
                "Your broker Ewa.",
            }
        )

    def three_reminders_due_today(self):
        self.make_rule("7")
        self.make_rule(
            "7", event_type="inspection_expiry", sms_template_id=self.inspection_template.id
        )
        self.make_rule(
            "3", event_type="installment_due", sms_template_id=self.installment_template.id
        )
        policy = self.make_policy(
            7, vehicle_plate="WA 12345", inspection_date=self.TODAY + timedelta(days=7)
        )
        self.env["insurance.policy.installment"].create(
            {"policy_id": policy.id, "date_due": self.TODAY + timedelta(days=3), "amount": 120}
        )
        return policy

    def test_three_reminders_leave_as_one_sms_naming_all_three(self):
        policy = self.three_reminders_due_today()
        self.run_crons()

        self.assertEqual(len(SandboxGateway.outbox), 1, "one SMS, not three")
        [sms] = SandboxGateway.outbox
        self.assertEqual(sms.body.count("Hello Jan,"), 1)
        self.assertEqual(sms.body.count("Your broker Ewa."), 1)
        for fragment in (policy.name, "WA 12345", "120.0"):
            self.assertIn(fragment, sms.body)
        messages = self.Message.search([("rule_id", "!=", False), ("state", "!=", "skipped")])
        self.assertEqual(
            len(messages), 3, f"each reminder keeps its own row: {messages.mapped('key')}"
        )
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        self.assertEqual(len(set(messages.mapped("group_key"))), 1)
        self.assertEqual(set(messages.mapped("body")), {sms.body})
        self.assertEqual(len(set(messages.mapped("key"))), 3)

    def test_a_second_reminder_the_same_day_waits_for_tomorrow(self):
        self.make_rule("7")
        self.make_policy(7)
        self.run_crons()
        self.assertEqual(len(SandboxGateway.outbox), 1)

        # Entered at 15:00: its 7-day reminder is due today, but the client
        # had their SMS of the day this morning.
        self.set_now(warsaw(self.TODAY, 15))
        late = self.make_policy(7)
        self.run_crons()
        message = self.messages_of(late)
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.scheduled_at, warsaw(self.TODAY + timedelta(days=1), 8))
        self.assertIn("limit", message.reason)

        self.set_now(warsaw(self.TODAY + timedelta(days=1), 8, 5))
        self.run_crons()
        self.assertEqual(message.state, "sent")
        self.assertIn(late.name, SandboxGateway.outbox[-1].body)
        self.assertEqual(message.reason_code, "late_cap")

    def test_without_a_limit_it_leaves_the_same_afternoon(self):
        self.env.company.insurance_daily_cap = 0
        self.make_rule("7")
        self.make_policy(7)
        self.run_crons()
        self.set_now(warsaw(self.TODAY, 15))
        late = self.make_policy(7)
        self.run_crons()
        self.assertEqual(self.messages_of(late).state, "sent")
        self.assertEqual(len(SandboxGateway.outbox), 2)

    def test_the_limit_never_makes_a_reminder_miss_its_event(self):
        self.make_rule("7")
        self.make_rule("0", name="On the day")
        self.make_policy(7)
        self.run_crons()
        self.set_now(warsaw(self.TODAY, 15))
        ending_today = self.make_policy(0)
        self.run_crons()
        # Tomorrow would be after the end: it goes today, over the limit.
        self.assertEqual(self.messages_of(ending_today).state, "sent")


class TestRulesThatOverlap(NotifyCase):
    def test_a_second_rule_for_the_same_reminder_names_the_first(self):
        first = self.make_rule("7", name="Motor ends")
        second = self.make_rule("3", name="Motor ends again")
        other_channel = self.make_rule(
            "3",
            name="By e-mail",
            channel="email",
            mail_template_id=self.env["mail.template"]
            .create({"name": "Ends", "model_id": self.env["ir.model"]._get_id("insurance.policy")})
            .id,
        )
        self.assertEqual(second.overlap_rule_ids, first)
        self.assertEqual(first.overlap_rule_ids, second)
        self.assertFalse(other_channel.overlap_rule_ids)
        # Filters that cannot meet: no overlap.
        other_insurer = self.env["res.partner"].create({"name": "Other", "is_insurer": True})
        second.insurer_ids = other_insurer
        first.insurer_ids = self.insurer
        self.assertFalse(second.overlap_rule_ids)


class TestSavingPlansAtOnce(NotifyCase):
    def test_a_broker_saving_a_policy_wakes_the_planner(self):
        broker = new_test_user(
            self.env,
            login="wake_broker",
            groups="base.group_user,insurance_notify.group_insurance_user",
        )
        cron = self.env.ref("insurance_notify.ir_cron_plan_notifications")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        self.env["insurance.policy"].with_user(broker).create(
            {
                "name": "WAKE/1",
                "partner_id": self.client.id,
                "insurer_id": self.insurer.id,
                "product_id": self.product.id,
                "date_start": self.TODAY,
                "date_end": self.TODAY + timedelta(days=7),
                "state": "valid",
            }
        )
        self.assertGreater(Trigger.search_count([("cron_id", "=", cron.id)]), before)


class TestRunManually(NotifyCase):
    def test_running_the_send_job_at_night_says_what_waits_and_when(self):
        self.make_rule("7")
        self.make_policy(7)
        self.set_now(warsaw(self.TODAY, 22))
        self.Rule._cron_plan()
        cron = self.env.ref("insurance_notify.ir_cron_dispatch_notifications")
        admin = new_test_user(
            self.env, login="cron_admin", groups="base.group_system", tz="Europe/Warsaw"
        )
        action = cron.with_user(admin).method_direct_trigger()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("1 messages wait", action["params"]["message"])
        # 08:00 in Warsaw, in the user's date format.
        self.assertRegex(action["params"]["message"], r"\b0?8:00")
        self.assertFalse(SandboxGateway.outbox)


class TestReasonsInTheReadersLanguage(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"]._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )

    def test_a_skip_reason_reads_in_polish_and_lithuanian(self):
        self.client.mobile = False
        policy = self.make_policy(7)
        self.make_rule("7")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.reason_code, "no_mobile")
        self.assertEqual(message.reason, "no valid mobile number")
        polish = message.with_context(lang="pl_PL").reason
        lithuanian = message.with_context(lang="lt_LT").reason
        self.assertNotEqual(polish, message.reason)
        self.assertNotEqual(lithuanian, message.reason)
        self.assertNotEqual(polish, lithuanian)
        # A reason with parameters keeps them in every language.
        message.write({"reason_code": "too_long", "reason_params": {"parts": 3, "limit": 2}})
        for lang in ("pl_PL", "lt_LT"):
            text = message.with_context(lang=lang).reason
            self.assertNotEqual(text, "too long (3 parts > 2)")
            self.assertIn("3", text)
            self.assertIn("2", text)
