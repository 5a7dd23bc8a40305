from odoo import fields, models


class InsuranceProduct(models.Model):
    _name = "insurance.product"
    _description = "Insurance Product"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char()
    sequence = fields.Integer(default=10)
    line_of_business = fields.Selection(
        [
            ("motor", "Motor"),
            ("property", "Property"),
            ("life", "Life"),
            ("health", "Health"),
            ("travel", "Travel"),
            ("liability", "Liability"),
            ("other", "Other"),
        ],
        required=True,
        default="motor",
    )
    active = fields.Boolean(default=True)
