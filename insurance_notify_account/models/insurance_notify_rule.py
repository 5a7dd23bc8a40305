from odoo import fields, models


class InsuranceNotifyRule(models.Model):
    _inherit = "insurance.notify.rule"

    event_type = fields.Selection(
        selection_add=[
            ("invoice_due", "Invoice payment due"),
            ("invoice_overdue", "Invoice payment overdue"),
        ],
        ondelete={
            "invoice_due": lambda rules: rules._notify_ondelete_invoice_rules(),
            "invoice_overdue": lambda rules: rules._notify_ondelete_invoice_rules(),
        },
    )

    def _notify_ondelete_invoice_rules(self):
        """Uninstalling the bridge: nothing more leaves, the history stays.
        Rules that sent nothing go; the others are archived with their messages."""
        rules = self.sudo().with_context(active_test=False)
        self.env["insurance.notify.message"].sudo().search(
            [("rule_id", "in", rules.ids), ("state", "=", "queued")]
        ).write({"state": "cancelled", "reason_code": "invoice_rule_removed"})
        with_history = rules.filtered("notify_message_ids")
        (rules - with_history).unlink()
        with_history.write({"active": False})
