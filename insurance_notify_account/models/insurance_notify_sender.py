from odoo import api, models

from .notify_event_sources import INVOICE_SOURCES


class InsuranceNotifySender(models.AbstractModel):
    _inherit = "insurance.notify.sender"

    @api.model
    def _notify_event_sources(self):
        # Invoices are events where this bridge is installed, and only there:
        # the registry of a database without it never sees this method.
        sources = super()._notify_event_sources()
        sources.update(INVOICE_SOURCES)
        return sources
