from odoo import api, fields, models


class MailTemplate(models.Model):
    _name = "mail.template"
    _inherit = ["mail.template", "insurance.template.check"]

    insurance_email_bcc = fields.Char(
        string="BCC",
        help="Comma-separated addresses that receive a hidden copy of every automatic "
        "reminder sent with this template.",
    )

    @api.constrains("subject", "body_html", "model_id")
    def _check_insurance_placeholders(self):
        self._insurance_check_texts(
            lambda template: {
                self.env._("The subject"): (template.subject, False),
                self.env._("The body"): (template.body_html, True),
            }
        )
