"""Messages a person sends by hand, as a sender like any other.

A test SMS (and, with the replies work, a broker's answer) is queued and sent
through the same entry point and dispatcher as every reminder; this sender
says what sets it apart: it goes at once, day or night, to the address the
person chose, with the text they wrote, without a consent check (the person
asked for it; the message records that it was sent this way), and is sent
once, never held or retried, because someone waits for the answer.
"""

from odoo import api, fields, models

from .insurance_notify_sender import ALWAYS, Recipient
from .notify_reasons import MISSING_ADDRESS


class InsuranceNotifyDirect(models.Model):
    _name = "insurance.notify.direct"
    _inherit = ["insurance.notify.sender"]
    _description = "Direct Message"
    _order = "company_id, kind"

    kind = fields.Selection([("test", "Test SMS")], required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    channel = fields.Selection([("sms", "SMS"), ("email", "E-mail")], default="sms", required=True)
    consent_mode = fields.Selection(default="none")

    _sql_constraints = [
        (
            "kind_company_unique",
            "UNIQUE (kind, company_id)",
            "One direct sender per kind and company.",
        ),
    ]

    @api.depends("kind")
    @api.depends_context("lang")
    def _compute_display_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for sender in self:
            sender.display_name = labels.get(sender.kind, "")

    @api.model
    def _for(self, kind, company):
        """The company's direct sender of ``kind``, made the first time it is needed.
        The caller has checked the user's rights on what is being sent."""
        Direct = self.sudo().with_company(company)
        return Direct.search([("kind", "=", kind), ("company_id", "=", company.id)]) or (
            Direct.create({"kind": kind, "company_id": company.id})
        )

    # ------------------------------------------------------------------
    # The sender interface (insurance.notify.sender)
    # ------------------------------------------------------------------

    def _notify_key(self, item):
        return item.key

    def _notify_window(self):
        return ALWAYS

    def _notify_templates(self, variant=False):
        return self.env["sms.template"], self.env["mail.template"]

    def _notify_sms_options(self):
        return False, 0

    def _notify_free_text(self, message):
        return message.body

    def _notify_is_late(self, message, today):
        return None

    def _notify_is_interactive(self):
        return True

    def _recipients(self, partners, today):
        # The address comes with each message: nothing is read from the card.
        return {}

    def _own_address(self, partner, channel, address, listed, today):
        return Recipient(
            channel=channel,
            number=address if channel == "sms" else False,
            email=address if channel == "email" else False,
            timezone=False,
            reason=None if address else MISSING_ADDRESS[channel],
        )
