from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.notify_engine import replies


class ResCompany(models.Model):
    """Where the company's stock Odoo SMS go: Odoo IAP unless an administrator
    chooses one of our gateways (installing the add-on changes nothing)."""

    _inherit = "res.company"

    insurance_stock_sms_gateway_id = fields.Many2one(
        "insurance.notify.gateway",
        string="Odoo's own SMS go through",
        ondelete="set null",
        domain="[('company_id', '=', id)]",
        help="Odoo's own SMS (chatter, composer, marketing, calendar, project) leave "
        "through this gateway. Empty: through Odoo IAP, as without this app.",
    )

    insurance_daily_cap = fields.Integer(
        string="Reminders per Client a Day",
        default=1,
        help="Automatic SMS reminders a client receives at most a day (those leaving "
        "together count as one); more wait for the next free day while their event is "
        "still ahead. 0: no limit.",
    )
    insurance_weekly_cap = fields.Integer(
        string="Reminders per Client a Week",
        default=0,
        help="The same over a week (Monday to Sunday). 0: no limit.",
    )

    # Clients' replies: who gets those no broker owns, and the words that say
    # what a reply asks for (shipped in Polish, Lithuanian and English).
    insurance_replies_user_id = fields.Many2one(
        "res.users",
        string="Replies Inbox",
        domain="[('share', '=', False), ('company_ids', 'in', id)]",
        help="Who gets the clients' replies that no broker owns (a number no client "
        "has, a document without a broker). Empty: the first insurance manager.",
    )
    insurance_reply_renewal_words = fields.Char(
        string="Renewal Keywords",
        default=lambda self: replies.format_keywords(replies.DEFAULT_KEYWORDS[replies.RENEWAL]),
        help="A reply with one of these words (separated by commas) asks to renew. Case, "
        "accents and the words around them do not matter; a word of four letters or more "
        "also matches its longer forms.",
    )
    insurance_reply_call_back_words = fields.Char(
        string="Call-back Keywords",
        default=lambda self: replies.format_keywords(replies.DEFAULT_KEYWORDS[replies.CALL_BACK]),
        help="A reply with one of these words asks to be called back: its activity is a call.",
    )

    insurance_reply_target_hours = fields.Float(
        string="Answer Replies Within (working hours)",
        default=4.0,
        help="A client's reply still unanswered after this many working hours (the "
        "company's working time) is named in the daily report.",
    )

    def _insurance_reply_keywords(self):
        """kind -> the company's keywords (folded phrases), for replies.classify."""
        self.ensure_one()
        company = self.sudo()
        return {
            replies.CALL_BACK: replies.parse_keywords(company.insurance_reply_call_back_words),
            replies.RENEWAL: replies.parse_keywords(company.insurance_reply_renewal_words),
        }

    def _insurance_replies_user(self):
        """Who gets the replies no broker owns: the setting, else the company's
        first insurance manager."""
        self.ensure_one()
        user = self.sudo().insurance_replies_user_id
        if user.active and not user.share:
            return user
        managers = self.env.ref("insurance_notify.group_insurance_manager").sudo().users
        managers = managers.filtered(
            lambda user: user.active and not user.share and self in user.company_ids
        )
        return managers.sorted("id")[:1]

    insurance_outcome_grace_days = fields.Integer(
        string="Grace Period for Outcomes (days)",
        default=30,
        help="A reminder counts as converted when the client renews, pays, passes the "
        "inspection or extends the consent by the event date plus these days; after "
        "them it counts as not converted.",
    )

    @api.constrains("insurance_outcome_grace_days")
    def _check_insurance_outcome_grace_days(self):
        if any(not 0 <= c.insurance_outcome_grace_days <= 365 for c in self):
            raise ValidationError(
                self.env._("The grace period for outcomes must be between 0 and 365 days.")
            )

    @api.constrains("insurance_daily_cap", "insurance_weekly_cap")
    def _check_insurance_caps(self):
        if any(c.insurance_daily_cap < 0 or c.insurance_weekly_cap < 0 for c in self):
            raise ValidationError(self.env._("A limit of reminders cannot be negative."))

    @api.constrains("insurance_stock_sms_gateway_id")
    def _check_insurance_stock_sms_gateway(self):
        for company in self:
            gateway = company.sudo().insurance_stock_sms_gateway_id
            if gateway and gateway.company_id != company:
                raise ValidationError(
                    self.env._(
                        "The SMS gateway %(gateway)s belongs to %(other)s, not to %(company)s.",
                        gateway=gateway.name,
                        other=gateway.company_id.name,
                        company=company.name,
                    )
                )

    @api.model
    def _insurance_demo_currency(self, company_id, currency_id):
        """Demo data: the agency's own currency, unless Accounting already
        booked entries in the company (Odoo forbids the change then)."""
        company = self.browse(company_id)
        if "account.move.line" in self.env and self.env["account.move.line"].sudo().search_count(
            [("company_id", "=", company.id)], limit=1
        ):
            return
        company.currency_id = currency_id

    def _insurance_stock_sms_gateway(self):
        """The active gateway this company's stock SMS go through, or an empty
        recordset for IAP. An archived gateway sends nothing: back to IAP."""
        self.ensure_one()
        gateway = self.sudo().insurance_stock_sms_gateway_id
        return gateway if gateway.active else gateway.browse()

    def _insurance_reminder_gateway(self):
        """The gateway reminders use when their rule names none (the company's first)."""
        self.ensure_one()
        return self.env["insurance.notify.gateway"].sudo()._default_for_company(self)

    def _insurance_route_stock_sms_as_before(self, demo=False):
        """Before 18.0.1.1.0 every stock SMS of a company with a gateway left
        through its first gateway. On upgrade, keep that for a real provider
        (SMSAPI, Twilio): the broker chose it. A sandbox kept stock SMS from
        leaving at all, silently: that was the fault this setting fixes, so it
        goes back to IAP, except on a demo database, where nothing may leave."""
        for company in self:
            if company.insurance_stock_sms_gateway_id:
                continue
            gateway = company._insurance_reminder_gateway()
            if gateway and (gateway.provider != "sandbox" or demo):
                company.insurance_stock_sms_gateway_id = gateway

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # A new agency's consent end dates get their index as the others'.
        self.env["res.partner"]._create_consent_renewal_indexes(companies.ids)
        return companies
