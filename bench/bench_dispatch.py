"""Dispatch throughput: queued reminders sent to a loopback provider answering in 20 ms.

Usage (make bench does this): bench_dispatch.py -c ODOO_CONFIG -d DATABASE
[--provider smsapi|twilio] [--workers N] [--messages N] [--latency SECONDS]
[--batch-size N] [--results FILE]. Needs the book of bench_planner.py.

SMSAPI takes many personalised messages per ``sms.do`` request; Twilio one
message per request, sent concurrently (the gateway's *parallel requests*).
``--workers 2`` runs two dispatcher processes on the one queue at the same
time, as two Odoo servers (or ``--max-cron-threads=2``) would: the fake
provider counts what it received, so a message sent twice shows as a
duplicate. Prints messages per second, queries per message and duplicates.
"""

import argparse
import json
import logging
import multiprocessing
import sys
import time
from pathlib import Path

# The loopback fakes ship with the core, inside the add-on.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "insurance_notify" / "lib"))
from notify_engine.fakes import FakeSmsapi, FakeTwilio  # noqa: E402

TWILIO_SID = "AC" + "b" * 32
TWILIO_TOKEN = "bench-token"


def serve(provider_name, latency, urls, stop, stats):
    """The fake provider in a process of its own, as a real one would be;
    when told to stop, it reports what it received."""
    if provider_name == "twilio":
        provider = FakeTwilio(TWILIO_SID, TWILIO_TOKEN)
        answer = provider._answer

        def slow(request):
            reply = answer(request)
            reply.delay = latency
            return reply

        provider.respond(slow)
    else:
        provider = FakeSmsapi()
        provider.latency = latency
    with provider:
        urls.put(provider.url)
        stop.wait(3600)
        if provider_name == "twilio":
            sent = [(m["to"], m["body"]) for m in provider.messages]
        else:
            sent = [key for _number, key, _text in provider.delivered]
        stats.put(
            {
                "requests": len(provider.received),
                "messages": len(sent),
                "duplicates": len(sent) - len(set(sent)),
            }  # fmt: skip
        )


def reset(cr):
    cr.execute("DELETE FROM insurance_notify_message WHERE key LIKE 'bench-%%'")
    cr.execute(
        "DELETE FROM insurance_notify_rule WHERE name->>'en_US' = 'bench' AND NOT EXISTS "
        "(SELECT 1 FROM insurance_notify_message m WHERE m.rule_id = insurance_notify_rule.id)"
    )
    # The name is a translated (jsonb) field since 18.0.1.3.0.
    cr.execute("DELETE FROM insurance_notify_gateway WHERE name->>'en_US' = 'bench loopback'")
    cr.commit()


def queue(env, provider_name, url, count):
    """Queue ``count`` reminders about the book's policies, due now: as a
    morning's expiry reminders are, those of the policies ending soonest a
    week or more from today (a few end dates, shared by many texts)."""
    credentials = (
        {"twilio_account_sid": TWILIO_SID, "twilio_auth_token": TWILIO_TOKEN,
         "sender": "+15005550006"}
        if provider_name == "twilio"
        else {"smsapi_token": "bench"}
    )  # fmt: skip
    gateway = env["insurance.notify.gateway"].create(
        {"name": "bench loopback", "provider": provider_name, "api_url": url, **credentials}
    )
    # Archived, so it plans nothing; its window is open round the clock.
    rule = env["insurance.notify.rule"].create(
        {
            "name": "bench",
            "active": False,
            "offsets": "7",
            "sms_template_id": env.ref("insurance_notify.sms_template_policy_expiry").id,
            "gateway_id": gateway.id,
            "window_start": 0,
            "window_end": 24,
        }
    )
    env.flush_all()
    env.cr.execute(
        """
        INSERT INTO insurance_notify_message
               (key, sender_ref, rule_id, is_reminder, company_id, res_model, res_id,
                policy_id, partner_id, channel, "offset", event_date, scheduled_at, state,
                number, timezone, gateway_id, attempts, outcome, create_date, write_date,
                create_uid, write_uid)
        SELECT 'bench-' || p.id, 'insurance.notify.rule,' || %(rule)s, %(rule)s, TRUE,
               p.company_id, 'insurance.policy', p.id, p.id, p.partner_id, 'sms', 7,
               p.date_end, now() at time zone 'UTC' - interval '1 minute',
               -- one number each, as a book's clients have
               'queued', '+48' || (600000000 + p.id)::text, 'UTC', %(gateway)s, 0, 'pending',
               now(), now(), 1, 1
          FROM insurance_policy p
         WHERE p.name LIKE 'BENCH/%%' AND p.date_end >= current_date + 7
         ORDER BY p.date_end, p.id
         LIMIT %(count)s
        """,
        {"rule": rule.id, "gateway": gateway.id, "count": count},
    )
    env.cr.commit()
    # As autovacuum would: statistics taken while the queue was empty (the
    # planner bench deletes what it planned) made PostgreSQL join each
    # chunk's UPDATE with a scan of the whole queue; and each run leaves its
    # dead rows (three versions of each message) to the next. VACUUM runs
    # outside a transaction: on a connection of its own.
    import psycopg2

    from odoo.sql_db import connection_info_for

    _name, params = connection_info_for(env.cr.dbname)
    connection = psycopg2.connect(**params)
    try:
        connection.autocommit = True
        connection.cursor().execute("VACUUM (ANALYZE) insurance_notify_message")
    finally:
        connection.close()


