"""A client's reply: every inbound SMS and e-mail answer, kept and handed to a person.

A reply is kept whatever it says and whoever sent it (an unknown number too):
a client's words are never dropped. It names the reminder it answers (the
latest sent to that number or address within 30 days), that reminder's
document (a policy — an installment's policy —, an invoice, a task, the
client card) and the broker who owns it; it becomes a ``mail.activity`` for
that broker, due today, with the client's words, and a note on the
document's chatter and on the client card. Keywords (per company, see
``lib/notify_engine/replies.py``) tell a renewal request and a call-back
request from the rest; STOP is the opt-out's (``optout``), decided before.

Providers redeliver a callback they think was lost: the provider's id of the
message makes the second delivery find the first reply. A number that
floods us gets one open activity, not one per message.
"""

import logging
from datetime import timedelta

import psycopg2
import pytz
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, email_normalize, format_datetime, html2plaintext, plaintext2html

from ..lib.notify_engine import phone, replies

_logger = logging.getLogger(__name__)

KINDS = [
    ("renewal", "Renewal requested"),
    ("call_back", "Call back"),
    ("stop", "Stop (opt-out)"),
    ("other", "Other"),
]
# A reply answers the latest reminder sent to its number or address this long before.
ANSWER_WINDOW = timedelta(days=30)
# What is kept of one reply (a concatenated SMS is at most 1,600 characters;
# an e-mail's quoted history is not the client's words).
MAX_TEXT = 4000
# A number whose replies keep coming: one open activity for all of them, and
# at most this many chatter notes an hour (every reply is still kept).
FLOOD_NOTES_PER_HOUR = 10
# The broker of a document: which of its fields names them.
BROKER_FIELDS = {
    "insurance.policy": "user_id",
    "account.move": "invoice_user_id",
    "project.task": "user_ids",
    "res.partner": "user_id",
}
ACTIVITY_TYPES = {
    "call_back": "mail.mail_activity_data_call",
}
DEFAULT_ACTIVITY_TYPE = "mail.mail_activity_data_todo"
# The aggregate of response times, and the fields it applies to.
MEDIAN = "median"
MEDIAN_FIELDS = ("response_minutes",)


