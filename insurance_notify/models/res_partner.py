import base64
import contextlib
import contextvars
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, RedirectWarning, ValidationError
from odoo.tools import SQL, email_normalize
from odoo.tools.misc import hash_sign, verify_hash_signed
from odoo.tools.sql import create_index

from ..lib.notify_engine import phone

PARAM_CONSENT_PHONE = "insurance_notify.default_consent_phone"
PARAM_CONSENT_EMAIL = "insurance_notify.default_consent_email"
PARAM_PREVENT_DUPLICATES = "insurance_notify.prevent_duplicate_clients"
UNSUBSCRIBE_SCOPE = "insurance_notify-unsubscribe"
# Set by our own client forms and imports (the Clients menu, a policy's client):
# there a mobile is normalized or refused, and duplicates are prevented. Other
# apps' partners (website forms, CRM, the mail gateway, project sharing, their
# imports) are never refused: an unreadable number is kept as typed and flagged.
CLIENT_CONTEXT = "insurance_client"

BOOLEAN_CONSENTS = (
    "consent_marketing",
    "consent_sms",
    "consent_email",
    "consent_whatsapp",
    "consent_viber",
    "consent_policy_expiry",
    "consent_installment",
    "consent_inspection",
    "consent_birthday",
    "consent_renewal_offer",
)
# Dates of the client card that events are planned on (birthday, consent renewal).
PLANNING_FIELDS = frozenset({"birthdate", "consent_valid_until"})
CONSENT_FIELDS = (*BOOLEAN_CONSENTS, "consent_valid_until")
# Service channels the default-consent settings may pre-tick; marketing and the
# purposes are always ticked by someone, with the client's word.
NEVER_DEFAULT = tuple(
    name
    for name in BOOLEAN_CONSENTS
    if name not in ("consent_sms", "consent_email", "consent_whatsapp", "consent_viber")
)
# Proof typed or attached on the client card with a consent change.
PROOF_FIELDS = ("consent_proof_text", "consent_proof_file", "consent_proof_filename")

# Where the consent change being written comes from, set by the entry point that
# received it (import, STOP webhook, unsubscribe page), never by the caller: a
# context key or an argument could be sent over RPC.
_CONSENT_ENTRY = contextvars.ContextVar("insurance_consent_entry", default=None)


@contextlib.contextmanager
def consent_entry(source, company=None, proof_text=None):
    token = _CONSENT_ENTRY.set({"source": source, "company": company, "proof_text": proof_text})
    try:
        yield
    finally:
        _CONSENT_ENTRY.reset(token)


def _param_default(param):
    def default(partner):
        return bool(partner.env["ir.config_parameter"].sudo().get_param(param))

    return default


