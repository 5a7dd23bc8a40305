"""Did the reminder work? Outcomes, the control group and template variants.

The broker renews, pays and enters inspections as they do every day; the
messages' outcomes follow, the control group receives nothing, and the
effectiveness report's numbers are those of what happened.
"""

import importlib.util
import tempfile
from datetime import timedelta
from pathlib import Path

import polib

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests.common import new_test_user
from odoo.tools.translate import TranslationImporter

from ..lib.notify_engine import experiment
from ..lib.notify_engine.gateways import SandboxGateway
from ..models import insurance_notify_outcome as outcome
from .common import NotifyCase, warsaw

MIGRATION = (
    Path(__file__).resolve().parents[2] / "insurance_notify/migrations/18.0.1.3.0/post-outcomes.py"
)


class OutcomeCase(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_catalogues()
        cls.broker = new_test_user(
            cls.env,
            login="outcome.broker",
            groups="base.group_user,insurance_notify.group_insurance_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="outcome.manager",
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )
        cls.template_b = cls.env["sms.template"].create(
            {
                "name": "Expiry B",
                "model_id": cls.env["ir.model"]._get_id("insurance.policy"),
                "body": "{{ object.partner_id.name }}, Twoja polisa {{ object.name }} wygasa.",
            }
        )

    @classmethod
    def _load_catalogues(cls):
        """The add-on's Polish and Lithuanian catalogues as they are. Odoo
        merges a .po with the module's .pot, which drops entries the .pot does
        not list yet; the .pot is regenerated from a fresh install after
        merging, so until then the new terms load from a copy not named .po."""
        importer = TranslationImporter(cls.env.cr, verbose=False)
        for lang in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(lang)
            catalogue = polib.pofile(
                str(Path(__file__).resolve().parents[1] / "i18n" / f"{lang[:2]}.po")
            )
            # Entries the .pot completes (no module comment of their own) are left out.
            kept = polib.POFile()
            kept.extend(entry for entry in catalogue if entry.comment.startswith("module:"))
            with tempfile.NamedTemporaryFile(suffix=".catalogue") as copy:
                copy.write(str(kept).encode())
                copy.flush()
                copy.seek(0)
                importer.load(copy, "po", lang)
        importer.save(overwrite=False)

    def make_clients(self, count):
        return self.env["res.partner"].create(
            [
                {
                    "name": f"Klient {i}",
                    # The agency's own clients: partner events (birthday,
                    # consent renewal) reach only a company's clients.
                    "company_id": self.env.company.id,
                    "mobile": f"+48 601 {i // 1000:03d} {i % 1000:03d}",
                    "country_id": self.env.ref("base.pl").id,
                    "tz": "Europe/Warsaw",
                    "lang": "pl_PL" if self.env["res.lang"]._lang_get("pl_PL") else "en_US",
                }
                for i in range(count)
            ]
        )

    def policies_for(self, clients, days_left=7):
        return self.env["insurance.policy"].concat(
            *(self.make_policy(days_left, partner_id=client.id) for client in clients)
        )

    def settle_on(self, day):
        self.set_now(warsaw(day, 3))
        return self.Message._cron_settle_outcomes()


class TestOutcomes(OutcomeCase):
    def test_renewed_converts_at_once_and_the_rest_fail_after_the_grace_period(self):
        clients = self.make_clients(3)
        renewed, successor_typed, lapsed = self.policies_for(clients)
        self.make_rule("7")
        self.run_crons()
        self.assertEqual(len(SandboxGateway.outbox), 3)
        messages = self.messages_of(renewed | successor_typed | lapsed)
        self.assertEqual(set(messages.mapped("outcome")), {"pending"})

        # The broker renews with the button...
        renewed.with_user(self.broker).action_renew()
        self.assertRecordValues(
            self.messages_of(renewed),
            [{"outcome": "converted", "outcome_date": self.TODAY, "outcome_days": 0}],
        )
        # ... or types the new policy of the same client by hand, three days later.
        self.set_now(warsaw(self.TODAY + timedelta(days=3), 10))
        self.env["insurance.policy"].with_user(self.broker).create(
            {
                "name": "NEW/1",
                "partner_id": successor_typed.partner_id.id,
                "insurer_id": self.insurer.id,
                "product_id": self.product.id,
                "date_start": successor_typed.date_end + timedelta(days=1),
                "date_end": successor_typed.date_end + timedelta(days=366),
                "state": "valid",
            }
        )
        self.assertRecordValues(
            self.messages_of(successor_typed),
            [
                {
                    "outcome": "converted",
                    "outcome_date": self.TODAY + timedelta(days=3),
                    "outcome_days": 3,
                }
            ],
        )
        self.assertEqual(self.messages_of(lapsed).outcome, "pending")

        # The grace period (30 days) after the end: still pending on its last day.
        deadline = lapsed.date_end + timedelta(days=30)
        self.settle_on(deadline)
        self.assertEqual(self.messages_of(lapsed).outcome, "pending")
        self.settle_on(deadline + timedelta(days=1))
        self.assertRecordValues(
            self.messages_of(lapsed),
            [{"outcome": "not_converted", "outcome_date": deadline, "outcome_days": 37}],
        )
        # Settled outcomes stay as they are.
        self.assertEqual(self.messages_of(renewed).outcome, "converted")

    def test_a_company_s_grace_period_decides(self):
        self.env.company.insurance_outcome_grace_days = 0
        policy = self.make_policy(7)
        self.make_rule("7")
        self.run_crons()
        self.settle_on(policy.date_end + timedelta(days=1))
        self.assertEqual(self.messages_of(policy).outcome, "not_converted")
        # Renewing late changes nothing.
        policy.with_user(self.broker).action_renew()
        self.assertEqual(self.messages_of(policy).outcome, "not_converted")
        with self.assertRaises(ValidationError):
            self.env.company.insurance_outcome_grace_days = -1

    def test_installments_paid_by_due_date_plus_grace_convert(self):
        template = self.env["sms.template"].create(
            {
                "name": "Rata",
                "model_id": self.env["ir.model"]._get_id("insurance.policy.installment"),
                "body": "Rata {{ object.policy_id.name }} do {{ object.date_due }}.",
            }
        )
        self.Rule.create(
            {
                "name": "Rata",
                "event_type": "installment_due",
                "channel": "sms",
                "offsets": "3",
                "sms_template_id": template.id,
            }
        )
        clients = self.make_clients(3)
        policies = self.policies_for(clients, days_left=200)
        on_time, late, unpaid = self.env["insurance.policy.installment"].create(
            [
                {"policy_id": policy.id, "date_due": self.TODAY + timedelta(days=3), "amount": 100}
                for policy in policies
            ]
        )
        self.run_crons()
        self.assertEqual(len(SandboxGateway.outbox), 3)
        on_time.with_user(self.broker).write(
            {"state": "paid", "date_paid": self.TODAY + timedelta(days=2)}
        )
        late.with_user(self.broker).write(
            {"state": "paid", "date_paid": self.TODAY + timedelta(days=40)}
        )
        self.assertRecordValues(
            self.messages_of(on_time | late | unpaid).sorted("res_id"),
            [
                {"outcome": "converted", "outcome_date": self.TODAY + timedelta(days=2)},
                {"outcome": "not_converted", "outcome_date": self.TODAY + timedelta(days=33)},
                {"outcome": "pending", "outcome_date": False},
            ],
        )

    def test_a_later_inspection_and_an_extended_consent_convert(self):
        inspection_template = self.env["sms.template"].create(
            {
                "name": "Przegląd",
                "model_id": self.env["ir.model"]._get_id("insurance.policy"),
                "body": "Przegląd {{ object.vehicle_plate }}.",
            }
        )
        consent_template = self.env["sms.template"].create(
            {
                "name": "Zgoda",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "body": "Odnów zgodę.",
            }
        )
        self.Rule.create(
            [
                {
                    "name": "Przegląd",
                    "event_type": "inspection_expiry",
                    "offsets": "7",
                    "sms_template_id": inspection_template.id,
                },
                {
                    "name": "Zgoda",
                    "event_type": "consent_renewal",
                    "offsets": "7",
                    "sms_template_id": consent_template.id,
                },
            ]
        )
        car_client, consent_client = self.make_clients(2)
        policy = self.make_policy(
            200,
            partner_id=car_client.id,
            vehicle_plate="WA 12345",
            inspection_date=self.TODAY + timedelta(days=7),
        )
        consent_client.consent_valid_until = self.TODAY + timedelta(days=7)
        self.run_crons()
        self.assertEqual(len(SandboxGateway.outbox), 2)
        # An unrelated change is not a conversion.
        policy.with_user(self.broker).vehicle_model = "Skoda"
        self.assertEqual(self.messages_of(policy).outcome, "pending")
        policy.with_user(self.broker).inspection_date = self.TODAY + timedelta(days=372)
        consent_client.with_user(self.broker).consent_valid_until = self.TODAY + timedelta(days=730)
        self.assertEqual(self.messages_of(policy).outcome, "converted")
        self.assertEqual(self.messages_of(consent_client).outcome, "converted")

    def test_birthdays_and_test_sms_ask_for_nothing_measurable(self):
        template = self.env["sms.template"].create(
            {
                "name": "Urodziny",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "body": "Sto lat!",
            }
        )
        self.Rule.create(
            {
                "name": "Urodziny",
                "event_type": "birthday",
                "offsets": "0",
                "sms_template_id": template.id,
            }
        )
        self.client.write(
            {
                "company_id": self.env.company.id,
                "birthdate": self.TODAY.replace(year=1980),
                "consent_birthday": True,
            }
        )
        self.run_crons()
        message = self.messages_of(self.client)
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertEqual(message.outcome, "not_applicable")
        self.settle_on(self.TODAY + timedelta(days=400))
        self.assertEqual(message.outcome, "not_applicable")

    def test_the_daily_job_settles_with_a_constant_number_of_queries(self):
        self.make_rule("7")
        # Its first run keeps when it ran; the later ones are compared.
        self.Message._cron_settle_outcomes()
        counts = []
        for size in (5, 20):
            self.set_now(warsaw(self.TODAY, 10))
            self.policies_for(self.make_clients(size))
            self.run_crons()
            self.set_now(warsaw(self.TODAY + timedelta(days=60), 3))
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            self.assertEqual(self.Message._cron_settle_outcomes(), size)
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[0], counts[1])
        # Settling, then keeping the effectiveness totals of the days it changed.
        self.assertLessEqual(counts[0], 12)


