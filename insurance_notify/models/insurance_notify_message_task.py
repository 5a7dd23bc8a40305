from odoo import fields, models


class InsuranceNotifyMessage(models.Model):
    """Task reminders on the queue, and rendering in the recipient's timezone."""

    _inherit = "insurance.notify.message"

    task_reminder_id = fields.Many2one(
        "insurance.task.reminder", index="btree_not_null", readonly=True, ondelete="set null"
    )

    def _by_timezone(self):
        """These messages split by timezone, each part with that tz in context:
        dates and times in templates read in the recipient's wall-clock time."""
        return [
            messages.with_context(tz=timezone) if timezone else messages
            for timezone, messages in self.grouped("timezone").items()
        ]

    def _render(self):
        renderable = self.browse()
        for messages in self._by_timezone():
            renderable |= super(InsuranceNotifyMessage, messages)._render()
        return renderable.with_env(self.env)

    def _send_emails(self, now):  # pylint: disable=missing-return
        # The base method returns nothing; it writes each message's result.
        for messages in self._by_timezone():
            super(InsuranceNotifyMessage, messages)._send_emails(now)
