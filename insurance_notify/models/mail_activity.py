from odoo import models


class MailActivity(models.Model):
    """A reply's activity marked done answers the reply: the broker called
    back or dealt with it, and the response time is measured then."""

    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        replies = (
            self.env["insurance.notify.reply"]
            .sudo()
            .search([("activity_id", "in", self.ids), ("answered_at", "=", False)])
        )
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        replies._mark_answered()
        return result
