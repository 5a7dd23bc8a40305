from odoo import api, fields, models
from odoo.exceptions import ValidationError


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
