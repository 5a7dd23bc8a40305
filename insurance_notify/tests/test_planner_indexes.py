"""Cost follows what is due (invariant 8): every event source reaches the
planned days through an index, never by reading all partners, policies or
installments. The planner's own query of each rule is captured and EXPLAINed.
"""

from datetime import date, timedelta
from unittest.mock import patch

from odoo.api import Environment
from odoo.tools import SQL

from .common import NotifyCase

# Per event type: the model of its template, and the index that must carry the day.
SOURCES = {
    "policy_expiry": ("insurance.policy", "insurance_policy_company_date_end_index"),
    "inspection_expiry": ("insurance.policy", "insurance_policy__inspection_date_index"),
    "installment_due": (
        "insurance.policy.installment",
        "insurance_policy_installment__date_due_index",
    ),
    "installment_overdue": (
        "insurance.policy.installment",
        "insurance_policy_installment__date_due_index",
    ),
    # Consents are each agency's own (a JSON value per company, since
    # 18.0.1.3.0): no index reaches one company's end dates; the client rule
    # (a card of the company, or a policy of it) is what is searched.
    "consent_renewal": ("res.partner", None),
    "birthday": ("res.partner", "res_partner_birthdate_month_day_index"),
}
BOOK_TABLES = ("res_partner", "insurance_policy", "insurance_policy_installment")


class TestPlannerIndexes(NotifyCase):
    def rule(self, event_type, offsets="0,7,30"):
        model = SOURCES[event_type][0]
        template = self.env["sms.template"].create(
            {
                "name": event_type,
                "model_id": self.env["ir.model"]._get_id(model),
                "body": "{{ object.display_name }}",
            }
        )
        return self.make_rule(offsets, event_type=event_type, sms_template_id=template.id)

    def planner_query(self, rule, first_day, today):
        """The SQL the planner runs for ``rule`` over [first_day, today]."""
        captured = []
        execute_query = Environment.execute_query

        def capture(env, query):
            if "DISTINCT ON (e.res_id)" in query.code:
                captured.append(query)
            return execute_query(env, query)

        with patch.object(Environment, "execute_query", capture):
            rule._find_occurrences(first_day, today)
        self.assertEqual(len(captured), 1)
        return captured[0]

    def plan_of(self, query):
        self.env.cr.execute(SQL("EXPLAIN %s", query))
        return "\n".join(row[0] for row in self.env.cr.fetchall())

    def assert_indexed(self, plan, index):
        for table in BOOK_TABLES:
            self.assertNotIn(f"Seq Scan on {table}", plan)
        if index is None:
            return
        # The index is searched for the days (an Index Cond), not read whole
        # as a stand-in for the table.
        lines = plan.splitlines()
        searched = False
        for number, line in enumerate(lines):
            if f" {index} " in f"{line} ":
                depth = len(line) - len(line.lstrip())
                for detail in lines[number + 1 :]:
                    if len(detail) - len(detail.lstrip()) <= depth:
                        break
                    searched = searched or "Index Cond:" in detail
        self.assertTrue(searched, f"{index} not searched with a condition in:\n{plan}")

    def test_every_source_reaches_its_day_through_an_index(self):
        """With sequential scans priced out, each source's query still finds a
        plan: an index that reaches the day exists and is usable. (Without one
        PostgreSQL would fall back to the sequential scan.)"""
        today = self.TODAY
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        for event_type, (_model, index) in SOURCES.items():
            rule = self.rule(event_type)
            for first_day in (today, today - timedelta(days=3)):  # hourly re-plan, missed days
                with self.subTest(event_type=event_type, first_day=first_day):
                    plan = self.plan_of(self.planner_query(rule, first_day, today))
                    self.assert_indexed(plan, index)

    def test_partner_sources_read_only_the_day_on_a_large_book(self):
        """On a book of 30,000 clients PostgreSQL itself prefers the birthday
        index to reading every client."""
        self.env.flush_all()
        cr = self.env.cr
        # Accounting (with the invoice bridge) adds a required column to partners.
        extra = "autopost_bills" in self.env["res.partner"]._fields
        cr.execute(
            """
            INSERT INTO res_partner (name, complete_name, active, type, is_company, lang,
                                     birthdate, consent_valid_until, create_date, write_date,
                                     company_id /*columns*/)
            SELECT 'Index client ' || n, 'Index client ' || n, TRUE, 'contact', FALSE, 'pl_PL',
                   DATE '1950-01-01' + mod(n * 37, 20000),
                   CASE WHEN mod(n, 3) = 0
                        THEN jsonb_build_object(
                            %(company)s::text, DATE '2026-11-23' + (mod(n, 730) - 100))
                   END,
                   now(), now(), %(company)s /*values*/
              FROM generate_series(1, 30000) AS n
            """.replace("/*columns*/", ", autopost_bills" if extra else "").replace(
                "/*values*/", ", 'ask'" if extra else ""
            ),
            {"company": self.env.company.id},
        )
        cr.execute("ANALYZE res_partner")
        # Birthdays only: the per-agency consent end date (a JSON value per
        # company) has no index PostgreSQL can range-scan; see the README.
        rule = self.rule("birthday", offsets="0,14")
        plan = self.plan_of(self.planner_query(rule, self.TODAY, self.TODAY))
        # The 30,000 clients are read through the birthday index; the few
        # policies of this small book may be read whole by the client rule.
        self.assertNotIn("Seq Scan on res_partner", plan)
        self.assertIn("res_partner_birthdate_month_day_index", plan)

    def test_29_february_birthdays_still_found_through_the_index(self):
        """The indexed birthday query keeps the 28 February rule of other years."""
        # The agency's own client: partner events reach only a company's clients.
        self.client.write(
            {
                "company_id": self.env.company.id,
                "birthdate": date(1984, 2, 29),
                "consent_birthday": True,
            }
        )
        rule = self.rule("birthday", offsets="0")
        found = {
            day: [occ.res_id for occ in rule._find_occurrences(day, day)]
            for day in (date(2027, 2, 28), date(2027, 3, 1), date(2028, 2, 28), date(2028, 2, 29))
        }
        self.assertIn(self.client.id, found[date(2027, 2, 28)])
        self.assertNotIn(self.client.id, found[date(2027, 3, 1)])
        self.assertNotIn(self.client.id, found[date(2028, 2, 28)])
        self.assertIn(self.client.id, found[date(2028, 2, 29)])
