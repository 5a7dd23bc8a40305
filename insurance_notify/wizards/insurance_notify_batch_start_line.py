"""One client of a bulk send under review: what they would get, or why not."""

from odoo import fields, models


class InsuranceNotifyBatchStartLine(models.TransientModel):
    _name = "insurance.notify.batch.start.line"
    _description = "Bulk Send Recipient Under Review"
    _order = "skipped_count, partner_name, id"

    wizard_id = fields.Many2one(
        "insurance.notify.batch.start", required=True, ondelete="cascade", index=True
    )
    included = fields.Boolean(
        string="Send", default=True, help="Untick to leave this client out of the send."
    )
    partner_id = fields.Many2one("res.partner", string="Client", readonly=True)
    partner_name = fields.Char(related="partner_id.name", store=True)
    documents = fields.Char(readonly=True)
    channel = fields.Selection([("sms", "SMS"), ("email", "E-mail")], readonly=True)
    number = fields.Char(readonly=True)
    email = fields.Char(string="E-mail", readonly=True)
    send_count = fields.Integer(string="To Send", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    fail_count = fields.Integer(string="Will Fail", readonly=True)
    reason = fields.Char(string="Why Not", readonly=True)
    sms_parts = fields.Integer(string="SMS Parts", readonly=True)
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    cost = fields.Monetary(string="Estimated Cost", readonly=True)
