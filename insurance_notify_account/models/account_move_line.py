"""The document of an invoice reminder: one receivable line (one due date).

Why the line and not the invoice: an invoice paid in installments has one
receivable line per due date, and each due date is its own reminder with its
own unique key, due date and amount still to pay on that date; the planner
keeps one occurrence per document and run, so two due dates of one invoice
falling on the same run would collapse into one if the document were the
invoice. The chatter line still goes on the invoice (``_message_log_batch``
below), and the client card shows the history through the message's partner.

The ``notify_*`` fields are the placeholders of Insly's invoice reminders,
already formatted in the language the template renders in (the recipient's):
they appear in the field picker of SMS and e-mail templates.
"""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount, format_date
from odoo.tools.sql import create_index

from odoo.addons.insurance_notify.tools.safe_eval_cache import format_once

PLACEHOLDER_FIELDS = [
    "notify_currency",
    "notify_invoice_ref",
    "notify_invoice_number",
    "notify_invoice_date",
    "notify_due_date",
    "notify_last_payment_date",
    "notify_amount_total",
    "notify_amount_paid",
    "notify_amount_due",
]


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    notify_currency = fields.Char(
        string="Reminder: Currency",
        compute="_compute_notify_placeholders",
        search="_search_notify_currency",
        help="The invoice's currency code (PLN, EUR).",
    )
    notify_invoice_ref = fields.Char(
        string="Reminder: Invoice Reference",
        compute="_compute_notify_placeholders",
        search="_search_notify_invoice_ref",
        help="The payment reference the client quotes on the transfer (else the number).",
    )
    notify_invoice_number = fields.Char(
        string="Reminder: Invoice Number",
        compute="_compute_notify_placeholders",
        search="_search_notify_invoice_number",
    )
    notify_invoice_date = fields.Char(
        string="Reminder: Invoice Date",
        compute="_compute_notify_placeholders",
        search="_search_notify_formatted",
        help="In the recipient's language.",
    )
    notify_due_date = fields.Char(
        string="Reminder: Due Date",
        compute="_compute_notify_placeholders",
        search="_search_notify_formatted",
        help="This installment's due date, in the recipient's language.",
    )
    notify_last_payment_date = fields.Char(
        string="Reminder: Last Payment Date",
        compute="_compute_notify_placeholders",
        search="_search_notify_formatted",
        help="Date of the last payment on the invoice, in the recipient's language; "
        "empty when nothing was paid.",
    )
    notify_amount_total = fields.Char(
        string="Reminder: Invoice Total",
        compute="_compute_notify_placeholders",
        search="_search_notify_formatted",
        help="With the currency, in the recipient's language.",
    )
    notify_amount_paid = fields.Char(
        string="Reminder: Amount Paid",
        compute="_compute_notify_placeholders",
        search="_search_notify_formatted",
        help="Paid so far on the whole invoice, with the currency.",
    )
    notify_amount_due = fields.Char(
        string="Reminder: Amount Due",
        compute="_compute_notify_placeholders",
        search="_search_notify_formatted",
        help="Still to pay on this due date, with the currency.",
    )

    @api.depends_context("insurance_notify_document")
    def _compute_display_name(self):
        # A payment-term line is named after its invoice, so stock Odoo shows
        # "FV/2026/00005 FV/2026/00005"; the add-on's screens (which ask with this
        # context key) name the document once. Elsewhere the stock name stays.
        super()._compute_display_name()
        if not self.env.context.get("insurance_notify_document"):
            return
        for line in self:
            move_name = line.move_id.name
            if move_name and line.display_name == f"{move_name} {move_name}":
                line.display_name = move_name

    def init(self):
        result = super().init()
        # Open receivable lines by due date: the planner's range scan. Stock
        # account indexes date_maturity over every line; this one holds only
        # the lines still to pay, a small fraction of a long-lived ledger. The
        # predicate is the one of the event query (notify_event_sources.py).
        create_index(
            self.env.cr,
            indexname="account_move_line_notify_open_receivable_idx",
            tablename="account_move_line",
            expressions=["date_maturity"],
            where="display_type = 'payment_term' AND parent_state = 'posted' "
            "AND amount_residual > 0",
        )
        return result

    @api.depends_context("lang")
    @api.depends(
        "move_id.name",
        "move_id.payment_reference",
        "move_id.invoice_date",
        "move_id.amount_total",
        "move_id.amount_residual",
        "currency_id",
        "date_maturity",
        "amount_residual_currency",
    )
    def _compute_notify_placeholders(self):
        last_payments = self._notify_last_payment_dates()
        for line in self:
            move = line.move_id
            currency = move.currency_id or line.currency_id
            line.notify_currency = currency.name or ""
            line.notify_invoice_number = move.name or ""
            line.notify_invoice_ref = move.payment_reference or move.name or ""
            # Formatted once per dry run or dispatcher chunk (a day's
            # reminders share their dates), as the templates' own helpers.
            line.notify_invoice_date = format_once(self.env, format_date, move.invoice_date)
            line.notify_due_date = format_once(self.env, format_date, line.date_maturity)
            line.notify_last_payment_date = format_once(
                self.env, format_date, last_payments.get(move.id, False)
            )
            line.notify_amount_total = format_once(
                self.env, format_amount, move.amount_total, currency
            )
            line.notify_amount_paid = format_once(
                self.env, format_amount, move.amount_total - move.amount_residual, currency
            )
            line.notify_amount_due = format_once(
                self.env, format_amount, abs(line.amount_residual_currency), currency
            )

    # The field picker of templates offers searchable fields only: these
    # search on what they show, or say what to search on instead.
    def _search_notify_currency(self, operator, value):
        return [("currency_id.name", operator, value)]

    def _search_notify_invoice_ref(self, operator, value):
        return [("move_id.payment_reference", operator, value)]

    def _search_notify_invoice_number(self, operator, value):
        return [("move_id.name", operator, value)]

    def _search_notify_formatted(self, operator, value):
        raise UserError(
            self.env._(
                "This field is text for reminder templates; search on the due date or "
                "the amounts of the journal item instead."
            )
        )

    def _notify_last_payment_dates(self):
        """move id -> date of the last payment (or credit note) reconciled with
        its receivable lines (their debit side: these are customer invoices);
        one query for all the moves rendered together."""
        moves = self.move_id
        if not moves:
            return {}
        self.env["account.partial.reconcile"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.move_id, MAX(paid.date)
                  FROM account_move_line l
                  JOIN account_partial_reconcile part ON part.debit_move_id = l.id
                  JOIN account_move_line paid ON paid.id = part.credit_move_id
                 WHERE l.move_id = ANY(%s) AND l.display_type = 'payment_term'
                   -- an exchange difference entry is no payment
                   AND NOT EXISTS (SELECT 1 FROM account_partial_reconcile x
                                    WHERE x.exchange_move_id = paid.move_id)
                 GROUP BY l.move_id
                """,
                moves.ids,
            )
        )
        return dict(rows)

    def reconcile(self):
        """Paid: the invoice reminders of the lines now settled in full
        converted (or, paid after the grace period, did not)."""
        result = super().reconcile()
        receivable = self.filtered(lambda line: line.display_type == "payment_term")
        if receivable:
            self.env["insurance.notify.message"].sudo()._settle_outcomes(self._name, receivable.ids)
        return result

    def _message_log_batch(self, bodies, **kwargs):
        """The dispatcher logs a sent reminder on its document: for a due line,
        on the invoice's chatter (lines have none)."""
        by_move = {}
        for line in self:
            if line.id in bodies:
                by_move.setdefault(line.move_id.id, []).append(bodies[line.id])
        moves = self.env["account.move"].browse(by_move)
        return moves._message_log_batch(
            {move_id: Markup("<br/>").join(texts) for move_id, texts in by_move.items()}, **kwargs
        )
