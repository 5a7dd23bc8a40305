"""A broker's day: a reminder left out for a state that changes the same day
(a draft validated, a number or a consent added, a payment undone) goes after
all that day — the occurrence is not used up (invariant 2, never lost)."""

from datetime import timedelta

from odoo.tests import Form
from odoo.tests.common import new_test_user
from odoo.tools import file_open

from ..lib.notify_engine import experiment
from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase, warsaw
from .test_task_reminders import TaskCase


class BrokerDayCase(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["insurance_notify"], ["pl_PL"], overwrite=True
        )
        cls.client.lang = "pl_PL"
        cls.template.body = "Polisa {{ object.name }} wygasa {{ format_date(object.date_end) }}."
        cls.broker = new_test_user(
            cls.env,
            login="broker_day",
            name="Anna Nowicka",
            lang="pl_PL",
            tz="Europe/Warsaw",
            groups="insurance_notify.group_insurance_user,base.group_partner_manager",
        )
        cls.installment_template = cls.env["sms.template"].create(
            {
                "name": "Rata",
                "model_id": cls.env["ir.model"]._get_id("insurance.policy.installment"),
                "body": "Rata {{ object.policy_id.name }} do {{ format_date(object.date_due) }}.",
            }
        )

    def polish_text(self, policy):
        return f"Polisa {policy.name} wygasa {policy.date_end.strftime('%d.%m.%Y')}."


class TestADraftValidatedTheSameDay(BrokerDayCase):
    def test_the_seven_day_reminder_leaves_once_the_draft_is_validated(self):
        policy = self.make_policy(7, state="draft", user_id=self.broker.id)
        self.make_rule("7")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertRecordValues(message, [{"state": "skipped", "reason_code": "policy_draft"}])

        self.set_now(warsaw(self.TODAY, 10, 30))
        policy.with_user(self.broker).action_validate()
        # Before the planner runs, the dry run already knows it will go.
        wizard = (
            self.env["insurance.notify.dry.run"].with_user(self.broker).create({"day": self.TODAY})
        )
        wizard.action_run()
        self.assertEqual(
            wizard.line_ids.filtered(lambda line: line.policy_id == policy).mapped("state"),
            ["send"],
        )
        self.run_crons()
        self.assertEqual(self.messages_of(policy), message, "the same occurrence, not a new one")
        self.assertRecordValues(message, [{"state": "sent", "reason_code": False}])
        self.assertEqual(
            [(sms.number, sms.body) for sms in SandboxGateway.outbox],
            [("+48600123456", self.polish_text(policy))],
        )
        # Every later run leaves it alone: never twice.
        self.run_crons()
        self.assertEqual(len(SandboxGateway.outbox), 1)

    def test_send_now_on_the_validated_policy_sends_it(self):
        policy = self.make_policy(7, state="draft", user_id=self.broker.id)
        self.make_rule("7")
        self.run_crons()
        policy.with_user(self.broker).action_validate()
        action = policy.with_user(self.broker).action_send_expiry_reminder()
        self.assertEqual(action["params"]["type"], "success")
        self.assertNotIn("robocz", action["params"]["message"])
        self.Message._cron_dispatch()
        self.assertEqual(self.messages_of(policy).state, "sent")
        self.assertEqual([sms.body for sms in SandboxGateway.outbox], [self.polish_text(policy)])

    def test_a_reminder_cancelled_by_a_person_stays_cancelled(self):
        policy = self.make_policy(7)
        self.set_now(warsaw(self.TODAY, 22))  # queued for tomorrow morning
        self.make_rule("7")
        message = self.messages_of(policy)
        self.assertEqual(message.state, "queued")
        message.action_cancel()
        self.Rule._cron_plan()
        self.assertRecordValues(message, [{"state": "cancelled", "reason_code": "cancelled_by"}])

    def test_a_policy_still_draft_stays_skipped(self):
        policy = self.make_policy(7, state="draft")
        self.make_rule("7")
        self.run_crons()
        self.run_crons()
        self.assertRecordValues(
            self.messages_of(policy), [{"state": "skipped", "reason_code": "policy_draft"}]
        )
        self.assertFalse(SandboxGateway.outbox)


