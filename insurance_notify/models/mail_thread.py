import logging

from odoo import api, models

_logger = logging.getLogger(__name__)


class MailThread(models.AbstractModel):
    """E-mail replies to reminders: Odoo's mail gateway routes a client's
    answer to the document's thread (by its references, as for any reply);
    this keeps it as a client's reply too, with its activity for the broker."""

    _inherit = "mail.thread"

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        thread_id = super()._message_route_process(message, message_dict, routes)
        # The e-mail is on the document already: a failure of ours must not
        # make the mail gateway refuse (and the server retry) the client's mail.
        try:
            with self.env.cr.savepoint():
                self.env["insurance.notify.reply"].sudo()._receive_email(message_dict, routes)
        except Exception:
            _logger.exception(
                "E-mail reply %s not kept as a client's reply", message_dict.get("message_id")
            )
        return thread_id
