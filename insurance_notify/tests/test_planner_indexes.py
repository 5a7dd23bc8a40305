"""Cost follows what is due (invariant 8): every event source reaches the
planned days through an index, never by reading all partners, policies or
installments. The planner's own query of each rule is captured and EXPLAINed.
"""

from datetime import date, timedelta

from odoo.tools import SQL

from .common import NotifyCase

# Per event type: the model of its template, and the index that must carry the day.
SOURCES = {
    # Either index of the end date reaches the day; which one PostgreSQL
    # takes depends on the statistics of the book.
    "policy_expiry": (
        "insurance.policy",
        ("insurance_policy_company_date_end_index", "insurance_policy__date_end_index"),
    ),
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
    # 18.0.1.3.0): each company's end dates have an index of their own.
    "consent_renewal": ("res.partner", "res_partner_consent_valid_until_{company}_index"),
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
        _occurrences, captured = self.capture_queries(
            "DISTINCT ON (e.res_id)", lambda: rule._find_occurrences(first_day, today)
        )
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
        indexes = (index,) if isinstance(index, str) else index
        lines = plan.splitlines()
        searched = False
        for number, line in enumerate(lines):
            if any(f" {name} " in f"{line} " for name in indexes):
                depth = len(line) - len(line.lstrip())
                for detail in lines[number + 1 :]:
                    if len(detail) - len(detail.lstrip()) <= depth:
                        break
                    searched = searched or "Index Cond:" in detail
        self.assertTrue(searched, f"{index} not searched with a condition in:\n{plan}")

    def copy_rows(self, table, row_id, count, overrides):
        """``count`` copies of one row of ``table`` (every column, whatever
        add-ons added), with ``overrides`` (column: SQL of ``n``)."""
        cr = self.env.cr
        cr.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position",
            [table],
        )
        columns = [name for (name,) in cr.fetchall()]
        values = [overrides.get(name, f'"{name}"') for name in columns]
        cr.execute(
            f"""INSERT INTO "{table}" ({", ".join(f'"{name}"' for name in columns)})
                SELECT {", ".join(values)}
                  FROM "{table}", generate_series(1, %s) AS n
                 WHERE id = %s""",
            [count, row_id],
        )

    def grow_book(self, count=20000):
        """An agency's book, as the planner meets it in production: thousands of
        policies and installments of the company, their days spread over two
        years, statistics gathered. (On a few test rows PostgreSQL may read the
        whole company through its company index instead, which proves nothing.)"""
        policy = self.make_policy(30, inspection_date=self.TODAY + timedelta(days=30))
        installment = self.env["insurance.policy.installment"].create(
            {"policy_id": policy.id, "date_due": self.TODAY, "amount": 100.0}
        )
        self.env.flush_all()
        spread = "DATE '2026-01-01' + mod(n * 37, 730)"
        self.copy_rows(
            "insurance_policy",
            policy.id,
            count,
            {"name": "'Book ' || n", "date_end": spread, "inspection_date": spread},
        )
        self.copy_rows("insurance_policy_installment", installment.id, count, {"date_due": spread})
        # The agency's own clients, born and consenting on days spread over years.
        self.client.write({"company_id": self.env.company.id, "birthdate": date(1980, 5, 17)})
        self.env.flush_all()
        self.copy_rows(
            "res_partner",
            self.client.id,
            count,
            {
                "name": "'Book client ' || n",
                "complete_name": "'Book client ' || n",
                "birthdate": "DATE '1950-01-01' + mod(n * 37, 20000)",
                "consent_valid_until": f"""jsonb_build_object('{self.env.company.id}',
                    (DATE '2026-01-01' + mod(n * 37, 730))::text)""",
            },
        )
        for table in BOOK_TABLES:
            self.env.cr.execute(f"ANALYZE {table}")
        self.env.invalidate_all()

    def test_every_source_reaches_its_day_through_an_index(self):
        """With sequential scans priced out, each source's query still finds a
        plan: an index that reaches the day exists and is usable. (Without one
        PostgreSQL would fall back to the sequential scan.)"""
        today = self.TODAY
        self.grow_book()
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        for event_type, (_model, index) in SOURCES.items():
            if isinstance(index, str):
                index = index.format(company=self.env.company.id)
            rule = self.rule(event_type)
            for first_day in (today, today - timedelta(days=3)):  # hourly re-plan, missed days
                with self.subTest(event_type=event_type, first_day=first_day):
                    plan = self.plan_of(self.planner_query(rule, first_day, today))
                    self.assert_indexed(plan, index)

    def test_partner_sources_read_only_the_day_on_a_large_book(self):
        """On a book of 30,000 clients PostgreSQL itself prefers the birthday
        and the agency's consent index to reading every client."""
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
        for event_type in ("birthday", "consent_renewal"):
            with self.subTest(event_type=event_type):
                rule = self.rule(event_type, offsets="0,14")
                plan = self.plan_of(self.planner_query(rule, self.TODAY, self.TODAY))
                # The 30,000 clients are read through the source's index; the
                # few policies of this small book may be read whole by the
                # client rule.
                self.assertNotIn("Seq Scan on res_partner", plan)
                index = SOURCES[event_type][1].format(company=self.env.company.id)
                self.assertIn(index, plan)

    def test_a_new_agency_gets_its_consent_index(self):
        """An agency created later plans its consent renewals through an index
        of its own, and its clients' dates are found through it."""
        company = self.env["res.company"].create({"name": "Nowa agencja"})
        self.env.cr.execute(
            "SELECT 1 FROM pg_indexes WHERE indexname = %s",
            [f"res_partner_consent_valid_until_{company.id}_index"],
        )
        self.assertTrue(self.env.cr.fetchone())

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