class TestTheClientCompletedTheSameDay(BrokerDayCase):
    def test_a_number_added_later_that_day_lets_the_reminder_go(self):
        self.client.mobile = False
        policy = self.make_policy(7)
        self.make_rule("7")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.reason_code, "no_mobile")

        self.set_now(warsaw(self.TODAY, 11))
        self.client.with_user(self.broker).mobile = "601 222 333"
        self.run_crons()
        self.assertRecordValues(message, [{"state": "sent", "number": "+48601222333"}])
        self.assertEqual(
            [(sms.number, sms.body) for sms in SandboxGateway.outbox],
            [("+48601222333", self.polish_text(policy))],
        )

    def test_a_consent_given_later_that_day_lets_the_reminder_go(self):
        policy = self.make_policy(7)
        self.make_rule("7", consent_mode="general")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "skipped")

        self.set_now(warsaw(self.TODAY, 12))
        self.client.with_user(self.broker).write({"consent_sms": True, "consent_marketing": True})
        self.run_crons()
        self.assertEqual(message.state, "sent")
        self.assertEqual([sms.body for sms in SandboxGateway.outbox], [self.polish_text(policy)])

    def test_a_withdrawal_is_not_undone_by_the_next_run(self):
        self.client.write({"consent_sms": True, "consent_marketing": True})
        policy = self.make_policy(7)
        self.make_rule("7", consent_mode="general")
        self.client.consent_sms = False
        self.run_crons()
        self.assertRecordValues(
            self.messages_of(policy), [{"state": "skipped", "reason_code": "no_sms_consent"}]
        )
        self.assertFalse(SandboxGateway.outbox)


class TestAPaymentUndone(BrokerDayCase):
    def installment(self):
        policy = self.make_policy(200)
        return self.env["insurance.policy.installment"].create(
            {
                "policy_id": policy.id,
                "date_due": self.TODAY + timedelta(days=5),
                "amount": 250,
            }
        )

    def rule(self):
        return self.make_rule(
            "5", event_type="installment_due", sms_template_id=self.installment_template.id
        )

    def test_a_payment_undone_brings_back_the_cancelled_reminder(self):
        installment = self.installment()
        self.set_now(warsaw(self.TODAY, 22))  # queued for tomorrow morning
        self.rule()
        installment.with_user(self.broker).action_mark_paid()
        message = self.messages_of(installment)
        self.assertRecordValues(
            message, [{"state": "cancelled", "reason_code": "installment_paid"}]
        )

        self.set_now(warsaw(self.TODAY, 23))
        installment.with_user(self.broker).action_reopen()
        self.Rule._cron_plan()
        self.assertEqual(message.state, "queued")
        self.set_now(warsaw(self.TODAY + timedelta(days=1), 8, 5))
        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")
        self.assertEqual(len(SandboxGateway.outbox), 1)

    def test_a_payment_undone_the_same_day_sends_the_skipped_reminder(self):
        installment = self.installment()
        installment.action_mark_paid()
        self.rule()
        self.run_crons()
        message = self.messages_of(installment)
        self.assertRecordValues(message, [{"state": "skipped", "reason_code": "installment_paid"}])

        self.set_now(warsaw(self.TODAY, 14))
        installment.with_user(self.broker).action_reopen()
        self.run_crons()
        self.assertEqual(message.state, "sent")
        due = installment.date_due.strftime("%d.%m.%Y")
        self.assertEqual(
            [sms.body for sms in SandboxGateway.outbox],
            [f"Rata {installment.policy_id.name} do {due}."],
        )


class TestANewClientSpeaksTheAgencysLanguage(BrokerDayCase):
    def setUp(self):
        super().setUp()
        self.env.company.partner_id.lang = "pl_PL"
        self.english_broker = new_test_user(
            self.env,
            login="broker_day_en",
            lang="en_US",
            groups="insurance_notify.group_insurance_user,base.group_partner_manager",
        )

    def new_client(self, user, **context):
        Partner = self.env["res.partner"].with_user(user).with_context(**context)
        return Partner.create({"name": "Zofia Kowalczyk", "mobile": "602 333 444"})

    def test_a_client_entered_by_a_broker_is_polish_whatever_the_brokers_language(self):
        for user in (self.broker, self.english_broker):
            with self.subTest(user=user.login):
                client = self.new_client(user, insurance_client=True)
                self.assertEqual(client.lang, "pl_PL")

    def test_the_client_form_shows_the_polish_default(self):
        form = Form(
            self.env["res.partner"]
            .with_user(self.english_broker)
            .with_context(insurance_client=True),
        )
        self.assertEqual(form.lang, "pl_PL")

    def test_an_explicit_language_and_contacts_outside_insurance_keep_stock_behaviour(self):
        self.assertEqual(
            self.new_client(self.broker, insurance_client=True, default_lang="en_US").lang,
            "en_US",
        )
        self.assertEqual(self.new_client(self.english_broker).lang, "en_US")

    def test_without_an_agency_language_the_brokers_own_is_taken(self):
        self.env.company.partner_id.lang = False
        self.assertEqual(self.new_client(self.broker, insurance_client=True).lang, "pl_PL")
        self.assertEqual(self.new_client(self.english_broker, insurance_client=True).lang, "en_US")


