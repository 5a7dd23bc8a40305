from odoo import api, fields, models

from ..lib.notify_engine import sms


class SmsTemplatePreview(models.TransientModel):
    """Stock Odoo's SMS preview, told what the rendered text costs."""

    _inherit = "sms.template.preview"

    rule_id = fields.Many2one(
        "insurance.notify.rule",
        string="Automatic Notification",
        help="Apply this rule's transliteration, part limit and gateway.",
    )
    transliterate = fields.Boolean(compute="_compute_sms_cost_fields")
    max_parts = fields.Integer(string="Max. Parts", compute="_compute_sms_cost_fields")
    sms_encoding = fields.Char(string="Encoding", compute="_compute_sms_cost_fields")
    sms_chars = fields.Integer(string="Characters", compute="_compute_sms_cost_fields")
    sms_units = fields.Integer(
        string="Units",
        compute="_compute_sms_cost_fields",
        help="Septets for GSM-7 (€ [ ] { } count two), UTF-16 units for UCS-2 (emoji count two).",
    )
    sms_parts = fields.Integer(string="Parts", compute="_compute_sms_cost_fields")
    currency_id = fields.Many2one("res.currency", compute="_compute_sms_cost_fields")
    sms_cost = fields.Monetary(string="Estimated Cost", compute="_compute_sms_cost_fields")
    sms_text = fields.Text(string="Text Sent", compute="_compute_sms_cost_fields")
    sms_warning = fields.Char(compute="_compute_sms_cost_fields")
    empty_placeholders = fields.Text(
        string="Empty For This Record",
        compute="_compute_empty_placeholders",
        help="Placeholders that render nothing for the chosen record: the client would read "
        "e.g. “call your agent: .”. Fill the record in, or change the template.",
    )

    # Stock reads the template's ir.model record as the user, which only
    # administrators may read: an insurance manager's "Preview SMS" failed with
    # an access error. The template's ``model`` (a related field, read as
    # superuser) names the same model; the records are still searched as the user.
    @api.model
    def default_get(self, fields_list):
        template_id = self.env.context.get("default_sms_template_id")
        if not template_id or "resource_ref" not in fields_list:
            return super().default_get(fields_list)
        result = super().default_get([name for name in fields_list if name != "resource_ref"])
        model = self.env["sms.template"].browse(template_id).model
        if model in self.env:
            record = self.env[model].search([], limit=1)
            if record:
                result["resource_ref"] = f"{model},{record.id}"
        return result

    @api.depends("model_id")
    def _compute_no_record(self):
        for preview in self:
            model = preview.sms_template_id.model
            preview.no_record = not (model in self.env and self.env[model].search_count([]))

    @api.depends("body", "rule_id", "sms_template_id")
    def _compute_sms_cost_fields(self):
        Gateway = self.env["insurance.notify.gateway"]
        for wizard in self:
            template = wizard.sms_template_id
            if wizard.rule_id:
                transliterate, max_parts = wizard.rule_id._notify_sms_options()
                gateway = wizard.rule_id.gateway_id
            else:
                transliterate, max_parts = template.sms_transliterate, template.sms_max_parts
                gateway = Gateway
            gateway = gateway or Gateway._default_for_company(self.env.company)
            analysis = sms.analyze(wizard.body or "", transliterate=transliterate)
            wizard.transliterate = transliterate
            wizard.max_parts = max_parts
            wizard.sms_encoding = analysis.encoding
            wizard.sms_chars = analysis.chars
            wizard.sms_units = analysis.units
            wizard.sms_parts = analysis.parts
            wizard.sms_text = analysis.text
            wizard.currency_id = gateway.currency_id or self.env.company.currency_id
            wizard.sms_cost = analysis.parts * gateway.cost_per_part
            wizard.sms_warning = (
                self.env._(
                    "Too long: %(parts)s parts > limit %(limit)s. Reminders like this one fail "
                    "and are not sent.",
                    parts=analysis.parts,
                    limit=max_parts,
                )
                if max_parts and analysis.parts > max_parts
                else False
            )

    @api.depends("sms_template_id", "resource_ref")
    def _compute_empty_placeholders(self):
        for wizard in self:
            template = wizard.sms_template_id
            empty = []
            if template and wizard.resource_ref:
                empty = template._insurance_empty_placeholders(
                    template.body, wizard.resource_ref.id
                )
            wizard.empty_placeholders = "\n".join(f"{{{{ {expr} }}}}" for expr in empty) or False

    @api.depends("lang", "resource_ref")
    def _compute_sms_template_fields(self):
        # Stock rendering fails with a raw traceback on a bad placeholder.
        for wizard in self:
            if wizard.sms_template_id and wizard.resource_ref:
                wizard.body = wizard.sms_template_id._insurance_render_sms(
                    wizard.resource_ref.id, transliterate=False, lang=wizard.lang
                ).text
            else:
                wizard.body = wizard.sms_template_id.body
