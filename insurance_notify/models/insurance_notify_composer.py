"""What a message says: its text rendered in the recipient's language and
timezone, counted as the gateway counts it, joined with the same client's other
reminders of the moment, and the e-mails and chatter lines that go with it.

An abstract model inherited by ``insurance.notify.message``, beside the
dispatcher (``insurance.notify.dispatch``), which decides when and through what.
"""

import logging

from markupsafe import Markup

from odoo import models
from odoo.tools import SQL, plaintext2html
from odoo.tools.mail import generate_tracking_message_id

from ..lib.notify_engine import compose, sms
from ..tools.safe_eval_cache import compile_once
from .insurance_template_check import TemplateCodeError

_logger = logging.getLogger(__name__)

PARAM_EMAIL_FROM = "insurance_notify.email_from"
PARAM_MAIL_SERVER = "insurance_notify.mail_server_id"


class InsuranceNotifyComposer(models.AbstractModel):
    _name = "insurance.notify.composer"
    _description = "Notification Texts"

    # ------------------------------------------------------------------
    # Rendering: in the recipient's language (the templates' ``lang``) and
    # timezone (the context's ``tz``)
    # ------------------------------------------------------------------

    def _render(self):
        """Render the texts; return the messages that can be sent, fail the others.

        A sender's template is rendered for the document; a sender without
        one gives its own text (a bulk send's; a direct message keeps the
        text it was queued with). E-mails are rendered by their
        mail.template when sent; their subject is kept as the body, for the history.
        """
        renderable = self.browse()
        by_template = self.grouped(
            lambda m: (m.channel, m._templates_for_channel(), m.timezone or "UTC", m.company_id)
        )
        for (channel, template, tz_name, company), messages in by_template.items():
            # In the sending company: a placeholder on the client's consents
            # (consent_valid_until) reads that agency's own.
            messages = messages.with_context(tz=tz_name).with_company(company)
            texts = {}
            free = messages if not template else messages.browse()
            for message in free:
                text = message.sender_ref._notify_free_text(message)
                if text:
                    texts[message] = text
                    continue
                message.write(
                    {
                        "state": "failed",
                        "reason_code": {
                            "sms": "no_sms_template",
                            "whatsapp": "no_whatsapp_template",
                        }.get(channel, "no_mail_template"),
                        "reason_params": False,
                    }
                )
            with compile_once():
                texts.update((messages - free)._render_template(template, channel))
            bodies, alike, kept = {}, {}, []
            for message, text in texts.items():
                if text is None:
                    continue
                if channel in ("email", "whatsapp"):
                    bodies[message.id] = text
                    kept.append(message.id)
                    continue
                vals = message._analyze(text + message.sender_ref._notify_suffix())
                bodies[message.id] = vals.pop("body")
                if "state" in vals:
                    message.write(vals)  # too long: failed, with its own reason
                    continue
                kept.append(message.id)
                alike.setdefault(tuple(sorted(vals.items())), []).append(message.id)
            # One write per set of equal values and one UPDATE for the texts,
            # not a write per message.
            for vals, ids in alike.items():
                self.browse(ids).write(dict(vals))
            self._write_column("body", bodies)
            renderable |= self.browse(kept)
        return renderable.with_env(self.env)

    def _templates_for_channel(self):
        self.ensure_one()
        if self.channel == "whatsapp":
            return self.sender_ref._notify_whatsapp_template(self.partner_id)
        sms_template, mail_template = self.sender_ref._notify_templates(self.variant)
        return sms_template if self.channel == "sms" else mail_template

    def _render_template(self, template, channel):
        """message -> rendered text; None for a message whose text cannot be
        written (failed, with the reason): one broken record fails alone."""
        if not self:
            return {}
        if channel == "whatsapp":
            return self._render_whatsapp(template)
        field = "body" if channel == "sms" else "subject"
        # The recipient's timezone is in these messages' context: dates and
        # times in the text read in the recipient's wall-clock time.
        template = template.with_env(self.env)
        try:
            # Every text of the template (an e-mail's body is rendered when sent).
            template._insurance_guard_render_all()
            if template.lang:
                rendered = template._render_field(field, self.mapped("res_id"), compute_lang=True)
                return {message: rendered[message.res_id] or "" for message in self}
            # A template that names no language still speaks the client's (a
            # test SMS: the policy's client's, as it shows what they get),
            # else the agency's: texts and dates in the recipient's language.
            texts = {}
            by_lang = self.grouped(
                lambda m: (
                    m.partner_id.lang
                    or m.policy_id.partner_id.lang
                    or m.company_id.partner_id.lang
                    or "en_US"
                )
            )
            for lang, messages in by_lang.items():
                rendered = template._render_field(field, messages.mapped("res_id"), set_lang=lang)
                texts.update((message, rendered[message.res_id] or "") for message in messages)
            return texts
        except TemplateCodeError as error:
            # Code in a template no administrator wrote: none of its messages
            # goes, each says why.
            _logger.warning("Template %s holds code: not rendered", template.id)
            self.write(
                {
                    "state": "failed",
                    "reason_code": "template_code",
                    "reason_params": {
                        "template": error.template.display_name,
                        "expression": error.expression[:120],
                    },
                }
            )
            return dict.fromkeys(self)
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

    def _render_whatsapp(self, template):
        """message -> the text the client reads (kept as the body, for the
        history); the parameters themselves are rendered again when sent."""
        texts = {}
        for lang, messages in self.grouped(lambda m: m.partner_id.lang).items():
            for message in messages:
                try:
                    text = template.with_context(lang=lang)._render_text([message.res_id])
                    texts[message] = text[message.res_id]
                except Exception as error:  # noqa: BLE001 - one broken record fails alone
                    _logger.warning("WhatsApp template %s failed for %s", template.id, message.id)
                    message.write(
                        {
                            "state": "failed",
                            "reason_code": "render_error",
                            "reason_params": {"detail": str(error)[:200]},
                        }
                    )
                    texts[message] = None
        return texts

    def _sms_options(self):
        self.ensure_one()
        return self.sender_ref._notify_sms_options()

    def _analyze(self, text):
        """The values of the SMS body, parts and encoding; failed (with the
        reason) when over the part limit."""
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
        return vals

    # ------------------------------------------------------------------
    # One SMS a client a day
    # ------------------------------------------------------------------

    def _groups(self):
        """These messages as the sends they make: one client's automatic SMS
        reminders leaving now through one gateway become one SMS (the texts
        joined under one greeting) unless that breaks the part limit; every
        other message goes alone. A group formed before a crash stays as it was."""
        groups = []
        joinable = self.filtered(lambda m: m.channel == "sms" and m.is_reminder)
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
    # E-mail
    # ------------------------------------------------------------------

    def _send_email(self, now):
        """Through the sender's mail.template and Odoo's outgoing mail servers,
        one e-mail at a time and at most once, committed as it goes.

        SMTP has no idempotency key, so an e-mail is committed as handed over
        *before* SMTP sees it: its mail.mail is stored failed ("interrupted")
        and linked to the message; only inside the next transaction is it made
        outgoing and sent, and that outcome is committed with the message's.
        A crash in between rolls back to the stored mark: Odoo's mail queue
        takes only outgoing mails, and the dispatcher's recovery fails the
        message with ``mail_interrupted`` instead of sending it again
        (``_settle_interrupted_emails``). The e-mails of the chunk not reached
        yet have no mail and are sent on the next run.
        """
        for message in self.with_context(tz=self[:1].timezone or "UTC"):
            try:
                with self.env.cr.savepoint():
                    mail = message._prepare_mail()
            except Exception as error:  # noqa: BLE001 - nothing left: it waits, alone
                _logger.exception("E-mail notification %s could not be prepared", message.id)
                message.write(
                    {
                        "state": "queued",
                        "scheduled_at": now + message._outage_retry(),
                        "reason_code": "internal_error",
                        "reason_params": {"detail": type(error).__name__},
                    }
                )
                continue
            mail.write(
                {
                    "state": "exception",
                    "failure_type": "unknown",
                    # What the mail says while SMTP may have it, and after a crash there.
                    "failure_reason": self.env._(
                        "Sending was interrupted while this e-mail was handed to the mail "
                        "server: it may have been delivered, so it is not sent again "
                        "automatically. Retry it by hand if the recipient did not get it."
                    ),
                }
            )
            message.mail_mail_id = mail
            self._commit()
            # From here until the next commit, SMTP may take it: nothing is
            # retried automatically.
            try:
                with self.env.cr.savepoint():
                    mail.state = "outgoing"
                    mail.send(raise_exception=False)
            except Exception as error:  # noqa: BLE001 - the mail stays marked interrupted
                _logger.exception("E-mail notification %s: sending failed", message.id)
                message.write(
                    {
                        "state": "failed",
                        "reason_code": "mail_failed",
                        "reason_params": {"detail": type(error).__name__},
                        "attempts": message.attempts + 1,
                    }
                )
                continue
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
        self._commit()

    def _prepare_mail(self):
        """The mail.mail of this e-mail message (not sent)."""
        self.ensure_one()
        template = self._templates_for_channel()
        if template:
            # The sending company's view of the client (its own consents).
            mail_id = template.with_company(self.company_id).send_mail(
                self.res_id, email_values=self._email_values()
            )
            return self.env["mail.mail"].sudo().browse(mail_id)
        return self.env["mail.mail"].sudo().create(self._free_mail_values())

    def _free_mail_values(self):
        """A broadcast e-mail: the bulk send's subject, the free text, and an
        unsubscribe link (also in the List-Unsubscribe header)."""
        self.ensure_one()
        sender = self.sender_ref
        unsubscribe_url = self.partner_id._insurance_unsubscribe_url(self.email)
        body = plaintext2html(self.body) + Markup(
            '<p style="font-size: 12px; color: #888888;"><a href="%s">%s</a></p>'
        ) % (unsubscribe_url, self.env._("Unsubscribe from these e-mails"))
        return {
            "subject": sender._notify_mail_subject(),
            "body_html": body,
            "email_to": self.email,
            "email_from": sender._notify_email_from()
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
        references = self._reply_references()
        if references:
            values["references"] = references
        return values

    def _reply_references(self):
        """The Message-Id of the document's first chatter message: a client's
        answer refers to it, so Odoo's mail gateway routes the answer to the
        document's thread (as it routes answers to its own notifications),
        where it becomes a client's reply (insurance.notify.reply)."""
        self.ensure_one()
        document = self.policy_id or self.env[self.res_model].browse(self.res_id)
        if not hasattr(document, "message_post"):
            return False
        first = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", document._name),
                    ("res_id", "=", document.id),
                    ("message_id", "!=", False),
                ],
                order="id",
                limit=1,
            )
        )
        return first.message_id or False

    # ------------------------------------------------------------------
    # The chatter of the documents
    # ------------------------------------------------------------------

    def _log_on_documents(self):
        """One chatter line per message sent, on the policy (or the document).

        The lines ``_message_log_batch`` would write (a note by the cron's
        user, no notification), inserted in one statement per model: its
        create sanitizes every body twice, which took half of a chunk's time.
        These bodies are escaped text and a line break, nothing to sanitize."""
        stock_log = type(self.env["mail.thread"])._message_log_batch
        for res_model, messages in self.grouped("res_model").items():
            documents = self.env[res_model]
            if not hasattr(documents, "_message_log_batch"):
                continue
            if type(documents)._message_log_batch is not stock_log:
                # The document logs its own way (an invoice's due line, on
                # its invoice): through it, as it asks.
                bodies = {
                    message.res_id: Markup("%s<br/>%s") % (message._log_title(), message.body)
                    for message in messages
                }
                documents.browse(bodies)._message_log_batch(bodies)
                continue
            author_id, email_from = documents._message_compute_author(raise_on_email=False)
            reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False]
            subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
            now = self.env.cr.now()
            rows = [
                SQL(
                    "(%s, %s, %s, 'notification', %s, %s, %s, %s, TRUE, FALSE, FALSE, %s, "
                    "%s, %s, %s, %s, %s)",
                    str(Markup("<p>%s<br>%s</p>") % (message._log_title(), message.body or "")),
                    res_model,
                    message.res_id,
                    subtype_id,
                    author_id or None,
                    email_from or None,
                    reply_to or None,
                    generate_tracking_message_id("message-notify"),
                    now,
                    self.env.uid,
                    now,
                    self.env.uid,
                    now,
                )
                for message in messages
            ]
            self.env["mail.message"].flush_model()
            self.env.execute_query(
                SQL(
                    "INSERT INTO mail_message (body, model, res_id, message_type, subtype_id, "
                    "author_id, email_from, reply_to, is_internal, email_add_signature, "
                    "reply_to_force_new, message_id, date, create_uid, create_date, "
                    "write_uid, write_date) VALUES %s",
                    SQL(", ").join(rows),
                )
            )
            documents.browse(messages.mapped("res_id")).invalidate_recordset(
                ["message_ids", "message_needaction", "message_needaction_counter"]
            )

    def _log_title(self):
        return self.env._(
            "%(channel)s reminder sent to %(recipient)s (%(rule)s)",
            channel=dict(self._fields["channel"]._description_selection(self.env))[self.channel],
            recipient=self.number or self.email or self.partner_id.display_name,
            rule=self.sender_ref.display_name,
        )
