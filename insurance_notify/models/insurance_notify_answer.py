"""A broker's answer to a client's reply, as a sender like any other.

The answer is queued through the one entry point and sent by the dispatcher,
like every reminder; this sender says what sets it apart: the text the broker
wrote, to the number the client wrote from, without a consent check (it
answers the client's own message), but never to a number that replied STOP
(the blacklist still stops it), inside the sender's hours (8 to 20 by
default: an answer written late at night leaves in the morning), and once,
because someone waits for it.

A client who wrote on WhatsApp within the last 24 hours is answered there, as
free text (Meta allows it only in that window, counted from the client's own
last message): one answer sender per company and channel.
"""

from odoo import api, fields, models

from ..lib.notify_engine import consent


class InsuranceNotifyAnswer(models.Model):
    _name = "insurance.notify.answer"
    _inherit = ["insurance.notify.sender"]
    _description = "Answer to a Client"
    _order = "company_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    channel = fields.Selection(
        [("sms", "SMS"), ("whatsapp", "WhatsApp")], default="sms", required=True
    )
    consent_mode = fields.Selection(default="none")

    _sql_constraints = [
        (
            "company_unique",
            "UNIQUE (company_id, channel)",
            "One answer sender per company and channel.",
        ),
    ]

    @api.depends("company_id")
    @api.depends_context("lang")
    def _compute_display_name(self):
        for sender in self:
            sender.display_name = self.env._("Answer to a client")

    @api.model
    def _for(self, company, channel="sms"):
        """The company's answer sender on ``channel``, made the first time it
        is needed. The caller has checked the user's rights on the reply answered."""
        Answer = self.sudo().with_company(company)
        return Answer.search(
            [("company_id", "=", company.id), ("channel", "=", channel)]
        ) or Answer.create({"company_id": company.id, "channel": channel})

    # ------------------------------------------------------------------
    # The sender interface (insurance.notify.sender)
    # ------------------------------------------------------------------

    def _notify_key(self, item):
        return item.key

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

    def _notify_own_channel(self, item):
        return self.channel if item.number else "email"

    def _consent_decision(self, partner, channel, blacklisted, today, template=None):
        # It answers the client's own message (a STOP is refused before it is
        # written): only a blacklisted number stops it, on WhatsApp as by SMS.
        return consent.decide(
            "none", channel_allowed=True, blacklisted=blacklisted, marketing=False, specific=False
        )

    def _recipients(self, partners, today):
        # The number comes with each message (the one the client wrote from);
        # the sender's _own_address still refuses a blacklisted one.
        return {}
