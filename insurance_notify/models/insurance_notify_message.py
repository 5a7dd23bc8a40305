import logging
import threading
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from notify_engine import phone, schedule, sms
from notify_engine.gateways import OutgoingSms

_logger = logging.getLogger(__name__)

SENDING_TIMEOUT = timedelta(minutes=15)
MAX_ATTEMPTS = 5


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
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    res_model = fields.Char(string="Document Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", required=True, readonly=True
    )
    policy_id = fields.Many2one("insurance.policy", index=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Recipient", index=True, readonly=True)
    channel = fields.Selection([("sms", "SMS")], required=True, readonly=True)
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
            self._make_key(rule, res_model, res_id, offset, event_date): occurrence
            for occurrence in occurrences
            for res_id, _partner_id, _policy_id, offset, event_date in [occurrence]
        }
        if not keyed:
            return self
        existing = {
            key
            for (key,) in self.env.execute_query(
                SQL("SELECT key FROM insurance_notify_message WHERE key = ANY(%s)", list(keyed))
            )
        }
        partners = self.env["res.partner"].browse({row[1] for row in keyed.values()})
        recipients = self._recipients(partners, rule)
        now = self._now()
        gateway = rule.gateway_id or self.env["insurance.notify.gateway"]._default_for_company(
            rule.company_id
        )
        window = rule._window()
        # Every recipient in one timezone gets the same slot: compute it once.
        slots = {}
        vals_list = []
        for key, (res_id, partner_id, policy_id, offset, event_date) in keyed.items():
            if key in existing:
                continue
            number, timezone, skip_reason = recipients[partner_id]
            vals = {
                "key": key,
                "rule_id": rule.id,
                "company_id": rule.company_id.id,
                "res_model": res_model,
                "res_id": res_id,
                "policy_id": policy_id,
                "partner_id": partner_id,
                "channel": rule.channel,
                "offset": offset,
                "event_date": event_date,
                "number": number,
                "timezone": timezone,
                "gateway_id": gateway.id,
            }
            if skip_reason:
                vals.update(state="skipped", reason=skip_reason, scheduled_at=now)
            else:
                if timezone not in slots:
                    slots[timezone] = schedule.next_window_start(now, timezone, *window)
                vals["scheduled_at"] = slots[timezone]
            vals_list.append(vals)
        return self.create(vals_list)

    @api.model
    def _recipients(self, partners, rule):
        """partner id -> (number, timezone, reason to skip or None)."""
        company_tz = rule.company_id.partner_id.tz
        # phone_sanitized and the blacklist both hold E.164: compare in SQL,
        # not through phone.blacklist's search, which re-formats every number.
        numbers = [number for number in partners.mapped("phone_sanitized") if number]
        blacklisted = {
            number
            for (number,) in self.env.execute_query(
                SQL(
                    "SELECT number FROM phone_blacklist WHERE active AND number = ANY(%s)",
                    numbers,
                )
            )
        }
        result = {}
        for partner in partners:
            timezone = schedule.resolve_timezone(partner.tz, company_tz, default=rule.timezone)
            number = partner.phone_sanitized
            if not number:
                reason = self.env._("no valid mobile number")
            elif number in blacklisted:
                reason = self.env._("number is on the SMS blacklist")
            else:
                reason = None
            result[partner.id] = (number, timezone, reason)
        return result

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
                self._make_key(rule, rule.res_model, row[0], row[3], row[4]) for row in occurrences
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
        ready = self._hold_outside_window(now)._render()
        ready.write({"state": "sending", "sending_since": now})
        if commit:
            self._commit()
        ready._send()

    @api.model
    def _lock_due_batch(self, now, limit):
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
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
        )
        return self.browse(row[0] for row in rows)

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
            window = message.rule_id._window()
            if not schedule.in_window(now, message.timezone, *window):
                message.scheduled_at = schedule.next_window_start(now, message.timezone, *window)
                held |= message
        return self - held

    def _render(self):
        """Render the bodies; return the messages that can be sent, fail the others."""
        by_rule = defaultdict(lambda: self.browse())
        for message in self:
            by_rule[message.rule_id] |= message
        renderable = self.browse()
        for rule, messages in by_rule.items():
            template = rule.sms_template_id
            if not template:
                messages.write(
                    {"state": "failed", "reason": self.env._("the rule has no SMS template")}
                )
                continue
            bodies = template._render_field("body", messages.mapped("res_id"), compute_lang=True)
            transliterate, max_parts = rule._sms_options()
            for message in messages:
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
        for gateway, messages in self.grouped("gateway_id").items():
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
                    sender=gateway.sender or None,
                )
                for message in messages
            ]
            for message, result in zip(messages, adapter.send(outgoing), strict=True):
                message._write_result(result, now)
        self.filtered(lambda message: message.state in ("sent", "delivered"))._log_on_documents()

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
            recipient=self.number or self.partner_id.display_name,
            rule=self.rule_id.name or self.key,
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
                    "scheduled_at": now + timedelta(minutes=5 * 2**attempts),
                }
            )
        else:
            self.write({"state": "failed", "attempts": attempts, "reason": reason})
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