class TestControlGroup(OutcomeCase):
    def test_the_control_group_receives_nothing_and_is_measured_like_the_others(self):
        rule = self.make_rule("7")
        rule.with_user(self.manager).control_percent = 50
        clients = self.make_clients(40)
        policies = self.policies_for(clients)
        self.run_crons()
        messages = self.messages_of(policies)
        control = messages.filtered(lambda m: m.reason_code == "control_group")
        sent = messages - control
        self.assertTrue(control and sent)
        self.assertEqual(set(control.mapped("state")), {"skipped"})
        self.assertEqual(set(sent.mapped("state")), {"sent"})
        # The group is the hash's: what notify_engine.experiment says for each record.
        for message in messages:
            self.assertEqual(
                message in control,
                experiment.is_control(f"{rule.id}-insurance.policy-{message.res_id}", 50),
            )
        # The provider received the reminded clients' SMS, and nothing for the control group.
        self.assertEqual(
            sorted(sms.number for sms in SandboxGateway.outbox), sorted(sent.mapped("number"))
        )
        self.assertFalse(
            set(control.mapped("number")) & {sms.number for sms in SandboxGateway.outbox}
        )
        self.assertIn("control group", control[0].reason)
        # The broker reads why in their language.
        self.assertEqual(
            control[0].with_context(lang="pl_PL").reason,
            "grupa kontrolna: zapisane, niewysłane, aby zmierzyć skuteczność przypomnienia",
        )
        self.assertEqual(
            control[0].with_context(lang="lt_LT").reason,
            "kontrolinė grupė: įrašyta, neišsiųsta, kad būtų galima įvertinti priminimą",
        )

        # Renew four reminded clients and one control client; the rest lapse.
        renew = sent[:4] | control[:1]
        self.env["insurance.policy"].browse(renew.mapped("res_id")).with_user(
            self.broker
        ).action_renew()
        self.settle_on(self.TODAY + timedelta(days=40))
        self.assertEqual(set((messages - renew).mapped("outcome")), {"not_converted"})
        self.assertEqual(set(renew.mapped("outcome")), {"converted"})

        # The report counts what happened.
        Report = self.env["insurance.notify.effectiveness"].with_user(self.broker)
        groups = {
            group["experiment_group"]: group
            for group in Report.read_group(
                [("rule_id", "=", rule.id)],
                ["sent_count:sum", "control_count:sum", "converted_count:sum",
                 "conversion_sent:avg", "conversion_control:avg", "uplift:avg"],
                ["experiment_group"],
            )
        }  # fmt: skip
        self.assertEqual(groups["sent"]["sent_count"], len(sent))
        self.assertEqual(groups["sent"]["converted_count"], 4)
        self.assertAlmostEqual(groups["sent"]["conversion_sent"], 400 / len(sent))
        self.assertEqual(groups["control"]["control_count"], len(control))
        self.assertAlmostEqual(groups["control"]["conversion_control"], 100 / len(control))
        (total,) = Report.read_group(
            [("rule_id", "=", rule.id)], ["uplift:avg", "cost_per_conversion:avg"], []
        )
        self.assertAlmostEqual(total["uplift"], 400 / len(sent) - 100 / len(control))

        # The rule's own figures: per client, with the interval and the warning.
        rule.invalidate_recordset()
        self.assertEqual(rule.with_user(self.broker).effect_sent, len(sent))
        self.assertEqual(rule.effect_control, len(control))
        self.assertAlmostEqual(rule.effect_conversion, 400 / len(sent))
        self.assertTrue(rule.effect_too_small)
        self.assertIn("points", rule.effect_uplift)

    def test_a_record_stays_in_its_group_across_re_plans(self):
        rule = self.make_rule("7,6")
        rule.control_percent = 30
        policies = self.policies_for(self.make_clients(30))
        self.Rule._cron_plan()
        first = {m.res_id: m.reason_code == "control_group" for m in self.messages_of(policies)}
        self.set_now(warsaw(self.TODAY + timedelta(days=1), 10))
        self.Rule._cron_plan()
        second = self.messages_of(policies).filtered(lambda m: m.offset == 6)
        self.assertEqual(len(second), 30)
        self.assertEqual({m.res_id: m.reason_code == "control_group" for m in second}, first)

    def test_no_consent_wins_over_the_control_group(self):
        rule = self.make_rule("7", consent_mode="general")
        rule.control_percent = 50
        clients = self.make_clients(20)
        clients.consent_sms = False
        self.policies_for(clients)
        self.Rule._cron_plan()
        messages = self.Message.search([("rule_id", "=", rule.id)])
        # The control group is drawn among the messages that would leave: none here.
        self.assertEqual(len(messages), 20)
        self.assertEqual(set(messages.mapped("reason_code")), {"no_sms_consent"})

    def test_only_managers_set_the_control_group_up_to_half(self):
        rule = self.make_rule("7")
        with self.assertRaises(AccessError):
            rule.with_user(self.broker).control_percent = 10
        with self.assertRaises(ValidationError):
            rule.with_user(self.manager).control_percent = 60
        rule.with_user(self.manager).control_percent = 50
        self.assertEqual(rule.control_percent, 50)


