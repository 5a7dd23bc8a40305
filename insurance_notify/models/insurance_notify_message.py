import logging
import threading
from collections import namedtuple
from datetime import timedelta

from markupsafe import Markup
from psycopg2.errors import SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_datetime, mute_logger, plaintext2html, split_every

from notify_engine import consent, phone, schedule, sms
from notify_engine.gateways import OutgoingSms

_logger = logging.getLogger(__name__)

Recipient = namedtuple("Recipient", "channel number email timezone reason")

SENDING_TIMEOUT = timedelta(minutes=15)
DEFAULT_WINDOW = (8.0, 20.0, None)
MAX_ATTEMPTS = 5
# A cron sending a bulk run looks for its STOP button every this many messages.
STOP_CHECK_EVERY = 10
PARAM_EMAIL_FROM = "insurance_notify.email_from"
PARAM_MAIL_SERVER = "insurance_notify.mail_server_id"


class InsuranceNotifyMessage(models.Model):
    _name = "insurance.notify.message"
    _description = "Notification"
    _order = "scheduled_at desc, id desc"
    _rec_name = "key"

    key = fields.Char(
        required=True,
        readonly=True,
        index=True,
        copy=False,
        help="Rule, record, offset, channel and event date: a message is never created "
        "twice, and the gateway refuses a key it has already sent.",
    )
    rule_id = fields.Many2one(
        "insurance.notify.rule", index=True, readonly=True, ondelete="restrict"
    )
    sms_template_id = fields.Many2one(
        "sms.template", readonly=True, help="For messages no rule planned; else the rule's."
    )
    mail_template_id = fields.Many2one(
        "mail.template", readonly=True, help="For messages no rule planned; else the rule's."
    )
    batch_id = fields.Many2one(
        "insurance.notify.batch",
        string="Bulk Send",
        index="btree_not_null",
        readonly=True,
        ondelete="restrict",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    res_model = fields.Char(string="Document Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", required=True, readonly=True
    )
    policy_id = fields.Many2one("insurance.policy", index=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Recipient", index=True, readonly=True)
    channel = fields.Selection([("sms", "SMS"), ("email", "E-mail")], required=True, readonly=True)
    email = fields.Char(readonly=True)
    offset = fields.Integer(string="Days Before", readonly=True)
    event_date = fields.Date(readonly=True)
    scheduled_at = fields.Datetime(string="Scheduled", index=True, readonly=True)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sending", "Sending"),
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("failed", "Failed"),
            ("skipped", "Skipped"),
            ("cancelled", "Cancelled"),
        ],
        default="queued",
        required=True,
        index=True,
        readonly=True,
    )
    reason = fields.Char(readonly=True)
    error_class = fields.Char(
        string="Gateway Error",
        readonly=True,
        help="The provider-independent class of the gateway's refusal "
        "(authorization, credits, invalid_number…).",
    )
    body = fields.Text(readonly=True)
    number = fields.Char(readonly=True)
    timezone = fields.Char(readonly=True)
    sms_parts = fields.Integer(string="SMS Parts", readonly=True)
    sms_encoding = fields.Char(string="Encoding", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    cost = fields.Monetary(
        readonly=True, help="Parts sent times the gateway's cost per part (an estimate)."
    )
    gateway_id = fields.Many2one("insurance.notify.gateway", readonly=True)
    provider_ref = fields.Char(string="Provider ID", index=True, readonly=True)
    attempts = fields.Integer(readonly=True)
    sending_since = fields.Datetime(readonly=True)
    sent_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("key_unique", "UNIQUE (key)", "This notification has already been planned."),
    ]

    # ------------------------------------------------------------------
    # The clock: crons read the time here, so tests can freeze it.
    # ------------------------------------------------------------------

    @api.model
    def _now(self):
        return fields.Datetime.now()

    @api.model
    def _today(self):
        return self._now().date()

    @api.model
    def _commit(self):
        """Crons commit their progress; tests run in one transaction."""
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _commit_progress(self, done, remaining):
        """Commit a cron's finished batch and report it."""
        self._commit()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------

    @api.model
    def _make_key(self, rule, res_model, res_id, offset, event_date):
        return f"{rule.id}-{res_model}-{res_id}-{offset}-{rule.channel}-{event_date}"

    @api.model
    def _create_planned(self, rule, occurrences):
        """Create the messages of a rule's occurrences, skipping keys that exist."""
        res_model = rule.res_model
        keyed = {
            self._make_key(rule, res_model, occ.res_id, occ.offset, occ.event_date): occ
            for occ in occurrences
        }
        if not keyed:
            return self
        existing = {
            key
            for (key,) in self.env.execute_query(
                SQL("SELECT key FROM insurance_notify_message WHERE key = ANY(%s)", list(keyed))
            )
        }
        partners = self.env["res.partner"].browse({occ.partner_id for occ in keyed.values()})
        recipients = self._recipients(partners, rule)
        now = self._now()
        gateway = rule.gateway_id or self.env["insurance.notify.gateway"]._default_for_company(
            rule.company_id
        )
        window = rule._window()
        # Every recipient in one timezone gets the same slot: compute it once.
        slots = {}
        vals_list = []
        for key, occ in keyed.items():
            if key in existing:
                continue
            recipient = recipients[occ.partner_id]
            vals = {
                "key": key,
                "rule_id": rule.id,
                "company_id": rule.company_id.id,
                "res_model": res_model,
                "res_id": occ.res_id,
                "policy_id": occ.policy_id,
                "partner_id": occ.partner_id,
                "channel": recipient.channel,
                "offset": occ.offset,
                "event_date": occ.event_date,
                "number": recipient.number,
                "email": recipient.email,
                "timezone": recipient.timezone,
                "gateway_id": gateway.id if recipient.channel == "sms" else False,
                "state": "queued",
            }
            skip_reason = rule._skip_reason(occ) or recipient.reason
            if skip_reason:
                vals.update(state="skipped", reason=skip_reason, scheduled_at=now)
            else:
                if recipient.timezone not in slots:
                    slots[recipient.timezone] = schedule.next_window_start(
                        now, recipient.timezone, *window
                    )
                vals["scheduled_at"] = slots[recipient.timezone]
            vals_list.append(vals)
        return self._insert_planned(vals_list)

    # Columns a planned message is created with; the others start empty.
    PLANNED_COLUMNS = (
        "key", "rule_id", "company_id", "res_model", "res_id", "policy_id", "partner_id",
        "channel", "offset", "event_date", "number", "email", "timezone", "gateway_id",
        "state", "reason", "scheduled_at",
    )  # fmt: skip

    @api.model
    def _insert_planned(self, vals_list):
        """Insert planned messages in one statement.

        A day's planning creates thousands of rows whose values are all known;
        the ORM's create spends most of the planner's time on defaults and
        caches these rows do not need. The model has no computed stored field
        nor default beyond ``state``, which every row sets.
        """
        if not vals_list:
            return self
        unknown = {column for vals in vals_list for column in vals} - set(self.PLANNED_COLUMNS)
        if unknown:
            raise ValueError(f"not a planned message column: {sorted(unknown)}")
        self.env.flush_all()
        uid, now = self.env.uid, self.env.cr.now()
        columns = SQL(", ").join(
            SQL.identifier(column)
            for column in (
                *self.PLANNED_COLUMNS,
                "create_uid",
                "create_date",
                "write_uid",
                "write_date",
            )
        )
        ids = []
        for chunk in split_every(1000, vals_list):
            # A plain INSERT ... VALUES casts each value to its column's type.
            values = SQL(", ").join(
                SQL(
                    "(%s, %s, %s, %s, %s)",
                    SQL(", ").join(
                        SQL("%s", vals.get(column) or None) for column in self.PLANNED_COLUMNS
                    ),
                    uid,
                    now,
                    uid,
                    now,
                )
                for vals in chunk
            )
            query = SQL(
                "INSERT INTO insurance_notify_message (%s) VALUES %s RETURNING id", columns, values
            )
            ids += [row[0] for row in self.env.execute_query(query)]
        # One2many fields (a policy's reminders, a rule's messages) must see them.
        self.env.invalidate_all()
        return self.browse(ids)

    @api.model
    def _recipients(self, partners, rule):
        """partner id -> Recipient: the channel this rule reaches them on, the
        address, their timezone, and the reason not to send (or None).

        ``rule`` is an automatic rule or a bulk send: anything with
        ``company_id``, ``channel``, ``timezone`` and ``_consent_requirements()``."""
        company_tz = rule.company_id.partner_id.tz
        numbers = [number for number in partners.mapped("phone_sanitized") if number]
        emails = [email for email in partners.mapped("email_normalized") if email]
        # Both blacklists hold normalized values: compare in SQL, not through their
        # search, which re-formats every number.
        blacklisted_numbers = {
            number
            for (number,) in self.env.execute_query(
                SQL(
                    "SELECT number FROM phone_blacklist WHERE active AND number = ANY(%s)",
                    numbers,
                )
            )
        }
        blacklisted_emails = {
            email
            for (email,) in self.env.execute_query(
                SQL("SELECT email FROM mail_blacklist WHERE active AND email = ANY(%s)", emails)
            )
        }
        channels = ["sms", "email"] if rule.channel == "sms_email" else [rule.channel]
        today = self._today()
        return {
            partner.id: self._recipient(
                partner,
                rule,
                channels,
                today,
                schedule.resolve_timezone(partner.tz, company_tz, default=rule.timezone),
                blacklisted_numbers,
                blacklisted_emails,
            )
            for partner in partners
        }

    @api.model
    def _recipient(self, partner, rule, channels, today, timezone, bl_numbers, bl_emails):
        reason = None
        for channel in channels:
            if channel == "sms":
                address = partner.phone_sanitized
                blacklisted = address in bl_numbers
                missing = self.env._("no valid mobile number")
            else:
                address = partner.email_normalized
                blacklisted = address in bl_emails
                missing = self.env._("no valid e-mail address")
            if not address:
                reason = reason or missing
                continue
            decision = self._consent_decision(partner, rule, channel, blacklisted, today)
            if decision.allowed:
                reason = None
                break
            reason = reason or self._consent_reason(decision.reason, channel)
        return Recipient(
            channel=channel,
            number=partner.phone_sanitized if channel == "sms" else False,
            email=partner.email_normalized if channel == "email" else False,
            timezone=timezone,
            reason=reason,
        )

    @api.model
    def _consent_decision(self, partner, rule, channel, blacklisted, today):
        """``rule``: an automatic rule or a bulk send (both say what consent they need)."""
        mode, specific_field = rule._consent_requirements()
        return consent.decide(
            mode,
            channel_allowed=partner.consent_sms if channel == "sms" else partner.consent_email,
            blacklisted=blacklisted,
            marketing=partner.consent_marketing,
            specific=bool(specific_field and partner[specific_field]),
            consent_valid_until=partner.consent_valid_until,
            today=today,
        )

    @api.model
    def _consent_reason(self, code, channel):
        channel_label = self.env._("SMS") if channel == "sms" else self.env._("e-mail")
        return {
            consent.BLACKLISTED: self.env._(
                "%(channel)s blacklisted (opted out)", channel=channel_label
            ),
            consent.CHANNEL_CONSENT_MISSING: self.env._(
                "no consent to %(channel)s", channel=channel_label
            ),
            consent.MARKETING_CONSENT_MISSING: self.env._("no marketing consent"),
            consent.SPECIFIC_CONSENT_MISSING: self.env._("no consent to this notification"),
            consent.CONSENT_EXPIRED: self.env._("consent expired"),
        }[code]

    def _recheck_consent(self):
        """At send time a withdrawal wins: skip what may no longer go; return the rest."""
        today = self._today()
        refused = self.browse()
        for message in self:
            sender = message.rule_id or message.batch_id
            if not sender:
                continue
            partner = message.partner_id
            if message.channel == "sms":
                blacklisted = bool(partner.phone_sanitized_blacklisted)
            else:
                blacklisted = bool(partner.is_blacklisted)
            decision = self._consent_decision(partner, sender, message.channel, blacklisted, today)
            if not decision.allowed:
                message.write(
                    {
                        "state": "skipped",
                        "reason": self._consent_reason(decision.reason, message.channel),
                    }
                )
                refused |= message
        return self - refused

    @api.model
    def _send_now(self, records, event_type):
        """Send the reminders of ``event_type`` about ``records`` now, by hand.

        They take the keys the automatic run would use, so it will not send them
        again; one already sent is not sent twice. Inside the sending window they
        leave at once, outside it they wait for the window like any other.
        Returns the messages concerned (new ones and ones already there).
        """
        rules = self.env["insurance.notify.rule"].search(
            [("event_type", "=", event_type), ("company_id", "in", records.company_id.ids)]
        )
        if not rules:
            raise UserError(
                self.env._("No active automatic notification sends this kind of reminder.")
            )
        today = self._today()
        concerned = self.browse()
        for rule in rules.sudo():
            occurrences = rule._occurrences_now(records, today)
            keys = [
                self._make_key(rule, rule.res_model, occ.res_id, occ.offset, occ.event_date)
                for occ in occurrences
            ]
            concerned |= self._create_planned(rule, occurrences)
            concerned |= self.sudo().search([("key", "in", keys)])
        if not concerned:
            raise UserError(
                self.env._("No reminder applies: the event is past or outside the rules' filters.")
            )
        now = self._now()
        due = concerned.filtered(lambda m: m.state == "queued" and m.scheduled_at <= now)
        due._dispatch(now)
        return concerned

    @api.model
    def _action_send_now(self, records, event_type):
        """The "Send now" buttons: send, then tell the user what happened."""
        sent_states = ("sent", "delivered")
        already_sent = self.sudo().search(
            [
                ("res_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("state", "in", sent_states),
            ]
        )
        messages = self.sudo()._send_now(records, event_type)
        lines = []
        for message in messages:
            to = message.number or message.email or message.partner_id.display_name
            if message in already_sent:
                lines.append(
                    self.env._(
                        "Already sent to %(to)s on %(date)s.",
                        to=to,
                        date=format_datetime(self.env, message.sent_at),
                    )
                )
            elif message.state in sent_states:
                lines.append(self.env._("Sent to %(to)s.", to=to))
            elif message.state in ("queued", "sending"):
                lines.append(
                    self.env._(
                        "Queued for %(to)s: leaves at %(date)s, inside the sending hours.",
                        to=to,
                        date=format_datetime(self.env, message.scheduled_at),
                    )
                )
            else:
                lines.append(
                    self.env._("Not sent to %(to)s: %(reason)s.", to=to, reason=message.reason)
                )
        new = messages - already_sent
        if any(message.state in sent_states for message in new):
            kind = "success"
        elif any(message.state in ("failed", "skipped", "cancelled") for message in new):
            kind = "danger"
        else:
            kind = "warning" if new else "info"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Reminder"),
                "message": "\n".join(lines),
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _last_sent(self, records, event_types):
        """record id -> when its last reminder of ``event_types`` was sent."""
        return dict(
            self.sudo()._read_group(
                [
                    ("res_model", "=", records._name),
                    ("res_id", "in", records.ids),
                    ("state", "in", ("sent", "delivered")),
                    ("rule_id.event_type", "in", event_types),
                ],
                ["res_id"],
                ["sent_at:max"],
            )
        )

    @api.model
    def _cancel_queued_for(self, records, reason):
        queued = self.search(
            [
                ("res_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("state", "=", "queued"),
            ]
        )
        queued.write({"state": "cancelled", "reason": reason})
        return queued

    # ------------------------------------------------------------------
    # Dispatch
    # ------------------------------------------------------------------

    @api.model
    def _cron_dispatch(self, batch_size=200):
        now = self._now()
        self._requeue_stale_sending(now)
        due_domain = [("state", "=", "queued"), ("scheduled_at", "<=", now)]
        total = self.search_count(due_domain)
        done = 0
        while batch := self._lock_due_batch(now, batch_size):
            batch._dispatch(now, commit=True)
            done += len(batch)
            self._commit_progress(done=done, remaining=max(total - done, 0))
        return done

    def _dispatch(self, now, commit=False):
        """Send these queued messages. With ``commit`` (crons), they are
        committed as sending before the provider is called (never twice)."""
        ready = self._hold_outside_window(now)._recheck_consent()._render()
        ready.write({"state": "sending", "sending_since": now})
        if commit:
            self._commit()
            # A bulk run's STOP button is pressed in another transaction: look
            # for it between small groups of messages, each committed when sent.
            # Reminders go in one group, so the gateway keeps its requests in flight.
            if ready.batch_id:
                chunks = split_every(STOP_CHECK_EVERY, ready.ids, self.browse)
            else:
                chunks = [ready]
            for chunk in chunks:
                chunk._cancel_stopped()._send()
                self._commit()
        else:
            ready._cancel_stopped()._send()
        self.batch_id._check_finished()

    def _cancel_stopped(self):
        """Cancel the messages of stopped bulk sends (re-read now); return the others."""
        batches = self.batch_id
        if not batches:
            return self
        batches.invalidate_recordset(["state", "stopped_by_id"])
        stopped = self.filtered(lambda message: message.batch_id.state == "stopped")
        for batch, messages in stopped.grouped("batch_id").items():
            messages.write({"state": "cancelled", "reason": batch._stopped_reason()})
        return self - stopped

    @api.model
    def _lock_due_batch(self, now, limit):
        """Lock the next due messages no other worker holds."""
        self.flush_model()
        query = SQL(
            """
            SELECT id FROM insurance_notify_message
             WHERE state = 'queued' AND scheduled_at <= %s
             ORDER BY scheduled_at, id
             LIMIT %s
               FOR UPDATE SKIP LOCKED
            """,
            now,
            limit,
        )
        for _attempt in range(3):
            try:
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                    rows = self.env.execute_query(query)
                return self.browse(row[0] for row in rows)
            except SerializationFailure:
                # Another worker committed some of these rows after this
                # transaction's snapshot was taken: look again in a fresh one.
                self._commit()
        return self.browse()

    @api.model
    def _requeue_stale_sending(self, now):
        """Messages left 'sending' by a crashed run go again under the same key,
        which the provider refuses if it had already accepted it."""
        stale = self.search(
            [("state", "=", "sending"), ("sending_since", "<", now - SENDING_TIMEOUT)]
        )
        stale.write({"state": "queued", "scheduled_at": now})

    def _hold_outside_window(self, now):
        """Reschedule the messages whose window is closed now; return the others."""
        held = self.browse()
        for message in self:
            window = message._window()
            if not schedule.in_window(now, message.timezone, *window):
                message.scheduled_at = schedule.next_window_start(now, message.timezone, *window)
                held |= message
        return self - held

    def _templates(self):
        """(SMS template, e-mail template): the rule's, or the message's own for
        messages no rule planned (task reminders, bulk sends)."""
        self.ensure_one()
        if self.rule_id:
            return self.rule_id.sms_template_id, self.rule_id.mail_template_id
        return self.sms_template_id, self.mail_template_id

    def _window(self):
        """(start hour, end hour, weekdays) this message may leave in."""
        self.ensure_one()
        return self.rule_id._window() if self.rule_id else DEFAULT_WINDOW

    def _sms_options(self):
        """(transliterate, max parts or 0) for this message's SMS."""
        self.ensure_one()
        if self.rule_id:
            return self.rule_id._sms_options()
        template = self.sms_template_id
        return template.sms_transliterate, template.sms_max_parts

    def _render(self):
        """Render the bodies; return the messages that can be sent, fail the others.

        E-mails are rendered by their mail.template when sent; their subject is
        kept as the body here, for the history. A message with no template keeps
        the body it was given (a broadcast's free text).
        """
        emails = self.filtered(lambda message: message.channel == "email")
        for template, messages in emails.grouped(lambda m: m._templates()[1]).items():
            if not template:
                if messages.filtered(lambda message: not message.body):
                    messages.write(
                        {"state": "failed", "reason": self.env._("the rule has no e-mail template")}
                    )
                continue
            subjects = template._render_field("subject", messages.mapped("res_id"))
            for message in messages:
                message.body = subjects[message.res_id]
        renderable = emails.filtered(lambda message: message.state != "failed")
        sms_messages = self - emails
        for template, messages in sms_messages.grouped(lambda m: m._templates()[0]).items():
            if template:
                bodies = template._render_field(
                    "body", messages.mapped("res_id"), compute_lang=True
                )
                bodies = {
                    message.res_id: bodies[message.res_id] + message._opt_out_suffix()
                    for message in messages
                }
            elif all(messages.mapped("body")):
                bodies = {message.res_id: message.body for message in messages}
            else:
                messages.write(
                    {"state": "failed", "reason": self.env._("the rule has no SMS template")}
                )
                continue
            for message in messages:
                transliterate, max_parts = message._sms_options()
                analysis = sms.analyze(bodies[message.res_id], transliterate=transliterate)
                vals = {
                    "body": analysis.text,
                    "sms_parts": analysis.parts,
                    "sms_encoding": analysis.encoding,
                }
                if max_parts and analysis.parts > max_parts:
                    vals.update(state="failed", reason=self._too_long_reason(analysis, max_parts))
                else:
                    renderable |= message
                message.write(vals)
        return renderable

    @api.model
    def _too_long_reason(self, analysis, max_parts):
        return self.env._(
            "too long (%(parts)s parts > %(limit)s)", parts=analysis.parts, limit=max_parts
        )

    def _send(self):
        now = self._now()
        emails = self.filtered(lambda message: message.channel == "email")
        emails._send_emails(now)
        for gateway, messages in (self - emails).grouped("gateway_id").items():
            messages = messages.filtered(lambda m: m.state == "sending")
            if not messages:
                continue
            if not gateway:
                messages.write(
                    {"state": "failed", "reason": self.env._("no SMS gateway is configured")}
                )
                continue
            adapter = gateway._make_adapter()
            outgoing = [
                OutgoingSms(
                    key=message.key,
                    number=phone.for_gateway(message.number, gateway.provider),
                    body=message.body,
                    sender=message.batch_id.sms_sender or gateway.sender or None,
                )
                for message in messages
            ]
            for message, result in zip(messages, adapter.send(outgoing), strict=True):
                message._write_result(result, now)
        self.filtered(lambda message: message.state in ("sent", "delivered"))._log_on_documents()

    def _send_emails(self, now):
        """Through the rule's mail.template and Odoo's outgoing mail servers."""
        for message in self:
            template = message._templates()[1]
            if template:
                mail = (
                    self.env["mail.mail"]
                    .sudo()
                    .browse(
                        template.send_mail(message.res_id, email_values=message._email_values())
                    )
                )
            else:
                mail = self.env["mail.mail"].sudo().create(message._free_mail_values())
            mail.send(raise_exception=False)
            failed = mail.exists() and mail.state == "exception"
            message.write(
                {
                    "state": "failed" if failed else "sent",
                    "reason": mail.failure_reason if failed else False,
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

    def _opt_out_suffix(self):
        """The opt-out line a marketing SMS of a bulk send ends with, or ""."""
        self.ensure_one()
        return self.batch_id._opt_out_suffix() if self.batch_id else ""

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
        bcc = self._templates()[1].insurance_email_bcc
        if bcc:
            values["headers"] = repr({"Bcc": bcc})
        return values

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
        return self.env._(
            "%(channel)s reminder sent to %(recipient)s (%(rule)s)",
            channel=dict(self._fields["channel"].selection)[self.channel],
            recipient=self.number or self.email or self.partner_id.display_name,
            rule=self.rule_id.name or self.batch_id.name or self.key,
        )

    def _write_result(self, result, now, retry=True):
        attempts = self.attempts + 1
        if result.accepted:
            parts = result.parts or self.sms_parts
            self.write(
                {
                    # A delivery report may outrun the provider's answer.
                    "state": "delivered" if self.state == "delivered" else "sent",
                    "provider_ref": result.provider_ref or self.provider_ref,
                    "sms_parts": parts,
                    "sent_at": now,
                    "attempts": attempts,
                    "reason": False,
                    "error_class": False,
                    "currency_id": self.gateway_id.currency_id.id,
                    "cost": parts * self.gateway_id.cost_per_part,
                }
            )
            return
        reason = result.error_text or result.error_class
        if retry and result.retryable and attempts < MAX_ATTEMPTS:
            self.write(
                {
                    "state": "queued",
                    "attempts": attempts,
                    "reason": reason,
                    "error_class": result.error_class,
                    "scheduled_at": now + timedelta(minutes=5 * 2**attempts),
                }
            )
        else:
            self.write(
                {
                    "state": "failed",
                    "attempts": attempts,
                    "reason": reason,
                    "error_class": result.error_class,
                }
            )
        _logger.info(
            "SMS %s not accepted: %s (%s)", self.key, result.error_class, result.error_code
        )

    # ------------------------------------------------------------------
    # Delivery reports
    # ------------------------------------------------------------------

    @api.model
    def _apply_delivery_reports(self, gateway, reports):
        """Move sent messages to delivered or failed; return the reports naming none.

        Idempotent: a message already delivered or failed keeps its state, and a
        report saying "still on its way" changes nothing.
        """
        unmatched = []
        for report in reports:
            domain = [("gateway_id", "=", gateway.id), ("channel", "=", "sms")]
            if report.provider_ref:
                domain.append(("provider_ref", "=", report.provider_ref))
            elif report.key:
                domain.append(("key", "=", report.key))
            else:
                unmatched.append(report)
                continue
            message = self.sudo().search(domain, limit=1)
            if not message and report.key and report.provider_ref:
                # The answer to the send was lost, so the id was never stored.
                message = self.sudo().search(
                    [("gateway_id", "=", gateway.id), ("key", "=", report.key)], limit=1
                )
            if not message:
                unmatched.append(report)
                continue
            if message.state not in ("sent", "sending") or report.state == "sent":
                continue
            vals = {"state": report.state}
            if report.provider_ref:
                vals["provider_ref"] = report.provider_ref
            if report.state == "failed":
                vals["reason"] = self.env._(
                    "not delivered: %(status)s", status=(report.reason or "").lower()
                )
            message.write(vals)
        return unmatched
