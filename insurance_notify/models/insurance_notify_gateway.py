from odoo import api, fields, models

from notify_engine.gateways import make_gateway


class InsuranceNotifyGateway(models.Model):
    _name = "insurance.notify.gateway"
    _description = "SMS Gateway"
    _order = "sequence, id"

    name = fields.Char(required=True)
    provider = fields.Selection(
        [("sandbox", "Sandbox (keeps messages, sends nothing)")],
        required=True,
        default="sandbox",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    sender = fields.Char(help="The sender name registered with the provider.")
    api_url = fields.Char(string="API URL")

    @api.model
    def _default_for_company(self, company):
        """The company's first active gateway: the one reminders use by default."""
        return self.search([("company_id", "=", company.id)], limit=1)

    def _make_adapter(self):
        self.ensure_one()
        return make_gateway(self.provider, **self.sudo()._adapter_settings())

    def _adapter_settings(self):
        """Keyword arguments of the provider's adapter; providers extend this."""
        return {}
