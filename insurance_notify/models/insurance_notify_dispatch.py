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
from datetime import timedelta, timezone

import pytz
from markupsafe import Markup
from psycopg2.errors import SerializationFailure

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL, mute_logger, plaintext2html

from notify_engine import compose, phone, schedule, sms
from notify_engine.gateways import OutgoingSms, base

from .insurance_notify_sender import ALWAYS

_logger = logging.getLogger(__name__)

# At most this many messages are 'sending' at once per worker: a crash leaves
# no more than one chunk for recovery.
CHUNK = 20
# A message 'sending' for longer was left by a crashed worker.
SENDING_TIMEOUT = timedelta(minutes=15)
# Refusals worth trying again (a busy number) are tried this many times.
MAX_ATTEMPTS = 5
# While a provider is down, its messages wait this long between tries.
OUTAGE_RETRY = timedelta(minutes=10)
PARAM_EMAIL_FROM = "insurance_notify.email_from"
PARAM_MAIL_SERVER = "insurance_notify.mail_server_id"


class InsuranceNotifyDispatch(models.AbstractModel):
    _name = "insurance.notify.dispatch"
    _description = "Notification Dispatcher"

    # ------------------------------------------------------------------
    # The cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_dispatch(self, batch_size=CHUNK):
        now = self._now()
        self._recover_sending(now)
        due = [("state", "=", "queued"), ("scheduled_at", "<=", now)]
        total = self.search_count(due)
        done = 0
        down = set()
        while chunk := self._lock_due_chunk(now, batch_size, down):
            down |= chunk._dispatch(now)
            done += len(chunk)
            self._commit_progress(done=done, remaining=max(total - done, 0))
        if down:
            self._wait_for_gateways(down, now)
            self._commit()
        return done

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
                                    "WHERE %s AND rule_id IS NOT NULL AND partner_id = ANY(%s) "
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
            [("state", "=", "sending"), ("sending_since", "<", now - SENDING_TIMEOUT)]
        )
        stale.write({"state": "queued", "scheduled_at": now, "lookup_needed": True})

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
                "scheduled_at": now + OUTAGE_RETRY,
                "reason_code": "provider_down",
                "reason_params": {"detail": "unavailable"},
            }
        )

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
        sending.write({"state": "sending", "sending_since": now})
        for group in groups:
            if len(group) > 1:
                group.write({"group_key": group[0].key})
        self._commit()
        # A bulk send's STOP may have been pressed meanwhile, in another
        # transaction: look again just before the provider is called.
        still = sending._cancel_stopped()
        groups = [group for group in groups if group & still]
        try:
            with self.env.cr.savepoint():
                down |= self._send_groups(groups, now)
        except Exception as error:  # noqa: BLE001 - nothing may stay 'sending'
            _logger.exception("Sending %s notifications failed unexpectedly", len(sending))
            sending.filtered(lambda m: m.state == "sending").write(
                {
                    "state": "queued",
                    "scheduled_at": now + OUTAGE_RETRY,
                    "lookup_needed": True,
                    "reason_code": "internal_error",
                    "reason_params": {"detail": type(error).__name__},
                }
            )
        self._commit()
        self.batch_id._check_finished()
        return down

    def _sender(self):
        """The rule, bulk send or task reminder that queued this message (or
        nothing: the test SMS)."""
        self.ensure_one()
        return self.rule_id or self.batch_id or self.task_reminder_id

    def _window(self):
        self.ensure_one()
        sender = self._sender()
        return sender._notify_window() if sender else ALWAYS

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
        for message in self:
            sender = message._sender()
            company = message.company_id
            reason = sender._notify_is_late(message, self._today(company)) if sender else None
            if reason:
                message.write({"state": "skipped", "reason_code": reason, "reason_params": False})
                dropped |= message
                continue
            limit = message.gateway_id.max_delay_hours if message.channel == "sms" else 0
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

    def _recheck_consent(self):
        """At send time a withdrawal wins: skip what may no longer go; return the rest."""
        listed = self.env["insurance.notify.sender"]._blacklisted(
            [number for number in self.mapped("number") if number],
            [email for email in self.mapped("email") if email],
        )
        refused = self.browse()
        for message in self:
            sender = message._sender()
            if not sender:
                continue
            address = message.number if message.channel == "sms" else message.email
            recipient = sender._own_address(
                message.partner_id,
                message.channel,
                address,
                listed,
                self._today(message.company_id),
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
                m.rule_id
                and m.channel == "sms"
                and (m.company_id.insurance_daily_cap or m.company_id.insurance_weekly_cap)
            )
        )
        if not capped:
            return self
        self.flush_model()
        sends = {}
        for partner_id, send_key, sent_at in self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT partner_id, COALESCE(group_key, key), sent_at
                  FROM insurance_notify_message
                 WHERE partner_id = ANY(%s) AND rule_id IS NOT NULL AND channel = 'sms'
                   AND state IN ('sent', 'delivered') AND sent_at >= %s
                """,
                capped.partner_id.ids,
                now - timedelta(days=8),
            )
        ):
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
            sender = message._sender()
            if sender._notify_is_late(message, free_day):
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
        """Cancel the messages of stopped bulk sends (re-read now); return the others."""
        batches = self.batch_id
        if not batches:
            return self
        batches.invalidate_recordset(["state", "stopped_by_id"])
        stopped = self.filtered(lambda message: message.batch_id.state == "stopped")
        for batch, messages in stopped.grouped("batch_id").items():
            messages.write(
                {
                    "state": "cancelled",
                    "reason_code": "stopped",
                    "reason_params": {"user": batch.stopped_by_id.name or ""},
                }
            )
        return self - stopped

    # ------------------------------------------------------------------
    # Rendering: in the recipient's language (the templates' ``lang``) and
    # timezone (the context's ``tz``)
    # ------------------------------------------------------------------

    def _render(self):
        """Render the texts; return the messages that can be sent, fail the others.

        A sender's template is rendered for the document; a bulk send without
        one gives its own text; a message without a sender (the test SMS)
        keeps the text it was queued with. E-mails are rendered by their
        mail.template when sent; their subject is kept as the body, for the history.
        """
        renderable = self.browse()
        by_template = self.grouped(
            lambda m: (m.channel, m._templates_for_channel(), m.timezone or "UTC")
        )
        for (channel, template, tz_name), messages in by_template.items():
            messages = messages.with_context(tz=tz_name)
            texts = {}
            free = messages.filtered(lambda m, template=template: not m._sender() or not template)
            for message in free:
                sender = message._sender()
                text = sender._notify_free_text() if sender else message.body
                if text:
                    texts[message] = text
                    continue
                message.write(
                    {
                        "state": "failed",
                        "reason_code": "no_sms_template"
                        if channel == "sms"
                        else "no_mail_template",
                        "reason_params": False,
                    }
                )
            texts.update((messages - free)._render_template(template, channel))
            for message, text in texts.items():
                if text is None:
                    continue
                if channel == "email":
                    message.body = text
                    renderable |= message
                    continue
                sender = message._sender()
                if message._analyze(text + (sender._notify_suffix() if sender else "")):
                    renderable |= message
        return renderable.with_env(self.env)

    def _templates_for_channel(self):
        self.ensure_one()
        sender = self._sender()
        if not sender:
            return self.env["sms.template"] if self.channel == "sms" else self.env["mail.template"]
        sms_template, mail_template = sender._notify_templates()
        return sms_template if self.channel == "sms" else mail_template

    def _render_template(self, template, channel):
        """message -> rendered text; None for a message whose text cannot be
        written (failed, with the reason): one broken record fails alone."""
        if not self:
            return {}
        field = "body" if channel == "sms" else "subject"
        # The recipient's timezone is in these messages' context: dates and
        # times in the text read in the recipient's wall-clock time.
        template = template.with_env(self.env)
        try:
            rendered = template._render_field(field, self.mapped("res_id"), compute_lang=True)
            return {message: rendered[message.res_id] or "" for message in self}
        except Exception as error:  # noqa: BLE001 - a broken template must not stop the run
            if len(self) > 1:
                texts = {}
                for message in self:
                    texts.update(message._render_template(template, channel))
                return texts
            _logger.warning("Template %s failed for message %s", template.id, self.id)
            self.write(
                {
                    "state": "failed",
                    "reason_code": "render_error",
                    "reason_params": {"detail": str(error)[:200]},
                }
            )
            return {self: None}

    def _sms_options(self):
        self.ensure_one()
        sender = self._sender()
        return sender._notify_sms_options() if sender else (False, 0)

    def _analyze(self, text):
        """Set the SMS body, parts and encoding; fail it when over the part
        limit. True when it can be sent."""
        self.ensure_one()
        transliterate, max_parts = self._sms_options()
        analysis = sms.analyze(text, transliterate=transliterate)
        vals = {
            "body": analysis.text,
            "sms_parts": analysis.parts,
            "sms_encoding": analysis.encoding,
        }
        too_long = max_parts and analysis.parts > max_parts
        if too_long:
            vals.update(
                state="failed",
                reason_code="too_long",
                reason_params={"parts": analysis.parts, "limit": max_parts},
            )
        self.write(vals)
        return not too_long

    # ------------------------------------------------------------------
    # One SMS a client a day
    # ------------------------------------------------------------------

    def _groups(self):
        """These messages as the sends they make: one client's automatic SMS
        reminders leaving now through one gateway become one SMS (the texts
        joined under one greeting) unless that breaks the part limit; every
        other message goes alone. A group formed before a crash stays as it was."""
        groups = []
        joinable = self.filtered(lambda m: m.channel == "sms" and m.rule_id)
        for message in self - joinable:
            groups.append(message)
        by_client = joinable.grouped(
            lambda m: (m.group_key or "", m.partner_id, m.number, m.gateway_id)
        )
        for (group_key, *_client), messages in by_client.items():
            if len(messages) == 1:
                groups.append(messages)
                continue
            # The same order every time: a group sent again after a crash
            # must say exactly what it said (a provider is asked by the text).
            messages = messages.sorted(lambda m: (m.event_date or m.due_at.date(), m.id))
            transliterate = any(m._sms_options()[0] for m in messages)
            limits = [m._sms_options()[1] for m in messages if m._sms_options()[1]]
            joined = sms.analyze(compose.join(messages.mapped("body")), transliterate=transliterate)
            if limits and joined.parts > min(limits) and not group_key:
                groups.extend(messages)
                continue
            messages.write(
                {
                    "body": joined.text,
                    "sms_parts": joined.parts,
                    "sms_encoding": joined.encoding,
                }
            )
            groups.append(messages)
        return groups

    # ------------------------------------------------------------------
    # Providers
    # ------------------------------------------------------------------

    def _outgoing(self, gateway):
        """The SMS a group (this recordset, lead first) sends."""
        lead = self[0]
        sender = lead._sender()
        return OutgoingSms(
            key=lead.group_key or lead.key,
            number=phone.for_gateway(lead.number, gateway.provider),
            body=lead.body,
            sender=(sender.sms_sender if sender else None) or gateway.sender or None,
        )

    @api.model
    def _adopt_earlier_attempts(self, groups, now):
        """Before sending again a message an earlier attempt may have delivered
        to a provider without idempotency keys, ask the provider: adopt what it
        has, send only what it has not. Return (groups to send, gateways down)."""
        down = set()
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
        """Send each group; return the ids of gateways found down."""
        down = set()
        emails = [group for group in groups if group[0].channel == "email"]
        for group in emails:
            group._send_email(now)
        for gateway, gateway_groups in self._by_gateway(
            [group for group in groups if group[0].channel == "sms"]
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
            results = adapter.send([group._outgoing(gateway) for group in gateway_groups])
            for group, result in zip(gateway_groups, results, strict=True):
                group._write_result(result, now)
                if result.outage:
                    down.add(gateway.id)
            gateway._note_availability(not any(r.outage for r in results), now)
        sent = self.browse().union(*groups).filtered(lambda m: m.state in ("sent", "delivered"))
        sent._log_on_documents()
        return down

    def _write_result(self, result, now):
        """Record a provider's answer on a group (this recordset, lead first)."""
        gateway = self[0].gateway_id
        if result.accepted:
            late = {"provider_down": "late_outage", "over_cap": "late_cap"}
            parts = result.parts or self[0].sms_parts
            for message in self:
                message.write(
                    {
                        # A delivery report may outrun the provider's answer.
                        "state": "delivered" if message.state == "delivered" else "sent",
                        "provider_ref": result.provider_ref or message.provider_ref,
                        "sms_parts": parts,
                        "sent_at": now,
                        "attempts": message.attempts + 1,
                        "lookup_needed": False,
                        "reason_code": late.get(message.reason_code, False),
                        "reason_params": False,
                        "error_class": False,
                        "is_sandbox": gateway.provider == "sandbox",
                        "currency_id": gateway.currency_id.id,
                        "cost": parts * gateway.cost_per_part if message == self[0] else 0.0,
                    }
                )
            return
        detail = result.error_text or result.error_class
        # A test SMS is sent once, now: someone waits for its answer.
        interactive = not self[0]._sender()
        if (result.outage or result.not_tried) and not interactive:
            # The provider is down or throttling: wait, without spending an
            # attempt. A request that may have reached a provider without
            # idempotency keys is looked up before it is sent again.
            self.write(
                {
                    "state": "queued",
                    "scheduled_at": now + OUTAGE_RETRY,
                    "lookup_needed": result.error_class == base.NETWORK and not result.not_tried,
                    "reason_code": "provider_down",
                    "reason_params": {"detail": result.error_class},
                    "error_class": result.error_class,
                }
            )
            return
        attempts = self[0].attempts + 1
        if result.retryable and attempts < MAX_ATTEMPTS and not interactive:
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

    # ------------------------------------------------------------------
    # E-mail
    # ------------------------------------------------------------------

    def _send_email(self, now):
        """Through the sender's mail.template and Odoo's outgoing mail servers."""
        for message in self.with_context(tz=self[:1].timezone or "UTC"):
            template = message._templates_for_channel()
            if template:
                mail_id = template.send_mail(message.res_id, email_values=message._email_values())
                mail = self.env["mail.mail"].sudo().browse(mail_id)
            else:
                mail = self.env["mail.mail"].sudo().create(message._free_mail_values())
            mail.send(raise_exception=False)
            failed = mail.exists() and mail.state == "exception"
            message.write(
                {
                    "state": "failed" if failed else "sent",
                    "reason_code": "mail_failed" if failed else False,
                    "reason_params": {"detail": mail.failure_reason or ""} if failed else False,
                    "sent_at": now,
                    "attempts": message.attempts + 1,
                }
            )

    def _free_mail_values(self):
        """A broadcast e-mail: the bulk send's subject, the free text, and an
        unsubscribe link (also in the List-Unsubscribe header)."""
        self.ensure_one()
        batch = self.batch_id
        unsubscribe_url = self.partner_id._insurance_unsubscribe_url(self.email)
        body = plaintext2html(self.body) + Markup(
            '<p style="font-size: 12px; color: #888888;"><a href="%s">%s</a></p>'
        ) % (unsubscribe_url, self.env._("Unsubscribe from these e-mails"))
        return {
            "subject": batch.subject or batch.name,
            "body_html": body,
            "email_to": self.email,
            "email_from": batch.email_from
            or self.env["ir.config_parameter"].sudo().get_param(PARAM_EMAIL_FROM)
            or self.company_id.email_formatted
            or False,
            "auto_delete": False,
            "headers": repr({"List-Unsubscribe": f"<{unsubscribe_url}>"}),
        }

    def _email_values(self):
        """What the template's own values give way to: the recipient, and the
        sender and outgoing server set in the settings (a template's sender is
        ignored then), plus the template's BCC addresses."""
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        values = {"email_to": self.email, "recipient_ids": [], "email_cc": ""}
        email_from = params.get_param(PARAM_EMAIL_FROM)
        if email_from:
            values["email_from"] = email_from
        mail_server_id = int(params.get_param(PARAM_MAIL_SERVER) or 0)
        if mail_server_id:
            values["mail_server_id"] = mail_server_id
        bcc = self._templates_for_channel().insurance_email_bcc
        if bcc:
            values["headers"] = repr({"Bcc": bcc})
        return values

    # ------------------------------------------------------------------
    # The chatter of the documents
    # ------------------------------------------------------------------

    def _log_on_documents(self):
        """One chatter line per message sent, on the policy (or the document)."""
        for res_model, messages in self.grouped("res_model").items():
            documents = self.env[res_model]
            if not hasattr(documents, "_message_log_batch"):
                continue
            bodies = {
                message.res_id: Markup("%s<br/>%s") % (message._log_title(), message.body)
                for message in messages
            }
            documents.browse(bodies)._message_log_batch(bodies)

    def _log_title(self):
        sender = self._sender()
        return self.env._(
            "%(channel)s reminder sent to %(recipient)s (%(rule)s)",
            channel=dict(self._fields["channel"]._description_selection(self.env))[self.channel],
            recipient=self.number or self.email or self.partner_id.display_name,
            rule=sender.display_name if sender else self.env._("test"),
        )
