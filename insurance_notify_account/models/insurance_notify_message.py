from odoo import fields, models

# Why an invoice's reminder was cancelled: codes the history shows translated.
INVOICE_REASONS = [
    ("invoice_paid", "invoice paid"),
    ("invoice_reversed", "invoice reversed by a credit note"),
    ("invoice_cancelled", "invoice cancelled"),
    ("invoice_draft", "invoice reset to draft"),
    ("invoice_rule_removed", "invoice reminders uninstalled"),
]


def _keep_as_text(code, text):
    """Uninstalling the bridge keeps the reason, as the text it read in English."""
    return lambda messages: messages.write(
        {"reason_code": "legacy", "reason_params": {"text": text}}
    )


class InsuranceNotifyMessage(models.Model):
    _inherit = "insurance.notify.message"

    reason_code = fields.Selection(
        selection_add=INVOICE_REASONS,
        ondelete={code: _keep_as_text(code, text) for code, text in INVOICE_REASONS},
    )
