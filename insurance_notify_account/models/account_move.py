"""Invoices: the policy they bill, the Send now button, and cancelling the
queued reminders of an invoice that no longer needs them."""

from odoo import api, fields, models
from odoo.exceptions import UserError

# Why an invoice's queued reminders are cancelled (codes; the message model
# shows them translated).
REASON_PAID = "invoice_paid"
REASON_REVERSED = "invoice_reversed"
REASON_CANCELLED = "invoice_cancelled"
REASON_DRAFT = "invoice_draft"


class AccountMove(models.Model):
    _inherit = "account.move"

    policy_id = fields.Many2one(
        "insurance.policy",
        string="Insurance Policy",
        index="btree_not_null",
        check_company=True,
        copy=False,
        # Accountants who are not insurance users do not see policies at all.
        groups="insurance_notify.group_insurance_user",
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
        help="The policy this invoice bills: reminders about it follow the rules' "
        "insurer and product filters, and appear on the policy.",
    )

    notify_message_count = fields.Integer(
        string="Reminders",
        compute="_compute_notify_message_count",
        groups="insurance_notify.group_insurance_user",
    )

    def _compute_notify_message_count(self):
        lines = self._notify_due_lines()
        counts = dict(
            self.env["insurance.notify.message"]._read_group(
                [("res_model", "=", "account.move.line"), ("res_id", "in", lines.ids)],
                ["res_id"],
                ["__count"],
            )
        )
        for move in self:
            move.notify_message_count = sum(
                counts.get(line.id, 0) for line in move._notify_due_lines()
            )

    def action_view_insurance_notify_messages(self):
        """The reminders about this invoice's due dates, whatever their state."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_notify_message"
        )
        action["domain"] = [
            ("res_model", "=", "account.move.line"),
            ("res_id", "in", self._notify_due_lines().ids),
        ]
        action["context"] = {"create": False}
        return action

    def _notify_due_lines(self):
        """The receivable lines (one per due date) of these customer invoices."""
        return self.filtered(lambda move: move.move_type == "out_invoice").line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        )

    def _notify_open_lines(self):
        return self._notify_due_lines().filtered(
            lambda line: line.parent_state == "posted" and line.amount_residual > 0
        )

    @api.depends("amount_residual", "move_type", "state", "company_id", "matched_payment_ids.state")
    def _compute_payment_state(self):
        result = super()._compute_payment_state()
        self._notify_cancel_settled()
        return result

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals:
            # Cancelled or reset to draft: at once, not when the payment state
            # is next recomputed (at the next flush).
            self._notify_cancel_settled()
        return result

    def _notify_cancel_settled(self):
        """However an invoice gets settled (payment, reconciliation with a bank
        line or a credit note, cancellation, reset to draft), no reminder about
        it may leave any more; nor about a due line paid on its own.

        Called from the payment state's computation, which every one of these
        operations goes through; the operation itself checked the user's right
        to change the invoice, and the reminder must not outlive the payment
        whoever recorded it, so the cancellation runs as superuser."""
        invoices = self.filtered(lambda move: move.move_type == "out_invoice" and move.id)
        if not invoices:
            return
        by_reason = {}
        for invoice in invoices:
            lines = invoice._notify_due_lines()
            if invoice.state == "cancel":
                reason = REASON_CANCELLED
            elif invoice.state != "posted":
                reason = REASON_DRAFT
            elif invoice.payment_state == "reversed":
                reason = REASON_REVERSED
            elif invoice.payment_state in ("paid", "in_payment"):
                reason = REASON_PAID
            else:
                # Partly paid: only the due dates already settled.
                reason = REASON_PAID
                lines = lines.filtered("reconciled")
            if lines:
                by_reason.setdefault(reason, self.env["account.move.line"])
                by_reason[reason] |= lines
        messages = self.env["insurance.notify.message"].sudo()
        for reason, lines in by_reason.items():
            messages._cancel_queued_for(lines, reason)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._notify_plan_today()
        return posted

    def _notify_plan_today(self):
        """An invoice posted today gets the reminders due today (one due in
        three days under a "3 days before" rule), not only from tomorrow's run."""
        invoices = self.filtered(lambda move: move.move_type == "out_invoice")
        if not invoices:
            return
        rules = (
            self.env["insurance.notify.rule"]
            .sudo()
            .search(
                [
                    ("event_type", "in", ("invoice_due", "invoice_overdue")),
                    ("company_id", "in", invoices.company_id.ids),
                ]
            )
        )
        rules._plan_today()

    def action_insurance_send_reminder(self):
        """Send now: the due or overdue reminder of this invoice, whichever it is."""
        self.ensure_one()
        self.check_access("write")
        if not self.env.user.has_group("insurance_notify.group_insurance_user"):
            raise UserError(self.env._("Only insurance users may send reminders by hand."))
        open_lines = self._notify_open_lines()
        if (
            self.move_type != "out_invoice"
            or self.state != "posted"
            or self.payment_state not in ("not_paid", "partial")
            or not open_lines
        ):
            raise UserError(
                self.env._("Only posted customer invoices still to pay get a payment reminder.")
            )
        today = self.env["insurance.notify.message"]._today()
        overdue = open_lines.filtered(lambda line: line.date_maturity < today)
        if overdue:
            return self.env["insurance.notify.message"]._action_send_now(overdue, "invoice_overdue")
        return self.env["insurance.notify.message"]._action_send_now(open_lines, "invoice_due")
