from odoo import fields, models


class SmsTracker(models.Model):
    _inherit = "sms.tracker"

    provider_ref = fields.Char(string="Provider ID", index="btree_not_null", readonly=True)
    # The gateway that sent it: only that gateway's delivery reports (its
    # company's webhook) may change it.
    insurance_gateway_id = fields.Many2one(
        "insurance.notify.gateway", string="SMS Gateway", readonly=True, ondelete="set null"
    )
