"""What a message is sent with, whoever produced it.

Automatic rules, bulk sends and task reminders inherit this model: it holds the
templates, consent mode, sending window, timezone, gateway, transliteration,
part limit and sender name, and decides whom a sender reaches on which channel.
``insurance.notify.message._enqueue`` and the dispatcher read a sender only
through the methods below, so a new kind of sender is one model that inherits
this one and says how it keys its messages (``_notify_key``).
"""

from collections import namedtuple

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from odoo.addons.base.models.res_partner import _tz_get

from ..lib.notify_engine import consent, phone, schedule
from .notify_event_sources import BASE_SOURCES
from .notify_reasons import CONSENT_REASONS, MISSING_ADDRESS

# The address a sender reaches a partner at, and why not (a reason code) or None.
Recipient = namedtuple("Recipient", "channel number email timezone reason")

# One message to put in the queue. ``res_model``/``res_id``: the document it is
# about; ``skip``: a reason code not to send it; ``not_before``: the earliest
# moment it may leave (else now); ``number``/``email``: an address chosen for
# this message instead of the partner's; ``body``: a free text instead of the
# template; ``key`` and ``gateway_id``: chosen by the producer, for senders that
# take them (direct messages).
# ``control``: the occurrence is in the sender's control group (recorded,
# never sent, when nothing else keeps it from leaving); ``variant``: the
# template variant it is sent with ("a"/"b"), else None.
QueueItem = namedtuple(
    "QueueItem",
    "res_model res_id partner_id policy_id offset event_date skip not_before "
    "number email body key gateway_id control variant",
    defaults=(None, 0, None, None, None, None, None, None, None, None, False, None),
)

# Direct messages (a test SMS) go at once, day or night: someone pressed a
# button and waits for them.
ALWAYS = (0.0, 24.0, None)

HOUR_WINDOW_HELP = (
    "Local time of the recipient (partner, else company, else the sender's timezone)."
)
SEND_DAYS = {
    "all": None,
    "mon_sat": frozenset(range(6)),
    "mon_fri": frozenset(range(5)),
}


