"""Reply by SMS: the broker answers a client's reply from where they are."""

import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib.notify_engine import sms
from ..models.insurance_notify_sender import QueueItem

ANSWER_KEY_PREFIX = "answer-"
# The thread shows this many of the latest messages both ways.
THREAD_SIZE = 10


class InsuranceNotifyReplyCompose(models.TransientModel):
    _name = "insurance.notify.reply.compose"
    _description = "Reply by SMS"

    reply_id = fields.Many2one("insurance.notify.reply", required=True, readonly=True)
    partner_id = fields.Many2one(related="reply_id.partner_id")
    number = fields.Char(related="reply_id.number")
    thread = fields.Html(compute="_compute_thread", sanitize=True)
    body = fields.Text(string="Answer", required=True)
    sms_parts = fields.Integer(string="SMS Parts", compute="_compute_counter")
    sms_units = fields.Integer(string="Characters", compute="_compute_counter")
    sms_encoding = fields.Char(string="Encoding", compute="_compute_counter")

    @api.depends("body")
    def _compute_counter(self):
        for wizard in self:
            analysis = sms.analyze(wizard.body or "")
            wizard.sms_parts = analysis.parts
            wizard.sms_units = analysis.units
            wizard.sms_encoding = analysis.encoding

    @api.depends("reply_id")
    def _compute_thread(self):
        for wizard in self:
            reply = wizard.reply_id
            # The thread reads sent messages as superuser: only for a reply the user may read.
            readable = reply and reply.has_access("read")
            wizard.thread = reply._thread_html(THREAD_SIZE) if readable else False

    @api.model
    def _action_open(self, reply):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply by SMS"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {"default_reply_id": reply.id},
        }

    def action_send(self):
        """Queue the answer (the dispatcher sends it after this is saved), mark
        the reply answered and its activity done."""
        self.ensure_one()
        reply = self.reply_id
        reply.check_access("read")
        reply._check_answerable_by_sms()
        body = (self.body or "").strip()
        if not body:
            raise UserError(self.env._("Write the answer first."))
        company = reply.company_id
        Message = self.env["insurance.notify.message"].sudo().with_company(company)
        whatsapp = reply._whatsapp_window_open(Message._now())
        gateway = reply.gateway_id
        if not whatsapp and gateway.provider == "whatsapp":
            gateway = self.env["insurance.notify.gateway"]  # the company's SMS gateway
        item = QueueItem(
            res_model=reply.res_model or reply._name,
            res_id=reply.res_id or reply.id,
            partner_id=reply.partner_id.id or None,
            policy_id=reply.res_id if reply.res_model == "insurance.policy" else None,
            number=reply.number,
            body=body,
            key=f"{ANSWER_KEY_PREFIX}{reply.id}-{uuid.uuid4().hex}",
            gateway_id=gateway.id or None,
        )
        sender = self.env["insurance.notify.answer"]._for(
            company, "whatsapp" if whatsapp else "sms"
        )
        message = Message._enqueue(sender, [item])
        if message.state == "skipped":
            raise UserError(
                self.env._("The answer cannot be sent: %(reason)s", reason=message.reason)
            )
        Message._trigger_dispatch()
        reply._answered_by(message)
        return {"type": "ir.actions.act_window_close"}
