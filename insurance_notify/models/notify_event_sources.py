"""Where each event type finds its events: data, not branches.

Every source is a query yielding one row per event with the same columns
(res_id, partner_id, policy_id, event_date, company_id, insurer_id,
product_id, user_id, sales_channel, policy_state, skip), so the planner runs
one set-based query per rule whatever the event type. Simple subqueries are
flattened by PostgreSQL, so the planner's date range reaches the indexed date
column. ``skip`` names why an event is planned but not sent (a paid
installment), as a code the planner turns into a reason.
"""

from dataclasses import dataclass

from odoo.tools import SQL


@dataclass(frozen=True)
class EventSource:
    model: str
    events: str  # SELECT ... AS <the columns above>; {year} is this year
    after: bool = False  # offsets count days after the event (overdue), not before
    specific_consent: str | None = None  # res.partner field of this event's own consent


POLICY_COLUMNS = """p.company_id, p.insurer_id, p.product_id, p.user_id, p.sales_channel,
                    p.state AS policy_state"""
NO_POLICY_COLUMNS = """NULL::int AS policy_id, r.company_id, NULL::int AS insurer_id,
                       NULL::int AS product_id, NULL::int AS user_id, NULL AS sales_channel,
                       NULL AS policy_state, NULL AS skip"""
INSTALLMENTS = f"""
    SELECT i.id AS res_id, p.partner_id, p.id AS policy_id, i.date_due AS event_date,
           {POLICY_COLUMNS}, CASE WHEN i.state = 'paid' THEN 'installment_paid' END AS skip
      FROM insurance_policy_installment i
      JOIN insurance_policy p ON p.id = i.policy_id
"""

SOURCES = {
    "policy_expiry": EventSource(
        model="insurance.policy",
        specific_consent="consent_policy_expiry",
        events=f"""
            SELECT p.id AS res_id, p.partner_id, p.id AS policy_id,
                   p.date_end AS event_date, {POLICY_COLUMNS}, NULL AS skip
              FROM insurance_policy p
        """,
    ),
    "inspection_expiry": EventSource(
        model="insurance.policy",
        specific_consent="consent_inspection",
        events=f"""
            SELECT p.id AS res_id, p.partner_id, p.id AS policy_id,
                   p.inspection_date AS event_date, {POLICY_COLUMNS}, NULL AS skip
              FROM insurance_policy p
             WHERE p.inspection_date IS NOT NULL
        """,
    ),
    "installment_due": EventSource(
        model="insurance.policy.installment",
        specific_consent="consent_installment",
        events=INSTALLMENTS,
    ),
    "installment_overdue": EventSource(
        model="insurance.policy.installment",
        specific_consent="consent_installment",
        after=True,
        # A paid installment is not overdue: no occurrence at all.
        events=INSTALLMENTS + " WHERE i.state = 'open'",
    ),
    "consent_renewal": EventSource(
        model="res.partner",
        events=f"""
            SELECT r.id AS res_id, r.id AS partner_id, r.consent_valid_until AS event_date,
                   {NO_POLICY_COLUMNS}
              FROM res_partner r
             WHERE r.active AND r.consent_valid_until IS NOT NULL
        """,
    ),
    "birthday": EventSource(
        model="res.partner",
        specific_consent="consent_birthday",
        # Each day of last, this and next year (offsets cross New Year) finds
        # the clients born on its (month, day) through the expression index of
        # res.partner, so the planner's date range limits the days first and
        # only those days' clients are read. 29 February is celebrated on the
        # 28th in other years: that day also looks up (2, 29).
        events=f"""
            SELECT r.id AS res_id, r.id AS partner_id, d.day AS event_date,
                   {NO_POLICY_COLUMNS}
              FROM (SELECT make_date({{year}} - 1, 1, 1) + n AS day
                      FROM generate_series(0, make_date({{year}} + 1, 12, 31)
                                              - make_date({{year}} - 1, 1, 1)) AS n) AS d
             CROSS JOIN LATERAL (
                   VALUES (extract(month FROM d.day), extract(day FROM d.day)),
                          (2, CASE WHEN extract(month FROM d.day) = 2
                                    AND extract(day FROM d.day) = 28
                                    AND extract(day FROM d.day + 1) = 1
                                   THEN 29 END)
                   ) AS k(month, day)
              JOIN res_partner r
                ON extract(month FROM r.birthdate) = k.month
               AND extract(day FROM r.birthdate) = k.day
             WHERE r.active AND r.birthdate IS NOT NULL AND NOT r.is_company
        """,
    ),
}


def event_filters(company, insurers=(), products=(), users=(), sales_channel=None):
    """SQL on the columns every event source yields (alias ``e``): the
    company, and the insurers, products and brokers when any are given.
    Shared by automatic rules and bulk sends."""
    filters = [SQL("(e.company_id = %s OR e.company_id IS NULL)", company.id)]
    if sales_channel:
        filters.append(SQL("e.sales_channel = %s", sales_channel))
    for column, records in (
        ("insurer_id", insurers),
        ("product_id", products),
        ("user_id", users),
    ):
        if records:
            filters.append(SQL("%s = ANY(%s)", SQL.identifier("e", column), records.ids))
    return SQL(" AND ").join(filters)
