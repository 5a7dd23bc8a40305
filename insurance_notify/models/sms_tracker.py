from odoo import fields, models


class SmsTracker(models.Model):
    _inherit = "sms.tracker"

    provider_ref = fields.Char(string="Provider ID", index="btree_not_null", readonly=True)
