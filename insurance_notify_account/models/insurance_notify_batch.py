from odoo import fields, models


class InsuranceNotifyBatch(models.Model):
    _inherit = "insurance.notify.batch"

    target = fields.Selection(
        selection_add=[("invoice_due", "Unpaid invoices")],
        ondelete={"invoice_due": "set null"},
    )

    def _is_marketing(self):
        # A payment reminder is a service message, like an installment's: it
        # follows the invoice rules' consent, not the marketing consent.
        self.ensure_one()
        if self.kind == "bulk" and self.target == "invoice_due":
            return False
        return super()._is_marketing()
