"""Outcomes: settling N pending messages, and the effectiveness report's pivot.

Usage (make bench does this): bench_outcomes.py -c ODOO_CONFIG -d DATABASE
[--messages N] [--report-messages N] [--results FILE]. Needs the book of
bench_planner.py. Messages are inserted straight into the queue's table (a
third of them in the control group), over the book's policies and
installments; the settle job then runs once, set-based, as the daily cron
does, and keeps the report's totals. The pivot is timed as it opens (the
four read_group calls of rule x group), as an administrator (record rules
apply): on kept totals just after the daily job, and in the afternoon, when
today's reminders and today's renewals of the last three weeks' reminders
have written deltas. Everything runs in a transaction that is rolled
back, so runs repeat. Prints one table: the time and query count of each
step, and how many messages it touched.
"""

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

sys.path.insert(0, str(Path(__file__).parent))
import book  # noqa: E402
from bench_screens import timed as median_time  # noqa: E402

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


def add_todays_work(env, rules, sent_today, renewals):
    """The afternoon: ``sent_today`` reminders sent today (half per rule) and
    ``renewals`` of the last three weeks' reminders converted by write hooks."""
    cr = env.cr
    cr.execute("SELECT max(COALESCE(sent_at, scheduled_at))::date FROM insurance_notify_message")
    (today,) = cr.fetchone()
    for rule in rules.values():
        cr.execute(
            """
            INSERT INTO insurance_notify_message (
                key, sender_ref, is_reminder, rule_id, company_id, res_model, res_id,
                policy_id, partner_id, channel, "offset", event_date, scheduled_at, due_at,
                sent_at, state, outcome, sms_parts, cost,
                create_uid, create_date, write_uid, write_date)
            SELECT 'today-' || m.id, m.sender_ref, TRUE, m.rule_id, m.company_id, m.res_model,
                   m.res_id, m.policy_id, m.partner_id, 'sms', 7, m.event_date,
                   %(today)s, %(today)s, %(today)s + interval '10 hours', 'sent', 'pending',
                   1, 0.07, 1, now(), 1, now()
              FROM insurance_notify_message m WHERE m.rule_id = %(rule)s LIMIT %(count)s
            """,
            {"rule": rule.id, "today": today, "count": sent_today // len(rules)},
        )
    cr.execute(
        """
        UPDATE insurance_notify_message SET outcome = 'converted', outcome_days = 3
         WHERE id IN (SELECT id FROM insurance_notify_message
                       WHERE outcome = 'pending' AND state = 'sent'
                         AND sent_at >= %(today)s - 21 AND sent_at < %(today)s
                       ORDER BY md5(id::text) LIMIT %(count)s)
        """,
        {"today": today, "count": renewals},
    )
    cr.execute("SELECT count(*) FROM insurance_notify_effectiveness_delta")
    return cr.fetchone()[0]


def pivot_as_it_opens(report):
    """The four read_group calls of the pivot's default view (rows: rule;
    columns: group), with the view's measures."""
    measures = [
        "sent_count:sum", "delivered_count:sum", "converted_count:sum",
        "conversion_sent:avg", "conversion_control:avg", "uplift:avg",
    ]  # fmt: skip
    for groupby in ([], ["rule_id"], ["experiment_group"], ["rule_id", "experiment_group"]):
        report.read_group([], measures, groupby, lazy=False)


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
    parser.add_argument("--sent-today", type=int, default=20_000)
    parser.add_argument("--renewals", type=int, default=1_000)
    parser.add_argument("--results", help="append the figures to this JSON-lines file")
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
        Summary = env["insurance.notify.effectiveness.summary"]
        screens = []
        daily_job = 0.0
        try:
            rules = make_rules(env)
            elapsed, queries, inserted = timed(
                env, lambda: insert_messages(env, rules, args.messages)
            )
            rows.append(("insert pending messages", elapsed, queries, inserted))
            elapsed, queries, settled = timed(env, Message._settle_outcomes)
            rows.append(("settle outcomes (daily job)", elapsed, queries, settled))
            daily_job = elapsed
            elapsed, queries, settled = timed(env, Message._settle_outcomes)
            rows.append(("settle again, full pass (weekly)", elapsed, queries, settled))
            # The next day's job: nothing changed since its last run (the
            # database's clock is the transaction's, so "since" is just past it).
            cr.execute("SELECT now() AT TIME ZONE 'UTC' + interval '1 second'")
            since = cr.fetchone()[0]
            elapsed, queries, settled = timed(env, lambda: Message._settle_outcomes(since=since))
            rows.append(("settle next day (nothing changed)", elapsed, queries, settled))
            elapsed, queries, (folded, _kept) = timed(env, Summary._refresh)
            rows.append(("fold the day's deltas into the totals", elapsed, queries, folded))
            daily_job += elapsed
            if args.report_messages > args.messages:
                cr.execute("DELETE FROM insurance_notify_message")
                elapsed, queries, inserted = timed(
                    env, lambda: insert_messages(env, rules, args.report_messages)
                )
                rows.append(("insert messages for the report", elapsed, queries, inserted))
                timed(env, Message._settle_outcomes)
                elapsed, queries, (_folded, kept) = timed(env, lambda: Summary._refresh(full=True))
                rows.append(("sum the totals again (weekly, upgrade)", elapsed, queries, kept))
            cr.execute("SELECT count(*) FROM insurance_notify_message")
            total = cr.fetchone()[0]
            report = Report.with_user(env.ref("base.user_admin"))
            measures = [
                "sent_count:sum", "converted_count:sum", "conversion_sent:avg",
                "conversion_control:avg", "uplift:avg",
            ]  # fmt: skip
            elapsed, queries, _groups = timed(
                env, lambda: report.read_group([], measures, ["date:month"], lazy=False)
            )
            rows.append(("report pivot: month (kept totals)", elapsed, queries, total))
            clean = median_time(env, lambda: pivot_as_it_opens(report))
            rows.append(("report pivot as it opens, after the daily job", clean, 0, total))
            screens.append(("Effectiveness pivot, after the daily job", clean))
            deltas = add_todays_work(env, rules, args.sent_today, args.renewals)
            afternoon = median_time(env, lambda: pivot_as_it_opens(report))
            label = f"Effectiveness pivot, afternoon ({deltas:,} deltas)"
            rows.append((label, afternoon, 0, total + args.sent_today))
            screens.append((label, afternoon))
            # What the pivot cost before the kept totals: every message's row.
            per_message = median_time(
                env,
                lambda: report.read_group(
                    [("message_id", "!=", False)], measures, ["rule_id", "experiment_group"],
                    lazy=False,
                ),
                rounds=1,
            )  # fmt: skip
            rows.append(("same pivot from every message (rule x group)", per_message, 0, total))
        finally:
            cr.rollback()
    print(f"{'':<48} {'time':>10} {'queries':>8} {'messages':>10}")
    for label, elapsed, queries, count in rows:
        print(f"{label:<48} {elapsed:8.3f} s {queries:8d} {count:10,d}")
    if args.results:
        with open(args.results, "a") as out:
            for label, seconds in screens:
                figure = {"kind": "screen", "label": label, "seconds": seconds, "history": total}
                out.write(json.dumps(figure) + "\n")
            # The daily job: settling, then keeping the totals of what it changed.
            figure = {"kind": "outcomes", "seconds": daily_job, "messages": args.messages}
            out.write(json.dumps(figure) + "\n")


if __name__ == "__main__":
    main()
