"""Dispatch: locked batches, sending windows, rendering, gateways and e-mail."""

import logging
from datetime import timedelta

from markupsafe import Markup
from psycopg2.errors import SerializationFailure

from odoo import api, models
from odoo.tools import SQL, mute_logger, plaintext2html, split_every

from notify_engine import phone, schedule, sms
from notify_engine.gateways import OutgoingSms

from .insurance_notify_message import DEFAULT_WINDOW, PARAM_EMAIL_FROM, PARAM_MAIL_SERVER

_logger = logging.getLogger(__name__)

SENDING_TIMEOUT = timedelta(minutes=15)
MAX_ATTEMPTS = 5
# A cron sending a bulk run looks for its STOP button every this many messages.
STOP_CHECK_EVERY = 10


class InsuranceNotifyMessage(models.Model):
    _inherit = "insurance.notify.message"

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
                    "is_sandbox": self.gateway_id.provider == "sandbox",
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
