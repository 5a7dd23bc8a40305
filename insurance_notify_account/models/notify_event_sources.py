"""Invoice reminders: the two event sources this bridge adds.

The planner, Send now and bulk sends read the sources of their database
(``insurance.notify.sender._notify_event_sources()``) whatever the event type;
this bridge's sender extends that method with :data:`INVOICE_SOURCES`
(insurance_notify_sender.py), so invoices exist as events in the databases
where the bridge is installed and only there. No branch in the add-on knows
about invoices, and nothing shared is changed at import.

One event is one receivable line of a posted customer invoice still to pay,
dated by its due date (``date_maturity``). An invoice with a payment term in
installments has one such line per due date, so each due date gets its own
reminder, its own unique key, and the text names that line's due date and
amount. Drafts, cancelled invoices, credit notes (``out_refund``), paid and
in-payment invoices (``payment_state``), and lines already settled (residual
0) yield no row at all: they are not reminded, not even as skipped.
"""

from types import MappingProxyType

from odoo.tools import SQL

from odoo.addons.insurance_notify.models.notify_event_sources import EventSource

# The WHERE clause repeats the predicate of the partial index created by
# account.move.line's init() in this bridge (open receivable lines), so the
# planner's range on date_maturity is an index range scan over open lines only.
OPEN_RECEIVABLE_LINES = SQL(
    """
    l.display_type = 'payment_term'
    AND l.parent_state = 'posted'
    AND l.amount_residual > 0
    """
)

INVOICE_LINES = SQL(
    """
    SELECT l.id AS res_id, m.partner_id, m.policy_id, l.date_maturity AS event_date,
           m.company_id, p.insurer_id, p.product_id, m.invoice_user_id AS user_id,
           p.sales_channel, NULL AS policy_state, NULL AS skip
      FROM account_move_line l
      JOIN account_move m ON m.id = l.move_id
      LEFT JOIN insurance_policy p ON p.id = m.policy_id
     WHERE %s
       AND l.date_maturity IS NOT NULL
       AND m.move_type = 'out_invoice'
       AND m.payment_state IN ('not_paid', 'partial')
    """,
    OPEN_RECEIVABLE_LINES,
)
# policy_state is NULL on purpose: an invoice is owed whatever became of the
# policy it bills (a cancelled policy's last premium is still due), so a
# rule's "Policies" scope does not skip it.

# Paid in full: the line is reconciled; the day is that of the last payment
# reconciled with it (the latest of its partial reconciliations).
INVOICE_OUTCOME_JOIN = "LEFT JOIN account_move_line d ON d.id = p.res_id"
# A payment reconciled since: the line's reconciled flag is recomputed without
# its write date.
INVOICE_PAID_CHANGED = """
    d.id IN (SELECT pr.debit_move_id FROM account_partial_reconcile pr
              WHERE pr.create_date >= {since})
"""
INVOICE_PAID_ON = """
    CASE WHEN d.reconciled THEN COALESCE(
        (SELECT max(pr.max_date) FROM account_partial_reconcile pr WHERE pr.debit_move_id = d.id),
        {changed})
    END
"""

INVOICE_SOURCES = MappingProxyType(
    {
        "invoice_due": EventSource(
            model="account.move.line",
            # Payment reminders: the client's consent to installment reminders
            # covers the invoices of their premiums too.
            specific_consent="consent_installment",
            events=INVOICE_LINES,
            outcome_join=INVOICE_OUTCOME_JOIN,
            outcome_on=INVOICE_PAID_ON,
            outcome_changed=INVOICE_PAID_CHANGED,
        ),
        "invoice_overdue": EventSource(
            model="account.move.line",
            specific_consent="consent_installment",
            after=True,
            events=INVOICE_LINES,
            outcome_join=INVOICE_OUTCOME_JOIN,
            outcome_on=INVOICE_PAID_ON,
            outcome_changed=INVOICE_PAID_CHANGED,
        ),
    }
)