def worker(config, database, batch_size, go, results):
    """One dispatcher, in a process (and with a database connection) of its own."""
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", config, "-d", database, "--log-level=warn"])
    logging.getLogger("odoo.addons.insurance_notify").setLevel(logging.ERROR)
    registry = Registry(database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["insurance.notify.message"]  # the registry is warm before the start
        go.wait(600)
        queries = cr.sql_log_count
        start = time.time()
        kwargs = {"batch_size": batch_size} if batch_size else {}
        done = env["insurance.notify.message"]._cron_dispatch(**kwargs)
        cr.commit()
        results.put(
            {
                "start": start,
                "end": time.time(),
                "done": done,
                "queries": cr.sql_log_count - queries,
            }  # fmt: skip
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--provider", choices=["smsapi", "twilio"], default="smsapi")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--batch-size", type=int, default=0, help="chunk size (default: Odoo's)")
    parser.add_argument("--results", help="append the figures to this JSON-lines file")
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    urls, stop, stats = spawn.Queue(), spawn.Event(), spawn.Queue()
    provider = spawn.Process(
        target=serve, args=(args.provider, args.latency, urls, stop, stats), daemon=True
    )
    provider.start()
    url = urls.get(timeout=60)

    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        reset(cr)
        queue(env, args.provider, url, args.messages)
    go, results = spawn.Event(), spawn.Queue()
    workers = [
        spawn.Process(
            target=worker, args=(args.config, args.database, args.batch_size, go, results)
        )
        for _ in range(args.workers)
    ]
    for process in workers:
        process.start()
    time.sleep(1)
    go.set()
    figures = [results.get(timeout=900) for _ in workers]
    for process in workers:
        process.join()
    elapsed = max(f["end"] for f in figures) - min(f["start"] for f in figures)
    stop.set()
    received = stats.get(timeout=60)
    provider.join(timeout=10)
    with registry.cursor() as cr:
        cr.execute(
            "SELECT state, count(*) FROM insurance_notify_message "
            "WHERE key LIKE 'bench-%%' GROUP BY state"
        )
        states = dict(cr.fetchall())
        reset(cr)
    sent = states.get("sent", 0)
    queries = sum(f["queries"] for f in figures)
    rate = sent / elapsed if elapsed else 0
    print(
        f"dispatch {args.provider}, {args.workers} worker(s): {sent} of {args.messages} sent "
        f"in {elapsed:.2f} s = {rate:.0f} SMS/s (provider answers in "
        f"{args.latency * 1000:.0f} ms; {received['requests']} requests; "
        f"{queries / max(sent, 1):.2f} queries per message; "
        f"{received['duplicates']} duplicates at the provider)"
    )
    print(f"states: {states}; per worker: {[f['done'] for f in figures]}")
    if args.results:
        with open(args.results, "a") as out:
            out.write(
                json.dumps(
                    {
                        "kind": "dispatch",
                        "provider": args.provider,
                        "workers": args.workers,
                        "messages": args.messages,
                        "sent": sent,
                        "seconds": elapsed,
                        "rate": rate,
                        "requests": received["requests"],
                        "received": received["messages"],
                        "duplicates": received["duplicates"],
                        "queries_per_message": queries / max(sent, 1),
                    }  # fmt: skip
                )
                + "\n"
            )


if __name__ == "__main__":
    main()