class InsuranceNotifyReply(models.Model):
    _name = "insurance.notify.reply"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Client Reply"
    _order = "received_at desc, id desc"
    _check_company_auto = True
    # The history is append-only (nobody writes a reply); brokers note on it and
    # close its activity with read access.
    _mail_post_access = "read"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    channel = fields.Selection(
        [("sms", "SMS"), ("whatsapp", "WhatsApp"), ("email", "E-mail")],
        required=True,
        default="sms",
        readonly=True,
    )
    number = fields.Char(readonly=True, index="btree_not_null")
    email = fields.Char(string="E-mail", readonly=True, index="btree_not_null")
    partner_id = fields.Many2one(
        "res.partner", string="Client", index=True, readonly=True, check_company=True
    )
    message_id = fields.Many2one(
        "insurance.notify.message",
        string="Answers",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        check_company=True,
        help="The latest reminder sent to this number or address in the 30 days before.",
    )
    rule_id = fields.Many2one(
        "insurance.notify.rule",
        related="message_id.rule_id",
        store=True,
        string="Automatic Notification",
    )
    res_model = fields.Char(string="Document Model", readonly=True, index=True)
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", readonly=True, index=True
    )
    document_name = fields.Char(string="Document", compute="_compute_document_name")
    text = fields.Text(readonly=True)
    kind = fields.Selection(KINDS, required=True, default="other", index=True)
    received_at = fields.Datetime(required=True, readonly=True, index=True)
    gateway_id = fields.Many2one(
        "insurance.notify.gateway", readonly=True, check_company=True, ondelete="set null"
    )
    provider_ref = fields.Char(
        string="Provider ID",
        readonly=True,
        help="The provider's id of the inbound message (the e-mail's Message-Id): a "
        "callback delivered twice makes one reply.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Broker",
        index=True,
        readonly=True,
        help="Who the reply reached: the document's broker, else the client's "
        "salesperson, else the company's replies inbox.",
    )
    activity_id = fields.Many2one("mail.activity", readonly=True, ondelete="set null")
    answered_at = fields.Datetime(readonly=True)
    answered = fields.Boolean(compute="_compute_answered", store=True, index=True)
    # Grouped by the median (see _read_group_select): a few replies left over a
    # weekend must not hide that most are answered within the hour.
    response_minutes = fields.Integer(
        readonly=True,
        aggregator="median",
        help="Minutes from the reply's arrival to its answer (an SMS back, or the "
        "activity marked done).",
    )

    _sql_constraints = [
        (
            "provider_ref_unique",
            "UNIQUE (company_id, provider_ref)",
            "This inbound message is already kept.",
        ),
    ]

    @api.model
    def _read_group_select(self, aggregate_spec, query):
        """Odoo's aggregates and the median (PostgreSQL's percentile_cont), for
        the inbox's response times by broker and by notification."""
        fname, _sep, func = aggregate_spec.partition(":")
        if func == MEDIAN:
            if fname not in MEDIAN_FIELDS:
                raise ValueError(f"Invalid aggregate method {func!r} for {aggregate_spec!r}.")
            sql_field = self._field_to_sql(self._table, fname, query)
            return SQL("percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)", sql_field)
        return super()._read_group_select(aggregate_spec, query)

    @api.depends("answered_at")
    def _compute_answered(self):
        for reply in self:
            reply.answered = bool(reply.answered_at)

    @api.depends("res_model", "res_id")
    def _compute_document_name(self):
        for reply in self:
            document = reply._document()
            reply.document_name = document.sudo().display_name if document else False

    @api.depends("partner_id", "number", "email", "text")
    def _compute_display_name(self):
        for reply in self:
            who = reply.partner_id.display_name or reply.number or reply.email or ""
            reply.display_name = f"{who}: {replies.excerpt(reply.text, 40)}"

    def _document(self):
        """The reply's document, if it still exists."""
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).sudo().exists() or None

    # ------------------------------------------------------------------
    # Receiving (webhooks and the mail gateway; called as superuser)
    # ------------------------------------------------------------------

    @api.model
    def _receive_sms(self, gateway, inbound, stop=False):
        """Keep one inbound SMS received by ``gateway`` (``InboundSms``) and
        hand it to its broker; ``stop``: it was an opt-out, already applied.
        Returns the reply (the one kept before, for a redelivered callback)."""
        try:
            number = phone.normalize(inbound.number, None)
        except phone.InvalidPhone:
            number = inbound.number.strip()
        return self._receive(
            gateway.company_id,
            "whatsapp" if gateway.provider == "whatsapp" else "sms",
            number,
            inbound.text,
            provider_ref=inbound.provider_ref,
            gateway=gateway,
            stop=stop,
        )

    @api.model
    def _receive_email(self, message_dict, routes):
        """Keep an e-mail the mail gateway routed to a document as a reply when
        it comes from the address of a reminder e-mail about that document (or
        its client) sent in the 30 days before; other mail is none of ours."""
        address = email_normalize(message_dict.get("email_from") or "")
        if not address:
            return self.browse()
        now = self.env["insurance.notify.message"]._now()
        kept = self.browse()
        for model, thread_id, *_rest in routes or ():
            if not thread_id or model not in self.env:
                continue
            about = [("res_model", "=", model), ("res_id", "=", thread_id)]
            if model == "insurance.policy":
                about = ["|", ("policy_id", "=", thread_id), *about]
            elif model == "res.partner":
                about = ["|", ("partner_id", "=", thread_id), *about]
            message = (
                self.env["insurance.notify.message"]
                .sudo()
                .search(
                    [
                        ("channel", "=", "email"),
                        ("email", "=ilike", address),
                        ("state", "in", ("sent", "delivered")),
                        ("sent_at", ">=", now - ANSWER_WINDOW),
                        *about,
                    ],
                    order="sent_at desc, id desc",
                    limit=1,
                )
            )
            if not message:
                continue
            text = html2plaintext(message_dict.get("body") or "")
            kept |= self._receive(
                message.company_id,
                "email",
                address,
                text,
                provider_ref=message_dict.get("message_id") or None,
                message=message,
                # The mail gateway put the e-mail itself on the document's thread.
                noted_on=self.env[model].browse(thread_id),
            )
        return kept

    @api.model
    def _receive(
        self, company, channel, address, text, provider_ref=None, gateway=None, stop=False,
        message=None, noted_on=None,
    ):  # fmt: skip
        """Keep a reply to ``company`` from ``address`` (an E.164 number or an
        e-mail address) and route it; an already kept ``provider_ref`` is
        returned as it is."""
        Reply = self.sudo().with_company(company)
        if provider_ref:
            existing = Reply.search(
                [("company_id", "=", company.id), ("provider_ref", "=", provider_ref)], limit=1
            )
            if existing:
                _logger.info("Inbound message %s already kept: reply %s", provider_ref, existing.id)
                return existing
        now = self.env["insurance.notify.message"]._now()
        if message is None:
            message = Reply._answered_message(company, channel, address, now)
        partner = message.partner_id or Reply._partner_of(company, channel, address)
        document = Reply._document_of(message, partner)
        text = replies.excerpt(text, MAX_TEXT)
        kind = "stop" if stop else replies.classify(text, company._insurance_reply_keywords())
        vals = {
            "company_id": company.id,
            "channel": channel,
            "number": address if channel != "email" else False,
            "email": address if channel == "email" else False,
            "partner_id": partner.id or False,
            "message_id": message.id or False,
            "res_model": document._name if document else False,
            "res_id": document.id if document else False,
            "text": text,
            "kind": kind,
            "received_at": now,
            "gateway_id": gateway.id if gateway else False,
            "provider_ref": provider_ref or False,
        }
        try:
            with self.env.cr.savepoint():
                reply = Reply.create(vals)
        except psycopg2.IntegrityError:
            # The same callback, delivered twice at once: the other request kept it.
            return Reply.search(
                [("company_id", "=", company.id), ("provider_ref", "=", provider_ref)], limit=1
            )
        _logger.info(
            "Reply %s (%s) from a %s kept", reply.id, kind, "client" if partner else "stranger"
        )
        reply._route(noted_on=noted_on)
        return reply

    @api.model
    def _answered_message(self, company, channel, address, now):
        """The latest reminder sent to ``address`` in the 30 days before ``now``."""
        if not address:
            return self.env["insurance.notify.message"]
        field = "email" if channel == "email" else "number"
        return (
            self.env["insurance.notify.message"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("channel", "=", channel),
                    (field, "=ilike" if channel == "email" else "=", address),
                    ("state", "in", ("sent", "delivered")),
                    ("sent_at", ">=", now - ANSWER_WINDOW),
                    ("sent_at", "<=", now),
                ],
                order="sent_at desc, id desc",
                limit=1,
            )
        )

    @api.model
    def _partner_of(self, company, channel, address):
        """The company's client with this number or address (none for a stranger)."""
        Partner = self.env["res.partner"].sudo()
        if not address:
            return Partner
        if channel != "email":
            found = Partner.search([("phone_sanitized", "=", address)])
        else:
            found = Partner.search([("email_normalized", "=ilike", address)])
        return found.filtered(lambda partner: partner._insurance_client_of(company))[:1]

    @api.model
    def _document_of(self, message, partner):
        """The document a reply is about: the reminder's (an installment's
        policy), else the client card."""
        if message:
            if message.policy_id:
                return message.policy_id
            if message.res_model in self.env:
                document = self.env[message.res_model].sudo().browse(message.res_id).exists()
                if document:
                    return document
        return partner or None

    # ------------------------------------------------------------------
    # Handing it to a person
    # ------------------------------------------------------------------

    def _broker(self):
        """Who the reply reaches: the document's broker, the client's
        salesperson, else the company's replies inbox."""
        self.ensure_one()
        company = self.company_id
        candidates = self.env["res.users"]
        document = self._document()
        if document is not None and BROKER_FIELDS.get(document._name) in document._fields:
            candidates |= document[BROKER_FIELDS[document._name]][:1]
        if self.partner_id:
            candidates |= self.partner_id.user_id
        for user in candidates:
            if user.active and not user.share and company in user.company_ids:
                return user
        return company._insurance_replies_user()

    def _route(self, noted_on=None):
        """Give the reply to its broker: an activity due today (one for a
        flood), a note on the document and the client card (not on
        ``noted_on``, which has the message already)."""
        for reply in self:
            broker = reply._broker()
            reply.user_id = broker
            target = reply._document()
            if target is None or not hasattr(target, "activity_schedule"):
                target = reply
            flooding = reply._recent_from_same_sender()
            if reply.kind != "stop" and broker:
                open_reply = flooding.filtered(
                    lambda r: r.activity_id and not r.answered and r.activity_id.active
                )[:1]
                if open_reply:
                    reply.activity_id = open_reply.activity_id
                else:
                    reply.activity_id = reply._schedule_activity(target, broker)
            if len(flooding) < FLOOD_NOTES_PER_HOUR:
                reply._post_notes(target, noted_on)

    def _recent_from_same_sender(self):
        """This sender's other replies of the last hour, on the same document."""
        self.ensure_one()
        address = [("number", "=", self.number)] if self.number else [("email", "=", self.email)]
        if not (self.number or self.email):
            return self.browse()
        return self.search(
            [
                ("id", "!=", self.id),
                ("company_id", "=", self.company_id.id),
                ("res_model", "=", self.res_model),
                ("res_id", "=", self.res_id),
                ("received_at", ">=", self.received_at - timedelta(hours=1)),
                *address,
            ]
        )

    def _title(self):
        """The one line saying what came, in the current language."""
        self.ensure_one()
        who = self.partner_id.display_name or self.number or self.email
        channel = dict(self._fields["channel"]._description_selection(self.env))[self.channel]
        if self.kind == "renewal":
            return self.env._("%(who)s asks to renew (%(channel)s reply)", who=who, channel=channel)
        if self.kind == "call_back":
            return self.env._(
                "%(who)s asks to be called back (%(channel)s reply)", who=who, channel=channel
            )
        if self.kind == "stop":
            return self.env._("%(who)s replied STOP: SMS consent withdrawn", who=who)
        return self.env._("%(who)s replied by %(channel)s", who=who, channel=channel)

    def _body(self):
        """The title and the client's words, escaped (they are plain text)."""
        self.ensure_one()
        return Markup("<p><strong>%s</strong></p>%s") % (
            self._title(),
            plaintext2html(self.text or ""),
        )

    def _schedule_activity(self, target, broker):
        self.ensure_one()
        reply = self.with_context(lang=broker.lang or self.env.lang)
        today = self.env["insurance.notify.message"]._today(self.company_id, self.received_at)
        return target.with_context(mail_activity_quick_update=True).activity_schedule(
            act_type_xmlid=ACTIVITY_TYPES.get(self.kind, DEFAULT_ACTIVITY_TYPE),
            date_deadline=today,
            summary=replies.excerpt(reply._title(), 80),
            note=reply._body(),
            user_id=broker.id,
        )

    def _post_notes(self, target, noted_on=None):
        """The reply on the document's chatter and on the client card, as an
        internal note (followers, the client among them, get no e-mail)."""
        self.ensure_one()
        lang = self.company_id.partner_id.lang or self.env.lang
        reply = self.with_context(lang=lang)
        threads = [target]
        if self.partner_id and target != self.partner_id:
            threads.append(self.partner_id)
        for thread in threads:
            if thread == noted_on or not hasattr(thread, "message_post"):
                continue
            thread.with_context(mail_create_nosubscribe=True).message_post(
                body=reply._body(),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                author_id=self.partner_id.id or False,
                email_from=False if self.partner_id else (self.number or self.email),
            )

    # ------------------------------------------------------------------
    # Late: unanswered past the company's response target
    # ------------------------------------------------------------------

    @api.model
    def _late(self, companies, now):
        """The replies of ``companies`` still unanswered ``now`` after more
        working hours (each company's calendar) than its response target."""
        late = self.browse()
        for company in companies:
            target = company.insurance_reply_target_hours
            calendar = company.resource_calendar_id
            waiting = self.sudo().search(
                [
                    ("company_id", "=", company.id),
                    ("answered_at", "=", False),
                    ("kind", "!=", "stop"),
                    ("received_at", "<=", now - timedelta(hours=target)),
                ],
                order="received_at",
            )
            end = pytz.utc.localize(now)
            for reply in waiting:
                start = pytz.utc.localize(reply.received_at)
                hours = (
                    calendar.get_work_hours_count(start, end, compute_leaves=False)
                    if calendar
                    else (end - start).total_seconds() / 3600
                )
                if hours > target:
                    late |= reply
        return late

    # ------------------------------------------------------------------
    # Answered
    # ------------------------------------------------------------------

    @api.model
    def _action_for(self, domain):
        """The replies of ``domain`` (a client's, a document's), as a list."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_notify_reply"
        )
        action["domain"] = domain
        action["context"] = {"create": False}
        return action

    @api.model
    def _action_reply_by_sms_for(self, domain):
        """Reply by SMS from a client card or a document: to its latest SMS reply."""
        reply = self.search([*domain, ("number", "!=", False)], limit=1)
        if not reply:
            raise UserError(self.env._("No SMS from this client to answer yet."))
        return reply.action_reply_by_sms()

    def action_reply_by_sms(self):
        """Open the composer: the thread with this number, the text, its counter."""
        self.ensure_one()
        self.check_access("read")
        self._check_answerable_by_sms()
        return self.env["insurance.notify.reply.compose"]._action_open(self)

    def _whatsapp_window_open(self, now):
        """Whether this WhatsApp reply's client may be answered there as free
        text: Meta allows it within 24 hours of the client's own last message
        (not ours) from this number."""
        self.ensure_one()
        if self.channel != "whatsapp" or self.gateway_id.provider != "whatsapp":
            return False
        return bool(
            self.sudo().search_count(
                [
                    ("company_id", "=", self.company_id.id),
                    ("channel", "=", "whatsapp"),
                    ("number", "=", self.number),
                    ("received_at", ">", now - timedelta(hours=24)),
                ],
                limit=1,
            )
        )

    def _check_answerable_by_sms(self):
        """A reply is answered by SMS from its number; never after a STOP."""
        self.ensure_one()
        if not self.number:
            raise UserError(
                self.env._("This reply came without a phone number: answer it by e-mail.")
            )
        stopped = self.kind == "stop" or self.sudo().search_count(
            [
                ("company_id", "=", self.company_id.id),
                ("number", "=", self.number),
                ("kind", "=", "stop"),
            ],
            limit=1,
        )
        listed = (
            self.env["phone.blacklist"].sudo().search_count([("number", "=", self.number)], limit=1)
        )
        if stopped or listed:
            raise UserError(
                self.env._(
                    "%(number)s replied STOP (or is blacklisted): it is never answered by SMS. "
                    "Call the client or write an e-mail.",
                    number=self.number,
                )
            )

    def _answered_by(self, message):
        """The broker's answer ``message`` is queued: the reply (and the other
        unanswered ones of its activity) are answered, the activity done."""
        self.ensure_one()
        activity = self.activity_id
        answered = (
            self
            | self.sudo().search([("activity_id", "=", activity.id), ("answered_at", "=", False)])
            if activity
            else self
        )
        answered._mark_answered()
        if activity.exists():
            activity.sudo().action_feedback(
                feedback=self.env._("Answered by SMS: %(text)s", text=message.body or "")
            )

    def _thread_html(self, limit=10):
        """The latest messages with this number, both ways, oldest first (escaped)."""
        self.ensure_one()
        if not self.number:
            return False
        lines = []
        for reply in self.search(
            [("company_id", "=", self.company_id.id), ("number", "=", self.number)],
            order="received_at desc, id desc",
            limit=limit,
        ):
            who = reply.partner_id.display_name or reply.number
            lines.append((reply.received_at, who, reply.text))
        sent = (
            self.env["insurance.notify.message"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("channel", "=", "sms"),
                    ("number", "=", self.number),
                    ("state", "in", ("sent", "delivered", "queued", "sending")),
                ],
                order="id desc",
                limit=limit,
            )
        )
        for message in sent:
            when = message.sent_at or message.scheduled_at
            lines.append((when, self.company_id.name, message.body))
        lines = sorted(lines, key=lambda line: line[0])[-limit:]
        return Markup("").join(
            Markup("<p><small>%s — %s</small><br/>%s</p>")
            % (format_datetime(self.env, when), who, plaintext2html(text or ""))
            for when, who, text in lines
        )

    def _mark_answered(self, when=None):
        """The broker answered: the response time is measured once."""
        when = when or self.env["insurance.notify.message"]._now()
        for reply in self.filtered(lambda r: not r.answered_at):
            minutes = max(int((when - reply.received_at).total_seconds() // 60), 0)
            reply.sudo().write({"answered_at": when, "response_minutes": minutes})
