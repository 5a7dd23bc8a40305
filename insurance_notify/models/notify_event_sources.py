"""Where each event type finds its events: data, not branches.

Every source is a query yielding one row per event with the same columns
(res_id, partner_id, policy_id, event_date, company_id, insurer_id,
product_id, user_id, sales_channel, policy_state, skip), so the planner runs
one set-based query per rule whatever the event type. ``{year}`` is this
year and ``{company}`` the id of the company planning (see ``events_sql``).
Simple subqueries are
flattened by PostgreSQL, so the planner's date range reaches the indexed date
column. ``skip`` names why an event is planned but not sent (a paid
installment), as a code the planner turns into a reason.
"""

from dataclasses import dataclass

from odoo.tools import SQL


@dataclass(frozen=True)
class EventSource:
    model: str
    events: str  # SELECT ... AS <the columns above>; {year}, {company}: see events_sql
    after: bool = False  # offsets count days after the event (overdue), not before
    specific_consent: str | None = None  # res.partner field of this event's own consent
    # What the reminder asked for, as SQL over the pending message ``p``
    # (res_id, event_date, deadline): ``outcome_join`` joins the document
    # (alias ``d``), ``outcome_on`` is the day the client did it, NULL while
    # not done. Where the document keeps no date of its own, ``{changed}``
    # and ``{created}`` stand for the day the document (``d``) was changed and
    # a successor (``q``) entered: today when a write hook settles at once,
    # else their write and create dates. A reminder converts when that day is on or before its
    # deadline (the event date plus the company's grace period). No
    # ``outcome_on``: the reminder asks for nothing measurable (a birthday).
    outcome_join: str | None = None
    outcome_on: str | None = None


POLICY_COLUMNS = """p.company_id, p.insurer_id, p.product_id, p.user_id, p.sales_channel,
                    p.state AS policy_state"""
# Events of the client card (birthday, consent renewal) belong to the company
# planning them, and only for its own clients: a card of that company, or a
# shared card (no company, as the Clients menu creates them) holding a policy
# of that company. A shared card with policies of other agencies only, or with
# none at all, is nobody's client here: one agency's rules never reach another's.
CLIENT_OF_COMPANY = """(r.company_id = {company}
                        OR (r.company_id IS NULL AND EXISTS (
                            SELECT 1 FROM insurance_policy cp
                             WHERE cp.partner_id = r.id AND cp.company_id = {company})))"""
NO_POLICY_COLUMNS = """NULL::int AS policy_id, {company} AS company_id, NULL::int AS insurer_id,
                       NULL::int AS product_id, NULL::int AS user_id, NULL AS sales_channel,
                       NULL AS policy_state, NULL AS skip"""
# Renewed: closed by "Renew" (state renewed), or a later policy of the same
# client for the same product (and vehicle) starting around this one's end
# was entered in time -- the renewal a broker types by hand, at another
# insurer too. The day is when it was entered. Two subqueries rather than
# one with OR, so each reaches its index (predecessor, client).
POLICY_RENEWED_ON = """
    LEAST(
        CASE WHEN d.state = 'renewed' THEN {changed} END,
        (SELECT min({created})
           FROM insurance_policy q
          WHERE q.predecessor_id = d.id AND q.state <> 'cancelled'),
        (SELECT min({created})
           FROM insurance_policy q
          WHERE q.partner_id = d.partner_id
            AND q.id <> d.id
            AND q.state <> 'cancelled'
            AND q.company_id = d.company_id
            AND q.product_id = d.product_id
            AND q.vehicle_plate IS NOT DISTINCT FROM d.vehicle_plate
            AND q.date_start BETWEEN d.date_end - 31 AND p.deadline
            AND q.date_end > d.date_end)
    )
"""

INSTALLMENTS = f"""
    SELECT i.id AS res_id, p.partner_id, p.id AS policy_id, i.date_due AS event_date,
           {POLICY_COLUMNS}, CASE WHEN i.state = 'paid' THEN 'installment_paid' END AS skip
      FROM insurance_policy_installment i
      JOIN insurance_policy p ON p.id = i.policy_id
"""