class TestTheManagersPreviewOpens(BrokerDayCase):
    def setUp(self):
        super().setUp()
        self.manager = new_test_user(
            self.env,
            login="manager_day",
            lang="pl_PL",
            groups="insurance_notify.group_insurance_manager",
        )
        self.policy = self.make_policy(7, user_id=self.broker.id)

    def test_the_rules_sms_preview_opens_for_a_manager(self):
        rule = self.make_rule("7").with_user(self.manager)
        action = rule.action_preview_sms()
        Preview = (
            self.env[action["res_model"]].with_user(self.manager).with_context(action["context"])
        )
        # What the web client asks when the dialog opens, in a request of its
        # own: nothing of ir.model is in the cache.
        self.env.invalidate_all()
        values = Preview.onchange(
            {},
            [],
            {
                "sms_template_id": {"fields": {"display_name": {}}},
                "model_id": {"fields": {"display_name": {}}},
                "resource_ref": {},
                "no_record": {},
                "body": {},
                "sms_parts": {},
            },
        )["value"]
        self.assertTrue(values["resource_ref"].startswith("insurance.policy,"))
        self.assertFalse(values["no_record"])
        self.assertTrue(values["body"].startswith("Polisa "))

    def test_the_mail_template_preview_opens_for_a_manager(self):
        template = self.env["mail.template"].create(
            {
                "name": "Koniec polisy",
                "model_id": self.env["ir.model"]._get_id("insurance.policy"),
                "subject": "Polisa {{ object.name }}",
            }
        )
        self.env.invalidate_all()
        preview = Form(
            self.env["mail.template.preview"]
            .with_user(self.manager)
            .with_context(default_mail_template_id=template.id)
        )
        self.assertEqual(preview.subject.split()[0], "Polisa")
        preview.save().with_user(self.manager).web_read(
            {"model_id": {"fields": {"display_name": {}}}, "subject": {}}
        )


class TestATestSmsIsNotTheClientsHistory(BrokerDayCase):
    def test_a_test_sms_to_the_brokers_own_number_stays_on_the_policy(self):
        manager = new_test_user(
            self.env,
            login="manager_test_sms",
            lang="pl_PL",
            mobile="+48 609 111 222",
            groups="insurance_notify.group_insurance_manager",
        )
        policy = self.make_policy(7, user_id=self.broker.id)
        wizard = (
            self.env["insurance.sms.test"]
            .with_user(manager)
            .create(
                {"policy_id": policy.id, "sms_template_id": self.template.id,
                 "number": "+48 609 111 222"}
            )
        )  # fmt: skip
        wizard.action_send()
        self.Message._cron_dispatch()
        self.assertEqual(
            [(sms.number, sms.body) for sms in SandboxGateway.outbox],
            [("+48609111222", self.polish_text(policy))],
        )
        message = wizard.message_id
        self.assertRecordValues(
            message, [{"state": "sent", "policy_id": policy.id, "partner_id": False}]
        )
        client = self.client.with_user(self.broker)
        self.assertFalse(client.insurance_notify_message_ids)
        self.assertEqual(client.insurance_notify_message_count, 0)
        # The policy keeps it, logged as the test it was.
        self.assertIn(message, policy.with_user(self.broker).notify_message_ids)
        self.assertTrue(policy.message_ids.filtered(lambda m: "+48609111222" in (m.body or "")))


