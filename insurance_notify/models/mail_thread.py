from odoo import api, models


class MailThread(models.AbstractModel):
    """E-mail replies to reminders: Odoo's mail gateway routes a client's
    answer to the document's thread (by its references, as for any reply);
    this keeps it as a client's reply too, with its activity for the broker."""

    _inherit = "mail.thread"

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        thread_id = super()._message_route_process(message, message_dict, routes)
        self.env["insurance.notify.reply"].sudo()._receive_email(message_dict, routes)
        return thread_id
