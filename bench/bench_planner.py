"""One day's planning: our planner against stock base_automation, same book, same run.

Usage (make bench does this): bench_planner.py -c ODOO_CONFIG -d DATABASE
[--clients N] [--policies N] [--installments N] [--invoices N] [--spread N].
The planner is timed twice: the day's first run, and the hourly re-plan that
follows it (same occurrences, nothing queued twice). The database
needs insurance_notify and base_automation installed; with the Accounting
bridge (insurance_notify_account) the book has invoices too, and the invoice
rules plan with the others (``--without-invoices`` leaves those rules out, to
compare). The book is generated on the first run and kept.
Each measurement runs in a transaction that is rolled back, so runs repeat.
Prints wall time (the planner's: median of three runs), query count and peak
RSS of each (each runs in a process of its own; in brackets, its growth over
the loaded registry), and last a line ``ratio: N`` (base_automation time /
planner time).
"""

import argparse
import json
import logging
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

sys.path.insert(0, str(Path(__file__).parent))
import book  # noqa: E402

# Every event type, with the offsets a broker typically sets. The stock way can
# only express the first four (birthdays recur yearly; consent dates sit on
# partners), so base_automation gets those: (model, date field) per type.
RULES = {
    "policy_expiry": [21, 14, 7],
    "inspection_expiry": [30, 7],
    "installment_due": [7],
    "installment_overdue": [3, 10],
    "consent_renewal": [30],
    "birthday": [0],
}
# With the Accounting bridge: one receivable line per due date.
INVOICE_RULES = {"invoice_due": [3], "invoice_overdue": [3, 10]}
OPEN_LINES = (
    "[('display_type', '=', 'payment_term'), ('parent_state', '=', 'posted'), "
    "('amount_residual', '>', 0), ('move_id.move_type', '=', 'out_invoice')]"
)
INVOICE_AUTOMATIONS = {
    "invoice_due": ("account.move.line", "date_maturity", OPEN_LINES, -1),
    "invoice_overdue": ("account.move.line", "date_maturity", OPEN_LINES, 1),
}
AUTOMATIONS = {
    "policy_expiry": ("insurance.policy", "date_end", "[('state', '=', 'valid')]", -1),
    "inspection_expiry": ("insurance.policy", "inspection_date", "[('state', '=', 'valid')]", -1),
    "installment_due": ("insurance.policy.installment", "date_due", "[('state', '=', 'open')]", -1),
    "installment_overdue": (
        "insurance.policy.installment",
        "date_due",
        "[('state', '=', 'open')]",
        1,
    ),
}
TEMPLATES = {
    "insurance.policy": "insurance_notify.sms_template_policy_expiry",
    "insurance.policy.installment": "insurance_notify.sms_template_installment_due",
    "res.partner": "insurance_notify.sms_template_birthday",
    "account.move.line": "insurance_notify_account.sms_template_invoice_due",
}


def with_invoices(env):
    """Whether this run plans invoices too (the bridge is installed, not left out)."""
    return "policy_id" in env.get("account.move", {}) and not WITHOUT_INVOICES[0]


WITHOUT_INVOICES = [False]

# The stock way: one time-based automation per offset, whose server action
# records the same message the planner creates.
AUTOMATION_CODE = """
env['insurance.notify.message'].create({{
    'key': 'ba-%s-%s-%s-%s' % (record._name, record.id, {offset}, record.{field}),
    'company_id': record.company_id.id,
    'res_model': record._name,
    'res_id': record.id,
    'partner_id': record.partner_id.id,
    'channel': 'sms',
    'offset': {offset},
    'event_date': record.{field},
    'scheduled_at': datetime.datetime.now(),
}})
"""


def reset(cr):
    """Remove what a measurement made: the planner commits as a cron does.
    The generated history (bench_screens.py, keys ``hist-``) stays."""
    cr.execute("DELETE FROM insurance_notify_message WHERE key NOT LIKE 'hist-%%'")
    cr.execute(
        "DELETE FROM insurance_notify_rule r WHERE NOT EXISTS "
        "(SELECT 1 FROM insurance_notify_message m WHERE m.rule_id = r.id)"
    )
    cr.execute("DELETE FROM base_automation")
    cr.execute("DELETE FROM ir_act_server WHERE name->>'en_US' LIKE 'remind %%'")
    cr.commit()


def measure(registry, prepare, run):
    """Run ``prepare(env)`` then time ``run(env)``: (seconds, queries, messages)."""
    with registry.cursor() as cr:
        reset(cr)
        env = api.Environment(cr, SUPERUSER_ID, {})
        prepare(env)
        env.flush_all()
        before = env["insurance.notify.message"].search_count([])
        queries = cr.sql_log_count
        start = time.perf_counter()
        run(env)
        env.flush_all()
        elapsed = time.perf_counter() - start
        created = env["insurance.notify.message"].search_count([]) - before
        queries = cr.sql_log_count - queries
        cr.rollback()
        reset(cr)
    return elapsed, queries, created


def prepare_planner(env):
    rules = env["insurance.notify.rule"]
    all_rules = {**RULES, **(INVOICE_RULES if with_invoices(env) else {})}
    for event_type, offsets in all_rules.items():
        model = rules.new({"event_type": event_type}).res_model
        rules.create(
            {
                "name": event_type,
                "event_type": event_type,
                "offsets": ",".join(map(str, offsets)),
                "consent_mode": "specific" if event_type == "birthday" else "none",
                "sms_template_id": env.ref(TEMPLATES[model]).id,
            }
        )
    # A new rule plans at once; undo that, so the timed run plans the whole day.
    # The history of bench_screens.py stays: deleting it, even in a transaction
    # rolled back, clears the visibility map the screens' index-only scans use.
    env.flush_all()
    env.cr.execute("DELETE FROM insurance_notify_message WHERE key NOT LIKE 'hist-%%'")
    env.cr.execute("UPDATE insurance_notify_rule SET last_planned_date = NULL")
    env.invalidate_all()


