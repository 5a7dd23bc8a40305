"""The dispatcher: the only code that calls a provider.

It takes due messages in small row-locked chunks (any number of workers on
any number of hosts share the queue), holds what is outside its window, drops
what has lost its point, re-checks consent, renders each text in the
recipient's language and timezone, joins a client's reminders of the day into
one SMS, commits the chunk as ``sending`` and only then calls the provider,
and commits the answers. Providers without idempotency keys (Twilio) are asked
about an earlier attempt before anything is sent again. An outage stops the
gateway's sending for the run without spending attempts.

It is an abstract model inherited by ``insurance.notify.message``: the queue's
fields live there, the sending here.
"""

import logging
import threading
import time
from datetime import timedelta, timezone

import pytz
from psycopg2.errors import SerializationFailure

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config, mute_logger

from odoo.addons.base.models.ir_cron import MAX_BATCH_PER_CRON_JOB

from ..lib.notify_engine import phone, schedule
from ..lib.notify_engine.gateways import OutgoingSms, base
from ..lib.notify_engine.gateways.whatsapp import NOT_CONNECTED

_logger = logging.getLogger(__name__)

# The dispatcher's limits, which an administrator may tune in System Parameters
# (ir.config_parameter): name -> (parameter, default, lowest, highest). A
# missing, unreadable or out-of-range value means the default (and a warning),
# so a typo neither stops the queue nor floods a provider.
LIMITS = {
    # At most this many messages are 'sending' at once per worker: a crash
    # leaves no more than one chunk for recovery. A chunk costs a constant
    # number of queries and commits and one SMSAPI request (smsapi.BATCH_SIZE):
    # the larger it is, the less each message pays for them (500 sends a
    # fifth more a second than 200 against a provider answering in 20 ms).
    "chunk_size": ("insurance_notify.dispatch_chunk_size", 500, 1, 1000),
    # A message 'sending' for longer (minutes) was left by a crashed worker.
    "sending_timeout": ("insurance_notify.sending_timeout_minutes", 15, 5, 1440),
    # Refusals worth trying again (a busy number) are tried this many times.
    "max_attempts": ("insurance_notify.max_attempts", 5, 1, 20),
    # While a provider is down, its messages wait this long (minutes) between tries.
    "outage_retry": ("insurance_notify.outage_retry_minutes", 10, 1, 1440),
}
# The time limit assumed when the server sets none (Odoo's default
# limit_time_real): a run still ends in time for the worker's other crons.
DEFAULT_CRON_LIMIT = 120
# Share of the cron time limit a whole pass of this cron may use. Odoo calls a
# cron that reported remaining work up to MAX_BATCH_PER_CRON_JOB times in a row
# before the worker's watchdog hears from it again, other crons of the
# database run in the same pass, and a chunk started before the budget ran out
# is finished: half the limit, split over those calls, leaves room for all that.
CRON_LIMIT_SHARE = 0.5
# A gateway paced to some messages a second (a Twilio long code sends one)
# would hold a large chunk 'sending' for minutes, past the cron time limit: by
# default a chunk holds no more than such a gateway sends in this many seconds
# (twenty messages at one a second, the chunk of earlier versions).
PACED_CHUNK_SECONDS = 20


