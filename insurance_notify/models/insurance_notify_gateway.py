import logging
import secrets

from werkzeug.urls import url_join

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..lib.notify_engine import optout
from ..lib.notify_engine.gateways import PROVIDERS, make_gateway

_logger = logging.getLogger(__name__)

DEFAULT_API_URLS = {
    "smsapi": "https://api.smsapi.pl",
    "twilio": "https://api.twilio.com",
    "whatsapp": "https://graph.facebook.com",
}

# Delivery-report routes (see controllers/main.py), completed by the gateway's secret.
DLR_ROUTES = {
    "smsapi": "/insurance_notify/dlr/smsapi/",
    "twilio": "/insurance_notify/dlr/twilio/",
    # Meta posts statuses and clients' messages to one address (controllers/whatsapp.py).
    "whatsapp": "/insurance_notify/whatsapp/",
}
# Inbound-message (reply) routes, completed by the same secret.
INBOUND_ROUTES = {
    "smsapi": "/insurance_notify/inbound/smsapi/",
    "twilio": "/insurance_notify/inbound/twilio/",
    "whatsapp": "/insurance_notify/whatsapp/",
}


# One delivery report or inbound request names at most this many messages: a
# provider batches a few hundred; more is a mistake or an attack, and each
# report costs a lookup.
MAX_REPORTS_PER_REQUEST = 1000


def _new_secret():
    return secrets.token_urlsafe(24)


