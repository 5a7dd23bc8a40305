from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    is_insurer = fields.Boolean(
        string="Insurer",
        help="An insurance company whose policies the brokerage sells.",
    )
    insurance_policy_ids = fields.One2many("insurance.policy", "partner_id", string="Policies")
