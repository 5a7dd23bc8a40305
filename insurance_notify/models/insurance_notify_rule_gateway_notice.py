from odoo import api, fields, models


class InsuranceNotifyRule(models.Model):
    """What the rule's SMS will meet: no gateway at all (a fresh install
    without demo data asks the administrator to choose one) or the sandbox,
    which keeps messages and sends nothing. Shown on the rules list and form."""

    _inherit = "insurance.notify.rule"

    sms_gateway_notice = fields.Selection(
        [
            ("missing", "No SMS gateway: SMS cannot leave"),
            ("sandbox", "Sandbox: SMS are kept, not sent"),
        ],
        string="SMS Gateway Notice",
        compute="_compute_sms_gateway_notice",
    )

    @api.depends("channel", "gateway_id", "gateway_id.provider", "company_id")
    @api.depends_context("company")
    def _compute_sms_gateway_notice(self):
        for rule in self:
            if rule.channel == "email":
                rule.sms_gateway_notice = False
                continue
            gateway = rule.gateway_id or rule.company_id._insurance_reminder_gateway()
            if not gateway:
                rule.sms_gateway_notice = "missing"
            elif gateway.provider == "sandbox":
                rule.sms_gateway_notice = "sandbox"
            else:
                rule.sms_gateway_notice = False
