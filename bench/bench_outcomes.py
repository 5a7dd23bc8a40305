"""Outcomes: settling N pending messages, and the effectiveness report's pivot query.

Usage (make bench does this): bench_outcomes.py -c ODOO_CONFIG -d DATABASE
[--messages N] [--report-messages N]. Needs the book of bench_planner.py.
Messages are inserted straight into the queue's table (a third of them in
the control group), over the book's policies and installments; the settle
job then runs once, set-based, as the daily cron does. Everything runs in a
transaction that is rolled back, so runs repeat. Prints one table: the time
and query count of each step, and how many messages it touched.
"""

import argparse
import logging
import sys
import time
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

sys.path.insert(0, str(Path(__file__).parent))
import book  # noqa: E402

# event type -> (document table, its event date column, message res_model)
EVENTS = {
    "policy_expiry": ("insurance_policy", "date_end", "insurance.policy"),
    "installment_due": ("insurance_policy_installment", "date_due", "insurance.policy.installment"),
}
TEMPLATES = {
    "insurance.policy": "insurance_notify.sms_template_policy_expiry",
    "insurance.policy.installment": "insurance_notify.sms_template_installment_due",
}


def make_rules(env):
    rules = {}
    for event_type, (_table, _column, model) in EVENTS.items():
        rules[event_type] = env["insurance.notify.rule"].create(
            {
                "name": f"bench {event_type}",
                "event_type": event_type,
                "offsets": "7",
                "control_percent": 30,
                "sms_template_id": env.ref(TEMPLATES[model]).id,
            }
        )
    # A new rule plans at once: the bench times settling, not planning.
    env.flush_all()
    env.cr.execute("DELETE FROM insurance_notify_message")
    env.invalidate_all()
    return rules


def insert_messages(env, rules, count):
    """``count`` messages spread over the two event types, a third of them in
    the control group, all pending; one statement per event type."""
    cr = env.cr
    per_type = count // len(EVENTS)
    inserted = 0
    for event_type, (table, column, model) in EVENTS.items():
        rule = rules[event_type]
        policy = "d.id" if table == "insurance_policy" else "d.policy_id"
        # Documents repeat (offsets, re-sends) until ``per_type`` rows are made.
        cr.execute(
            f"""
            INSERT INTO insurance_notify_message (
                key, sender_ref, is_reminder, rule_id, company_id, res_model, res_id,
                policy_id, partner_id, channel, "offset", event_date, scheduled_at, due_at,
                sent_at, state, reason_code, outcome, sms_parts, cost,
                create_uid, create_date, write_uid, write_date)
            SELECT 'bench-' || %(rule)s || '-' || s.n, 'insurance.notify.rule,' || %(rule)s,
                   TRUE, %(rule)s, d.company_id, %(model)s, d.id, {policy}, d.partner_id,
                   'sms', 7, d.{column}, d.{column} - 7, d.{column} - 7,
                   CASE WHEN s.n %% 3 <> 0 THEN d.{column} - 7 END,
                   CASE WHEN s.n %% 3 <> 0 THEN 'sent' ELSE 'skipped' END,
                   CASE WHEN s.n %% 3 = 0 THEN 'control_group' END,
                   'pending', 1, 0.07, 1, now(), 1, now()
              FROM generate_series(1, %(count)s) AS s(n)
             CROSS JOIN (SELECT count(*) AS c FROM {table} WHERE {column} IS NOT NULL) AS total
              JOIN (SELECT row_number() OVER (ORDER BY id) AS rn, *
                      FROM {table} WHERE {column} IS NOT NULL) AS d
                ON d.rn = 1 + s.n %% total.c
            """,  # noqa: S608 - table and column names are the constants above
            {"rule": rule.id, "model": model, "count": per_type},
        )
        inserted += cr.rowcount
    cr.execute("ANALYZE insurance_notify_message")
    return inserted


def timed(env, run):
    env.flush_all()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    result = run()
    env.flush_all()
    return time.perf_counter() - start, env.cr.sql_log_count - queries, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--report-messages", type=int, default=5_000_000)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--policies", type=int, default=300_000)
    parser.add_argument("--installments", type=int, default=1_000_000)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    logging.getLogger("odoo").setLevel(logging.WARNING)
    registry = Registry(args.database)
    rows = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        book.generate(env, args.clients, args.policies, args.installments)
        cr.commit()
        Message = env["insurance.notify.message"]
        Report = env["insurance.notify.effectiveness"]
        try:
            rules = make_rules(env)
            elapsed, queries, inserted = timed(
                env, lambda: insert_messages(env, rules, args.messages)
            )
            rows.append(("insert pending messages", elapsed, queries, inserted))
            elapsed, queries, settled = timed(env, Message._settle_outcomes)
            rows.append(("settle outcomes (daily job)", elapsed, queries, settled))
            elapsed, queries, settled = timed(env, Message._settle_outcomes)
            rows.append(("settle again, full pass (weekly)", elapsed, queries, settled))
            # The next day's job: nothing changed since its last run (the
            # database's clock is the transaction's, so "since" is just past it).
            cr.execute("SELECT now() AT TIME ZONE 'UTC' + interval '1 second'")
            since = cr.fetchone()[0]
            elapsed, queries, settled = timed(env, lambda: Message._settle_outcomes(since=since))
            rows.append(("settle next day (nothing changed)", elapsed, queries, settled))
            if args.report_messages > args.messages:
                cr.execute("DELETE FROM insurance_notify_message")
                elapsed, queries, inserted = timed(
                    env, lambda: insert_messages(env, rules, args.report_messages)
                )
                rows.append(("insert messages for the report", elapsed, queries, inserted))
                timed(env, Message._settle_outcomes)
            cr.execute("SELECT count(*) FROM insurance_notify_message")
            total = cr.fetchone()[0]
            measures = [
                "sent_count:sum", "converted_count:sum", "conversion_sent:avg",
                "conversion_control:avg", "uplift:avg",
            ]  # fmt: skip
            by_rule = ["rule_id", "experiment_group"]
            elapsed, queries, groups = timed(
                env, lambda: Report.read_group([], measures, by_rule, lazy=False)
            )
            rows.append(("report pivot: rule x group", elapsed, queries, total))
            elapsed, queries, groups = timed(
                env, lambda: Report.read_group([], measures, ["date:month"], lazy=False)
            )
            rows.append(("report pivot: month", elapsed, queries, total))
        finally:
            cr.rollback()
    print(f"{'':<40} {'time':>10} {'queries':>8} {'messages':>10}")
    for label, elapsed, queries, count in rows:
        print(f"{label:<40} {elapsed:8.3f} s {queries:8d} {count:10,d}")


if __name__ == "__main__":
    main()