class TestVariants(OutcomeCase):
    def test_variant_b_goes_with_its_template_and_shows_in_the_dry_run(self):
        rule = self.make_rule("7")
        rule.with_user(self.manager).write(
            {"sms_template_b_id": self.template_b.id, "variant_b_percent": 50}
        )
        clients = self.make_clients(20)
        policies = self.policies_for(clients)

        wizard = (
            self.env["insurance.notify.dry.run"]
            .with_user(self.manager)
            .create({"rule_ids": [Command.set(rule.ids)], "day": self.TODAY})
        )
        wizard.action_run()
        lines = wizard.line_ids
        self.assertEqual(len(lines), 20)
        self.assertEqual(set(lines.mapped("variant")), {"a", "b"})
        for line in lines:
            expected = "wygasa" if line.variant == "b" else "ends on"
            self.assertIn(expected, line.text)

        self.run_crons()
        messages = self.messages_of(policies)
        by_number = {sms.number: sms.body for sms in SandboxGateway.outbox}
        self.assertEqual(len(by_number), 20)
        for message in messages:
            policy = self.env["insurance.policy"].browse(message.res_id)
            if message.variant == "b":
                expected = f"{policy.partner_id.name}, Twoja polisa {policy.name} wygasa."
            else:
                expected = f"Policy {policy.name} ends on {policy.date_end}."
            self.assertEqual(by_number[message.number], expected)
            self.assertEqual(
                message.variant,
                experiment.variant(f"{rule.id}-insurance.policy-{message.res_id}", 50),
            )
        # The report compares the variants.
        groups = self.env["insurance.notify.effectiveness"].read_group(
            [("rule_id", "=", rule.id)], ["sent_count:sum"], ["variant"]
        )
        self.assertEqual(
            {group["variant"]: group["sent_count"] for group in groups},
            {
                "a": len(messages.filtered(lambda m: m.variant == "a")),
                "b": len(messages.filtered(lambda m: m.variant == "b")),
            },
        )

    def test_without_template_b_no_variant_is_recorded(self):
        self.make_rule("7")
        policy = self.make_policy(7)
        self.run_crons()
        self.assertFalse(self.messages_of(policy).variant)


