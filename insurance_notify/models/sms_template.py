from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..lib.notify_engine import foreign_tokens, sms


class SmsTemplate(models.Model):
    _name = "sms.template"
    _inherit = ["sms.template", "insurance.template.check"]

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
    # A template in use is archived, not deleted (stock SMS templates have no
    # archive; every existing one stays active).
    active = fields.Boolean(default=True)
    sms_transliterate = fields.Boolean(
        string="Transliterate",
        help="Replace letters GSM-7 lacks (ą → a, š → s) before sending, so a part holds "
        "160 characters instead of 70. Letters GSM-7 has (é, ü, ß) and € are kept.",
    )
    sms_max_parts = fields.Integer(
        string="Max. SMS Parts",
        help="Reminders rendered longer than this are not sent: they fail as too long. "
        "0 means no limit.",
    )

    # One counter everywhere: the server's analysis of a rendered text, never a
    # count of the template's source with its {{ }} placeholders.
    sms_sample_text = fields.Text(
        string="Example",
        compute="_compute_sms_sample",
        help="This template rendered for the latest record, in its recipient's language, "
        "as it would be sent.",
    )
    sms_sample_record = fields.Char(string="Example For", compute="_compute_sms_sample")
    sms_sample_encoding = fields.Char(string="Encoding", compute="_compute_sms_sample")
    sms_sample_chars = fields.Integer(string="Characters", compute="_compute_sms_sample")
    sms_sample_parts = fields.Integer(string="SMS Parts", compute="_compute_sms_sample")
    sms_sample_error = fields.Char(string="Example Error", compute="_compute_sms_sample")
    # Live, while typing: a token of another program would go out literally.
    # A warning, not a refusal (the save refuses what the placeholder check knows).
    insurance_foreign_warning = fields.Char(
        string="Other Program's Tokens", compute="_compute_insurance_foreign_warning"
    )

    @api.model
    def _build_expression(self, field_name, sub_field_name, null_value):
        # Formatted amounts and dates first for insurance models (see
        # insurance.template.check); the model comes from the template or the
        # form's context.
        model = self.model or self.env.context.get("default_model")
        expression = self._insurance_build_expression(model, field_name, sub_field_name, null_value)
        return expression or super()._build_expression(field_name, sub_field_name, null_value)

    @api.constrains("body", "model_id")
    def _check_insurance_placeholders(self):
        self._insurance_check_texts(
            lambda template: {self.env._("The SMS text"): (template.body, False)}
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
        return super(SmsTemplate, rest)._check_access_right_dynamic_template()

    def _render_template(self, template_src, model, res_ids, *args, **kwargs):
        self._insurance_guard_render(template_src, *args, **kwargs)
        return super()._render_template(template_src, model, res_ids, *args, **kwargs)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_insurance_in_use(self):
        self._insurance_unlink_in_use()

    @api.onchange("body")
    def _onchange_insurance_format_picked(self):
        # The picker's raw {{object.premium_amount}} renders "312.5": formatted
        # helpers for amounts and dates of insurance models.
        if self.body and (self.model or "").startswith("insurance."):
            formatted = self._insurance_format_picked(self.body)
            if formatted != self.body:
                self.body = formatted

    @api.depends("body")
    def _compute_insurance_foreign_warning(self):
        for template in self:
            tokens = foreign_tokens.find(template.body or "")
            template.insurance_foreign_warning = (
                self.env._(
                    "%(tokens)s: placeholders of another program. They would be sent to the "
                    "client as they are; insert fields with # or the magic wand instead.",
                    tokens=", ".join(f"“{token}”" for token in tokens),
                )
                if tokens
                else False
            )

    @api.depends("body", "lang", "model_id", "sms_transliterate")
    @api.depends_context("lang")
    def _compute_sms_sample(self):
        for template in self:
            values = dict.fromkeys(
                ("sms_sample_text", "sms_sample_record", "sms_sample_encoding", "sms_sample_error"),
                False,
            )
            values.update(sms_sample_chars=0, sms_sample_parts=0)
            record = template._insurance_sample_record()
            if record and template.body:
                try:
                    analysis = template._insurance_render_sms(record.id)
                except UserError as error:
                    values["sms_sample_error"] = str(error.args[0])
                else:
                    values.update(
                        sms_sample_text=analysis.text,
                        sms_sample_record=record.display_name,
                        sms_sample_encoding=analysis.encoding,
                        sms_sample_chars=analysis.chars,
                        sms_sample_parts=analysis.parts,
                    )
            template.update(values)

    def _insurance_sample_record(self):
        """The latest record of the template's model the user may read, if any."""
        self.ensure_one()
        model = self.model
        if not model or model not in self.env:
            return None
        Model = self.env[model]
        if not Model.has_access("read"):
            return None
        return Model.search([], order="id desc", limit=1) or None

    @api.constrains("sms_max_parts")
    def _check_sms_max_parts(self):
        if any(template.sms_max_parts < 0 for template in self):
            raise ValidationError(self.env._("The maximum number of SMS parts cannot be negative."))

    def _insurance_render_sms(self, res_id, transliterate=None, lang=None):
        """Render the body for one record and analyse it; a clear error if it cannot render."""
        self.ensure_one()
        if transliterate is None:
            transliterate = self.sms_transliterate
        try:
            # Code no administrator wrote is refused first, in the viewer's
            # language (rendering below switches to the client's).
            self._insurance_guard_render_all()
            if not lang and not self.lang:
                # No language named: the record's client's, else the agency's,
                # as the dispatcher renders it (insurance_notify_composer).
                record = self.env[self.model].browse(res_id)
                partner = record.partner_id if "partner_id" in record._fields else record
                lang = (
                    (partner._name == "res.partner" and partner.lang)
                    or ("company_id" in record._fields and record.company_id.partner_id.lang)
                    or None
                )
            if lang:
                body = self._render_field("body", [res_id], set_lang=lang)[res_id]
            else:
                body = self._render_field("body", [res_id], compute_lang=True)[res_id]
        except UserError as error:
            raise UserError(
                self.env._(
                    "The SMS template %(template)s cannot be rendered for this record; "
                    "check its placeholders ({{ object.… }}).\n\n%(error)s",
                    template=self.name,
                    error=error.args[0] if error.args else error,
                )
            ) from error
        return sms.analyze(body or "", transliterate=transliterate)

    def _action_insurance_preview(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sms.sms_template_preview_action")
        action["context"] = {**self.env.context, "default_sms_template_id": self.id}
        return action
