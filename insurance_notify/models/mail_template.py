from odoo import fields, models


class MailTemplate(models.Model):
    _inherit = "mail.template"

    insurance_email_bcc = fields.Char(
        string="BCC",
        help="Comma-separated addresses that receive a hidden copy of every automatic "
        "reminder sent with this template.",
    )
