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
from . import entry_bounds
from .insurance_import_mixin import load_keeping_good_rows

PARAM_CONSENT_PHONE = "insurance_notify.default_consent_phone"
PARAM_CONSENT_EMAIL = "insurance_notify.default_consent_email"
PARAM_PREVENT_DUPLICATES = "insurance_notify.prevent_duplicate_clients"
UNSUBSCRIBE_SCOPE = "insurance_notify-unsubscribe"
# Set by our own client forms and imports (the Clients menu, a policy's client):
# there a mobile is normalized or refused, and duplicates are prevented. Other
# apps' partners (website forms, CRM, the mail gateway, project sharing, their
# imports) are never refused: an unreadable number is kept as typed and flagged.
CLIENT_CONTEXT = "insurance_client"
# Set around Odoo's automatic partner creation from e-mail addresses (the
# composer's recipients, templates): with "Prevent duplicate clients" on, what
# it creates is never refused, only flagged (insurance_duplicate_review). The
# mail gateway needs no key: it creates its documents and partners in sudo.
AUTO_PARTNER_CONTEXT = "insurance_auto_partner"

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
# Dates of the client card that events are planned on (birthday, consent renewal),
# and the number, address and consents a reminder left out for their want waits
# for: given later the same day, the reminder goes (plan at once).
PLANNING_FIELDS = frozenset(
    {"birthdate", "consent_valid_until", "mobile", "email", *BOOLEAN_CONSENTS}
)
# What makes a contact a duplicate of another client, or stops it being one.
DUPLICATE_FIELDS = frozenset({"mobile", "email", "insurance_shared_contact"})
CONSENT_FIELDS = (*BOOLEAN_CONSENTS, "consent_valid_until")
# Reads a consent end date of the per-company JSON (see _create_consent_renewal_indexes).
CONSENT_DATE_FUNCTION = "insurance_notify_consent_date"
# Service channels the default-consent settings may pre-tick; marketing and the
# purposes are always ticked by someone, with the client's word.
NEVER_DEFAULT = tuple(
    name
    for name in BOOLEAN_CONSENTS
    if name not in ("consent_sms", "consent_email", "consent_whatsapp", "consent_viber")
)
# The client's contact data: on a shared card (no company) only the staff of
# an agency serving the client change it (see _check_contact_edit).
CONTACT_FIELDS = frozenset(
    {
        "name", "email", "phone", "mobile", "street", "street2", "zip", "city",
        "state_id", "country_id", "lang", "tz", "birthdate", "vat", "title", "function",
        "website", "parent_id", "company_id", "active", "image_1920", "preferred_channel",
        "insurance_shared_contact",
    }
)  # fmt: skip
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


