from odoo import fields, models

from .res_partner import PARAM_CONSENT_EMAIL, PARAM_CONSENT_PHONE, PARAM_PREVENT_DUPLICATES


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    insurance_default_consent_phone = fields.Boolean(
        string="New clients consent to phone channels",
        config_parameter=PARAM_CONSENT_PHONE,
        help="New clients start with consent to notifications by SMS, WhatsApp and Viber.",
    )
    insurance_default_consent_email = fields.Boolean(
        string="New clients consent to e-mail",
        config_parameter=PARAM_CONSENT_EMAIL,
        help="New clients start with consent to notifications by e-mail.",
    )
    insurance_prevent_duplicate_clients = fields.Boolean(
        string="Prevent duplicate clients",
        config_parameter=PARAM_PREVENT_DUPLICATES,
        help="Refuse to create, edit or import a client whose mobile number or e-mail "
        "another client already has.",
    )
