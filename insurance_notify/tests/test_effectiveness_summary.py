"""The effectiveness pivot reads kept monthly totals (and the deltas the
triggers wrote since), and they are always the messages' own figures.

A broker's weeks are lived at random (seeded: ``INSURANCE_NOTIFY_SEED``,
printed on failure): policies entered at any hour, reminders sent (or held
a day by a dispatcher that is down), some renewed, a policy handed to
another broker, a policy deleted, the daily job run now and then. After
each step the pivot, which reads the kept totals, answers what the report's
per-message rows and the messages themselves say.
"""

import importlib.util
import os
import random
from collections import Counter
from datetime import timedelta
from pathlib import Path

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests.common import new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from ..models import insurance_notify_effectiveness_summary as totals
from .common import warsaw
from .test_outcomes import OutcomeCase

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "insurance_notify/migrations/18.0.1.5.0/post-effectiveness-totals.py"
)
MEASURES = [
    "sent_count:sum", "delivered_count:sum", "control_count:sum", "converted_count:sum",
    "control_converted_count:sum", "conversion_sent:avg", "conversion_control:avg",
    "uplift:avg", "days_to_conversion:avg", "sms_parts:sum", "cost:sum",
    "cost_per_conversion:avg",
]  # fmt: skip
GROUPINGS = [
    ["rule_id", "experiment_group"],
    ["date:month"],
    ["date:day", "outcome"],
    ["user_id", "insurer_id"],
    ["product_id", "variant", "offset"],
    [],
]


