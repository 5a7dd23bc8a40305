import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib.notify_engine import phone
from ..models.insurance_notify_sender import QueueItem

TEST_KEY_PREFIX = "test-"


class InsuranceSmsTest(models.TransientModel):
    """Send one SMS rendered from a real template for a real policy, now."""

    _name = "insurance.sms.test"
    _description = "Send Test SMS"

    policy_id = fields.Many2one(
        "insurance.policy",
        required=True,
        help="Search by policy number; the SMS is rendered for this policy.",
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        required=True,
        domain=[("model", "=", "insurance.policy")],
        default=lambda self: self.env.ref(
            "insurance_notify.sms_template_policy_expiry", raise_if_not_found=False
        ),
    )
    number = fields.Char(string="Phone Number", required=True)
    gateway_id = fields.Many2one(
        "insurance.notify.gateway",
        string="SMS Gateway",
        required=True,
        default=lambda self: self.env["insurance.notify.gateway"]._default_for_company(
            self.env.company
        ),
    )
    state = fields.Selection(
        [("draft", "To Send"), ("queued", "Sending"), ("sent", "Sent"), ("failed", "Failed")],
        compute="_compute_result",
    )
    body = fields.Text(readonly=True)
    sms_parts = fields.Integer(string="Parts", readonly=True)
    sms_encoding = fields.Char(string="Encoding", readonly=True)
    answer = fields.Char(string="Gateway's Answer", compute="_compute_result")
    message_id = fields.Many2one("insurance.notify.message", string="Notification", readonly=True)

    @api.depends("message_id.state", "message_id.provider_ref", "message_id.reason_code")
    def _compute_result(self):
        for wizard in self:
            message = wizard.message_id.sudo()
            if not message:
                wizard.state, wizard.answer = "draft", False
            elif message.state in ("sent", "delivered"):
                wizard.state = "sent"
                wizard.answer = self.env._(
                    "accepted, id %(ref)s, %(parts)s part(s)",
                    ref=message.provider_ref or "-",
                    parts=message.sms_parts or "?",
                )
            elif message.state in ("queued", "sending"):
                wizard.state = "queued"
                wizard.answer = self.env._("waiting for the gateway's answer…")
            else:
                wizard.state = "failed"
                wizard.answer = self.env._(
                    "refused: %(error)s %(reason)s",
                    error=message.error_class or "",
                    reason=message.reason or "",
                )

    @api.onchange("policy_id")
    def _onchange_policy_id(self):
        if self.policy_id and not self.number:
            self.number = self.policy_id.partner_id.phone_sanitized or False

    def _normalized_number(self):
        region = self.policy_id.partner_id.country_id.code or self.env.company.country_id.code
        try:
            number = phone.normalize(self.number or "", region)
        except phone.InvalidPhone:
            number = ""
        if not number:
            raise UserError(
                self.env._(
                    "“%(number)s” is not a valid phone number. Type it with the country "
                    "code, e.g. +48 600 123 456.",
                    number=self.number or "",
                )
            )
        return number

    def action_send(self):
        """Queue the test SMS to leave at once, day or night; the dispatcher
        sends it as soon as this is saved (never inside this request, which
        Odoo may replay)."""
        self.ensure_one()
        # The wizard is its user's (record rule): nobody re-sends another's.
        self.check_access("write")
        self.policy_id.check_access("read")
        self.gateway_id.check_access("read")
        number = self._normalized_number()
        template = self.sms_template_id
        analysis = template._insurance_render_sms(self.policy_id.id)
        if not analysis.parts:
            raise UserError(self.env._("The template renders an empty text for this policy."))
        if template.sms_max_parts and analysis.parts > template.sms_max_parts:
            raise UserError(
                self.env._(
                    "The SMS is too long (%(parts)s parts > %(limit)s) and would not be sent.",
                    parts=analysis.parts,
                    limit=template.sms_max_parts,
                )
            )
        Message = self.env["insurance.notify.message"].sudo()
        item = QueueItem(
            res_model="insurance.policy",
            res_id=self.policy_id.id,
            # A test goes to the number typed (often the broker's own): it is
            # the policy's, logged there as a test, never the client's history
            # or counts, nor a client's daily limit.
            partner_id=False,
            policy_id=self.policy_id.id,
            number=number,
            body=analysis.text,
            key=f"{TEST_KEY_PREFIX}{uuid.uuid4().hex}",
            gateway_id=self.gateway_id.id,
        )
        company = self.policy_id.company_id or self.env.company
        sender = self.env["insurance.notify.direct"]._for("test", company)
        message = Message.with_company(company)._enqueue(sender, [item])
        Message._trigger_dispatch()
        self.write(
            {
                "body": analysis.text,
                "sms_parts": analysis.parts,
                "sms_encoding": analysis.encoding,
                "message_id": message.id,
            }
        )
        return self._reopen()

    def action_refresh(self):
        self.ensure_one()
        self.check_access("read")
        self.message_id.invalidate_recordset()
        self.invalidate_recordset(["state", "answer"])
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Send Test SMS"),
        }
