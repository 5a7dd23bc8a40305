from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from notify_engine import sms


class SmsTemplate(models.Model):
    _inherit = "sms.template"

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
