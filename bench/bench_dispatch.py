"""Dispatch throughput: queued reminders sent to a loopback SMSAPI answering in 20 ms.

Usage (make bench does this): bench_dispatch.py -c ODOO_CONFIG -d DATABASE
[--messages N] [--latency SECONDS]. Needs the book of bench_planner.py. Prints
messages per second, queries per message and peak memory.
"""

import argparse
import logging
import multiprocessing
import resource
import sys
import time
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

# The loopback fakes ship with the core, inside the add-on.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "insurance_notify" / "lib"))
from notify_engine.fakes import FakeSmsapi  # noqa: E402


def serve(latency, urls):
    """The fake SMSAPI (many recipients per request, as sms.do takes them),
    in a process of its own as a real provider would be."""
    with FakeSmsapi() as provider:
        provider.latency = latency
        urls.put(provider.url)
        time.sleep(3600)


def reset(cr):
    cr.execute("DELETE FROM insurance_notify_message")
    cr.execute("DELETE FROM insurance_notify_rule")
    # The name is a translated (jsonb) field since 18.0.1.3.0.
    cr.execute("DELETE FROM insurance_notify_gateway WHERE name->>'en_US' = 'bench loopback'")
    cr.commit()


def queue(env, url, count):
    """Queue ``count`` reminders about the book's policies, due now."""
    gateway = env["insurance.notify.gateway"].create(
        {"name": "bench loopback", "provider": "smsapi", "api_url": url, "smsapi_token": "bench"}
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
               (key, rule_id, company_id, res_model, res_id, policy_id, partner_id,
                channel, "offset", event_date, scheduled_at, state, number, timezone,
                gateway_id, attempts, create_date, write_date, create_uid, write_uid)
        SELECT 'bench-' || p.id, %(rule)s, p.company_id, 'insurance.policy', p.id, p.id,
               p.partner_id, 'sms', 7, current_date + 7,
               now() at time zone 'UTC' - interval '1 minute',
               'queued', '+48600000000', 'UTC', %(gateway)s, 0, now(), now(), 1, 1
          FROM insurance_policy p
         ORDER BY p.id
         LIMIT %(count)s
        """,
        {"rule": rule.id, "gateway": gateway.id, "count": count},
    )
    env.cr.commit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    logging.getLogger("odoo.addons.insurance_notify.lib.notify_engine").setLevel(logging.WARNING)
    registry = Registry(args.database)
    urls = multiprocessing.Queue()
    provider = multiprocessing.Process(target=serve, args=(args.latency, urls), daemon=True)
    provider.start()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        reset(cr)
        queue(env, urls.get(timeout=10), args.messages)
        queries = cr.sql_log_count
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        env["insurance.notify.message"]._cron_dispatch()
        elapsed = time.perf_counter() - start
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        cr.execute("SELECT state, count(*) FROM insurance_notify_message GROUP BY state")
        states = dict(cr.fetchall())
        queries = cr.sql_log_count - queries
        reset(cr)
    provider.terminate()
    sent = states.get("sent", 0)
    print(
        f"dispatch: {sent} of {args.messages} sent in {elapsed:.2f} s = {sent / elapsed:.0f} SMS/s "
        f"(gateway answers in {args.latency * 1000:.0f} ms; {queries / max(sent, 1):.1f} "
        f"queries per message; peak RSS grew {grown:.0f} MiB)"
    )
    print(f"states: {states}")


if __name__ == "__main__":
    main()
