from odoo import api, fields, models


class MailTemplate(models.Model):
    _name = "mail.template"
    _inherit = ["mail.template", "insurance.template.check"]

    insurance_email_bcc = fields.Char(
        string="BCC",
        help="Comma-separated addresses that receive a hidden copy of every automatic "
        "reminder sent with this template.",
    )
    # An agency's texts are its own (record rules): empty for shared texts,
    # which only administrators change. Managers' new templates are their
    # agency's; other users' and stock templates stay shared, as in stock Odoo.
    company_id = fields.Many2one(
        "res.company",
        string="Agency",
        index=True,
        copy=False,
        default=lambda self: self._insurance_default_company(),
        help="Only this agency's users see and change the template. Empty: shared by "
        "every agency and changed by administrators only.",
    )

    @api.model
    def _build_expression(self, field_name, sub_field_name, null_value):
        # Formatted amounts and dates first for insurance models (see
        # insurance.template.check); the model comes from the template or the
        # form's context.
        model = self.model or self.env.context.get("default_model")
        expression = self._insurance_build_expression(model, field_name, sub_field_name, null_value)
        return expression or super()._build_expression(field_name, sub_field_name, null_value)

    @api.constrains("subject", "body_html", "model_id")
    def _check_insurance_placeholders(self):
        self._insurance_check_texts(
            lambda template: {
                self.env._("The subject"): (template.subject, False),
                self.env._("The body"): (template.body_html, True),
            }
        )

    @api.constrains("company_id", "model_id")
    def _check_insurance_company(self):
        self._insurance_check_company()

    @api.constrains("model_id")
    def _check_insurance_senders(self):
        self._insurance_check_senders_still_fit()

    def _check_access_right_dynamic_template(self):
        # Our templates: placeholders only for users who may not write code;
        # the others keep stock Odoo's check.
        rest = self._insurance_check_code_on_save()
        return super(MailTemplate, rest)._check_access_right_dynamic_template()

    def _render_template(self, template_src, model, res_ids, *args, **kwargs):
        self._insurance_guard_render(template_src, *args, **kwargs)
        return super()._render_template(template_src, model, res_ids, *args, **kwargs)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_insurance_in_use(self):
        self._insurance_unlink_in_use()