class ResPartner(models.Model):
    _inherit = "res.partner"

    is_insurer = fields.Boolean(
        string="Insurer",
        help="An insurance company whose policies the brokerage sells.",
    )
    insurance_policy_ids = fields.One2many("insurance.policy", "partner_id", string="Policies")
    # The Clients menu lists these, not every contact of the database: holders
    # of a policy, and whoever a broker marks (or creates there) as a client.
    is_insurance_client = fields.Boolean(
        string="Insurance Client",
        compute="_compute_is_insurance_client",
        store=True,
        readonly=False,
        index=True,
        help="Listed under Insurance > Clients. Set by itself when the contact holds a policy.",
    )
    insurance_installment_ids = fields.One2many(
        "insurance.policy.installment", "partner_id", string="Installments"
    )
    birthdate = fields.Date()
    preferred_channel = fields.Selection(
        [
            ("sms", "SMS"),
            ("email", "E-mail"),
            ("phone", "Phone call"),
            ("whatsapp", "WhatsApp"),
            ("viber", "Viber"),
        ],
        string="Preferred Contact Channel",
    )

    # Consents. Channels say how a client may be reached; purposes say about
    # what. The planner combines them with notify_engine.consent.decide().
    consent_marketing = fields.Boolean(
        string="Marketing Consent", help="General consent to direct marketing."
    )
    consent_sms = fields.Boolean(string="SMS", default=_param_default(PARAM_CONSENT_PHONE))
    consent_email = fields.Boolean(string="E-mail", default=_param_default(PARAM_CONSENT_EMAIL))
    consent_whatsapp = fields.Boolean(
        string="WhatsApp", default=_param_default(PARAM_CONSENT_PHONE)
    )
    consent_viber = fields.Boolean(string="Viber", default=_param_default(PARAM_CONSENT_PHONE))
    consent_policy_expiry = fields.Boolean(string="Policy Expiry Reminders")
    consent_installment = fields.Boolean(string="Installment Reminders")
    consent_inspection = fields.Boolean(string="Technical Inspection Reminders")
    consent_birthday = fields.Boolean(string="Birthday Wishes")
    consent_renewal_offer = fields.Boolean(string="Renewal Offers")
    consent_valid_until = fields.Date(
        string="Consents Valid Until",
        index=True,  # the consent-renewal source reaches its day through it
        help="The last day the client's consents hold; a consent-renewal reminder "
        "asks the client to confirm them before.",
    )
    consent_log_ids = fields.One2many(
        "insurance.consent.log", "partner_id", string="Consent History", readonly=True
    )
    # Not stored on the card: saved with the consent changes they come with.
    consent_proof_text = fields.Text(
        string="Proof of Consent",
        compute="_compute_consent_proof",
        inverse="_inverse_consent_proof",
        help="The text the client agreed to, or how they gave or withdrew consent; kept "
        "in the consent history with the changes saved together with it.",
    )
    consent_proof_file = fields.Binary(
        string="Proof Document",
        compute="_compute_consent_proof",
        inverse="_inverse_consent_proof",
        help="A signed form or a scan, kept in the consent history with the changes "
        "saved together with it.",
    )
    consent_proof_filename = fields.Char(
        compute="_compute_consent_proof", inverse="_inverse_consent_proof"
    )

    insurance_notify_message_ids = fields.One2many(
        "insurance.notify.message", "partner_id", string="Notifications", readonly=True
    )
    insurance_mobile_unreadable = fields.Boolean(
        string="Mobile Number Unreadable",
        compute="_compute_insurance_mobile_unreadable",
        store=True,
        help="The mobile number cannot be read as a phone number of the client's country: "
        "SMS reminders skip it until it is corrected.",
    )
    insurance_shared_contact = fields.Boolean(
        string="Shared Number",
        help="Another client (a family member) uses the same mobile number or e-mail "
        "address: saving it is not refused as a duplicate.",
    )
    insurance_policy_count = fields.Integer(compute="_compute_insurance_counts")
    insurance_installment_open_count = fields.Integer(compute="_compute_insurance_counts")
    insurance_notify_message_count = fields.Integer(compute="_compute_insurance_counts")

    def init(self):
        """The birthday source finds the clients born on a given (month, day)
        through this index, so planning a day reads that day's clients, not
        the whole book (the expressions match the source's SQL exactly)."""
        result = super().init()
        create_index(
            self.env.cr,
            "res_partner_birthdate_month_day_index",
            self._table,
            ["(extract(month FROM birthdate))", "(extract(day FROM birthdate))"],
            where="birthdate IS NOT NULL",
        )
        return result

    @api.model
    def _consent_fields(self):
        return CONSENT_FIELDS

    @api.depends("mobile", "country_id", "company_id")
    def _compute_insurance_mobile_unreadable(self):
        for partner in self:
            if not partner.mobile:
                partner.insurance_mobile_unreadable = False
                continue
            try:
                phone.normalize(partner.mobile, partner._phone_region())
            except phone.InvalidPhone:
                partner.insurance_mobile_unreadable = True
            else:
                partner.insurance_mobile_unreadable = False

    @api.model
    def _insurance_client_entry(self):
        """Is this an entry made in our own client forms or imports?"""
        return bool(self.env.context.get(CLIENT_CONTEXT))

    def _compute_consent_proof(self):
        for partner in self:
            partner.consent_proof_text = False
            partner.consent_proof_file = False
            partner.consent_proof_filename = False

    def _inverse_consent_proof(self):
        """Nothing to store: create() and write() take the proof out of the values."""

    @api.model
    def default_get(self, fields_list):
        # Marketing and purpose consents are never pre-ticked: not by a context
        # default, a saved default (ir.default) or an import's defaults.
        defaults = super().default_get(fields_list)
        for name in NEVER_DEFAULT:
            defaults.pop(name, None)
        return defaults

    @api.model
    def load(self, fields, data):
        """An import is an entry point: its consent changes are logged as such."""
        with consent_entry("import", company=self.env.company):
            return super().load(fields, data)

    @api.depends("insurance_policy_ids")
    def _compute_is_insurance_client(self):
        for partner in self:
            partner.is_insurance_client = (
                bool(partner.insurance_policy_ids) or partner.is_insurance_client
            )

    def _compute_insurance_counts(self):
        def count(model, domain, field):
            return dict(self.env[model]._read_group(domain, [field], ["__count"]))

        ids = self.ids
        policies = count("insurance.policy", [("partner_id", "in", ids)], "partner_id")
        installments = count(
            "insurance.policy.installment",
            [("partner_id", "in", ids), ("state", "=", "open")],
            "partner_id",
        )
        messages = count("insurance.notify.message", [("partner_id", "in", ids)], "partner_id")
        for partner in self:
            partner.insurance_policy_count = policies.get(partner, 0)
            partner.insurance_installment_open_count = installments.get(partner, 0)
            partner.insurance_notify_message_count = messages.get(partner, 0)

    # ------------------------------------------------------------------
    # Create / write: normalized mobile, no duplicates, consent trail
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        ours = self._insurance_client_entry()
        proofs = [self._pop_consent_proof(vals) for vals in vals_list]
        for vals in vals_list:
            if ours and vals.get("mobile"):
                vals["mobile"] = self._normalize_mobile(
                    vals["mobile"], self._phone_region(vals.get("country_id"), vals)
                )
        partners = super().create(vals_list)
        if ours:
            partners._check_no_duplicate_clients()
        for partner, proof in zip(partners, proofs, strict=True):
            partner._log_consent_changes({partner.id: {}}, CONSENT_FIELDS, proof)
        if any(PLANNING_FIELDS & vals.keys() for vals in vals_list):
            self.env["insurance.notify.rule"]._trigger_planning()
        return partners

    def write(self, vals):
        proof = self._pop_consent_proof(vals)
        consent_changes = [name for name in CONSENT_FIELDS if name in vals]
        before = (
            {partner.id: {name: partner[name] for name in consent_changes} for partner in self}
            if consent_changes
            else None
        )
        ours = self._insurance_client_entry()
        if ours and vals.get("mobile"):
            # The same typed number means different numbers in different countries.
            for region, partners in self._group_by_phone_region(vals).items():
                mobile = self._normalize_mobile(vals["mobile"], region)
                super(ResPartner, partners).write({**vals, "mobile": mobile})
        else:
            super().write(vals)
        if ours and {"mobile", "email", "insurance_shared_contact"} & set(vals):
            self._check_no_duplicate_clients()
        if before:
            self._log_consent_changes(before, consent_changes, proof)
        if PLANNING_FIELDS & vals.keys():
            # A birthday or a consent end set today may make a reminder due today.
            self.env["insurance.notify.rule"]._trigger_planning()
        return True

    @api.model
    def _pop_consent_proof(self, vals):
        """(text, file, file name) of the proof in ``vals``, taken out of them."""
        return tuple(vals.pop(name, False) for name in PROOF_FIELDS)

    def _phone_region(self, country_id=None, vals=None):
        """ISO code the client's national numbers are read in: the client's
        country, else the client's company's, else the current company's."""
        country = self.env["res.country"].browse(country_id) if country_id else self.country_id
        if not country:
            company_id = (vals or {}).get("company_id")
            company = self.env["res.company"].browse(company_id) if company_id else self.company_id
            country = company.country_id or self.env.company.country_id
        return country.code or None

    def _group_by_phone_region(self, vals):
        groups = defaultdict(lambda: self.browse())
        for partner in self:
            groups[partner._phone_region(vals.get("country_id"), vals)] |= partner
        return groups

    @api.model
    def _normalize_mobile(self, raw, region):
        try:
            return phone.normalize(raw, region)
        except phone.InvalidPhone:
            # Computed outside the call: the translation extractor reads its arguments.
            country = f" ({region})" if region else ""
            example = phone.example_mobile(region) or "600 123 456"
            raise ValidationError(
                self.env._(
                    "The mobile number “%(number)s” cannot be read. Enter it in "
                    "international form, with + and the country code (for example "
                    "+48 600 123 456 or +370 686 88960), or as a national number of the "
                    "client's country%(region)s, for example %(example)s.",
                    number=raw,
                    region=country,
                    example=example,
                )
            ) from None

    def _check_no_duplicate_clients(self):
        """When the setting is on, refuse a mobile or an e-mail another client has.

        One query for the whole batch: an import of thousands of clients stays fast.
        """
        params = self.env["ir.config_parameter"].sudo()
        if not self or not params.get_param(PARAM_PREVENT_DUPLICATES):
            return
        # A number shared in a family, confirmed on the card, is no duplicate.
        mine = self.filtered(lambda p: not p.is_insurer and not p.insurance_shared_contact)
        seen = {}
        for partner in mine:
            for kind, value in partner._duplicate_keys():
                other = seen.setdefault((kind, value), partner)
                if other != partner:
                    raise self._duplicate_error(partner, kind, value, other)
        if not seen:
            return
        mobiles = [value for kind, value in seen if kind == "mobile"]
        emails = [value for kind, value in seen if kind == "email"]
        self.flush_model(
            [
                "mobile",
                "phone_sanitized",
                "email_normalized",
                "active",
                "is_insurer",
                "insurance_shared_contact",
            ]
        )
        # Other apps keep numbers as typed: their sanitized form is compared too.
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id, mobile, phone_sanitized, email_normalized FROM res_partner
                 WHERE active AND NOT COALESCE(is_insurer, FALSE)
                   AND NOT COALESCE(insurance_shared_contact, FALSE)
                   AND id != ALL(%s)
                   AND (mobile = ANY(%s) OR phone_sanitized = ANY(%s)
                        OR email_normalized = ANY(%s))
                 LIMIT 1
                """,
                mine.ids,
                mobiles,
                mobiles,
                emails,
            )
        )
        if rows:
            other_id, other_mobile, other_sanitized, other_email = rows[0]
            if other_mobile in mobiles:
                kind, value = "mobile", other_mobile
            elif other_sanitized in mobiles:
                kind, value = "mobile", other_sanitized
            else:
                kind, value = "email", other_email
            partner = seen[(kind, value)]
            raise self._duplicate_error(partner, kind, value, self.browse(other_id))

    def _duplicate_keys(self):
        if self.mobile:
            yield "mobile", self.mobile
        email = email_normalize(self.email or "")
        if email:
            yield "email", email

    def _duplicate_error(self, partner, kind, value, other):
        """The refusal, with a button that opens the existing client; a shared
        family number is saved by ticking "Shared Number" on the card."""
        other_name = other.sudo().display_name
        if kind == "mobile":
            message = self.env._(
                "%(partner)s cannot be saved: the client %(other)s already has the mobile "
                "number %(value)s.",
                partner=partner.display_name,
                other=other_name,
                value=value,
            )
        else:
            message = self.env._(
                "%(partner)s cannot be saved: the client %(other)s already has the e-mail "
                "address %(value)s.",
                partner=partner.display_name,
                other=other_name,
                value=value,
            )
        message += " " + self.env._(
            "If the number or address is shared in a family, tick “Shared Number” on the card."
        )
        # An import reports the row's error (load() catches UserError only).
        if self.env.context.get("import_file") or not other.sudo(False).has_access("read"):
            return ValidationError(message)
        action = {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": other.id,
            "views": [(False, "form")],
            "target": "current",
            "context": {CLIENT_CONTEXT: True},
        }
        return RedirectWarning(message, action, self.env._("Open %s", other_name))

    # ------------------------------------------------------------------
    # Consent trail
    # ------------------------------------------------------------------

    def _consent_entry(self):
        """(source, company, proof text) of the change being written: what the
        entry point that received it declared, else a user on the form."""
        entry = _CONSENT_ENTRY.get() or {}
        return (
            entry.get("source") or "form",
            entry.get("company") or self.env.company,
            entry.get("proof_text"),
        )

    def _log_consent_changes(self, before, names, proof=(False, False, False)):
        """Log each consent of ``names`` that differs from ``before`` (partner id
        -> {field: old value}; a missing field was unset, as on a new record),
        with its proof (text, base64 file, file name)."""
        source, company, entry_proof = self._consent_entry()
        proof_text, proof_file, proof_filename = proof
        vals_list = []
        for partner in self:
            old_values = before.get(partner.id, {})
            for name in names:
                old, new = old_values.get(name, False), partner[name]
                if old == new:
                    continue
                vals_list.append(
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "consent": name,
                        "old_value": self._consent_value_text(name, old),
                        "new_value": self._consent_value_text(name, new),
                        "source": source,
                        "proof_text": proof_text or entry_proof or False,
                    }
                )
        if not vals_list:
            return
        logs = self.env["insurance.consent.log"].sudo().create(vals_list)
        if proof_file:
            attachment = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": proof_filename or self.env._("Proof of consent"),
                        "datas": proof_file
                        if isinstance(proof_file, (str, bytes))
                        else base64.b64encode(proof_file),
                        "res_model": "res.partner",
                        "res_id": logs[0].partner_id.id,
                        "company_id": company.id,
                    }
                )
            )
            logs.write({"proof_attachment_id": attachment.id})

    def _consent_value_text(self, name, value):
        """The stored form of a value; the trail shows it in the reader's language."""
        if name == "consent_valid_until":
            return fields.Date.to_string(value) if value else ""
        return "1" if value else "0"

    def withdraw_consent(self, channel):
        """Withdraw a channel consent (``sms``, ``email``, ``whatsapp``, ``viber``)
        as the current user, on the client card (trail: Form)."""
        self._withdraw_consent(channel)

    def _withdraw_consent(self, channel):
        field = f"consent_{channel}"
        if field not in BOOLEAN_CONSENTS:
            raise ValueError(f"unknown consent channel: {channel!r}")
        self.write({field: False})

    # ------------------------------------------------------------------
    # Opt-out: inbound STOP and e-mail unsubscribe links
    # ------------------------------------------------------------------

    @api.model
    def _insurance_opt_out_number(self, number, company, note, channel="sms"):
        """A reply STOP from ``number`` received by ``company``'s gateway.

        A STOP answers the company whose number it reached: it withdraws the SMS
        consent of that company's clients with the number — cards of that
        company, and shared cards (no company) unless their policies are all
        with other companies — and blacklists the number, unless a client of
        another company has it (Odoo's blacklist is shared by all companies).
        The trail says "Inbound STOP", with the receiving company. Returns the
        clients concerned."""
        try:
            e164 = phone.normalize(number, None)
        except phone.InvalidPhone:
            e164 = ""
        if not e164:
            return self.browse()
        Partner = self.sudo().with_context(active_test=False)
        matching = Partner.search([("phone_sanitized", "=", e164)])
        partners = matching.filtered(lambda partner: partner._insurance_client_of(company))
        # A STOP on WhatsApp withdraws WhatsApp only: the SMS blacklist stays as it was.
        if matching == partners and channel == "sms":
            self.env["phone.blacklist"].sudo()._add([e164], message=note)
        with consent_entry("stop", company=company, proof_text=note):
            partners.filtered(f"consent_{channel}")._withdraw_consent(channel)
        return partners

    def _insurance_client_of(self, company):
        """Does a STOP or unsubscribe received by ``company`` concern this card?"""
        self.ensure_one()
        if self.company_id:
            return self.company_id == company
        companies = (
            self.env["insurance.policy"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "=", self.id)])
            .company_id
        )
        return not companies or company in companies

    def _insurance_unsubscribe_url(self, email=None):
        """The signed link of an e-mail that unsubscribes ``email`` (the client's)."""
        self.ensure_one()
        token = hash_sign(
            self.env(su=True), UNSUBSCRIBE_SCOPE, [self.id, email or self.email_normalized]
        )
        base_url = self.get_base_url()
        return f"{base_url}/insurance_notify/unsubscribe/{self.id}/{token}"

    @api.model
    def _insurance_unsubscribe_check(self, partner_id, token):
        """The (client, address) a token unsubscribes, or None when it is not ours."""
        try:
            values = verify_hash_signed(self.env(su=True), UNSUBSCRIBE_SCOPE, token)
        except (ValueError, TypeError, IndexError):
            return None
        if not isinstance(values, list) or len(values) != 2 or values[0] != partner_id:
            return None
        partner = self.sudo().browse(partner_id).exists()
        return (partner, values[1]) if partner and values[1] else None

    def _insurance_unsubscribe(self, email):
        """Blacklist ``email``, withdraw this client's e-mail consent (trail: portal)."""
        self.ensure_one()
        self.env["mail.blacklist"].sudo()._add(
            email, message=self.env._("Unsubscribed with the link of an e-mail")
        )
        if self.consent_email and self.email_normalized == email_normalize(email):
            with consent_entry(
                "portal",
                company=self.company_id or self.env.company,
                proof_text=self.env._("Unsubscribed with the link of an e-mail"),
            ):
                self.sudo()._withdraw_consent("email")

    # ------------------------------------------------------------------
    # Smart buttons
    # ------------------------------------------------------------------

    def _insurance_action(self, xml_id, domain, context=None):
        self.ensure_one()
        if not self.env.user.has_group("insurance_notify.group_insurance_user"):
            raise AccessError(self.env._("Only insurance users can open a client's insurance."))
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(xml_id)
        action["domain"] = domain
        action["context"] = context or {}
        return action

    def action_view_insurance_policies(self):
        return self._insurance_action(
            "insurance_notify.action_insurance_policy",
            [("partner_id", "=", self.id)],
            {"default_partner_id": self.id},
        )

    def action_view_insurance_installments(self):
        return self._insurance_action(
            "insurance_notify.action_insurance_installment",
            [("partner_id", "=", self.id)],
            {"search_default_open": 1},
        )

    def action_view_insurance_notify_messages(self):
        return self._insurance_action(
            "insurance_notify.action_insurance_notify_message",
            [("partner_id", "=", self.id)],
            {"create": False},
        )
