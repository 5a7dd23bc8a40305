"""Server time of the screens a broker opens every day, on a large history,
and of the dry run of one day.

Usage (make bench does this): bench_screens.py -c ODOO_CONFIG -d DATABASE
[--history N] [--replies N] [--results FILE]. Needs the book of
bench_planner.py; generates (once, kept between runs) a history of N sent
notifications over the last two years, keys ``hist-``, and N client replies to
them. Each screen is called as the web client calls it, as
the administrator (record rules apply), three times; the median is printed.
"""

import argparse
import datetime
import json
import logging
import statistics
import sys
import time
from pathlib import Path

from dateutil.relativedelta import relativedelta
from lxml import etree

import odoo
import odoo.tools.safe_eval
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

sys.path.insert(0, str(Path(__file__).parent))
import bench_planner  # noqa: E402

ADMIN = 2
HISTORY_RULES = 5


def generate_history(env, count):
    """``count`` notifications of the last two years, as the dispatcher leaves
    them: mostly sent or delivered, some skipped with a reason, some failed,
    stored in the order they were planned."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM insurance_notify_message WHERE key LIKE 'hist-%%'")
    if cr.fetchone()[0] >= count:
        return False
    cr.execute("DELETE FROM insurance_notify_message WHERE key LIKE 'hist-%%'")
    cr.execute("SELECT count(*) FROM insurance_policy WHERE name LIKE 'BENCH/%%'")
    policies = cr.fetchone()[0]
    template = env.ref("insurance_notify.sms_template_policy_expiry")
    rules = env["insurance.notify.rule"].create(
        [
            {
                "name": f"bench history {n}",
                "active": False,
                "offsets": str(7 * (n + 1)),
                "sms_template_id": template.id,
            }  # fmt: skip
            for n in range(HISTORY_RULES)
        ]
    )
    env.flush_all()
    logging.getLogger(__name__).info("generating %s notifications", count)
    cr.execute(
        """
        INSERT INTO insurance_notify_message
               (key, sender_ref, rule_id, is_reminder, company_id, res_model, res_id,
                policy_id, partner_id, channel, "offset", event_date, scheduled_at, sent_at,
                state, reason_code, number, timezone, body, sms_parts, sms_encoding, cost,
                currency_id, attempts, outcome, create_date, write_date, create_uid, write_uid)
        SELECT 'hist-' || n, 'insurance.notify.rule,' || rule.id, rule.id, TRUE,
               p.company_id, 'insurance.policy', p.id, p.id, p.partner_id, 'sms', 7,
               day.at::date + 7, day.at,
               CASE WHEN n %% 20 >= 3 THEN day.at END,
               CASE WHEN n %% 20 = 0 THEN 'skipped' WHEN n %% 20 = 1 THEN 'failed'
                    WHEN n %% 20 = 2 THEN 'cancelled' WHEN n %% 2 = 0 THEN 'delivered'
                    ELSE 'sent' END,
               CASE WHEN n %% 20 = 0 THEN 'no_sms_consent' END,
               '+48' || (600000000 + n %% 100000)::text, 'Europe/Warsaw',
               'Policy ' || p.name || ' ends in 7 days.', 1, 'gsm7', 0.16,
               p.currency_id, 1, 'not_applicable', day.at, day.at, 1, 1
          FROM generate_series(1, %(count)s) AS n
          JOIN insurance_policy p ON p.name = 'BENCH/' || (1 + (n * 7) %% %(policies)s)
          JOIN insurance_notify_rule rule ON rule.id = (%(rules)s::int[])[1 + n %% %(rule_count)s]
         CROSS JOIN LATERAL (SELECT now() at time zone 'UTC'
                                    - (n %% 730) * interval '1 day'
                                    - (n %% 600) * interval '1 minute' AS at) AS day
         -- In the order the days came, as the queue writes them: a month's
         -- notifications lie together, not spread over the whole table.
         ORDER BY day.at
        """,
        {"count": count, "rules": rules.ids, "rule_count": len(rules), "policies": policies},
    )
    cr.execute("ANALYZE insurance_notify_message")
    return True


def generate_replies(env, count):
    """``count`` client replies over the last two years, each to a message of
    the history: nearly all answered by the broker, the rest waiting in the
    inbox (the Replies screen's default filter)."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM insurance_notify_reply WHERE provider_ref LIKE 'hist-%%'")
    if cr.fetchone()[0] >= count:
        return False
    cr.execute("DELETE FROM insurance_notify_reply WHERE provider_ref LIKE 'hist-%%'")
    brokers = env["res.users"].search([("share", "=", False)], limit=5)
    logging.getLogger(__name__).info("generating %s replies", count)
    cr.execute(
        """
        INSERT INTO insurance_notify_reply
               (provider_ref, company_id, channel, number, partner_id, message_id, rule_id,
                res_model, res_id, text, kind, received_at, user_id, answered_at, answered,
                response_minutes, create_date, write_date, create_uid, write_uid)
        SELECT 'hist-' || n, m.company_id, 'sms', m.number, m.partner_id, m.id, m.rule_id,
               m.res_model, m.res_id, kind.text, kind.kind, m.scheduled_at + interval '2 hours',
               (%(brokers)s::int[])[1 + n %% %(broker_count)s],
               CASE WHEN n %% 50 <> 0 THEN m.scheduled_at + interval '3 hours' END, n %% 50 <> 0,
               CASE WHEN n %% 50 <> 0 THEN 60 END,
               m.scheduled_at, m.scheduled_at, 1, 1
          FROM generate_series(1, %(count)s) AS n
          JOIN insurance_notify_message m ON m.key = 'hist-' || (3 + n * 2)
         CROSS JOIN LATERAL (SELECT (ARRAY['renew', 'question', 'paid', 'other'])[1 + n %% 4]
                                    AS kind,
                                    (ARRAY['Tak, prosze o oferte', 'Ile to kosztuje?',
                                           'Zaplacone', 'Dziekuje'])[1 + n %% 4] AS text) AS kind
         ORDER BY m.scheduled_at
        """,
        {"count": count, "brokers": brokers.ids, "broker_count": len(brokers)},
    )
    cr.execute("ANALYZE insurance_notify_reply")
    return True


def list_specification(env, model, view_ref):
    """The fields the list view reads, as the web client asks for them."""
    records = env[model]
    view = env.ref(view_ref)
    arch = etree.fromstring(records.get_views([(view.id, "list")])["views"]["list"]["arch"])
    spec = {}
    for node in arch.iter("field"):
        name = node.get("name")
        field = records._fields[name]
        spec[name] = {"fields": {"display_name": {}}} if field.type == "many2one" else {}
    return spec


def action_defaults(env, action_ref, search_ref):
    """(domain, group_by) the action opens with: its domain, and its default
    filters (search_default_*) as the search view applies them."""
    action = env.ref(action_ref)
    context = odoo.tools.safe_eval.safe_eval(action.context or "{}")
    group_by = context.get("group_by") or []
    domain = action.domain and odoo.tools.safe_eval.safe_eval(action.domain) or []
    search = etree.fromstring(env.ref(search_ref).arch)
    for name, value in context.items():
        if name.startswith("search_default_") and value:
            node = search.find(f".//filter[@name='{name[len('search_default_') :]}']")
            period = node.get("default_period", "") if node is not None else ""
            if period.startswith("custom_"):
                # A date filter opening on one of its own options.
                node = node.find(f"filter[@name='{period.removeprefix('custom_')}']")
            if node is not None and node.get("domain"):
                domain = domain + odoo.tools.safe_eval.safe_eval(
                    node.get("domain"),
                    {"context_today": datetime.date.today, "relativedelta": relativedelta},
                )
            if node is not None and "group_by" in (node.get("context") or ""):
                group_by = group_by + [
                    odoo.tools.safe_eval.safe_eval(node.get("context"))["group_by"]
                ]
    return domain, group_by


def timed(env, call, rounds=3):
    times = []
    for _ in range(rounds):
        env.invalidate_all()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def screens(env):
    """(label, seconds) of each screen."""
    Message = env["insurance.notify.message"].with_context(create=False)
    spec = list_specification(
        env, Message._name, "insurance_notify.insurance_notify_message_view_list"
    )
    domain, group_by = action_defaults(
        env,
        "insurance_notify.action_insurance_notify_message",
        "insurance_notify.insurance_notify_message_view_search",
    )
    results = []

    def sent_list():
        if group_by:
            Message.web_read_group(domain, ["__count"], group_by, limit=80)
        else:
            Message.web_search_read(domain, spec, limit=80, count_limit=10001)

    results.append(("Sent Notifications list (as the action opens it)", timed(env, sent_list)))

    def grouped_by_day():
        Message.web_read_group(domain, ["__count"], ["scheduled_at:day"], limit=80)

    results.append(("Sent Notifications grouped by day (as it opens)", timed(env, grouped_by_day)))

    env.cr.execute(
        "SELECT partner_id FROM insurance_notify_message WHERE key LIKE 'hist-%%' "
        "GROUP BY partner_id ORDER BY count(*) DESC LIMIT 1"
    )
    partner = env["res.partner"].browse(env.cr.fetchone()[0])

    def client_card():
        partner.web_read(
            {
                "display_name": {},
                "insurance_notify_message_count": {},
                "insurance_notify_message_ids": {"fields": spec, "limit": 40},
            }
        )

    results.append(("Client card, Notifications tab", timed(env, client_card)))

    def pivot():
        # The pivot reads its totals, rows, columns and cells.
        for groupby in ([], ["rule_id"], ["state"], ["rule_id", "state"]):
            Message.read_group(domain, ["sms_parts:sum", "cost:sum"], groupby, lazy=False)

    results.append(("Notifications pivot, rule x status (as it opens)", timed(env, pivot)))

    Reply = env["insurance.notify.reply"].with_context(create=False)
    reply_spec = list_specification(
        env, Reply._name, "insurance_notify.insurance_notify_reply_view_list"
    )
    reply_domain, _group_by = action_defaults(
        env,
        "insurance_notify.action_insurance_notify_reply",
        "insurance_notify.insurance_notify_reply_view_search",
    )

    def replies_inbox():
        Reply.web_search_read(reply_domain, reply_spec, limit=80, count_limit=10001)

    results.append(("Replies list, unanswered (as it opens)", timed(env, replies_inbox)))

    def replies_pivot(domain):
        # Broker x kind, median response time: its totals, rows, columns, cells.
        for groupby in ([], ["user_id"], ["kind"], ["user_id", "kind"]):
            Reply.read_group(domain, ["__count", "response_minutes:median"], groupby, lazy=False)

    results.append(("Replies pivot (as it opens)", timed(env, lambda: replies_pivot(reply_domain))))
    # Without the filter: every reply's response time, as a manager reads it.
    results.append(("Replies pivot, all replies", timed(env, lambda: replies_pivot([]))))
    return results


def dry_run(registry):
    """One day of the bench book's rules, simulated; rolled back."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        bench_planner.prepare_planner(env)
        env.flush_all()
        env = env(user=ADMIN)
        wizard = env["insurance.notify.dry.run"].create({})
        start = time.perf_counter()
        wizard.action_run()
        env.flush_all()
        elapsed = time.perf_counter() - start
        lines = len(wizard.line_ids) + len(wizard.left_out_ids)
        cr.rollback()
    return elapsed, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--replies", type=int, default=100_000)
    parser.add_argument("--results", help="append the figures to this JSON-lines file")
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        start = time.perf_counter()
        if generate_history(env, args.history):
            cr.commit()
            print(f"history of {args.history:,} notifications generated in "
                  f"{time.perf_counter() - start:.0f} s")  # fmt: skip
        if generate_replies(env, args.replies):
            cr.commit()
            print(f"{args.replies:,} replies generated")
        cr.execute("SELECT count(*) FROM insurance_notify_reply")
        replies = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM insurance_notify_message")
        total = cr.fetchone()[0]
    figures = []
    with registry.cursor() as cr:
        env = api.Environment(cr, ADMIN, {"lang": "en_US"})
        for label, seconds in screens(env):
            figure = {"kind": "screen", "label": label, "seconds": seconds}
            if label.startswith("Replies"):
                figure["size"] = f"{replies // 1000:,}k replies"
            figures.append(figure)
        cr.rollback()
    elapsed, lines = dry_run(registry)
    figures.append({"kind": "dry_run", "seconds": elapsed, "lines": lines})
    print(f"screens on {total:,} notifications, {replies:,} replies (median of 3, server time):")
    for figure in figures:
        if figure["kind"] == "screen":
            print(f"  {figure['label']:<52} {figure['seconds'] * 1000:8.0f} ms")
    print(f"dry run of one day: {elapsed:.2f} s ({lines} lines)")
    if args.results:
        with open(args.results, "a") as out:
            for figure in figures:
                out.write(json.dumps({**figure, "history": total, "replies": replies}) + "\n")


if __name__ == "__main__":
    main()
