import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError

from notify_engine import phone
from notify_engine.gateways import OutgoingSms

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
        [("draft", "To Send"), ("sent", "Sent"), ("failed", "Failed")],
        default="draft",
        readonly=True,
    )
    body = fields.Text(readonly=True)
    sms_parts = fields.Integer(string="Parts", readonly=True)
    sms_encoding = fields.Char(string="Encoding", readonly=True)
    answer = fields.Char(string="Gateway's Answer", readonly=True)
    message_id = fields.Many2one("insurance.notify.message", string="Notification", readonly=True)

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
        self.ensure_one()
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
        Message = self.env["insurance.notify.message"]
        now = Message._now()
        gateway = self.gateway_id
        message = Message.sudo().create(
            {
                "key": f"{TEST_KEY_PREFIX}{uuid.uuid4().hex}",
                "company_id": self.policy_id.company_id.id or self.env.company.id,
                "res_model": "insurance.policy",
                "res_id": self.policy_id.id,
                "policy_id": self.policy_id.id,
                "partner_id": self.policy_id.partner_id.id,
                "channel": "sms",
                "number": number,
                "body": analysis.text,
                "sms_parts": analysis.parts,
                "sms_encoding": analysis.encoding,
                "gateway_id": gateway.id,
                "state": "sending",
                "scheduled_at": now,
                "sending_since": now,
            }
        )
        outgoing = OutgoingSms(
            key=message.key,
            number=phone.for_gateway(number, gateway.provider),
            body=analysis.text,
            sender=gateway.sender or None,
        )
        [result] = gateway._make_adapter().send([outgoing])
        # A test is sent once, now: it never waits in the queue for a retry.
        message._write_result(result, now, retry=False)
        self.write(
            {
                "state": "sent" if result.accepted else "failed",
                "body": analysis.text,
                "sms_parts": result.parts or analysis.parts,
                "sms_encoding": analysis.encoding,
                "answer": self._describe(result),
                "message_id": message.id,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Send Test SMS"),
        }

    def _describe(self, result):
        if result.accepted:
            return self.env._(
                "accepted%(already)s, id %(ref)s, %(parts)s part(s)",
                already=self.env._(" (already sent before)") if result.already_sent else "",
                ref=result.provider_ref or "-",
                parts=result.parts or "?",
            )
        return self.env._(
            "refused: %(error)s (code %(code)s) %(text)s",
            error=result.error_class,
            code=result.error_code or "-",
            text=result.error_text or "",
        )