# Paid (an installment is paid in full or open) on its payment date.
INSTALLMENT_JOIN = "LEFT JOIN insurance_policy_installment d ON d.id = p.res_id"
INSTALLMENT_PAID_ON = "CASE WHEN d.state = 'paid' THEN COALESCE(d.date_paid, {changed}) END"

SOURCES = {
    "policy_expiry": EventSource(
        model="insurance.policy",
        specific_consent="consent_policy_expiry",
        events=f"""
            SELECT p.id AS res_id, p.partner_id, p.id AS policy_id,
                   p.date_end AS event_date, {POLICY_COLUMNS}, NULL AS skip
              FROM insurance_policy p
        """,
        outcome_join="LEFT JOIN insurance_policy d ON d.id = p.res_id",
        outcome_on=POLICY_RENEWED_ON,
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
        # A later inspection date entered: the vehicle passed it. The day is
        # the policy's last change (the write hook settles it that day).
        outcome_join="LEFT JOIN insurance_policy d ON d.id = p.res_id",
        outcome_on="CASE WHEN d.inspection_date > p.event_date THEN {changed} END",
    ),
    "installment_due": EventSource(
        model="insurance.policy.installment",
        specific_consent="consent_installment",
        events=INSTALLMENTS,
        outcome_join=INSTALLMENT_JOIN,
        outcome_on=INSTALLMENT_PAID_ON,
    ),
    "installment_overdue": EventSource(
        model="insurance.policy.installment",
        specific_consent="consent_installment",
        after=True,
        # A paid installment is not overdue: no occurrence at all.
        events=INSTALLMENTS + " WHERE i.state = 'open'",
        outcome_join=INSTALLMENT_JOIN,
        outcome_on=INSTALLMENT_PAID_ON,
    ),
    "consent_renewal": EventSource(
        model="res.partner",
        # Consents are each company's own (company-dependent, a JSON object
        # company id -> value): the planning company's end date.
        events=f"""
            SELECT r.id AS res_id, r.id AS partner_id,
                   (r.consent_valid_until ->> '{{company}}')::date AS event_date,
                   {NO_POLICY_COLUMNS}
              FROM res_partner r
             WHERE r.active AND r.consent_valid_until ->> '{{company}}' IS NOT NULL
               AND {CLIENT_OF_COMPANY}
        """,
        # The consent's validity extended past the date the reminder named.
        outcome_join="LEFT JOIN res_partner d ON d.id = p.res_id",
        # (the message's company's own end date: consents are per company).
        outcome_on="CASE WHEN (d.consent_valid_until ->> p.company_id::text)::date > p.event_date "
        "THEN {changed} END",
    ),
    "birthday": EventSource(
        model="res.partner",
        specific_consent="consent_birthday",
        # This year's birthday, and last and next year's for offsets across New
        # Year; 29 February is celebrated on the 28th in other years.
        events=f"""
            SELECT r.id AS res_id, r.id AS partner_id,
                   make_date(
                       y.year,
                       extract(month FROM r.birthdate)::int,
                       CASE WHEN extract(month FROM r.birthdate) = 2
                             AND extract(day FROM r.birthdate) = 29
                             AND NOT (mod(y.year, 4) = 0
                                      AND (mod(y.year, 100) <> 0 OR mod(y.year, 400) = 0))
                            THEN 28
                            ELSE extract(day FROM r.birthdate)::int
                       END
                   ) AS event_date,
                   {NO_POLICY_COLUMNS}
              FROM res_partner r
             CROSS JOIN generate_series({{year}} - 1, {{year}} + 1) AS y(year)
             WHERE r.active AND r.birthdate IS NOT NULL AND NOT r.is_company
               AND {CLIENT_OF_COMPANY}
        """,
    ),
}


def events_sql(source, today, company):
    """The SQL of ``source``'s events as planned by ``company`` in ``today``'s year."""
    return SQL(source.events.format(year=int(today.year), company=int(company.id)))


def event_filters(company, insurers=(), products=(), users=(), sales_channel=None):
    """SQL on the columns every event source yields (alias ``e``): the
    company, and the insurers, products and brokers when any are given.
    Shared by automatic rules and bulk sends."""
    filters = [SQL("e.company_id = %s", company.id)]
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
