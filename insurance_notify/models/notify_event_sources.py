"""Where each event type finds its events: data, not branches.

Every source is a query yielding one row per event with the same columns
(res_id, partner_id, policy_id, event_date, company_id, insurer_id,
product_id, user_id, sales_channel, policy_state, skip), so the planner runs
one set-based query per rule whatever the event type. Simple subqueries are
flattened by PostgreSQL, so the planner's date range reaches the indexed date
column. ``skip`` names why an event is planned but not sent (a paid
installment), as a code the planner turns into a reason.

The sources a database has are what ``insurance.notify.sender``'s
``_notify_event_sources()`` returns there: this add-on's (:data:`BASE_SOURCES`,
read-only), and what the add-ons installed in that database add by extending
the method through ``super()`` (the Accounting bridge: invoices). Nothing here
is changed at import: a server with several databases gives each its own.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from odoo.tools import SQL


@dataclass(frozen=True)
class EventSource:
    model: str
    # SELECT ... AS <the columns above>: an SQL, or a function of today's date
    # and the planning company's id giving one (a day that recurs every year;
    # the client card's events, which are each agency's own).
    events: SQL | Callable[[date, int], SQL]
    after: bool = False  # offsets count days after the event (overdue), not before
    specific_consent: str | None = None  # res.partner field of this event's own consent
    # What the reminder asked for, as SQL over the pending message ``p``
    # (res_id, event_date, deadline, company_id): ``outcome_join`` joins the
    # document (alias ``d``), ``outcome_on`` is the day the client did it, NULL
    # while not done. Where the document keeps no date of its own, ``{changed}``
    # and ``{created}`` stand for the day the document (``d``) was changed and
    # a successor (``q``) entered: today when a write hook settles at once,
    # else their write and create dates. A reminder converts when that day is
    # on or before its deadline (the event date plus the company's grace
    # period). No ``outcome_on``: the reminder asks for nothing measurable.
    outcome_join: str | None = None
    outcome_on: str | None = None
    # What else than the document itself (its write date) can decide its
    # reminders, changed since ``{since}`` (a timestamp): the daily job reads
    # only the pending messages so touched, or whose deadline passed.
    outcome_changed: str | None = None

    def query(self, today, company):
        """The events as an SQL, for ``company``'s planner whose today is ``today``."""
        if callable(self.events):
            return self.events(today, company.id)
        return self.events


POLICY_COLUMNS = SQL(
    """p.company_id, p.insurer_id, p.product_id, p.user_id, p.sales_channel,
       p.state AS policy_state"""
)


def no_policy_columns(company_id):
    """The columns of a client card's event, planned by ``company_id``."""
    return SQL(
        """NULL::int AS policy_id, %s::int AS company_id, NULL::int AS insurer_id,
           NULL::int AS product_id, NULL::int AS user_id, NULL AS sales_channel,
           NULL AS policy_state, NULL AS skip""",
        company_id,
    )


def client_of_company(company_id):
    """Events of the client card (birthday, consent renewal) belong to the
    company planning them, and only for its own clients: a card of that
    company, or a shared card (no company, as the Clients menu creates them)
    holding a policy of that company. A shared card with policies of other
    agencies only, or with none at all, is nobody's client here: one agency's
    rules never reach another's."""
    return SQL(
        """(r.company_id = %(company)s
            OR (r.company_id IS NULL AND EXISTS (
                SELECT 1 FROM insurance_policy cp
                 WHERE cp.partner_id = r.id AND cp.company_id = %(company)s)))""",
        company=company_id,
    )


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

# A successor entered (or changed) since: its predecessor, or a policy of the
# same client. Subqueries run once (hashed), not per message.
POLICY_SUCCESSOR_CHANGED = """
    d.id IN (SELECT q.predecessor_id FROM insurance_policy q WHERE q.write_date >= {since})
    OR d.partner_id IN (SELECT q.partner_id FROM insurance_policy q WHERE q.write_date >= {since})
"""