class InsuranceNotifyDispatch(models.AbstractModel):
    _name = "insurance.notify.dispatch"
    _description = "Notification Dispatcher"

    # ------------------------------------------------------------------
    # The cron
    # ------------------------------------------------------------------

    @api.model
    def _dispatch_limit(self, name):
        """One of the dispatcher's LIMITS, from its system parameter."""
        param, default, lowest, highest = LIMITS[name]
        raw = self.env["ir.config_parameter"].sudo().get_param(param)
        if raw in (None, False, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not lowest <= value <= highest:
            _logger.warning(
                "System parameter %s=%r is not a whole number from %s to %s: %s is used",
                param, raw, lowest, highest, default,
            )  # fmt: skip
            return default
        return value

    @api.model
    def _cron_dispatch(self, batch_size=None):
        """Send what is due, chunk by chunk, each committed, for as long as
        the time budget lasts (``_dispatch_budget``). Then report the work
        left through ``ir.cron._notify_progress``: Odoo calls the cron again
        at once, in this worker or another, instead of killing a worker that
        ran past ``limit_time_real_cron`` in the middle of a chunk."""
        deadline = self._dispatch_clock() + self._dispatch_budget()
        limited = self._dispatch_budget_applies()
        now = self._now()
        batch_size = batch_size or min(
            self._dispatch_limit("chunk_size"), self._paced_chunk_limit()
        )
        self._recover_sending(now)
        due = [("state", "=", "queued"), ("scheduled_at", "<=", now)]
        total = self.search_count(due)
        done = 0
        down = set()
        out_of_time = False
        while True:
            if limited and done and self._dispatch_clock() >= deadline:
                out_of_time = True
                break
            # The clock of each chunk is read when it is locked: its
            # 'sending_since' tells other workers how long it has been out.
            now = self._now()
            chunk = self._lock_due_chunk(now, batch_size, down)
            if not chunk:
                break
            down |= chunk._dispatch(now)
            done += len(chunk)
            self._commit_progress(done=done, remaining=max(total - done, 0))
        if down:
            self._wait_for_gateways(down, now)
        remaining = 0
        if out_of_time:
            remaining = self.search_count([("state", "=", "queued"), ("scheduled_at", "<=", now)])
        self._commit_progress(done=done, remaining=remaining)
        if remaining and not self.env.context.get("cron_id"):
            # Run by hand (or by code), not by the cron runner, which calls
            # again by itself: the rest leaves in the background.
            self._trigger_dispatch()
        return done

    @api.model
    def _paced_chunk_limit(self):
        """The largest chunk the slowest paced gateway sends in
        PACED_CHUNK_SECONDS (no limit without paced gateways)."""
        self.env["insurance.notify.gateway"].flush_model(["rate_per_second", "active"])
        rows = self.env.execute_query(
            SQL(
                "SELECT min(rate_per_second) FROM insurance_notify_gateway "
                "WHERE active AND rate_per_second > 0"
            )
        )
        rate = rows[0][0]
        if not rate:
            return LIMITS["chunk_size"][3]
        return max(1, int(rate * PACED_CHUNK_SECONDS))

    @api.model
    def _dispatch_budget(self):
        """Seconds one call of the dispatcher may start new chunks for: a
        share of the cron time limit (``limit_time_real_cron``, else
        ``limit_time_real``, as Odoo reads them), over the calls Odoo makes
        in one pass."""
        limit = config.get("limit_time_real_cron")
        if limit is None or limit < 0:
            limit = config.get("limit_time_real")
        if not limit or limit <= 0:
            limit = DEFAULT_CRON_LIMIT
        # No floor: a call always sends at least one chunk, whatever the budget.
        return limit * CRON_LIMIT_SHARE / MAX_BATCH_PER_CRON_JOB

    @api.model
    def _dispatch_budget_applies(self):
        """Tests run in one transaction and must not stop halfway because
        the machine is slow: the budget is tested on its own."""
        return not getattr(threading.current_thread(), "testing", False)

    @api.model
    def _dispatch_clock(self):
        """Seconds of a monotonic clock (tests make a slow provider with it)."""
        return time.monotonic()

    @api.model
    def _lock_due_chunk(self, now, limit, down):
        """Lock the next due messages no other worker holds, with the same
        clients' other due messages (they may leave as one SMS)."""
        self.flush_model()
        not_down = SQL("TRUE")
        if down:
            not_down = SQL("NOT (channel = 'sms' AND gateway_id = ANY(%s))", list(down))
        due = SQL("state = 'queued' AND scheduled_at <= %s AND %s", now, not_down)
        first = SQL(
            "SELECT id, partner_id FROM insurance_notify_message WHERE %s "
            "ORDER BY scheduled_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
            due,
            limit,
        )
        for _attempt in range(3):
            try:
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                    rows = self.env.execute_query(first)
                    partners = list({partner for _id, partner in rows if partner})
                    ids = {row[0] for row in rows}
                    if partners:
                        ids |= {
                            row[0]
                            for row in self.env.execute_query(
                                SQL(
                                    "SELECT id FROM insurance_notify_message "
                                    "WHERE %s AND is_reminder AND partner_id = ANY(%s) "
                                    "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                                    due,
                                    partners,
                                    limit * 5,
                                )
                            )
                        }
                return self.browse(sorted(ids))
            except SerializationFailure:
                # Another worker committed some of these rows after this
                # transaction's snapshot was taken: look again in a fresh one.
                self._commit()
        return self.browse()

    @api.model
    def _recover_sending(self, now):
        """Messages left 'sending' by a crashed run go again under the same key:
        a provider with idempotency keys refuses a key it has sent; one without
        is asked first (``lookup_needed``)."""
        stale = self.search(
            [
                ("state", "=", "sending"),
                (
                    "sending_since",
                    "<",
                    now - timedelta(minutes=self._dispatch_limit("sending_timeout")),
                ),
            ]
        )
        handed = stale.filtered(lambda m: m.channel == "email" and m.mail_mail_id)
        handed._settle_interrupted_emails(now)
        whatsapp = stale.filtered(lambda m: m.channel == "whatsapp")
        (stale - handed - whatsapp).write(
            {"state": "queued", "scheduled_at": now, "lookup_needed": True}
        )
        whatsapp._give_up_unconfirmed(now)

    def _settle_interrupted_emails(self, now):
        """E-mails a crashed run had handed to SMTP (their mail.mail was
        committed first, see ``_send_email``): SMTP may have delivered them and
        has no key to ask it with, so they are never sent again by themselves.
        One whose mail is recorded as sent is sent; the others fail, visibly,
        for a person to retry."""
        for message in self:
            mail = message.mail_mail_id
            if mail.state == "sent":
                message.write({"state": "sent", "sent_at": now, "reason_code": False})
                continue
            message.write(
                {
                    "state": "failed",
                    "attempts": message.attempts + 1,
                    "reason_code": "mail_interrupted",
                    "reason_params": False,
                }
            )

    def _give_up_unconfirmed(self, now):
        """WhatsApp messages an attempt may have sent: Meta has no idempotency
        key and lists no sent messages, so they are never sent again. They wait
        'sending' for the status webhook (it names them by key and moves them
        on); past the gateway's give-up time without one they fail, with the reason."""
        for message in self:
            hours = message.gateway_id.max_delay_hours or 24
            if message.sending_since and now - message.sending_since > timedelta(hours=hours):
                message.write(
                    {
                        "state": "failed",
                        "lookup_needed": False,
                        "reason_code": "whatsapp_unconfirmed",
                        "reason_params": {"hours": hours},
                    }
                )

    @api.model
    def _wait_for_gateways(self, gateway_ids, now):
        """A provider is down: its due messages wait, their attempts unspent."""
        waiting = self.search(
            [
                ("state", "=", "queued"),
                ("channel", "=", "sms"),
                ("gateway_id", "in", list(gateway_ids)),
                ("scheduled_at", "<=", now),
            ]
        )
        waiting.write(
            {
                "scheduled_at": now + self._outage_retry(),
                "reason_code": "provider_down",
                "reason_params": {"detail": "unavailable"},
            }
        )

    @api.model
    def _outage_retry(self):
        return timedelta(minutes=self._dispatch_limit("outage_retry"))

    # ------------------------------------------------------------------
    # One chunk
    # ------------------------------------------------------------------

    def _dispatch(self, now):
        """Send these queued messages; return the ids of gateways found down."""
        ready = self._hold_outside_window(now)._drop_pointless(now)._recheck_consent()
        ready = ready._hold_over_cap(now)
        ready = ready._cancel_stopped()._render()
        groups = ready._groups()
        groups, down = self._adopt_earlier_attempts(groups, now)
        sending = self.browse().union(*groups) if groups else self.browse()
        # An e-mail's link to its mail.mail says "handed to SMTP in this
        # attempt" (see _send_email): a retried e-mail starts without one.
        sending.write({"state": "sending", "sending_since": now, "mail_mail_id": False})
        for group in groups:
            if len(group) > 1:
                group.write({"group_key": group[0].key})
        self._commit()
        # A bulk send's STOP may have been pressed meanwhile, in another
        # transaction: look again just before the provider is called.
        still = sending._cancel_stopped()
        groups = [group for group in groups if group & still]
        emails = [group for group in groups if group[0].channel == "email"]
        texts = [group for group in groups if group[0].channel != "email"]
        try:
            with self.env.cr.savepoint():
                down |= self._send_groups(texts, now)
        except Exception as error:  # noqa: BLE001 - nothing may stay 'sending'
            _logger.exception("Sending %s notifications failed unexpectedly", len(sending))
            sending.filtered(lambda m: m.state == "sending" and m.channel != "email").write(
                {
                    "state": "queued",
                    "scheduled_at": now + self._outage_retry(),
                    "lookup_needed": True,
                    "reason_code": "internal_error",
                    "reason_params": {"detail": type(error).__name__},
                }
            )
        self._commit()
        if emails:
            # Outside any savepoint: each e-mail commits before and after SMTP.
            self._send_emails(emails, now)
        for sender in self.grouped("sender_ref"):
            sender._notify_dispatched()
        return down

    def _window(self):
        self.ensure_one()
        return self.sender_ref._notify_window()

    def _hold_outside_window(self, now):
        """Reschedule the messages whose window is closed now; return the others."""
        held = self.browse()
        for message in self:
            window = message._window()
            if not schedule.in_window(now, message.timezone or "UTC", *window):
                message.scheduled_at = schedule.next_window_start(
                    now, message.timezone or "UTC", *window
                )
                held |= message
        return self - held

    def _drop_pointless(self, now):
        """Messages that lost their point (their event passed while they
        waited, or a provider outage kept them past the gateway's limit)
        end here with the reason; return the others."""
        dropped = self.browse()
        today = self._today_by_company()
        for message in self:
            reason = message.sender_ref._notify_is_late(message, today[message.company_id])
            if reason:
                message.write({"state": "skipped", "reason_code": reason, "reason_params": False})
                dropped |= message
                continue
            limit = (
                message.gateway_id.max_delay_hours if message.channel in ("sms", "whatsapp") else 0
            )
            if limit and message.due_at and now - message.due_at > timedelta(hours=limit):
                message.write(
                    {
                        "state": "failed",
                        "reason_code": "expired",
                        "reason_params": {"hours": limit},
                    }
                )
                dropped |= message
        return self - dropped

    def _today_by_company(self):
        """company -> its local date, read once per chunk, not per message."""
        return {company: self._today(company) for company in self.company_id}

    def _recheck_consent(self):
        """At send time a withdrawal wins: skip what may no longer go; return the rest."""
        listed = self.env["insurance.notify.sender"]._blacklisted(
            [number for number in self.mapped("number") if number],
            [email for email in self.mapped("email") if email],
        )
        refused = self.browse()
        today = self._today_by_company()
        for message in self:
            address = message.number if message.channel in ("sms", "whatsapp") else message.email
            recipient = message.sender_ref._own_address(
                # The sending company's consents, not the cron user's company's.
                message.partner_id.with_company(message.company_id),
                message.channel,
                address,
                listed,
                today[message.company_id],
            )
            if recipient.reason:
                message.write(
                    {"state": "skipped", "reason_code": recipient.reason, "reason_params": False}
                )
                refused |= message
        return self - refused

    def _hold_over_cap(self, now):
        """A client gets at most the company's number of automatic SMS a day
        (and a week); those leaving together count as one. Over it, a reminder
        waits for the next free day, unless that day is after its event.
        Return the messages that may go now."""
        capped = self.filtered(
            lambda m: (
                m.is_reminder
                and m.channel in ("sms", "whatsapp")
                and (m.company_id.insurance_daily_cap or m.company_id.insurance_weekly_cap)
            )
        )
        if not capped:
            return self
        self.flush_model()
        sends = {}
        # Through the clients' index, whatever the statistics say: the state
        # is tested here, not in SQL, where the state index looked selective
        # on a young queue and every chunk read all that was sent before it
        # (0.17 s a chunk after 4,000 sent).
        for partner_id, send_key, sent_at, state in self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT partner_id, COALESCE(group_key, key), sent_at, state
                  FROM insurance_notify_message
                 WHERE partner_id = ANY(%s) AND is_reminder AND channel IN ('sms', 'whatsapp')
                   AND sent_at >= %s
                """,
                capped.partner_id.ids,
                now - timedelta(days=8),
            )
        ):
            if state in ("sent", "delivered"):
                sends.setdefault(partner_id, {})[send_key] = sent_at
        held = self.browse()
        for message in capped:
            zone = pytz.timezone(message.timezone or "UTC")
            today = pytz.utc.localize(now).astimezone(zone).date()
            days = [
                pytz.utc.localize(sent_at).astimezone(zone).date()
                for sent_at in sends.get(message.partner_id.id, {}).values()
            ]
            company = message.company_id
            free_day = None
            daily, weekly = company.insurance_daily_cap, company.insurance_weekly_cap
            if daily and sum(day == today for day in days) >= daily:
                free_day = today + timedelta(days=1)
            week_start = today - timedelta(days=today.weekday())
            if weekly and sum(day >= week_start for day in days) >= weekly:
                free_day = week_start + timedelta(days=7)
            if not free_day:
                continue
            if message.sender_ref._notify_is_late(message, free_day):
                continue  # waiting would lose it: it goes over the limit
            start = self._local_day_start(free_day, message.timezone or "UTC")
            message.write(
                {
                    "scheduled_at": schedule.next_window_start(
                        start, message.timezone or "UTC", *message._window()
                    ),
                    "reason_code": "over_cap",
                    "reason_params": False,
                }
            )
            held |= message
        return self - held

    def _cancel_stopped(self):
        """Cancel the messages of senders stopped meanwhile (a bulk send's STOP
        button, re-read now); return the others."""
        stopped = self.browse()
        for sender, messages in self.grouped("sender_ref").items():
            stop = sender._notify_stopped()
            if stop:
                messages._set_state("cancelled", *stop)
                stopped |= messages
        return self - stopped

    # ------------------------------------------------------------------
    # Providers
    # ------------------------------------------------------------------

    def _outgoing(self, gateway):
        """The SMS a group (this recordset, lead first) sends."""
        lead = self[0]
        if lead.channel == "whatsapp":
            return lead._outgoing_whatsapp()
        return OutgoingSms(
            key=lead.group_key or lead.key,
            number=phone.for_gateway(lead.number, gateway.provider),
            body=lead.body,
            sender=lead.sender_ref.sms_sender or gateway.sender or None,
        )

    def _outgoing_whatsapp(self):
        """A WhatsApp template message: its approved name and language and the
        numbered parameters rendered for the document in the client's timezone."""
        self.ensure_one()
        template = self._templates_for_channel()
        params = ()
        if template:
            template = template.with_context(tz=self.timezone or "UTC", lang=self.partner_id.lang)
            params = template._render_parameters([self.res_id])[self.res_id]
        return OutgoingSms(
            key=self.key,
            number=self.number,
            body=self.body,
            template=template.template_name or None,
            language=template.language_code or None,
            params=params,
        )

    @api.model
    def _adopt_earlier_attempts(self, groups, now):
        """Before sending again a message an earlier attempt may have delivered
        to a provider without idempotency keys, ask the provider: adopt what it
        has, send only what it has not. Return (groups to send, gateways down)."""
        down = set()
        waiting = [
            g for g in groups if g[0].channel == "whatsapp" and any(g.mapped("lookup_needed"))
        ]
        for group in waiting:
            # Never resent blindly: it waits for Meta's status webhook.
            group.write({"state": "sending", "sending_since": group[0].sending_since or now})
        groups = [g for g in groups if not any(g is w for w in waiting)]
        asked = [
            group
            for group in groups
            if group[0].channel == "sms"
            and any(group.mapped("lookup_needed"))
            and group[0].gateway_id
            and not group[0].gateway_id._is_idempotent()
        ]
        if not asked:
            return groups, down
        answered = set()
        for gateway, gateway_groups in self._by_gateway(asked).items():
            try:
                adapter = gateway._make_adapter()
            except UserError:
                continue  # the send fails them with the reason
            since = min(g[0].sending_since or now for g in gateway_groups)
            since = since.replace(tzinfo=timezone.utc)  # noqa: UP017 - Odoo's naive UTC
            # The adapter's connections live as long as this chunk's lookups.
            with adapter:
                results = adapter.find_sent([g._outgoing(gateway) for g in gateway_groups], since)
            for group, result in zip(gateway_groups, results, strict=True):
                if result is None:
                    continue
                answered.add(id(group))
                if result.accepted:
                    group._write_result(result, now)
                else:
                    down.add(gateway.id)
        return [group for group in groups if id(group) not in answered], down

    @api.model
    def _by_gateway(self, groups):
        by_gateway = {}
        for group in groups:
            by_gateway.setdefault(group[0].gateway_id, []).append(group)
        return by_gateway

    @api.model
    def _send_groups(self, groups, now):
        """Send each group of SMS; return the ids of gateways found down."""
        down = set()
        for gateway, gateway_groups in self._by_gateway(
            [group for group in groups if group[0].channel in ("sms", "whatsapp")]
        ).items():
            messages = self.browse().union(*gateway_groups)
            if not gateway:
                messages.write({"state": "failed", "reason_code": "no_gateway"})
                continue
            try:
                adapter = gateway._make_adapter()
            except UserError as error:
                _logger.warning("SMS gateway %s is not set up: %s", gateway.id, error.args[0])
                messages.write(
                    {
                        "state": "failed",
                        "reason_code": "gateway_misconfigured",
                        "reason_params": {"detail": error.args[0]},
                    }
                )
                continue
            # The adapter's connections live as long as this chunk's sends.
            with adapter:
                results = adapter.send([group._outgoing(gateway) for group in gateway_groups])
            answers = list(zip(gateway_groups, results, strict=True))
            self._write_accepted([(g, r) for g, r in answers if r.accepted], now)
            for group, result in answers:
                if not result.accepted:
                    group._write_result(result, now)
                if result.outage:
                    down.add(gateway.id)
            gateway._note_availability(not any(r.outage for r in results), now)
        sent = self.browse().union(*groups).filtered(lambda m: m.state in ("sent", "delivered"))
        sent._log_on_documents()
        return down

    @api.model
    def _send_emails(self, groups, now):
        """Send e-mail groups, each e-mail at most once (``_send_email``)."""
        messages = self.browse().union(*groups)
        messages._send_email(now)
        messages.filtered(lambda m: m.state == "sent")._log_on_documents()
        self._commit()

    @api.model
    def _write_accepted(self, answers, now):
        """Record accepted answers, [(group, result)]: one write per set of
        equal values (a chunk's messages mostly share them all) and one
        UPDATE for the provider ids, which differ: a write per message
        would cost more than the rest of the message's work."""
        late = {"provider_down": "late_outage", "over_cap": "late_cap"}
        alike = {}
        refs = {}
        for group, result in answers:
            gateway = group[0].gateway_id
            parts = result.parts or group[0].sms_parts
            # A group is billed once (its lead): per SMS part, or a WhatsApp
            # template message at its category's price.
            cost = gateway._message_cost(
                group[0].channel,
                parts,
                group[0]._templates_for_channel() if group[0].channel == "whatsapp" else None,
            )
            for message in group:
                vals = (
                    # A delivery report may outrun the provider's answer.
                    ("state", "delivered" if message.state == "delivered" else "sent"),
                    ("sms_parts", parts),
                    ("attempts", message.attempts + 1),
                    ("reason_code", late.get(message.reason_code, False)),
                    ("is_sandbox", gateway.provider == "sandbox"),
                    ("currency_id", gateway.currency_id.id),
                    ("cost", cost if message == group[0] else 0.0),
                )
                alike.setdefault(vals, []).append(message.id)
                ref = result.provider_ref or message.provider_ref
                if ref != message.provider_ref:
                    refs[message.id] = ref
        for vals, ids in alike.items():
            self.browse(ids).write(
                dict(vals, sent_at=now, lookup_needed=False, reason_params=False, error_class=False)
            )
        self._write_column("provider_ref", refs)

    @api.model
    def _write_column(self, fname, values):
        """Set a plain column (text or number, no translation, no
        constraint) of many messages, {id: value}, as write() would leave
        it: in the cache, to be flushed. What differs per message (its
        text, the provider's id) would otherwise cost one write() each; left
        for the flush, it goes in the same UPDATE as the chunk's other
        changes of those messages (each UPDATE of a message writes a new row
        and all its index entries again)."""
        if not values:
            return
        field = self._fields[fname]
        assert field.store and field.type in ("char", "text", "integer", "float")
        assert not field.translate and not field.company_dependent
        messages = self.browse(list(values))
        self.env.cache.update(
            messages,
            field,
            [field.convert_to_cache(values[id_], self) for id_ in messages._ids],
            dirty=True,
        )
        messages.modified([fname])

    def _write_result(self, result, now):
        """Record a provider's answer on a group (this recordset, lead first)."""
        if result.accepted:
            self._write_accepted([(self, result)], now)
            return
        detail = result.error_text or result.error_class
        if (
            self[0].channel == "whatsapp"
            and result.error_class == base.NETWORK
            and result.error_code != NOT_CONNECTED
        ):
            # The request may have reached Meta: it stays 'sending' until the
            # status webhook tells (or the give-up time passes), never resent.
            self.write({"lookup_needed": True, "error_class": result.error_class})
            return
        # A direct message (a test SMS) is sent once, now: someone waits for its answer.
        interactive = self[0].sender_ref._notify_is_interactive()
        if (result.outage or result.not_tried) and not interactive:
            # The provider is down or throttling: wait, without spending an
            # attempt. A request that may have reached a provider without
            # idempotency keys is looked up before it is sent again.
            self.write(
                {
                    "state": "queued",
                    "scheduled_at": now + self._outage_retry(),
                    "lookup_needed": result.error_class == base.NETWORK
                    and not result.not_tried
                    and result.error_code != NOT_CONNECTED,
                    "reason_code": "provider_down",
                    "reason_params": {"detail": result.error_class},
                    "error_class": result.error_class,
                }
            )
            return
        attempts = self[0].attempts + 1
        if result.retryable and attempts < self._dispatch_limit("max_attempts") and not interactive:
            self.write(
                {
                    "state": "queued",
                    "attempts": attempts,
                    "reason_code": "number_busy",
                    "reason_params": False,
                    "error_class": result.error_class,
                    "scheduled_at": now + timedelta(minutes=5 * 2**attempts),
                }
            )
            return
        opted_out = result.error_class == base.OPTED_OUT
        self.write(
            {
                "state": "failed",
                "attempts": attempts,
                "reason_code": "opted_out" if opted_out else "refused",
                "reason_params": False if opted_out else {"detail": detail},
                "error_class": result.error_class,
            }
        )
        _logger.info(
            "SMS %s not accepted: %s (%s)", self[0].key, result.error_class, result.error_code
        )