class InsuranceNotifyGateway(models.Model):
    _name = "insurance.notify.gateway"
    _description = "SMS Gateway"
    _order = "sequence, id"
    _check_company_auto = True

    # Translated: the shipped sandbox reads "Piaskownica" to a Polish broker.
    name = fields.Char(required=True, translate=True)
    provider = fields.Selection(
        [
            ("sandbox", "Sandbox (keeps messages, sends nothing)"),
            ("smsapi", "SMSAPI"),
            ("twilio", "Twilio"),
            ("whatsapp", "WhatsApp (Meta Cloud API)"),
        ],
        required=True,
        default="sandbox",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    sender = fields.Char(help="The sender name registered with the provider.")
    # Where the credentials are sent: whoever sets it receives the token, so it
    # is the administrators' like the token itself.
    api_url = fields.Char(
        string="API URL",
        groups="base.group_system",
        help="Leave empty for the provider's usual address (SMSAPI: https://api.smsapi.pl, "
        "use https://api.smsapi.com for SMSAPI.com).",
    )
    test_mode = fields.Boolean(
        help="SMSAPI validates the messages and bills nothing, but sends none of them."
    )
    flash = fields.Boolean(help="SMSAPI flash SMS: shown on the screen, not stored.")
    # Credentials: the system group only, read through sudo() when sending.
    smsapi_token = fields.Char(string="SMSAPI Token", groups="base.group_system", copy=False)
    twilio_account_sid = fields.Char(
        string="Twilio Account SID", groups="base.group_system", copy=False
    )
    twilio_auth_token = fields.Char(groups="base.group_system", copy=False)
    twilio_messaging_service_sid = fields.Char(
        string="Twilio Messaging Service SID", groups="base.group_system"
    )
    whatsapp_access_token = fields.Char(groups="base.group_system", copy=False)
    whatsapp_phone_number_id = fields.Char(
        string="WhatsApp Phone Number ID", groups="base.group_system", copy=False
    )
    whatsapp_business_account_id = fields.Char(
        string="WhatsApp Business Account ID", groups="base.group_system", copy=False
    )
    whatsapp_app_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        help="The Meta app's secret: Meta signs every webhook with it (X-Hub-Signature-256).",
    )
    whatsapp_verify_token = fields.Char(
        groups="base.group_system",
        copy=False,
        default=lambda self: _new_secret(),
        help="Given to Meta with the webhook address; Meta repeats it to check the address.",
    )
    whatsapp_price_utility = fields.Monetary(
        string="Price per Utility Message", help="What Meta bills for a utility template message."
    )
    whatsapp_price_marketing = fields.Monetary(
        string="Price per Marketing Message",
        help="What Meta bills for a marketing template message.",
    )
    webhook_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        default=lambda self: _new_secret(),
        help="Part of the delivery-report address: a report with another secret is refused.",
    )
    delivery_report_url = fields.Char(
        compute="_compute_delivery_report_url",
        groups="base.group_system",
        help="Where the provider sends delivery reports; set automatically with each message.",
    )
    inbound_url = fields.Char(
        string="Inbound Messages URL",
        compute="_compute_delivery_report_url",
        groups="base.group_system",
        help="Where the provider forwards clients' replies: a reply STOP opts the number out.",
    )
    opt_out_text = fields.Char(
        string="Opt-out Line",
        translate=True,
        help="Appended to marketing SMS when the send asks for it, e.g. "
        "'STOP to 4xxxx' (the number replies reach).",
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    max_delay_hours = fields.Integer(
        string="Give Up After (hours)",
        default=24,
        help="A message the provider could not take for this long after it was due "
        "fails as too late (0: never give up while its event is ahead).",
    )
    outage_since = fields.Datetime(
        readonly=True, help="Since when the provider has been unavailable (empty: it answers)."
    )
    last_outage_start = fields.Datetime(readonly=True)
    last_outage_end = fields.Datetime(readonly=True)
    parallel_requests = fields.Integer(
        default=10,
        help="How many requests to the provider are in flight at once while a chunk is sent.",
    )
    rate_per_second = fields.Float(
        string="Messages per Second",
        help="The sender's throughput at the provider (Twilio: about 1 for a long code, "
        "10 for an alphanumeric sender); requests start no faster. 0: no limit.",
    )
    cost_per_part = fields.Monetary(
        help="What the provider bills for one SMS part, for cost estimates and history."
    )

    # Banners of the form: what the company's reminders and stock SMS go through.
    reminders_in_sandbox = fields.Boolean(
        compute="_compute_routing_notice",
        help="The company's reminders go to the sandbox: kept, not sent.",
    )
    sends_stock_sms = fields.Boolean(
        string="Sends Odoo's own SMS",
        compute="_compute_routing_notice",
        help="Chosen in the settings for Odoo's own SMS (chatter, composer, marketing, "
        "calendar, project) instead of Odoo IAP.",
    )

    @api.depends("company_id", "provider", "sequence", "active")
    def _compute_routing_notice(self):
        for gateway in self:
            company = gateway.company_id
            reminder = company._insurance_reminder_gateway() if company else gateway.browse()
            gateway.reminders_in_sandbox = reminder.provider == "sandbox"
            gateway.sends_stock_sms = bool(
                company and gateway.id and company.sudo().insurance_stock_sms_gateway_id == gateway
            )

    @api.depends("provider", "webhook_secret")
    def _compute_delivery_report_url(self):
        for gateway in self:
            gateway.delivery_report_url = gateway._delivery_report_url()
            gateway.inbound_url = gateway._delivery_report_url(INBOUND_ROUTES)

    @api.model_create_multi
    def create(self, vals_list):
        # Odoo checks field groups on write, not on create: a manager must not
        # create a gateway with a provider address or credentials of their own
        # (every client's SMS would go there), not even through a context default.
        if not self.env.su:
            names = {name for vals in vals_list for name in vals}
            names |= {key[8:] for key in self.env.context if key.startswith("default_")}
            self.check_field_access_rights("create", [n for n in names if n in self._fields])
        return super().create(vals_list)

    @api.model
    def _default_for_company(self, company):
        """The company's first active SMS gateway: the one reminders use by
        default (a WhatsApp gateway sends no SMS)."""
        return self.search(
            [("company_id", "=", company.id), ("provider", "!=", "whatsapp")], limit=1
        )

    def _make_adapter(self):
        self.ensure_one()
        return make_gateway(self.provider, **self.sudo()._adapter_settings())

    def _adapter_settings(self):
        """Keyword arguments of the provider's adapter (called on ``self.sudo()``)."""
        self.ensure_one()
        if self.provider == "smsapi":
            if not self.smsapi_token:
                raise UserError(
                    self.env._("The SMS gateway %(name)s has no SMSAPI token.", name=self.name)
                )
            return {
                "token": self.smsapi_token,
                "sender": self.sender or None,
                "api_url": self.api_url or DEFAULT_API_URLS["smsapi"],
                "test_mode": self.test_mode,
                "flash": self.flash,
                "notify_url": self._delivery_report_url(),
                **self._throughput_settings(),
            }
        if self.provider == "twilio":
            if not (self.twilio_account_sid and self.twilio_auth_token):
                raise UserError(
                    self.env._(
                        "The SMS gateway %(name)s needs a Twilio account SID and auth token.",
                        name=self.name,
                    )
                )
            return {
                "account_sid": self.twilio_account_sid,
                "auth_token": self.twilio_auth_token,
                "sender": self.sender or None,
                "messaging_service_sid": self.twilio_messaging_service_sid or None,
                "api_url": self.api_url or DEFAULT_API_URLS["twilio"],
                "status_callback": self._delivery_report_url(),
                **self._throughput_settings(),
            }
        if self.provider == "whatsapp":
            if not (self.whatsapp_access_token and self.whatsapp_phone_number_id):
                raise UserError(
                    self.env._(
                        "The gateway %(name)s needs a WhatsApp access token and phone number ID.",
                        name=self.name,
                    )
                )
            return {
                "access_token": self.whatsapp_access_token,
                "phone_number_id": self.whatsapp_phone_number_id,
                "business_account_id": self.whatsapp_business_account_id or None,
                "api_url": self.api_url or DEFAULT_API_URLS["whatsapp"],
                **self._throughput_settings(),
            }
        return {}

    def _throughput_settings(self):
        return {"concurrency": self.parallel_requests or None, "rate": self.rate_per_second or None}

    @api.constrains("parallel_requests", "rate_per_second")
    def _check_throughput(self):
        for gateway in self:
            if not 1 <= gateway.parallel_requests <= 100:
                raise ValidationError(self.env._("Parallel requests must be between 1 and 100."))
            if gateway.rate_per_second < 0:
                raise ValidationError(self.env._("Messages per second cannot be negative."))

    def _is_idempotent(self):
        """Whether resending under the same key never duplicates at this provider."""
        self.ensure_one()
        return PROVIDERS[self.provider].idempotent

    def _message_cost(self, channel, parts=1, whatsapp_template=None):
        """What one message costs at this gateway, for estimates and history.

        Meta bills a WhatsApp template message once, at its category's price
        (however long the text); an SMS is billed per part. A WhatsApp text
        without a template (an answer in the 24-hour window the client opened)
        is a free service message. Authentication templates have no price of
        their own here: no reminder uses them, and Meta bills them near utility.
        """
        self.ensure_one()
        if channel == "whatsapp":
            if not whatsapp_template:
                return 0.0
            if whatsapp_template.category == "marketing":
                return self.whatsapp_price_marketing
            return self.whatsapp_price_utility
        if channel == "sms":
            return (parts or 0) * self.cost_per_part
        return 0.0

    def _note_availability(self, answered, now):
        """Remember when the provider went down and came back, for the daily report."""
        self.ensure_one()
        if not answered and not self.outage_since:
            self.sudo().write({"outage_since": now, "last_outage_start": now})
            _logger.warning("SMS gateway %s: the provider is unavailable", self.id)
        elif answered and self.outage_since:
            self.sudo().write({"outage_since": False, "last_outage_end": now})
            _logger.info("SMS gateway %s: the provider answers again", self.id)

    def _delivery_report_url(self, routes=DLR_ROUTES):
        """The public address of this gateway's delivery reports (or of another
        of its webhooks, from ``routes``), or False."""
        self.ensure_one()
        route = routes.get(self.provider)
        secret = self.sudo().webhook_secret
        if not route or not secret or not self.id:
            return False
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        return url_join(base_url, route + secret)

    def _check_administrator(self):
        """Credentials, provider URLs and webhook secrets are the administrators'
        alone: refuse anyone else before any sudo()."""
        if not self.env.is_system():
            raise AccessError(
                self.env._(
                    "Only administrators (Settings) can see or change an SMS gateway's "
                    "credentials, provider address and webhook secret."
                )
            )
        self.check_access("write")

    def action_regenerate_webhook_secret(self):
        self._check_administrator()
        for gateway in self:
            gateway.sudo().webhook_secret = _new_secret()
            _logger.info(
                "SMS gateway %s: webhook secret replaced by user %s", gateway.id, self.env.uid
            )
        return True

    def action_test_connection(self):
        """Check the credentials with the provider; bills and sends nothing."""
        self.ensure_one()
        # The test sends the credentials to the provider's address.
        self._check_administrator()
        try:
            adapter = self._make_adapter()
        except ValueError as error:
            ok, answer = False, str(error)
        else:
            with adapter:
                ok, answer = adapter.test_connection()
        _logger.info("SMS gateway %s connection test: %s", self.id, "ok" if ok else "failed")
        title = self.env._("Connection works") if ok else self.env._("Connection failed")
        provider = dict(self._fields["provider"]._description_selection(self.env))[self.provider]
        message = self.env._("%(provider)s answered: %(answer)s", provider=provider, answer=answer)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": "success" if ok else "danger",
                "sticky": not ok,
            },
        }

    def _find_by_secret(self, provider, secret):
        """The gateway whose delivery reports carry ``secret``, or an empty recordset."""
        if not secret or len(secret) < 16:
            return self.browse()
        # An archived gateway still hears about the messages it sent.
        gateway = (
            self.sudo()
            .with_context(active_test=False)
            .search([("provider", "=", provider), ("webhook_secret", "=", secret)], limit=1)
        )
        if gateway and secrets.compare_digest(gateway.webhook_secret, secret):
            return gateway
        return self.browse()

    @api.model
    def _cap_reports(self, reports, what="delivery reports"):
        """At most MAX_REPORTS_PER_REQUEST distinct reports of one request."""
        unique = list(dict.fromkeys(reports))
        if len(unique) > MAX_REPORTS_PER_REQUEST:
            _logger.info(
                "%s %s in one request: the first %s are applied, the rest ignored",
                len(unique),
                what,
                MAX_REPORTS_PER_REQUEST,
            )
            unique = unique[:MAX_REPORTS_PER_REQUEST]
        return unique

    def _known_reports(self, reports):
        """(reports naming a message this gateway sent, the others), in one query:
        a report of ids nobody sent costs one lookup, not one per id."""
        self.ensure_one()
        refs = [report.provider_ref for report in reports if report.provider_ref]
        keys = [report.key for report in reports if report.key]
        Message = self.env["insurance.notify.message"].sudo()
        if not (refs or keys):
            return [], list(reports)
        found = Message.search_read(
            [
                ("gateway_id", "=", self.id),
                ("channel", "in", ("sms", "whatsapp")),
                "|",
                ("provider_ref", "in", refs),
                ("key", "in", keys),
            ],
            ["provider_ref", "key"],
        )
        known_refs = {row["provider_ref"] for row in found if row["provider_ref"]}
        known_keys = {row["key"] for row in found}
        known, others = [], []
        for report in reports:
            named = report.provider_ref in known_refs or report.key in known_keys
            (known if named else others).append(report)
        return known, others

    def _apply_delivery_reports(self, reports):
        """Apply provider reports to this gateway's reminders (its company's only)
        and to stock SMS; return how many named one."""
        self.ensure_one()
        reports = self._cap_reports(reports)
        known, others = self._known_reports(reports)
        unmatched = (
            self.env["insurance.notify.message"]._apply_delivery_reports(self, known)
            if known
            else []
        )
        others += unmatched
        stock = self.env["sms.sms"]._apply_delivery_reports(others, self) if others else 0
        return len(reports) - len(others) + stock

    def _apply_inbound(self, inbound):
        """Keep every client's reply (insurance.notify.reply) and hand it to its
        broker; an opt-out (STOP) first withdraws SMS. Returns the opt-outs."""
        self.ensure_one()
        opted_out = 0
        Reply = self.env["insurance.notify.reply"].sudo()
        for message in self._cap_reports(inbound, "inbound messages"):
            # Only a reply that is nothing but the keyword withdraws consent:
            # "Cancel the meeting on Friday" is a client's message, not a STOP;
            # every reply is kept and reaches its broker either way.
            word = optout.keyword(message.text)
            stop = bool(word)
            if stop:
                self.env["res.partner"]._insurance_opt_out_number(
                    message.number,
                    self.company_id,
                    self.env._("Replied %(word)s to %(gateway)s", word=word, gateway=self.name),
                    channel="whatsapp" if self.provider == "whatsapp" else "sms",
                )
                opted_out += 1
            Reply._receive_sms(self, message, stop=stop)
        return opted_out