class InsuranceNotifySender(models.AbstractModel):
    _name = "insurance.notify.sender"
    _description = "Notification Sender Settings"

    # An agency's senders use its own templates or shared ones (check_company);
    # a template in use is not deleted, whatever tries (restrict).
    sms_template_id = fields.Many2one(
        "sms.template", string="SMS Template", check_company=True, ondelete="restrict"
    )
    mail_template_id = fields.Many2one(
        "mail.template", string="E-mail Template", check_company=True, ondelete="restrict"
    )
    gateway_id = fields.Many2one(
        "insurance.notify.gateway",
        string="SMS Gateway",
        help="Leave empty to use the company's default gateway.",
    )
    consent_mode = fields.Selection(
        [
            ("none", "Not required"),
            ("general", "General (marketing consent)"),
            ("specific", "Specific (consent to this notification)"),
        ],
        string="Client Consent",
        required=True,
        help="Service reminders rest on the contract; anything promotional needs consent. "
        "A withdrawn consent or a blacklisted number stops a message even when queued.",
    )
    timezone = fields.Selection(
        _tz_get,
        default="Europe/Warsaw",
        required=True,
        help="Used for clients whose card and company have no timezone.",
    )
    window_start = fields.Float(string="Send From", default=8.0, help=HOUR_WINDOW_HELP)
    window_end = fields.Float(string="Send Until", default=20.0, help=HOUR_WINDOW_HELP)
    send_days = fields.Selection(
        [
            ("all", "Every day"),
            ("mon_sat", "Monday to Saturday"),
            ("mon_fri", "Monday to Friday"),
        ],
        string="Sending Days",
        required=True,
        default="all",
    )
    sms_transliterate = fields.Boolean(
        string="Transliterate",
        help="Replace letters GSM-7 lacks (ą → a, š → s) so a part holds 160 characters, "
        "not 70. Taken from the template when it is chosen; then this box decides.",
    )
    sms_max_parts = fields.Integer(
        string="Max. SMS Parts",
        help="A rendered message with more parts is not sent: it fails as too long. "
        "0 uses the template's limit (none if it has none).",
    )
    sms_sender = fields.Char(
        string="SMS Sender", help="A sender name registered with the provider; else the gateway's."
    )

    sms_gateway_notice = fields.Selection(
        [
            ("missing", "No SMS gateway: SMS cannot leave"),
            ("sandbox", "Sandbox: SMS are kept, not sent"),
        ],
        string="SMS Gateway Notice",
        compute="_compute_sms_gateway_notice",
        help="What this sender's SMS will meet: no gateway at all (a fresh install "
        "without demo data asks the administrator to choose one) or the sandbox, "
        "which keeps messages and sends nothing.",
    )

    @api.depends("channel", "gateway_id", "gateway_id.provider")
    @api.depends_context("company")
    def _compute_sms_gateway_notice(self):
        for sender in self:
            if sender.channel == "email":
                sender.sms_gateway_notice = False
                continue
            gateway = sender._notify_gateway()
            if not gateway:
                sender.sms_gateway_notice = "missing"
            elif gateway.provider == "sandbox":
                sender.sms_gateway_notice = "sandbox"
            else:
                sender.sms_gateway_notice = False

    # One setting decides what leaves: the sender's box. It starts as its
    # template's (chosen in the form, or given on creation), so a rule whose
    # box is unticked never sends "zl" because its template transliterates.
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "sms_transliterate" not in vals and vals.get("sms_template_id"):
                template = self.env["sms.template"].browse(vals["sms_template_id"])
                vals["sms_transliterate"] = template.sms_transliterate
        return super().create(vals_list)

    @api.onchange("sms_template_id")
    def _onchange_sms_template_transliterate(self):
        if self.sms_template_id:
            self.sms_transliterate = self.sms_template_id.sms_transliterate

    @api.constrains("window_start", "window_end")
    def _check_window(self):
        for sender in self:
            if not 0 <= sender.window_start < sender.window_end <= 24:
                raise ValidationError(
                    self.env._(
                        "The sending window must start before it ends, between 00:00 and 24:00."
                    )
                )

    @api.constrains("sms_template_id", "mail_template_id")
    def _check_templates_render(self):
        """A template holding code no administrator wrote would fail every
        message: refused when chosen, not at 8 a.m."""
        for sender in self:
            sender.sms_template_id._insurance_check_render_safe()
            sender.mail_template_id._insurance_check_render_safe()

    @api.constrains("sms_max_parts")
    def _check_sms_max_parts(self):
        if any(sender.sms_max_parts < 0 for sender in self):
            raise ValidationError(self.env._("The maximum number of SMS parts cannot be negative."))

    # ------------------------------------------------------------------
    # Where events come from
    # ------------------------------------------------------------------

    @api.model
    def _notify_event_sources(self):
        """{event type: EventSource} of this database (notify_event_sources.py).

        A module adds event types by extending this method through
        ``super()`` (the Accounting bridge adds invoices): they then exist in
        the databases where that module is installed, and only there. A new
        dict at each call, so no caller can change another's."""
        return dict(BASE_SOURCES)

    # ------------------------------------------------------------------
    # What every message of this sender is sent with
    # ------------------------------------------------------------------

    def _notify_key(self, item):
        """The message's unique key: one message per sender, record, offset,
        channel and event date."""
        raise NotImplementedError

    def _notify_company(self):
        self.ensure_one()
        return self.company_id or self.env.company

    def _notify_channels(self):
        """The channels tried in order: the first one reaching the partner wins."""
        self.ensure_one()
        if self.channel == "sms_email":
            return ["sms", "email"]
        if self.channel == "whatsapp_sms":
            return ["whatsapp", "sms"]
        return [self.channel]

    def _notify_own_channel(self, item):
        """The channel of an item whose partner this sender reaches on no
        channel of its own (``_recipients`` says nothing of them)."""
        return "sms" if item.number else "email"

    def _notify_window(self):
        """(start hour, end hour, weekdays or None) of the sending window."""
        self.ensure_one()
        return self.window_start, self.window_end, SEND_DAYS[self.send_days or "all"]

    def _notify_gateway(self):
        """The SMS gateway (a WhatsApp gateway chosen on the sender sends no SMS)."""
        self.ensure_one()
        if self.gateway_id and self.gateway_id.provider != "whatsapp":
            return self.gateway_id
        return (
            self.env["insurance.notify.gateway"].sudo()._default_for_company(self._notify_company())
        )

    def _notify_whatsapp_gateway(self):
        """The sender's gateway if it is a WhatsApp one, else its company's first."""
        self.ensure_one()
        if self.gateway_id.provider == "whatsapp":
            return self.gateway_id
        return (
            self.env["insurance.notify.gateway"]
            .sudo()
            .search(
                [("company_id", "=", self._notify_company().id), ("provider", "=", "whatsapp")],
                limit=1,
            )
        )

    def _notify_whatsapp_event(self):
        """The event type whose WhatsApp templates this sender sends, or None."""
        return

    def _notify_whatsapp_templates(self):
        """The approved WhatsApp templates of this sender's event and company."""
        self.ensure_one()
        event = self._notify_whatsapp_event()
        Template = self.env["insurance.whatsapp.template"].sudo()
        if not event:
            return Template
        return Template.search(
            [
                ("company_id", "=", self._notify_company().id),
                ("event_type", "=", event),
                ("status", "=", "approved"),
            ],
            order="id",
        )

    def _notify_whatsapp_template(self, partner, templates=None):
        """The template ``partner`` reads: in their language (pl_PL -> pl), else
        English, else the first approved one; empty when there is none."""
        self.ensure_one()
        if templates is None:
            templates = self._notify_whatsapp_templates()
        if not templates:
            return templates
        lang = partner.lang or self._notify_company().partner_id.lang or "en_US"
        by_code = {t.language_code.lower(): t for t in reversed(templates)}
        for code in (lang.lower(), lang.split("_")[0].lower(), "en", "en_us", "en_gb"):
            if code in by_code:
                return by_code[code]
        return templates[0]

    def _notify_templates(self, variant=False):
        """(SMS template, e-mail template) of the message's ``variant``."""
        self.ensure_one()
        return self.sms_template_id, self.mail_template_id

    def _notify_sms_options(self):
        """(transliterate, max parts or 0): the sender's own box (see create),
        and its part limit, else its template's."""
        self.ensure_one()
        return self.sms_transliterate, self.sms_max_parts or self.sms_template_id.sms_max_parts

    def _consent_requirements(self):
        """(consent mode, res.partner field of the specific consent or None)."""
        self.ensure_one()
        return self.consent_mode, None

    def _notify_free_text(self, message):
        """The text ``message`` sends when the sender has no template for its channel."""
        return False

    def _notify_mail_subject(self):
        """The subject of an e-mail sent without a template."""
        self.ensure_one()
        return self.display_name

    def _notify_email_from(self):
        """The sender's own from-address for e-mails without a template, else False."""
        return False

    def _notify_is_reminder(self):
        """Automatic reminders join a client's other reminders of the moment into
        one SMS and count in the client's daily limit; other messages go alone."""
        return False

    def _notify_measures_outcome(self):
        """Whether this sender's messages ask for something measurable (a
        renewal, a payment): they start with a pending outcome."""
        return False

    def _notify_is_interactive(self):
        """Someone waits for the answer: sent once, at once, never held for a
        provider's outage or retried."""
        return False

    def _notify_stopped(self):
        """(reason code, parameters) when this sender was stopped and its queued
        messages must not leave, else None. Read at send time."""
        return

    def _notify_dispatched(self):
        """Called once a chunk holding this sender's messages was sent."""
        return

    def _notify_suffix(self):
        """What every SMS of this sender ends with (an opt-out line)."""
        return ""

    def _notify_is_late(self, message, today):
        """A reason code when ``message`` has lost its point on ``today``, else None.
        By default an event ahead of its reminder (an expiry, a due date) is
        pointless once passed; senders whose events are past by nature say otherwise."""
        if message.event_date and message.event_date < today:
            return "event_passed"
        return None

    # ------------------------------------------------------------------
    # Whom it reaches
    # ------------------------------------------------------------------

    def _recipients(self, partners, today):
        """partner id -> Recipient: the channel this sender reaches them on, the
        address, their timezone, and the reason code not to send (or None)."""
        self.ensure_one()
        company_tz = self._notify_company().partner_id.tz
        specific_field = self._consent_requirements()[1]
        channels = self._notify_channels()
        whatsapp = {}
        if "whatsapp" in channels:
            # Searched once for all partners; no gateway: WhatsApp cannot go.
            gateway = self._notify_whatsapp_gateway()
            whatsapp = {"templates": self._notify_whatsapp_templates(), "gateway": gateway}
        # Only the columns deciding a recipient: a partner has dozens more.
        partners.fetch(
            [
                "tz",
                "phone_sanitized",
                "email_normalized",
                "consent_sms",
                "consent_email",
                "consent_marketing",
                "consent_valid_until",
                *(["consent_whatsapp", "lang"] if "whatsapp" in channels else []),
                *([specific_field] if specific_field else []),
            ]
        )
        bl_numbers, bl_emails = self._blacklisted(
            [number for number in partners.mapped("phone_sanitized") if number],
            [email for email in partners.mapped("email_normalized") if email],
        )
        return {
            partner.id: self._recipient(
                partner,
                channels,
                today,
                schedule.resolve_timezone(partner.tz, company_tz, default=self.timezone),
                bl_numbers,
                bl_emails,
                whatsapp=whatsapp,
            )
            for partner in partners
        }

    def _blacklisted(self, numbers, emails):
        """(blacklisted numbers, blacklisted e-mails) among these normalized
        addresses. Both blacklists hold normalized values: compare in SQL, not
        through their search, which re-formats every number."""
        self.env["phone.blacklist"].flush_model()
        self.env["mail.blacklist"].flush_model()
        numbers = {
            number
            for (number,) in self.env.execute_query(
                SQL("SELECT number FROM phone_blacklist WHERE active AND number = ANY(%s)", numbers)
            )
        }
        emails = {
            email
            for (email,) in self.env.execute_query(
                SQL("SELECT email FROM mail_blacklist WHERE active AND email = ANY(%s)", emails)
            )
        }
        return numbers, emails

    def _recipient(self, partner, channels, today, timezone, bl_numbers, bl_emails, whatsapp=None):
        reason = None
        for channel in channels:
            template = None
            if channel == "whatsapp":
                # WhatsApp goes only with an approved template in the client's
                # language (or a fallback one) through a WhatsApp gateway.
                whatsapp = whatsapp or {}
                template = self._notify_whatsapp_template(partner, whatsapp.get("templates"))
                if not (template and whatsapp.get("gateway")):
                    reason = reason or "no_whatsapp_template"
                    continue
            if channel in ("sms", "whatsapp"):
                address = partner.phone_sanitized
                blacklisted = address in bl_numbers
            else:
                address = partner.email_normalized
                blacklisted = address in bl_emails
            if not address:
                reason = reason or MISSING_ADDRESS[channel]
                continue
            if channel in ("sms", "whatsapp") and not phone.is_mobile(address):
                # A landline on the card (mobile empty, phone filled) gets no SMS.
                reason = reason or "not_mobile"
                continue
            decision = self._consent_decision(partner, channel, blacklisted, today, template)
            if decision.allowed:
                reason = None
                break
            reason = reason or CONSENT_REASONS[decision.reason, channel]
        return Recipient(
            channel=channel,
            number=partner.phone_sanitized if channel in ("sms", "whatsapp") else False,
            email=partner.email_normalized if channel == "email" else False,
            timezone=timezone,
            reason=reason,
        )

    def _own_address(self, partner, channel, address, listed, today):
        """The Recipient for an address a message chose itself (a task
        reminder's typed number, an operator's mobile) rather than the card's;
        ``listed``: (blacklisted numbers, blacklisted e-mails)."""
        reason = None
        if not address:
            reason = MISSING_ADDRESS[channel]
        elif channel in ("sms", "whatsapp") and not phone.is_mobile(address):
            reason = "not_mobile"
        else:
            blacklisted = address in (listed[0] if channel in ("sms", "whatsapp") else listed[1])
            template = self._notify_whatsapp_template(partner) if channel == "whatsapp" else None
            decision = self._consent_decision(partner, channel, blacklisted, today, template)
            if not decision.allowed:
                reason = CONSENT_REASONS[decision.reason, channel]
        return Recipient(
            channel=channel,
            number=address if channel in ("sms", "whatsapp") else False,
            email=address if channel == "email" else False,
            timezone=False,
            reason=reason,
        )

    def _consent_decision(self, partner, channel, blacklisted, today, template=None):
        mode, specific_field = self._consent_requirements()
        if channel == "whatsapp":
            return consent.decide_whatsapp(
                mode,
                whatsapp_consent=partner.consent_whatsapp,
                marketing_template=bool(template) and template.category == "marketing",
                blacklisted=blacklisted,
                marketing=partner.consent_marketing,
                specific=bool(specific_field and partner[specific_field]),
                consent_valid_until=partner.consent_valid_until,
                today=today,
            )
        return consent.decide(
            mode,
            channel_allowed=partner.consent_sms if channel == "sms" else partner.consent_email,
            blacklisted=blacklisted,
            marketing=partner.consent_marketing,
            specific=bool(specific_field and partner[specific_field]),
            consent_valid_until=partner.consent_valid_until,
            today=today,
        )