INSTALLMENTS = SQL(
    """
    SELECT i.id AS res_id, p.partner_id, p.id AS policy_id, i.date_due AS event_date,
           %s, CASE WHEN i.state = 'paid' THEN 'installment_paid' END AS skip
      FROM insurance_policy_installment i
      JOIN insurance_policy p ON p.id = i.policy_id
    """,
    POLICY_COLUMNS,
)


def consent_renewals(_today, company_id):
    """The planning company's own consent end dates (consents are per
    company: a JSON object company id -> value), read through that company's
    index (res_partner._create_consent_renewal_indexes): the expression and
    the condition are the index's, with the key written in the SQL."""
    return SQL(
        """
        SELECT r.id AS res_id, r.id AS partner_id,
               insurance_notify_consent_date(r.consent_valid_until ->> %(key)s) AS event_date,
               %(columns)s
          FROM res_partner r
         WHERE r.active AND r.consent_valid_until ->> %(key)s IS NOT NULL
           AND %(client)s
        """,
        key=str(company_id),
        columns=no_policy_columns(company_id),
        client=client_of_company(company_id),
    )


def birthdays(today, company_id):
    """This year's birthday, and last and next year's for offsets across New
    Year; 29 February is celebrated on the 28th in other years.

    Each day of those years finds the clients born on its (month, day)
    through the expression index of res.partner (res_partner.init), so the
    planner's date range limits the days first and only those days' clients
    are read: the cost follows what is due, not the size of the book. The
    28th of February of a year without a 29th also looks up (2, 29)."""
    return SQL(
        """
        SELECT r.id AS res_id, r.id AS partner_id, d.day AS event_date,
               %(columns)s
          FROM (SELECT make_date(%(year)s - 1, 1, 1) + n AS day
                  FROM generate_series(0, make_date(%(year)s + 1, 12, 31)
                                          - make_date(%(year)s - 1, 1, 1)) AS n) AS d
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
           AND %(client)s
        """,
        columns=no_policy_columns(company_id),
        client=client_of_company(company_id),
        year=today.year,
    )


# Paid (an installment is paid in full or open) on its payment date.
INSTALLMENT_JOIN = "LEFT JOIN insurance_policy_installment d ON d.id = p.res_id"
INSTALLMENT_PAID_ON = "CASE WHEN d.state = 'paid' THEN COALESCE(d.date_paid, {changed}) END"


# This add-on's sources. Read-only: a bridge adds its own through
# ``_notify_event_sources()``, in the databases where it is installed.
BASE_SOURCES = MappingProxyType(
    {
        "policy_expiry": EventSource(
            model="insurance.policy",
            specific_consent="consent_policy_expiry",
            events=SQL(
                """
                SELECT p.id AS res_id, p.partner_id, p.id AS policy_id,
                       p.date_end AS event_date, %s, NULL AS skip
                  FROM insurance_policy p
                """,
                POLICY_COLUMNS,
            ),
            outcome_join="LEFT JOIN insurance_policy d ON d.id = p.res_id",
            outcome_on=POLICY_RENEWED_ON,
            outcome_changed=POLICY_SUCCESSOR_CHANGED,
        ),
        "inspection_expiry": EventSource(
            model="insurance.policy",
            specific_consent="consent_inspection",
            events=SQL(
                """
                SELECT p.id AS res_id, p.partner_id, p.id AS policy_id,
                       p.inspection_date AS event_date, %s, NULL AS skip
                  FROM insurance_policy p
                 WHERE p.inspection_date IS NOT NULL
                """,
                POLICY_COLUMNS,
            ),
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
            events=SQL("%s WHERE i.state = 'open'", INSTALLMENTS),
            outcome_join=INSTALLMENT_JOIN,
            outcome_on=INSTALLMENT_PAID_ON,
        ),
        "consent_renewal": EventSource(
            model="res.partner",
            events=consent_renewals,
            # The consent's validity (the message's company's own) extended
            # past the date the reminder named.
            outcome_join="LEFT JOIN res_partner d ON d.id = p.res_id",
            outcome_on="CASE WHEN (d.consent_valid_until ->> p.company_id::text)::date "
            "> p.event_date THEN {changed} END",
        ),
        "birthday": EventSource(
            model="res.partner",
            specific_consent="consent_birthday",
            events=birthdays,
        ),
    }
)


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
