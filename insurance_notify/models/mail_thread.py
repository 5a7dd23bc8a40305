from odoo import api, models

from .res_partner import AUTO_PARTNER_CONTEXT


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def message_process(
        self,
        model,
        message,
        custom_values=None,
        save_original=False,
        strip_attachments=False,
        thread_id=None,
    ):
        """The mail gateway creates partners by itself (a task's author, a lead's
        contact): with "Prevent duplicate clients" on they are flagged for review,
        never refused — an incoming e-mail is never lost to that setting."""
        return super(MailThread, self.with_context(**{AUTO_PARTNER_CONTEXT: True})).message_process(
            model,
            message,
            custom_values=custom_values,
            save_original=save_original,
            strip_attachments=strip_attachments,
            thread_id=thread_id,
        )