class SummaryCase(OutcomeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = cls.env["insurance.notify.effectiveness"]
        cls.Totals = cls.env["insurance.notify.effectiveness.summary"]
        cls.other_broker = new_test_user(
            cls.env,
            login="summary.broker2",
            groups="base.group_user,insurance_notify.group_insurance_user",
        )
        cls.insurer2 = cls.env["res.partner"].create({"name": "Drugi TU", "is_insurer": True})

    def pivot(self, groupby, user=None, domain=()):
        report = self.Report.with_user(user or self.broker)
        # A day is finer than the kept months: read from the messages.
        by_month = not any(spec in ("date", "date:day", "date:week") for spec in groupby)
        self.assertEqual(
            report._totals_answer(list(domain), groupby, ["__count"], (), None), by_month
        )
        return self._normalised(report.read_group(list(domain), MEASURES, groupby, lazy=False))

    def rows_pivot(self, groupby, user=None, domain=()):
        """The same cells from the report's per-message rows: a filter on
        the message keeps the totals out of it."""
        report = self.Report.with_user(user or self.broker)
        rows_only = [*domain, ("message_id", "!=", False)]
        self.assertFalse(report._totals_answer(rows_only, groupby, ["__count"], (), None))
        return self._normalised(report.read_group(rows_only, MEASURES, groupby, lazy=False))

    def delta_count(self):
        self.env.flush_all()
        self.env.cr.execute(f"SELECT count(*) FROM {totals.DELTA_TABLE}")
        return self.env.cr.fetchone()[0]

    @staticmethod
    def _normalised(groups):
        cells = {}
        for group in groups:
            key = tuple(
                sorted(
                    (name, value[0] if isinstance(value, tuple) else value)
                    for name, value in group.items()
                    if not name.startswith("__") and name not in {m.split(":")[0] for m in MEASURES}
                )
            )
            cells[key] = {
                name: round(value, 6) if isinstance(value, float) else value
                for name, value in group.items()
                if name == "__count" or name in {m.split(":")[0] for m in MEASURES}
            }
        return cells

    def assert_pivot_is_the_messages(self, note):
        for groupby in GROUPINGS:
            self.assert_same_cells(
                self.pivot(groupby), self.rows_pivot(groupby), f"{note}, grouped by {groupby}"
            )

    def assert_same_cells(self, cells, expected, note):
        wrong = {
            key: (cells.get(key), expected.get(key))
            for key in cells.keys() | expected.keys()
            if cells.get(key) != expected.get(key)
        }
        self.assertFalse(wrong, f"{note}: cells (pivot, messages) {wrong}")


class TestEffectivenessTotals(SummaryCase):
    def test_a_broker_s_random_weeks_keep_the_pivot_equal_to_the_messages(self):
        seed = int(os.environ.get("INSURANCE_NOTIFY_SEED") or random.randrange(10**6))
        rng = random.Random(seed)
        note = f"seed {seed} (INSURANCE_NOTIFY_SEED={seed} repeats it)"
        self.env.company.insurance_outcome_grace_days = 3
        self.make_rule("14,7", name="Koniec polisy", control_percent=30)
        self.make_rule("3", name="Ostatnia szansa", sms_template_b_id=self.template_b.id)
        clients = self.make_clients(24)
        policies = self.env["insurance.policy"]
        brokers = self.broker | self.other_broker
        for step in range(18):
            day = self.TODAY + timedelta(days=step)
            self.set_now(warsaw(day, rng.randrange(7, 20), rng.randrange(60)))
            for client in rng.sample(clients, 3):
                policies |= self.make_policy(
                    rng.randrange(2, 16),
                    partner_id=client.id,
                    user_id=rng.choice(brokers).id,
                    insurer_id=rng.choice([self.insurer, self.insurer2]).id,
                )
            if rng.random() < 0.3:
                # The dispatcher is down all day: today's reminders go out
                # tomorrow, and count on the day they went.
                self.Rule._cron_plan()
            else:
                self.run_crons()
            valid = policies.filtered(lambda p: p.state == "valid")
            for policy in rng.sample(valid, min(len(valid), rng.randrange(3))):
                policy.with_user(self.broker).action_renew()
            if valid and rng.random() < 0.4:
                rng.choice(valid).user_id = rng.choice(brokers)
            if valid and rng.random() < 0.15:
                # Entered by mistake: the policy goes, and its reminders with it.
                doomed = rng.choice(valid)
                policies -= doomed
                doomed.with_user(self.manager).unlink()
            if rng.random() < 0.3:
                self.settle_on(day + timedelta(days=1))
            self.assert_pivot_is_the_messages(f"{note}, day {step}")
        self.settle_on(self.TODAY + timedelta(days=60))
        self.assert_pivot_is_the_messages(f"{note}, after the grace periods")

        # And what the broker counts by hand from the messages.
        messages = self.Message.search(
            [("rule_id", "!=", False), ("outcome", "!=", "not_applicable")]
        )
        sent = messages.filtered(lambda m: m.state in ("sent", "delivered"))
        by_rule = Counter(message.rule_id.id for message in sent)
        converted = Counter(m.rule_id.id for m in sent if m.outcome == "converted")
        self.assertTrue(sent and converted, note)
        groups = self.Report.with_user(self.broker).read_group(
            [], ["sent_count:sum", "converted_count:sum"], ["rule_id"], lazy=False
        )
        self.assertEqual(
            {g["rule_id"][0]: (g["sent_count"], g["converted_count"]) for g in groups},
            {rule: (count, converted[rule]) for rule, count in by_rule.items()},
            note,
        )
        self.assertEqual(sum(g["__count"] for g in groups), len(messages), note)

    def test_the_pivot_reads_the_kept_totals_and_the_deltas_since(self):
        rule = self.make_rule("7")
        policy, other = self.policies_for(self.make_clients(2))
        self.Totals._refresh()
        self.run_crons()
        # Queued (not sent yet), then sent: the sending step in between
        # changes no figure and writes no delta.
        self.assertEqual(self.delta_count(), 3)
        self.assertEqual(self.Totals._refresh(), (3, 1))
        self.assertEqual(self.delta_count(), 0)
        # A kept total the messages do not say: the pivot shows it, so it
        # reads the totals, not the messages.
        self.env.cr.execute(
            f"UPDATE {totals.STORE_TABLE} SET sent_count = sent_count + 1000 WHERE rule_id = %s",
            rule.ids,
        )
        (total,) = self.Report.with_user(self.broker).read_group(
            [("rule_id", "=", rule.id)], ["sent_count:sum"], []
        )
        self.assertEqual(total["sent_count"], 1002)
        # Handing a policy to another broker (a plain write) moves its
        # reminder from one broker's totals to the other's.
        policy.with_user(self.broker).user_id = self.other_broker
        self.env.flush_all()
        by_broker = self.pivot(["user_id"], domain=[("rule_id", "=", rule.id)])
        self.assertEqual(
            {key: cell["sent_count"] for key, cell in by_broker.items()},
            {(("user_id", self.other_broker.id),): 1, (("user_id", other.user_id.id),): 1001},
        )
        # A write that changes nothing the report shows writes no delta.
        self.Totals._refresh()
        other.with_user(self.broker).subject = "Toyota Corolla, nowy kierowca"
        self.env.flush_all()
        self.assertEqual(self.delta_count(), 0)
        # The weekly full pass sums the totals again from the messages.
        self.Totals._refresh(full=True)
        self.assert_pivot_is_the_messages("after the full pass")

    def test_a_reminder_held_a_day_moves_to_the_day_it_went(self):
        self.make_rule("7")
        policies = self.policies_for(self.make_clients(3))
        self.Rule._cron_plan()  # at 10:00; the dispatcher is down until the next morning
        self.Totals._refresh()
        held = self.messages_of(policies)
        self.assertEqual(set(held.mapped("state")), {"queued"})
        self.set_now(warsaw(self.TODAY + timedelta(days=1), 8, 5))
        self.run_crons()
        self.assertEqual(len(SandboxGateway.outbox), 3)
        by_day = self.pivot(["date:day"])
        self.assertEqual(
            [cell["sent_count"] for cell in by_day.values()], [3], f"one day, all sent: {by_day}"
        )
        self.assert_pivot_is_the_messages("the day after")
        # A correction past the ORM (one statement) moves a reminder to the
        # month before: it leaves one month's totals for the other's.
        self.Totals._refresh()
        self.env.cr.execute(
            "UPDATE insurance_notify_message SET sent_at = sent_at - interval '40 days'"
            " WHERE id = %s", [held[0].id],
        )  # fmt: skip
        self.assertEqual(
            sorted(cell["sent_count"] for cell in self.pivot(["date:month"]).values()), [1, 2]
        )
        self.assert_pivot_is_the_messages("after the correction")

    def test_the_daily_job_keeps_the_totals_in_a_constant_number_of_queries(self):
        self.make_rule("7", control_percent=50)
        self.Message._cron_settle_outcomes()
        counts = []
        for size in (3, 12):
            self.policies_for(self.make_clients(size))
            self.run_crons()
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            self.Totals._refresh()
            counts.append(self.env.cr.sql_log_count - before)
            self.assert_pivot_is_the_messages(f"{size} policies")
        self.assertEqual(counts[0], counts[1])

    def test_a_write_that_changes_nothing_the_report_shows_reads_no_message(self):
        """The planner writes each rule's last planned day on every run and
        brokers edit policies all day: on a long history neither may read the
        messages (it read all of them: 0.9 s a rule on a million)."""
        rule = self.make_rule("7")
        (policy,) = self.policies_for(self.make_clients(1))
        self.run_crons()
        self.env.flush_all()

        def message_rows_read():
            self.env.cr.execute(
                "SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)"
                " FROM pg_stat_xact_user_tables WHERE relname = 'insurance_notify_message'"
            )
            return self.env.cr.fetchone()[0]

        before = message_rows_read()
        rule.last_planned_date = self.TODAY + timedelta(days=1)
        policy.with_user(self.broker).subject = "Skoda Octavia, drugi kierowca"
        self.env.flush_all()
        self.assertEqual(message_rows_read(), before)
        # A change the report shows still moves the totals.
        self.Totals._refresh()
        policy.with_user(self.broker).user_id = self.other_broker
        self.env.flush_all()
        self.assertGreater(message_rows_read(), before)
        self.assertEqual(self.delta_count(), 2)


class TestEffectivenessTotalsAccess(SummaryCase):
    def test_another_company_and_the_portal_see_none_of_it(self):
        company2 = self.env["res.company"].create({"name": "Trečia agentūra"})
        stranger = new_test_user(
            self.env,
            login="summary.lt",
            groups="base.group_user,insurance_notify.group_insurance_manager",
            company_id=company2.id,
            company_ids=[Command.set(company2.ids)],
            lang="lt_LT",
        )
        self.make_rule("7")
        self.policies_for(self.make_clients(3))
        self.run_crons()
        self.Totals._refresh()
        self.assertEqual(self.pivot([], user=self.broker)[()]["sent_count"], 3)
        self.assertEqual(self.pivot(["rule_id"], user=stranger), {})
        (total,) = self.Report.with_user(stranger).read_group([], ["sent_count:sum"], [])
        self.assertFalse(total["__count"])
        self.assertEqual(self.Totals.with_user(stranger).search_count([]), 0)
        portal = new_test_user(self.env, login="summary.portal", groups="base.group_portal")
        for model in (self.Report, self.Totals):
            with self.assertRaises(AccessError):
                model.with_user(portal).read_group([], ["sent_count:sum"], ["rule_id"])


class TestEffectivenessTotalsUpgrade(SummaryCase):
    def test_an_upgraded_history_is_summed_once_and_left_as_it_was(self):
        self.make_rule("14,7", control_percent=30)
        policies = self.policies_for(self.make_clients(6), days_left=14)
        self.run_crons()
        self.set_now(warsaw(self.TODAY + timedelta(days=7), 9))
        self.run_crons()
        policies[:2].with_user(self.broker).action_renew()
        self.settle_on(self.TODAY + timedelta(days=60))
        history = self.Message.search([]).read(["state", "outcome", "sent_at", "body"])
        expected = {tuple(g): self.rows_pivot(g) for g in GROUPINGS}
        # Before 18.0.1.5.0 there were no totals: the upgrade's init makes the
        # tables and triggers, the migration sums the history.
        self.env.cr.execute(
            f"DROP FUNCTION {totals.TRACK_FUNCTION}() CASCADE;"
            f" DROP TABLE {totals.STORE_TABLE}, {totals.DELTA_TABLE}"
        )
        self.Totals.init()
        spec = importlib.util.spec_from_file_location("post_totals", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.4.0")
        self.assertEqual(self.delta_count(), 0)
        self.env.cr.execute(f"SELECT sum(message_count) FROM {totals.STORE_TABLE}")
        self.assertEqual(self.env.cr.fetchone()[0], len(history))
        for groupby in GROUPINGS:
            self.assert_same_cells(self.pivot(groupby), expected[tuple(groupby)], str(groupby))
        self.env.invalidate_all()
        self.assertEqual(
            self.Message.search([]).read(["state", "outcome", "sent_at", "body"]), history
        )
