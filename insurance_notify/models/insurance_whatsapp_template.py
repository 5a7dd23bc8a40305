import logging
import re

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

_logger = logging.getLogger(__name__)

# {{1}}, {{2}}, ...: Meta's numbered parameters in a template's body.
NUMBERED = re.compile(r"\{\{\s*(\d+)\s*\}\}")


class InsuranceWhatsappTemplate(models.Model):
    """A WhatsApp message template as approved in the Meta account.

    Meta sends automatic messages only as templates it approved, by name and
    language; the body's ``{{1}}``.. are filled with this record's
    parameters, one placeholder per line, rendered like an SMS template's
    placeholders (restricted for everyone but administrators).
    """

    _name = "insurance.whatsapp.template"
    _description = "WhatsApp Template"
    _inherit = ["mail.render.mixin", "insurance.template.check"]
    _order = "event_type, template_name, language_code"
    _check_company_auto = True

    name = fields.Char(required=True, translate=False)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    gateway_id = fields.Many2one(
        "insurance.notify.gateway",
        string="WhatsApp Gateway",
        domain=[("provider", "=", "whatsapp")],
        check_company=True,
    )
    template_name = fields.Char(
        required=True, help="The template's name in the WhatsApp Business account (lowercase, _)."
    )
    language_code = fields.Char(
        string="Template Language", required=True, help="Meta's language code: pl, lt, en_US, ..."
    )
    category = fields.Selection(
        [("utility", "Utility"), ("marketing", "Marketing"), ("authentication", "Authentication")],
        required=True,
        default="utility",
        help="Meta prices and allows templates by category; marketing ones need marketing consent.",
    )
    event_type = fields.Selection(
        selection=lambda self: self.env["insurance.notify.rule"]._fields["event_type"].selection,
        help="The reminder this template is for.",
    )
    model_id = fields.Many2one("ir.model", string="Applies to", ondelete="cascade")
    model = fields.Char(related="model_id.model", store=True)
    body = fields.Text(required=True, help="The text as approved, with {{1}}, {{2}}, ...")
    parameters = fields.Text(
        render_engine="inline_template",
        help="One placeholder per line, for {{1}}, {{2}}, ... in order, "
        "e.g. {{ object.partner_id.name }}.",
    )
    status = fields.Selection(
        [
            ("pending", "Pending"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("paused", "Paused"),
            ("disabled", "Disabled"),
        ],
        default="pending",
        required=True,
        readonly=True,
        help="As the WhatsApp Business account says (Sync Status).",
    )
    status_synced_at = fields.Datetime(string="Status Checked", readonly=True)

    _sql_constraints = [
        (
            "template_language_unique",
            "unique(company_id, template_name, language_code)",
            "A company has one WhatsApp template of a name per language.",
        )
    ]

    @api.depends("model")
    def _compute_render_model(self):
        for template in self:
            template.render_model = template.model

    @api.constrains("body", "parameters")
    def _check_parameters(self):
        for template in self:
            numbers = sorted({int(n) for n in NUMBERED.findall(template.body or "")})
            lines = template._parameter_lines()
            if numbers != list(range(1, len(numbers) + 1)):
                raise ValidationError(
                    self.env._(
                        "The body of %(name)s must number its parameters {{1}}, {{2}}, ... "
                        "without gaps.",
                        name=template.name,
                    )
                )
            if len(lines) != len(numbers):
                raise ValidationError(
                    self.env._(
                        "%(name)s has %(body)s parameters in its body and %(given)s placeholders.",
                        name=template.name,
                        body=len(numbers),
                        given=len(lines),
                    )
                )

    @api.constrains("body", "parameters", "model_id")
    def _check_insurance_code(self):
        # Placeholders only for users without Odoo's code right: rendered by
        # the dispatcher (superuser), Odoo's restricted mode would not stop code.
        self._insurance_check_code_on_save()

    def _render_template(self, template_src, model, res_ids, *args, **kwargs):
        self._insurance_guard_render(template_src, *args, **kwargs)
        return super()._render_template(template_src, model, res_ids, *args, **kwargs)

    def _parameter_lines(self):
        self.ensure_one()
        return [line.strip() for line in (self.parameters or "").splitlines() if line.strip()]

    def _render_parameters(self, res_ids):
        """{res_id: (value of {{1}}, value of {{2}}, ...)} for records of the template's model."""
        self.ensure_one()
        by_line = [
            self._render_template(line, self.model, res_ids, engine="inline_template")
            for line in self._parameter_lines()
        ]
        # Meta refuses an empty parameter (132000); a space keeps the message readable.
        return {
            res_id: tuple((rendered[res_id] or "").strip() or "-" for rendered in by_line)
            for res_id in res_ids
        }

    def _render_text(self, res_ids):
        """The text each client reads: the body with its parameters filled in."""
        self.ensure_one()
        values = self._render_parameters(res_ids)
        return {
            res_id: NUMBERED.sub(lambda match, v=params: v[int(match.group(1)) - 1], self.body)
            for res_id, params in values.items()
        }

    def action_sync_status(self):
        """Read each template's status from its WhatsApp Business account."""
        self.check_access("write")
        for gateway, templates in self.grouped("gateway_id").items():
            if not gateway:
                raise UserError(self.env._("Choose the WhatsApp gateway of the templates first."))
            gateway.check_access("read")
            try:
                remote = gateway.sudo()._make_adapter().list_templates()
            except (requests.RequestException, ValueError) as error:
                _logger.warning("WhatsApp template sync failed: %s", type(error).__name__)
                raise UserError(
                    self.env._("WhatsApp did not list the templates: %(error)s", error=str(error))
                ) from None
            statuses = {(t["name"], t["language"]): t["status"] for t in remote}
            known = dict(self._fields["status"].selection)
            for template in templates:
                status = statuses.get((template.template_name, template.language_code))
                if status not in known:
                    status = "pending" if status is None else "rejected"
                template.sudo().write({"status": status, "status_synced_at": fields.Datetime.now()})
        return True