class TestEffectivenessAccess(OutcomeCase):
    def test_another_company_sees_none_of_it(self):
        company2 = self.env["res.company"].create({"name": "Druga Agencja"})
        other = new_test_user(
            self.env,
            login="outcome.other",
            groups="base.group_user,insurance_notify.group_insurance_manager",
            company_id=company2.id,
            company_ids=[Command.set(company2.ids)],
        )
        self.make_rule("7")
        self.make_policy(7)
        self.run_crons()
        Report = self.env["insurance.notify.effectiveness"]
        self.assertEqual(Report.with_user(self.broker).search_count([]), 1)
        self.assertEqual(Report.with_user(other).search_count([]), 0)
        (total,) = Report.with_user(other).read_group([], ["sent_count:sum"], [])
        self.assertFalse(total["__count"])
        portal = new_test_user(self.env, login="outcome.portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            Report.with_user(portal).search([])


class TestOutcomeMigration(OutcomeCase):
    def test_the_history_gets_its_outcomes_and_stays_as_it_was(self):
        renewed, lapsed = self.policies_for(self.make_clients(2))
        self.make_rule("7")
        self.run_crons()
        test_sms = self.Message.create(
            {
                "key": "legacy-test-sms",
                "company_id": self.env.company.id,
                "res_model": "insurance.policy",
                "res_id": lapsed.id,
                "channel": "sms",
                "number": "+48600999888",
                "state": "sent",
                "body": "Test",
            }
        )
        # Before 18.0.1.3.0: renewed past the ORM (an import), and every row
        # pending, as the ORM adds the column.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE insurance_policy SET state = 'renewed', write_date = %s WHERE id = %s",
            [warsaw(self.TODAY + timedelta(days=5), 10), renewed.id],
        )
        self.env.cr.execute("UPDATE insurance_notify_message SET outcome = 'pending'")
        self.env.invalidate_all()
        history = self.messages_of(renewed | lapsed) | test_sms
        before = history.read(["state", "reason_code", "body", "sent_at", "key"])

        self.set_now(warsaw(self.TODAY + timedelta(days=60), 2))
        spec = importlib.util.spec_from_file_location("post_outcomes", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.2.0")
        self.env.invalidate_all()

        self.assertRecordValues(
            self.messages_of(renewed),
            [{"outcome": "converted", "outcome_date": self.TODAY + timedelta(days=5)}],
        )
        self.assertEqual(self.messages_of(lapsed).filtered("rule_id").outcome, "not_converted")
        self.assertEqual(test_sms.outcome, "not_applicable")
        self.assertEqual(history.read(["state", "reason_code", "body", "sent_at", "key"]), before)


class TestDailyReportEffect(OutcomeCase):
    def test_the_daily_report_says_whether_the_rule_worked(self):
        self.manager.email = "manager@example.com"
        self.env.company.insurance_outcome_grace_days = 0
        rule = self.make_rule("7", name="Koniec OC", report_user_ids=self.manager.ids)
        policies = self.policies_for(self.make_clients(4))
        self.run_crons()
        policies[:1].with_user(self.broker).action_renew()
        day = self.TODAY + timedelta(days=8)
        self.settle_on(day)
        self.set_now(warsaw(day, 8))
        stats = rule._report_stats(day, "Europe/Warsaw")
        body = " ".join(rule._report_mail(self.manager, day, stats).body_html.split())
        self.assertIn(
            "Koniec OC: 25.0 % converted (clients reminded with a known outcome: 4)", body
        )
        self.assertIn("too few clients yet to measure the uplift", body)


class TestDailySettleReadsOnlyWhatChanged(OutcomeCase):
    """The daily job re-reads a pending message only when its deadline passed
    or something it depends on changed since its last run; once a week it
    re-reads them all (documents changed past the ORM)."""

    def set_last_run(self, last, full):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(outcome.SETTLED_AT_PARAM, fields.Datetime.to_string(last))
        params.set_param(outcome.FULL_SETTLE_PARAM, fields.Datetime.to_string(full))

    def test_untouched_pending_messages_wait_for_their_deadline_or_the_weekly_pass(self):
        renewed_past_orm, lapsed = self.policies_for(self.make_clients(2))
        self.make_rule("7")
        self.run_crons()
        self.env.flush_all()
        # Renewed by an import that left the write date alone: the hooks and the
        # documents' write dates know nothing of it.
        self.env.cr.execute(
            "UPDATE insurance_policy SET state = 'renewed' WHERE id = %s", [renewed_past_orm.id]
        )
        self.env.invalidate_all()
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        db_now = self.env.cr.fetchone()[0]
        # The last run is "tomorrow" for the database: nothing changed since.
        self.set_last_run(db_now + timedelta(days=2), db_now)
        self.assertEqual(self.settle_on(self.TODAY + timedelta(days=10)), 0)
        self.assertEqual(self.messages_of(renewed_past_orm | lapsed).mapped("outcome"),
                         ["pending", "pending"])  # fmt: skip
        # A deadline passed: decided without anything having changed.
        self.set_last_run(db_now + timedelta(days=2), db_now)
        self.assertEqual(self.settle_on(self.TODAY + timedelta(days=7 + 30 + 1)), 2)
        # (Converted or not by the day the import is dated: decided either way.)
        self.assertNotEqual(self.messages_of(renewed_past_orm).outcome, "pending")
        self.assertEqual(self.messages_of(lapsed).outcome, "not_converted")

    def test_the_weekly_pass_reads_every_pending_message(self):
        renewed_past_orm = self.policies_for(self.make_clients(1))
        self.make_rule("7")
        self.run_crons()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE insurance_policy SET state = 'renewed' WHERE id = %s", [renewed_past_orm.id]
        )
        self.env.invalidate_all()
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        db_now = self.env.cr.fetchone()[0]
        self.set_last_run(db_now + timedelta(days=2), db_now - timedelta(days=8))
        self.assertEqual(self.settle_on(self.TODAY + timedelta(days=10)), 1)
        self.assertNotEqual(self.messages_of(renewed_past_orm).outcome, "pending")
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(
            fields.Datetime.to_datetime(params.get_param(outcome.FULL_SETTLE_PARAM)),
            db_now.replace(microsecond=0),
        )