def consents_per_company(cr):
    """Turn consent columns still holding one value per card (before
    18.0.1.3.0: boolean and date columns) into company-dependent ones, each
    value copied to every company that had it: a card of a company to that
    company; a shared card (no company) to every company, since each of them
    read that value until now. Values are kept exactly, false ones included
    (an ``ir.default`` fallback must not turn a refusal into a consent); a
    card without a value gets none. Does nothing on columns already converted.

    Called by the 18.0.1.3.0 migration and again before the ORM updates the
    table, so a database already marked 18.0.1.3.0 by an earlier build is
    converted too (the ORM alone would store the bare value, read as no
    consent anywhere)."""
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = 'res_partner' AND column_name = ANY(%s)
           AND udt_name IN ('bool', 'date')
        """,
        [list(CONSENT_FIELDS)],
    )
    for (column,) in cr.fetchall():
        new = SQL.identifier(column)
        old = SQL.identifier(f"{column}_pre_18_0_1_3_0")
        cr.execute(SQL("ALTER TABLE res_partner RENAME COLUMN %s TO %s", new, old))
        cr.execute(SQL("ALTER TABLE res_partner ADD COLUMN %s jsonb", new))
        cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET %(new)s = CASE
                           WHEN p.company_id IS NOT NULL
                           THEN jsonb_build_object(p.company_id::text, to_jsonb(p.%(old)s))
                           ELSE (SELECT jsonb_object_agg(c.id::text, to_jsonb(p.%(old)s))
                                   FROM res_company c)
                       END
                 WHERE p.%(old)s IS NOT NULL
                """,
                new=new,
                old=old,
            )
        )
        cr.execute(SQL("ALTER TABLE res_partner DROP COLUMN %s", old))


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
    # Each agency (company) holds its own: a client served by two agencies
    # consents, or withdraws, with each of them apart; the card shows and
    # changes the current company's, and its trail logs that company.
    consent_marketing = fields.Boolean(
        string="Marketing Consent",
        help="General consent to direct marketing.",
        company_dependent=True,
    )
    consent_sms = fields.Boolean(
        string="SMS", default=_param_default(PARAM_CONSENT_PHONE), company_dependent=True
    )
    consent_email = fields.Boolean(
        string="E-mail", default=_param_default(PARAM_CONSENT_EMAIL), company_dependent=True
    )
    consent_whatsapp = fields.Boolean(
        string="WhatsApp", default=_param_default(PARAM_CONSENT_PHONE), company_dependent=True
    )
    consent_viber = fields.Boolean(
        string="Viber", default=_param_default(PARAM_CONSENT_PHONE), company_dependent=True
    )
    consent_policy_expiry = fields.Boolean(string="Policy Expiry Reminders", company_dependent=True)
    consent_installment = fields.Boolean(string="Installment Reminders", company_dependent=True)
    consent_inspection = fields.Boolean(
        string="Technical Inspection Reminders", company_dependent=True
    )
    consent_birthday = fields.Boolean(string="Birthday Wishes", company_dependent=True)
    consent_renewal_offer = fields.Boolean(string="Renewal Offers", company_dependent=True)
    consent_valid_until = fields.Date(
        string="Consents Valid Until",
        index=True,  # the consent-renewal source reaches its day through it
        help="The last day the client's consents hold; a consent-renewal reminder "
        "asks the client to confirm them before.",
        company_dependent=True,
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
    insurance_duplicate_review = fields.Boolean(
        string="Possible Duplicate",
        copy=False,
        help="Created or changed by Odoo itself (the mail gateway, a portal sign-up, the "
        "website) with the mobile number or e-mail address of another client while "
        "duplicates are prevented: check it and merge or untick.",
    )
    insurance_policy_count = fields.Integer(compute="_compute_insurance_counts")
    insurance_installment_open_count = fields.Integer(compute="_compute_insurance_counts")
    insurance_notify_message_count = fields.Integer(compute="_compute_insurance_counts")
    insurance_reply_count = fields.Integer(
        string="Replies",
        compute="_compute_insurance_reply_count",
        groups="insurance_notify.group_insurance_user",
    )

    def _auto_init(self):
        consents_per_company(self.env.cr)
        return super()._auto_init()

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
        self.env.cr.execute("SELECT id FROM res_company")
        self._create_consent_renewal_indexes(
            [company_id for (company_id,) in self.env.cr.fetchall()]
        )
        return result

    def _create_consent_renewal_indexes(self, company_ids):
        """Each agency's consent end dates (a JSON value per company) through an
        index of their own, so the consent-renewal source reads the days due,
        not every client. A date's ISO text is read by an immutable function
        (``::date`` depends on DateStyle, so PostgreSQL indexes no cast); the
        expression and the condition match the source's SQL exactly."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """CREATE OR REPLACE FUNCTION %s(text) RETURNS date
                   LANGUAGE sql IMMUTABLE PARALLEL SAFE
                   AS $$ SELECT make_date(substr($1, 1, 4)::int, substr($1, 6, 2)::int,
                                          substr($1, 9, 2)::int) $$""",
                SQL.identifier(CONSENT_DATE_FUNCTION),
            )
        )
        for company_id in company_ids:
            key = int(company_id)
            create_index(
                cr,
                f"res_partner_consent_valid_until_{key}_index",
                self._table,
                [f"{CONSENT_DATE_FUNCTION}(consent_valid_until ->> '{key}')"],
                where=f"consent_valid_until ->> '{key}' IS NOT NULL",
            )

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

    @api.constrains("birthdate", "consent_valid_until")
    def _check_insurance_dates(self):
        """A birth date in the future or a date before 1900 is a typo: refused in
        the user's language, on the form and per row of an import."""
        for partner in self:
            if partner.birthdate:
                entry_bounds.check_date(
                    partner, "birthdate", partner.birthdate, partner.display_name, future=False
                )
            if partner.consent_valid_until:
                entry_bounds.check_date(
                    partner,
                    "consent_valid_until",
                    partner.consent_valid_until,
                    partner.display_name,
                )

    @api.model
    def _insurance_client_entry(self):
        """Is this an entry made in our own client forms or imports?"""
        return bool(self.env.context.get(CLIENT_CONTEXT))

    @api.model
    def _insurance_person_entry(self):
        """Is a person entering this contact (a duplicate is refused) rather than
        Odoo creating it by itself (a duplicate is flagged)?

        A person: our client forms and imports, and any internal user working as
        themselves — the Contacts app's form and import, JSON-RPC. Odoo itself:
        partners made from e-mail addresses (context), and whatever runs as
        superuser or in sudo (the mail gateway's message_new, portal sign-up,
        website forms, crons) or as a portal or public user."""
        if self._insurance_client_entry():
            return True
        if self.env.su or self.env.context.get(AUTO_PARTNER_CONTEXT):
            return False
        return self.env.user._is_internal()

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
        if "lang" in fields_list and self._insurance_client_entry():
            defaults.update(self._insurance_default_lang(defaults))
        return defaults

    @api.model
    def _insurance_default_lang(self, defaults):
        """A client entered in our forms or imports speaks the agency's
        language (its company's partner's), else the creating user's: a
        Polish office's new client gets Polish SMS with Polish dates. Stock's
        default is the database's first language (the ``ir.default`` base sets
        when it installs it, usually English, whoever creates the contact):
        for our clients that one gives way. A contact's parent and a default
        given by the caller (context) still win; contacts entered elsewhere
        keep stock's default."""
        if defaults.get("parent_id") or self.env.context.get("default_lang"):
            return {}
        installed = dict(self.env["res.lang"].get_installed())
        for lang in (self.env.company.partner_id.lang, self.env.user.lang):
            if lang in installed:
                return {"lang": lang}
        return {}

    @api.model
    def load(self, fields, data):
        """An import is an entry point: its consent changes are logged as such.

        The Clients menu's import keeps its good rows; the Contacts app's stays
        all or nothing, as stock; both name each bad row (insurance_import_mixin)."""
        with consent_entry("import", company=self.env.company):
            return load_keeping_good_rows(
                self, super().load, fields, data, keep_good_rows=self._insurance_client_entry()
            )

    # Odoo makes these partners from e-mail addresses by itself (the composer's
    # recipients, templates' "To", the chatter's suggested recipients): a
    # duplicate there is flagged, never refused.
    @api.model
    def find_or_create(self, email, assert_valid_email=False):
        return super(ResPartner, self.with_context(**{AUTO_PARTNER_CONTEXT: True})).find_or_create(
            email, assert_valid_email=assert_valid_email
        )

    @api.model
    def _find_or_create_from_emails(self, emails, additional_values=None):
        return super(
            ResPartner, self.with_context(**{AUTO_PARTNER_CONTEXT: True})
        )._find_or_create_from_emails(emails, additional_values=additional_values)

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
        if any(DUPLICATE_FIELDS & vals.keys() for vals in vals_list):
            partners._insurance_guard_duplicates()
        for partner, proof in zip(partners, proofs, strict=True):
            partner._log_consent_changes({partner.id: {}}, CONSENT_FIELDS, proof)
        if any(PLANNING_FIELDS & vals.keys() for vals in vals_list):
            self.env["insurance.notify.rule"]._trigger_planning()
        return partners

    def write(self, vals):
        self._check_contact_edit(vals)
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
        if DUPLICATE_FIELDS & vals.keys():
            self._insurance_guard_duplicates()
        if before:
            self._log_consent_changes(before, consent_changes, proof)
        if PLANNING_FIELDS & vals.keys():
            # A birthday or a consent end set today may make a reminder due today.
            self.env["insurance.notify.rule"]._trigger_planning()
        if "consent_valid_until" in vals:
            # The consent extended: its renewal reminders converted.
            self.env["insurance.notify.message"].sudo()._settle_outcomes(self._name, self.ids)
        return True

    def _check_contact_edit(self, vals):
        """Refuse a change of a shared client's contact data by staff of none of
        the agencies serving the client.

        A card of a company is already kept to that company by Odoo's record
        rules. A shared card (no company: the Clients menu creates them) is
        seen by every agency; once it holds policies, it belongs to the
        agencies of those policies: a broker of another agency changing its
        e-mail or mobile would redirect that agency's reminders. Cards without
        policies (any contact of Odoo's other apps) stay as stock Odoo has them.
        Consents are not contact data: each agency writes its own.
        """
        if self.env.su or not CONTACT_FIELDS & vals.keys():
            return
        shared = self.filtered(lambda partner: not partner.company_id)
        if not shared:
            return
        served = defaultdict(set)
        for partner, company in (
            self.env["insurance.policy"]
            .sudo()
            .with_context(active_test=False)
            ._read_group([("partner_id", "in", shared.ids)], ["partner_id", "company_id"])
        ):
            served[partner.id].add(company.id)
        allowed = set(self.env.companies.ids)
        foreign = shared.filtered(
            lambda partner: served[partner.id] and not served[partner.id] & allowed
        )
        if foreign:
            raise AccessError(
                self.env._(
                    "%(client)s is a client of another agency: only the staff of the "
                    "agencies holding their policies can change their contact details.",
                    client=foreign[0].display_name,
                )
            )

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
        """E.164 of a mobile typed in our client forms and imports, read in the
        client's country (else the company's); refused, in the user's language,
        when it cannot be read or makes no mobile there (a landline)."""
        try:
            return phone.require_mobile(raw, region)
        except phone.InvalidPhone as error:
            if error.reason == phone.NOT_MOBILE:
                raise self._not_mobile_error(raw, region) from None
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

    @api.model
    def _not_mobile_error(self, raw, region):
        """A landline (or a number of another country typed without its code):
        say so, and name the countries where the digits would make a mobile."""
        # The number's own country: a "+48 22…" typed for a client of any country.
        region = phone.region_of(phone.normalize(raw, region)) or region
        companies = self.env["res.company"].sudo().search([("country_id", "!=", False)])
        regions = companies.country_id.mapped("code")
        readings = phone.mobile_readings(raw, [code for code in regions if code != region])
        countries = self.env["res.country"].search([("code", "in", list(readings))])
        message = self.env._(
            "“%(number)s” is not a mobile number in %(country)s (a landline cannot receive "
            "SMS). Enter the client's mobile, with + and the country code if it is not "
            "from %(country)s.",
            number=raw,
            country=self.env["res.country"].search([("code", "=", region)], limit=1).name or region,
        )
        if countries:
            message += " " + self.env._(
                "As a number of %(countries)s it would be a mobile: set the client's "
                "country first.",
                countries=", ".join(countries.mapped("name")),
            )
        return ValidationError(message)

    @api.onchange("mobile", "country_id", "company_id")
    def _onchange_mobile_validation(self):
        """On our client forms, a number typed without its country code that makes
        no mobile in the country chosen so far stays as typed: choosing the
        client's country afterwards reads it again (phone_validation would
        have fixed it as a landline of the company's country)."""
        if self._insurance_client_entry() and self.mobile:
            try:
                phone.require_mobile(self.mobile, self._phone_region())
            except phone.InvalidPhone:
                return None
        return super()._onchange_mobile_validation()

    def _insurance_guard_duplicates(self):
        """With "Prevent duplicate clients" on: refuse a duplicate a person
        enters, flag one Odoo creates by itself. Off (the default): nothing."""
        if not self or not self._insurance_prevent_duplicates():
            return
        if self._insurance_person_entry():
            self._check_no_duplicate_clients()
        else:
            self._flag_duplicate_clients()

    @api.model
    def _insurance_prevent_duplicates(self):
        return bool(self.env["ir.config_parameter"].sudo().get_param(PARAM_PREVENT_DUPLICATES))

    def _check_no_duplicate_clients(self):
        """When the setting is on, refuse a mobile or an e-mail another client has.

        One query for the whole batch: an import of thousands of clients stays fast.
        """
        if not self or not self._insurance_prevent_duplicates():
            return
        conflicts = self._insurance_duplicate_conflicts(first_only=True)
        if conflicts:
            raise self._duplicate_error(*conflicts[0])

    def _flag_duplicate_clients(self):
        """Mark for review the contacts of ``self`` another client shares a mobile
        or an e-mail with (what Odoo creates by itself is never refused)."""
        conflicts = self._insurance_duplicate_conflicts()
        flagged = self.browse({partner.id for partner, _kind, _value, _other in conflicts})
        flagged = flagged.filtered(lambda partner: not partner.insurance_duplicate_review)
        if flagged:
            flagged.sudo().write({"insurance_duplicate_review": True})

    def _insurance_duplicate_exempt(self):
        # A number shared in a family, confirmed on the card, is no duplicate;
        # nor are insurers' and companies' addresses (a switchboard, an office).
        return self.is_insurer or self.is_company or self.insurance_shared_contact

    def _insurance_duplicate_conflicts(self, first_only=False):
        """[(partner, kind, value, other client)] for the contacts of ``self``
        whose mobile ("mobile") or e-mail ("email") another client has. One
        query; contacts of one company (a person and their address) never
        conflict with each other."""
        mine = self.filtered(lambda p: not p._insurance_duplicate_exempt())
        seen = {}
        conflicts = []
        for partner in mine:
            for kind, value in partner._duplicate_keys():
                other = seen.setdefault((kind, value), partner)
                if other != partner and not partner._insurance_same_entity(
                    other.id, other.commercial_partner_id.id
                ):
                    conflicts.append((partner, kind, value, other))
                    if first_only:
                        return conflicts
        if not seen:
            return conflicts
        mobiles = [value for kind, value in seen if kind == "mobile"]
        emails = [value for kind, value in seen if kind == "email"]
        self.flush_model(
            [
                "mobile",
                "phone_sanitized",
                "email_normalized",
                "active",
                "is_insurer",
                "is_company",
                "insurance_shared_contact",
                "commercial_partner_id",
            ]
        )
        # Other apps keep numbers as typed: their sanitized form is compared too.
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id, mobile, phone_sanitized, email_normalized, commercial_partner_id
                  FROM res_partner
                 WHERE active AND NOT COALESCE(is_insurer, FALSE)
                   AND NOT COALESCE(is_company, FALSE)
                   AND NOT COALESCE(insurance_shared_contact, FALSE)
                   AND id != ALL(%s)
                   AND (mobile = ANY(%s) OR phone_sanitized = ANY(%s)
                        OR email_normalized = ANY(%s))
                 ORDER BY id
                """,
                mine.ids,
                mobiles,
                mobiles,
                emails,
            )
        )
        for other_id, other_mobile, other_sanitized, other_email, other_entity in rows:
            for kind, value in (
                ("mobile", other_mobile),
                ("mobile", other_sanitized),
                ("email", other_email),
            ):
                partner = seen.get((kind, value)) if value else None
                if partner is None or partner._insurance_same_entity(other_id, other_entity):
                    continue
                conflicts.append((partner, kind, value, self.browse(other_id)))
                if first_only:
                    return conflicts
                break
        return conflicts

    def _insurance_same_entity(self, other_id, other_entity_id):
        """Is the other contact this one's company, or a contact of its company?"""
        return self.commercial_partner_id.id in (other_entity_id, other_id)

    def _duplicate_keys(self):
        mobile = self.mobile
        if mobile and not self._insurance_client_entry():
            # Our client entries store E.164 already; other entries keep what
            # was typed, so read it in the client's country to compare.
            with contextlib.suppress(phone.InvalidPhone):
                mobile = phone.normalize(mobile, self._phone_region()) or mobile
        if mobile:
            yield "mobile", mobile
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
        # An import reports the row's error (load() catches UserError only);
        # load() sets _import_current_module, with or without the import wizard.
        context = self.env.context
        importing = "import_file" in context or "_import_current_module" in context
        if importing or not other.sudo(False).has_access("read"):
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
        source, _entry_company, entry_proof = self._consent_entry()
        # The values changed are the current company's (company-dependent):
        # the trail of that company is the one that shows the change.
        company = self.env.company
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
            # The receiving company's consent: another agency's stays as it is.
            partners.with_company(company).filtered(f"consent_{channel}")._withdraw_consent(channel)
        return partners.with_env(self.env)

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
        if self.email_normalized != email_normalize(email):
            return
        # The address is now on Odoo's blacklist, which every agency shares:
        # the e-mail consent is withdrawn with each agency that held it, and
        # each agency's trail shows its own withdrawal.
        self.flush_recordset(["consent_email"])
        # The companies holding this client's e-mail consent: the keys of the
        # company-dependent column.
        company_ids = [
            int(key)
            for (key,) in self.env.execute_query(
                SQL(
                    """SELECT c.key FROM res_partner p, jsonb_each(p.consent_email) c
                        WHERE p.id = %s AND c.value = 'true'::jsonb""",
                    self.id,
                )
            )
        ]
        for company in self.env["res.company"].sudo().browse(company_ids).exists():
            partner = self.sudo().with_company(company)
            if not partner.consent_email:
                continue
            with consent_entry(
                "portal",
                company=company,
                proof_text=self.env._("Unsubscribed with the link of an e-mail"),
            ):
                partner._withdraw_consent("email")

    @api.model
    def _insurance_demo_agency_consents(self):
        """Demo data: the demo clients' consents were loaded in the main
        company; each agency holding a client's policies gets them too."""
        main = self.env.ref("base.main_company")
        clients = self.search([("company_id", "=", False), ("insurance_policy_ids", "!=", False)])
        for partner in clients:
            values = {name: partner.with_company(main)[name] for name in CONSENT_FIELDS}
            for company in partner.insurance_policy_ids.company_id - main:
                with consent_entry("system", company=company):
                    partner.with_company(company).write(values)

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

    def _compute_insurance_reply_count(self):
        counts = dict(
            self.env["insurance.notify.reply"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.insurance_reply_count = counts.get(partner, 0)

    def action_view_insurance_replies(self):
        self.ensure_one()
        self.check_access("read")
        return self.env["insurance.notify.reply"]._action_for([("partner_id", "=", self.id)])

    def action_insurance_reply_by_sms(self):
        self.ensure_one()
        self.check_access("read")
        return self.env["insurance.notify.reply"]._action_reply_by_sms_for(
            [("partner_id", "=", self.id)]
        )

    def action_view_insurance_notify_messages(self):
        return self._insurance_action(
            "insurance_notify.action_insurance_notify_message",
            [("partner_id", "=", self.id)],
            {"create": False},
        )
