"""Three simulated weeks of a broker's office, hour by hour.

Brokers enter policies and installments at any hour, move end dates, cancel
policies, take payments; clients reply STOP; the planner and the dispatcher run
every hour; once in a while the dispatcher dies between the provider's work and
its own commit (SMSAPI and Twilio), and both providers are down for three hours.
After each day the promises are checked on what the fake providers received:
never twice, never at night in the client's timezone, never after a STOP,
never lost, nothing left sending, nothing overdue waiting.

Seeds: SIM_SEEDS="1,2,3" in the environment; each failure names its seed.
"""

import os
import random
from collections import Counter
from datetime import datetime, time, timedelta

import pytz

from odoo.tests.common import new_test_user

from odoo.addons.insurance_notify.models.insurance_notify_sender import QueueItem

from ..lib.notify_engine.gateways import SmsapiGateway, TwilioGateway
from .sim_providers import StatefulCase

SEEDS = [int(seed) for seed in os.environ.get("SIM_SEEDS", "7,19,2026").split(",")]
DAYS = 18
WINDOW = (8, 20)
TIMEZONES = ["Europe/Warsaw", "Europe/Vilnius"]


class Crash(BaseException):
    """The worker dies: not an error any code of ours may catch."""


class TestOfficeMonth(StatefulCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = new_test_user(
            cls.env,
            login="sim_broker",
            groups="base.group_user,insurance_notify.group_insurance_user",
            tz="Europe/Warsaw",
        )
        cls.manager = new_test_user(
            cls.env,
            login="sim_manager",
            groups="base.group_user,insurance_notify.group_insurance_manager",
            tz="Europe/Warsaw",
        )

    # ------------------------------------------------------------------
    # The office
    # ------------------------------------------------------------------

    def make_world(self, rng):
        Partner = self.env["res.partner"].with_user(self.broker)
        self.clients = Partner.browse()
        for index in range(14):
            self.clients |= Partner.sudo().create(
                {
                    "name": f"Klient {index}",
                    "mobile": f"+48 600 100 {100 + index}",
                    "country_id": self.env.ref("base.pl").id,
                    "tz": rng.choice(TIMEZONES),
                    "consent_marketing": True,
                    "consent_sms": True,
                }
            )
        templates = {
            "insurance.policy": self.template,
            "insurance.policy.installment": self.env["sms.template"].create(
                {
                    "name": "Installment",
                    "model_id": self.env["ir.model"]._get_id("insurance.policy.installment"),
                    "body": "Rata {{ object.amount }} do {{ object.date_due }} "
                    "({{ object.policy_id.name }}).",
                }
            ),
        }
        Rule = self.Rule.with_user(self.manager)
        self.rules = Rule.sudo().create(
            [
                {
                    "name": "Expiry",
                    "event_type": "policy_expiry",
                    "offsets": "14,7,1",
                    "sms_template_id": templates["insurance.policy"].id,
                    "gateway_id": self.gw_smsapi.id,
                },
                {
                    "name": "Installment due",
                    "event_type": "installment_due",
                    "offsets": "3,0",
                    "consent_mode": "general",
                    "sms_template_id": templates["insurance.policy.installment"].id,
                    "gateway_id": self.gw_twilio.id,
                },
                {
                    "name": "Installment overdue",
                    "event_type": "installment_overdue",
                    "offsets": "2",
                    "sms_template_id": templates["insurance.policy.installment"].id,
                    "gateway_id": self.gw_twilio.id,
                },
            ]
        )
        self.crashes = 0
        self.created = {}  # (model, id) -> the moment it was entered
        self.opted_out = {}  # partner id -> when the STOP arrived

    def office_hour(self, rng, today):
        """What the staff do in one hour: a few random acts as the broker."""
        Policy = self.env["insurance.policy"].with_user(self.broker)
        if rng.random() < 0.35:
            policy = Policy.create(
                {
                    "name": f"SIM/{rng.random():.12f}",
                    "partner_id": rng.choice(self.clients).id,
                    "insurer_id": self.insurer.id,
                    "product_id": self.product.id,
                    "date_start": today - timedelta(days=300),
                    "date_end": today + timedelta(days=rng.randint(0, 16)),
                    "state": "valid",
                    "premium_amount": 1200,
                }
            )
            self.created[policy._name, policy.id] = self.now
            if rng.random() < 0.6:
                installment = (
                    self.env["insurance.policy.installment"]
                    .with_user(self.broker)
                    .create(
                        {
                            "policy_id": policy.id,
                            "date_due": today + timedelta(days=rng.randint(-3, 5)),
                            "amount": rng.choice([120.0, 312.5, 99.99]),
                        }
                    )
                )
                self.created[installment._name, installment.id] = self.now
        valid = Policy.search([("state", "=", "valid"), ("name", "=like", "SIM/%")])
        if valid and rng.random() < 0.05:
            rng.choice(valid).action_cancel()
        if valid and rng.random() < 0.05:
            policy = rng.choice(valid)
            policy.date_end = policy.date_end + timedelta(days=rng.randint(1, 5))
            self.created[policy._name, policy.id] = self.now  # its occurrences start over
        open_installments = (
            self.env["insurance.policy.installment"]
            .with_user(self.broker)
            .search([("state", "=", "open"), ("policy_id.name", "=like", "SIM/%")])
        )
        if open_installments and rng.random() < 0.08:
            rng.choice(open_installments).action_mark_paid()
        if rng.random() < 0.02:
            client = rng.choice(self.clients)
            if client.id not in self.opted_out:
                self.env["res.partner"]._insurance_opt_out_number(
                    client.phone_sanitized, self.env.company, "STOP"
                )
                self.opted_out[client.id] = self.now

    def run_crons(self, crash=None):
        self.Rule._cron_plan()
        if not crash:
            self.Message._cron_dispatch()
            return
        original = crash.send

        def send_then_die(adapter, messages):
            results = original(adapter, messages)
            if any(True for _ in messages):
                raise Crash
            return results

        self.patch(crash, "send", send_then_die)
        try:
            self.Message._cron_dispatch()
        except Crash:
            self.crashes += 1
        finally:
            self.patch(crash, "send", original)

    # ------------------------------------------------------------------
    # The promises
    # ------------------------------------------------------------------

    def check_day(self, seed, day):
        violations = []
        Message = self.Message.sudo()
        sent = Message.search(
            [("rule_id", "in", self.rules.ids), ("state", "in", ("sent", "delivered"))]
        )
        # Never twice: every SMS on a handset is one send of ours, and one
        # send reaches one handset once.
        # SMSAPI knows our keys (idx); Twilio only its own ids.
        known = {
            self.smsapi: set(sent.mapped("key")) | set(sent.mapped("group_key")),
            self.twilio: set(sent.mapped("provider_ref")),
        }
        for fake, ours in known.items():
            seen = Counter(handset.key or handset.ref for handset in fake.handsets)
            unknown = [ref for ref in seen if ref not in ours]
            if unknown:
                violations.append(
                    f"{len(unknown)} SMS reached a phone that no row knows: {unknown}"
                )
            violations += [f"{ref} reached a phone twice" for ref, n in seen.items() if n > 1]
        keys = Counter(sent.mapped("key"))
        violations += [f"key sent twice: {key}" for key, count in keys.items() if count > 1]
        # Never at night, in the client's timezone.
        zones = {client.phone_sanitized: client.tz for client in self.clients}
        for fake in (self.smsapi, self.twilio):
            for handset in fake.handsets:
                local = pytz.utc.localize(handset.at).astimezone(
                    pytz.timezone(zones[handset.number])
                )
                if not WINDOW[0] <= local.hour < WINDOW[1]:
                    violations.append(f"SMS at {local} to {handset.number}")
        # Never after a STOP.
        for message in sent:
            stopped = self.opted_out.get(message.partner_id.id)
            if stopped and message.sent_at > stopped:
                violations.append(f"{message.key} sent after the client's STOP")
        # Nothing left sending; nothing overdue waiting (but while a provider is down).
        if Message.search_count([("state", "=", "sending")]):
            violations.append("messages left in 'sending'")
        overdue = Message.search(
            [
                ("state", "=", "queued"),
                ("scheduled_at", "<", self.now - timedelta(hours=1)),
                ("reason_code", "!=", "provider_down"),
            ]
        )
        if overdue:
            violations.append(f"{len(overdue)} queued messages overdue: {overdue.mapped('key')}")
        self.assertFalse(violations, f"seed {seed}, day {day}: " + "; ".join(violations[:10]))

    def check_never_lost(self, seed, last_day):
        """Every occurrence due on a day its record existed has its message,
        and it ended sent, or skipped, cancelled or failed with a reason."""
        Message = self.Message.sudo()
        problems = []
        for rule in self.rules:
            after = rule._notify_event_sources()[rule.event_type].after
            for (model, res_id), entered in self.created.items():
                if model != rule.res_model:
                    continue
                record = self.env[model].sudo().browse(res_id)
                if rule.event_type == "installment_overdue" and record.state == "paid":
                    continue  # a paid installment is not overdue
                event = record.date_end if model == "insurance.policy" else record.date_due
                for offset in rule._parsed_offsets():
                    shift = timedelta(days=offset)
                    due_day = event + shift if after else event - shift
                    if not self.local_day(entered) <= due_day <= last_day:
                        continue
                    item = QueueItem(model, res_id, None, offset=offset, event_date=event)
                    message = Message.search([("key", "=", rule._notify_key(item))])
                    if not message:
                        problems.append(
                            f"{rule.name} {model},{res_id} due {due_day}: never planned"
                        )
                    elif message.state == "queued" and due_day < last_day - timedelta(days=1):
                        problems.append(f"{message.key}: still queued")
                    elif message.state not in ("sent", "delivered", "queued") and not (
                        message.reason_code
                    ):
                        problems.append(f"{message.key}: {message.state} without a reason")
        self.assertFalse(problems, f"seed {seed}: " + "; ".join(problems[:10]))

    def local_day(self, moment):
        return pytz.utc.localize(moment).astimezone(pytz.timezone("Europe/Warsaw")).date()

    # ------------------------------------------------------------------

    # One test per seed, each in its own transaction.
    for _seed in SEEDS:
        locals()[f"test_three_weeks_hour_by_hour_seed_{_seed}"] = lambda self, seed=_seed: (
            self.live(seed)
        )
    del _seed

    def live(self, seed):
        rng = random.Random(seed)
        try:
            self.make_world(rng)
            first = self.TODAY
            outage_day = first + timedelta(days=rng.randint(3, DAYS - 4))
            # The morning run sends what the night planned: a crash there hurts.
            crash_hours = {
                (first + timedelta(days=day), 8): adapter
                for day, adapter in zip(
                    rng.sample(range(1, DAYS - 1), 6),
                    [SmsapiGateway, TwilioGateway] * 3,
                    strict=True,
                )
            }
            for day_index in range(DAYS):
                day = first + timedelta(days=day_index)
                for hour in range(24):
                    local = pytz.timezone("Europe/Warsaw").localize(
                        datetime.combine(day, time(hour, rng.randint(0, 59)))
                    )
                    self.set_now(local.astimezone(pytz.utc).replace(tzinfo=None))
                    down = day == outage_day and 7 <= hour < 10
                    self.smsapi.down = self.twilio.down = down
                    if 7 <= hour < 22:
                        self.office_hour(rng, day)
                    self.run_crons(crash=crash_hours.get((day, hour)))
                self.check_day(seed, day)
            self.check_never_lost(seed, first + timedelta(days=DAYS - 1))
            # The month was a real one: messages went out, workers died, the
            # outage held messages back.
            handsets = len(self.smsapi.handsets) + len(self.twilio.handsets)
            late = self.Message.sudo().search_count([("reason_code", "=", "late_outage")])
            self.assertGreater(handsets, 40, f"seed {seed}: only {handsets} SMS in the month")
            self.assertGreaterEqual(self.crashes, 3, f"seed {seed}: {self.crashes} crashes")
            self.assertGreater(late, 0, f"seed {seed}: the outage held nothing back")
        except AssertionError as error:
            raise AssertionError(f"[SIM seed {seed}] {error}") from None