class TestTheRulesTransliterationDecides(BrokerDayCase):
    def setUp(self):
        super().setUp()
        self.template.write(
            {"body": "Polisa {{ object.name }}: składka 312,50 zł.", "sms_transliterate": True}
        )
        self.manager = new_test_user(
            self.env,
            login="manager_translit",
            lang="pl_PL",
            groups="insurance_notify.group_insurance_manager",
        )

    def test_an_unticked_box_sends_the_polish_letters(self):
        policy = self.make_policy(7)
        self.make_rule("7", sms_transliterate=False)
        self.run_crons()
        expected = f"Polisa {policy.name}: składka 312,50 zł."
        self.assertEqual([sms.body for sms in SandboxGateway.outbox], [expected])
        self.assertEqual(self.messages_of(policy).sms_encoding, "UCS-2")

    def test_choosing_the_template_in_the_form_ticks_the_box_and_the_manager_decides(self):
        form = Form(self.env["insurance.notify.rule"].with_user(self.manager))
        form.name = "Koniec polisy"
        form.offsets = "7"
        form.sms_template_id = self.template
        self.assertTrue(form.sms_transliterate)
        form.sms_transliterate = False
        rule = form.save()
        self.assertFalse(rule.sms_transliterate)
        self.assertEqual(rule._notify_sms_options()[0], False)
        # The dry run says what the dispatcher will send.
        policy = self.make_policy(7)
        wizard = (
            self.env["insurance.notify.dry.run"]
            .with_user(self.manager)
            .create({"day": self.TODAY, "rule_ids": [(6, 0, rule.ids)]})
        )
        wizard.action_run()
        line = wizard.line_ids.filtered(lambda line: line.policy_id == policy)
        self.assertEqual(
            (line.text, line.sms_encoding),
            (f"Polisa {policy.name}: składka 312,50 zł.", "UCS-2"),
        )

    def test_a_rule_created_without_the_box_takes_the_templates(self):
        policy = self.make_policy(7)
        rule = self.make_rule("7")
        self.assertTrue(rule.sms_transliterate)
        self.run_crons()
        self.assertEqual(
            [sms.body for sms in SandboxGateway.outbox],
            [f"Polisa {policy.name}: skladka 312,50 zl."],
        )


class TestATaskWithoutDeadlineSaysWhy(TaskCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"]._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )

    def test_a_task_with_only_a_start_says_the_reminders_need_the_deadline(self):
        self.set_defaults("customer", channel="sms", lead_time=2.0)
        task = self.make_task(deadline=False, insurance_date_start=warsaw(self.tomorrow, 10))
        task.date_deadline = False
        self.assertTrue(task.insurance_customer_reminder_ids.enabled)
        self.assertFalse(self.task_messages(task, "queued"))
        english = task.insurance_reminder_notice
        self.assertIn("not from the start", english)
        # Odoo reads a catalogue through its template (.pot): a message the
        # template does not list yet (the lead regenerates it) has no translation.
        with file_open("insurance_notify/i18n/insurance_notify.pot") as pot:
            listed = english in pot.read()
        if listed:
            polish = task.with_context(lang="pl_PL").insurance_reminder_notice
            lithuanian = task.with_context(lang="lt_LT").insurance_reminder_notice
            self.assertIn("nie od rozpoczęcia", polish)
            self.assertIn("ne nuo pradžios", lithuanian)

        task.date_deadline = warsaw(self.tomorrow, 10)
        self.assertFalse(task.insurance_reminder_notice)
        self.assertEqual(len(self.task_messages(task, "queued")), 1)

    def test_a_task_without_reminders_says_nothing(self):
        task = self.make_task(deadline=False)
        task.date_deadline = False
        task.insurance_reminder_ids.enabled = False
        self.assertFalse(task.insurance_reminder_notice)


class TestTheSentMarkSaysSandbox(BrokerDayCase):
    def test_a_reminder_only_the_sandbox_kept_is_not_marked_as_reaching_the_client(self):
        policy = self.make_policy(7, user_id=self.broker.id)
        self.make_rule("7")
        self.run_crons()
        message = self.messages_of(policy)
        self.assertRecordValues(message, [{"state": "sent", "is_sandbox": True}])
        seen = policy.with_user(self.broker)
        self.assertTrue(seen.expiry_reminder_sent_at)
        self.assertTrue(seen.expiry_reminder_sandbox)
        self.assertFalse(seen.inspection_reminder_sandbox)

        # One that reached the client's phone: the green mark.
        message.sudo().is_sandbox = False
        seen.invalidate_recordset()
        self.assertFalse(seen.expiry_reminder_sandbox)
        self.assertTrue(seen.expiry_reminder_sent_at)


class TestARevivedReminderIsMeasuredToo(BrokerDayCase):
    def test_a_validated_draft_in_the_control_group_is_recorded_as_control(self):
        # This client is drawn into the control group (the draw is a stable hash).
        self.patch(experiment, "is_control", lambda unit, percent: bool(percent))
        policy = self.make_policy(7, state="draft")
        self.make_rule("7", control_percent=50)
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.reason_code, "policy_draft")
        policy.action_validate()
        self.run_crons()
        self.assertRecordValues(
            message, [{"state": "skipped", "reason_code": "control_group", "outcome": "pending"}]
        )
        self.assertFalse(SandboxGateway.outbox)
