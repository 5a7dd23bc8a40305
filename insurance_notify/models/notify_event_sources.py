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
    # giving one (the events of a day that recurs every year).
    events: SQL | Callable[[date], SQL]
    after: bool = False  # offsets count days after the event (overdue), not before
    specific_consent: str | None = None  # res.partner field of this event's own consent

    def query(self, today):
        """The events as an SQL, for a planner whose today is ``today``."""
        return self.events(today) if callable(self.events) else self.events


POLICY_COLUMNS = SQL(
    """p.company_id, p.insurer_id, p.product_id, p.user_id, p.sales_channel,
       p.state AS policy_state"""
)
NO_POLICY_COLUMNS = SQL(
    """NULL::int AS policy_id, r.company_id, NULL::int AS insurer_id,
       NULL::int AS product_id, NULL::int AS user_id, NULL AS sales_channel,
       NULL AS policy_state, NULL AS skip"""
)
INSTALLMENTS = SQL(
    """
    SELECT i.id AS res_id, p.partner_id, p.id AS policy_id, i.date_due AS event_date,
           %s, CASE WHEN i.state = 'paid' THEN 'installment_paid' END AS skip
      FROM insurance_policy_installment i
      JOIN insurance_policy p ON p.id = i.policy_id
    """,
    POLICY_COLUMNS,
)


def birthdays(today):
    """This year's birthday, and last and next year's for offsets across New
    Year; 29 February is celebrated on the 28th in other years."""
    return SQL(
        """
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
               %(columns)s
          FROM res_partner r
         CROSS JOIN generate_series(%(year)s - 1, %(year)s + 1) AS y(year)
         WHERE r.active AND r.birthdate IS NOT NULL AND NOT r.is_company
        """,
        columns=NO_POLICY_COLUMNS,
        year=today.year,
    )


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
            events=SQL("%s WHERE i.state = 'open'", INSTALLMENTS),
        ),
        "consent_renewal": EventSource(
            model="res.partner",
            events=SQL(
                """
                SELECT r.id AS res_id, r.id AS partner_id, r.consent_valid_until AS event_date,
                       %s
                  FROM res_partner r
                 WHERE r.active AND r.consent_valid_until IS NOT NULL
                """,
                NO_POLICY_COLUMNS,
            ),
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
