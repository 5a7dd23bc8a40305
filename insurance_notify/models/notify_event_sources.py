"""Where each event type finds its events: data, not branches.

Every source is a query yielding one row per event with the same columns
(res_id, partner_id, policy_id, event_date, company_id, insurer_id,
product_id, user_id, policy_state), so the planner runs one set-based query
per rule whatever the event type. Simple subqueries are flattened by
PostgreSQL, so the planner's date range reaches the indexed date column.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventSource:
    model: str
    events: str  # SELECT ... AS <the columns above>, from alias r
    after: bool = False  # offsets count days after the event (overdue), not before


POLICY_COLUMNS = "p.company_id, p.insurer_id, p.product_id, p.user_id, p.state AS policy_state"

SOURCES = {
    "policy_expiry": EventSource(
        model="insurance.policy",
        events=f"""
            SELECT p.id AS res_id, p.partner_id, p.id AS policy_id,
                   p.date_end AS event_date, {POLICY_COLUMNS}
              FROM insurance_policy p
        """,
    ),
    "inspection_expiry": EventSource(
        model="insurance.policy",
        events=f"""
            SELECT p.id AS res_id, p.partner_id, p.id AS policy_id,
                   p.inspection_date AS event_date, {POLICY_COLUMNS}
              FROM insurance_policy p
             WHERE p.inspection_date IS NOT NULL
        """,
    ),
}