def run_planner(env):
    env["insurance.notify.rule"]._cron_plan()


def prepare_replan(env):
    """The hourly re-plan: the day's first run has been, the next one finds
    the same occurrences again and queues nothing twice."""
    prepare_planner(env)
    run_planner(env)


def prepare_automations(env):
    yesterday = odoo.fields.Datetime.now() - timedelta(days=1)
    automations = {**AUTOMATIONS, **(INVOICE_AUTOMATIONS if with_invoices(env) else {})}
    offsets_of = {**RULES, **INVOICE_RULES}
    for event_type, (model_name, field_name, domain, sign) in automations.items():
        model = env["ir.model"]._get(model_name)
        field = env["ir.model.fields"]._get(model_name, field_name)
        for offset in offsets_of[event_type]:
            action = env["ir.actions.server"].create(
                {
                    "name": f"remind {field_name} -{offset}",
                    "model_id": model.id,
                    "state": "code",
                    "code": AUTOMATION_CODE.format(offset=offset, field=field_name),
                }
            )
            automation = env["base.automation"].create(
                {
                    "name": f"{field_name} -{offset}",
                    "model_id": model.id,
                    "trigger": "on_time",
                    "trg_date_id": field.id,
                    "trg_date_range": sign * offset,
                    "trg_date_range_type": "day",
                    "filter_domain": domain,
                    "action_server_ids": [(6, 0, action.ids)],
                }
            )
            env.cr.execute(
                "UPDATE base_automation SET last_run = %s WHERE id = %s",
                [yesterday, automation.id],
            )
    env.invalidate_all()


def run_automations(env):
    env["base.automation"]._check()


CONTENDERS = {
    "planner": ("insurance_notify planner", prepare_planner, run_planner),
    "replan": ("insurance_notify hourly re-plan", prepare_replan, run_planner),
    "automations": ("base_automation (1 rule per offset)", prepare_automations, run_automations),
}


def run_contender(args):
    """In a process of its own, so its peak RSS is its own: one JSON line."""
    _label, prepare, run = CONTENDERS[args.contender]
    registry = Registry(args.database)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The planner's runs take a second or two and vary with what the machine
    # does meanwhile: the median of three. base_automation's take minutes: one.
    repeats = 1 if args.contender == "automations" else 3
    runs = sorted(measure(registry, prepare, run) for _ in range(repeats))
    elapsed, queries, created = runs[repeats // 2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps([elapsed, queries, created, baseline / 1024, peak / 1024]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--policies", type=int, default=300_000)
    parser.add_argument("--installments", type=int, default=1_000_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument(
        "--spread", type=int, default=1, help="dates over N times two years (book.generate)"
    )
    parser.add_argument(
        "--without-invoices", action="store_true", help="leave the invoice rules out"
    )
    parser.add_argument("--only-planner", action="store_true", help="skip base_automation")
    parser.add_argument("--only-book", action="store_true", help="generate the book, time nothing")
    parser.add_argument("--results", help="append the figures to this JSON-lines file")
    parser.add_argument("--label", default="1x", help="the book's name in the results")
    parser.add_argument("--contender", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    logging.getLogger("odoo.addons.base_automation").setLevel(logging.WARNING)
    WITHOUT_INVOICES[0] = args.without_invoices
    if args.contender:
        run_contender(args)
        return
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        start = time.perf_counter()
        book.generate(env, args.clients, args.policies, args.installments, args.spread)
        book.generate_invoices(env, args.invoices, args.spread)
        cr.commit()
        cr.execute("SELECT count(*) FROM insurance_policy")
        policies = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM res_partner")
        partners = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM insurance_policy_installment")
        installments = cr.fetchone()[0]
        invoices = 0
        if "account.move" in env:
            cr.execute("SELECT count(*) FROM account_move WHERE move_type = 'out_invoice'")
            invoices = cr.fetchone()[0]
        planned_invoices = with_invoices(env)
    ready = time.perf_counter() - start
    print(
        f"book: {partners:,} partners, {policies:,} policies, {installments:,} installments, "
        f"{invoices:,} invoices (ready in {ready:.1f} s); invoice rules "
        f"{'planned' if planned_invoices else 'left out'}"
    )
    if args.only_book:
        return
    print(f"{'':<38} {'time':>10} {'queries':>8} {'peak RSS':>16} {'messages':>9}")
    times = []
    for contender in ["planner", "replan"] if args.only_planner else list(CONTENDERS):
        output = subprocess.run(
            [sys.executable, __file__, "-c", args.config, "-d", args.database,
             "--contender", contender,
             *(["--without-invoices"] if args.without_invoices else [])],
            check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        elapsed, queries, created, baseline, peak = json.loads(output)
        times.append(elapsed)
        if args.results:
            with open(args.results, "a") as out:
                out.write(
                    json.dumps(
                        {
                            "kind": "planner",
                            "contender": contender,
                            "book": args.label,
                            "partners": partners,
                            "policies": policies,
                            "installments": installments,
                            "invoices": invoices,
                            "seconds": elapsed,
                            "queries": queries,
                            "messages": created,
                            "ready": ready,
                        }  # fmt: skip
                    )
                    + "\n"
                )
        print(
            f"{CONTENDERS[contender][0]:<38} {elapsed:8.3f} s {queries:8d} "
            f"{peak:7.0f} MiB (+{peak - baseline:4.0f}) {created:9d}"
        )
    if len(times) == 3:
        print(f"ratio: {times[2] / times[0]:.0f}")


if __name__ == "__main__":
    main()
