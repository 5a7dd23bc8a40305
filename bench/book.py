"""A realistic broker's book, generated in PostgreSQL (set-based, a few seconds).

Clients with Polish mobiles, policies whose ends, inspections and starts spread
over two years around today, so every day has its share of events. Used by the
benchmarks only: rows are inserted straight into the tables the add-on made.
"""

import logging

_logger = logging.getLogger(__name__)


def generate(env, clients, policies, installments, spread=1):
    """Fill the book up to the given sizes; do nothing when it is already there.

    ``spread`` (the scale of a larger book) makes the history that many times
    as long: policies and installments over ``spread`` times two years (the
    year ahead as in the 1x book, the rest in the past), consent end dates
    over ``spread`` times two years too, and a birth date on one client in
    ``spread``. A book ``spread`` times larger then has the same reminders due
    each day, as a network of agencies with a long history has.
    """
    cr = env.cr
    cr.execute("SELECT count(*) FROM insurance_policy_installment")
    if cr.fetchone()[0] >= installments:
        return
    cr.execute("DELETE FROM insurance_policy_installment")
    cr.execute("DELETE FROM insurance_policy WHERE name LIKE 'BENCH/%'")
    cr.execute("DELETE FROM res_partner WHERE ref LIKE 'BENCH-%'")
    company = env.company
    insurers = env["res.partner"].create(
        [{"name": f"Bench Insurer {n}", "is_insurer": True, "is_company": True} for n in range(3)]
    )
    products = env["insurance.product"].create(
        [{"name": f"Bench Product {n}", "code": f"B{n}"} for n in range(4)]
    )
    brokers = env["res.users"].search([("share", "=", False)], limit=5)
    env.flush_all()
    # Accounting (with the invoice bridge) adds a required column to partners.
    extra_columns, extra_values = "", ""
    if "autopost_bills" in env["res.partner"]._fields:
        extra_columns, extra_values = ", autopost_bills", ", 'ask'"
    _logger.info("generating %s clients", clients)
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, ref, mobile, phone_sanitized, email,
                                 email_normalized, tz, lang, active, type, is_company,
                                 is_insurer, birthdate, consent_valid_until, consent_sms,
                                 consent_email, consent_marketing, consent_birthday,
                                 consent_policy_expiry, consent_installment,
                                 create_date, write_date, create_uid, write_uid/*columns*/)
        SELECT 'Client ' || n, 'Client ' || n, 'BENCH-' || n,
               '+48' || (600000000 + n)::text, '+48' || (600000000 + n)::text,
               'client' || n || '@example.com', 'client' || n || '@example.com',
               'Europe/Warsaw', 'en_US', TRUE, 'contact', FALSE, FALSE,
               CASE WHEN n %% %(spread)s = 0
                    THEN DATE '1950-01-01' + (n / %(spread)s * 37) %% 20000 END,
               CASE WHEN n %% 3 = 0
                    THEN jsonb_build_object(%(company)s,
                                            CURRENT_DATE + (n %% %(days)s - 100 * %(spread)s)) END,
               jsonb_build_object(%(company)s, n %% 10 < 7),
               jsonb_build_object(%(company)s, n %% 10 < 8),
               jsonb_build_object(%(company)s, n %% 2 = 0),
               jsonb_build_object(%(company)s, n %% 10 < 3),
               jsonb_build_object(%(company)s, n %% 10 < 6),
               jsonb_build_object(%(company)s, n %% 10 < 6),
               now(), now(), 1, 1/*values*/
          FROM generate_series(1, %(clients)s) AS n
        """.replace("/*columns*/", extra_columns).replace("/*values*/", extra_values),
        # Consents are company-dependent (a JSON object company id -> value).
        {"clients": clients, "company": str(company.id), "spread": spread, "days": 730 * spread},
    )
    _logger.info("generating %s policies", policies)
    cr.execute(
        """
        INSERT INTO insurance_policy (name, partner_id, insurer_id, product_id,
                                      date_start, date_end, inspection_date, state,
                                      premium_amount, currency_id, user_id, company_id,
                                      installment_count, sales_channel, line_of_business,
                                      create_date, write_date, create_uid, write_uid)
        SELECT 'BENCH/' || n,
               partners.ids[1 + n %% array_length(partners.ids, 1)],
               (%(insurers)s::int[])[1 + n %% 3],
               (%(products)s::int[])[1 + n %% 4],
               CURRENT_DATE + (n %% %(days)s - %(past)s) - 365,
               CURRENT_DATE + (n %% %(days)s - %(past)s),
               CASE WHEN n %% 2 = 0 THEN CURRENT_DATE + ((n * 7) %% %(days)s - %(past)s) END,
               CASE WHEN n %% 20 = 0 THEN 'cancelled' ELSE 'valid' END,
               100 + n %% 2000, %(currency)s,
               (%(brokers)s::int[])[1 + n %% %(broker_count)s],
               %(company)s, '4', 'office', 'motor', now(), now(), 1, 1
          FROM generate_series(1, %(policies)s) AS n,
               (SELECT array_agg(id ORDER BY id) AS ids FROM res_partner WHERE ref LIKE 'BENCH-%%')
                   AS partners
        """,
        {
            "insurers": insurers.ids,
            "products": products.ids,
            "currency": company.currency_id.id,
            "brokers": brokers.ids,
            "broker_count": len(brokers),
            "company": company.id,
            "policies": policies,
            "days": 730 * spread,
            "past": 730 * spread - 365,
        },
    )
    _logger.info("generating %s installments", installments)
    cr.execute(
        """
        INSERT INTO insurance_policy_installment (policy_id, partner_id, insurer_id, user_id,
                                                  company_id, date_due, amount, state, date_paid,
                                                  create_date, write_date, create_uid, write_uid)
        SELECT p.id, p.partner_id, p.insurer_id, p.user_id, p.company_id, due.day,
               50 + i %% 500,
               CASE WHEN due.day < CURRENT_DATE - 10 OR i %% 10 = 0 THEN 'paid' ELSE 'open' END,
               CASE WHEN due.day < CURRENT_DATE - 10 OR i %% 10 = 0 THEN due.day END,
               now(), now(), 1, 1
          FROM generate_series(1, %(installments)s) AS i
          JOIN insurance_policy p ON p.name = 'BENCH/' || (1 + i %% %(policies)s)
         CROSS JOIN LATERAL (SELECT CURRENT_DATE + ((i * 13) %% %(days)s - %(past)s) AS day) AS due
        """,
        {
            "installments": installments,
            "policies": policies,
            "days": 730 * spread,
            "past": 730 * spread - 365,
        },
    )
    cr.execute(
        "ANALYZE res_partner; ANALYZE insurance_policy; ANALYZE insurance_policy_installment"
    )


def generate_invoices(env, invoices, spread=1):
    """Customer invoices of the bench clients, with the Accounting bridge
    installed: one receivable line (due date) and one income line each, due
    dates over ``spread`` times two years up to a year ahead, paid when long
    past (and one in ten anyway). Does nothing without the bridge or when
    they are there."""
    if "account.move" not in env or "policy_id" not in env["account.move"]._fields:
        return
    cr = env.cr
    cr.execute("SELECT count(*) FROM account_move WHERE name LIKE 'BENCH/INV/%%'")
    if cr.fetchone()[0] >= invoices:
        return
    cr.execute(
        "DELETE FROM account_move_line WHERE move_id IN "
        "(SELECT id FROM account_move WHERE name LIKE 'BENCH/INV/%%')"
    )
    cr.execute("DELETE FROM account_move WHERE name LIKE 'BENCH/INV/%%'")
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    journal = env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
    )
    receivable = env["account.account"].search(
        [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.ids)], limit=1
    )
    income = journal.default_account_id
    brokers = env["res.users"].search([("share", "=", False)], limit=5)
    env.flush_all()
    _logger.info("generating %s invoices", invoices)
    cr.execute(
        """
        INSERT INTO account_move (name, move_type, state, auto_post, date, invoice_date,
                                  invoice_date_due, journal_id, company_id, currency_id,
                                  partner_id, commercial_partner_id, invoice_user_id,
                                  policy_id, payment_state, amount_total, amount_residual,
                                  create_date, write_date, create_uid, write_uid)
        SELECT 'BENCH/INV/' || n, 'out_invoice', 'posted', 'no', due.day - 14, due.day - 14,
               due.day, %(journal)s, %(company)s, %(currency)s,
               partners.ids[1 + n %% array_length(partners.ids, 1)],
               partners.ids[1 + n %% array_length(partners.ids, 1)],
               (%(brokers)s::int[])[1 + n %% %(broker_count)s],
               CASE WHEN n %% 2 = 0 THEN policies.ids[1 + n %% array_length(policies.ids, 1)] END,
               CASE WHEN due.paid THEN 'paid' ELSE 'not_paid' END,
               100 + n %% 2000, CASE WHEN due.paid THEN 0 ELSE 100 + n %% 2000 END,
               now(), now(), 1, 1
          FROM generate_series(1, %(invoices)s) AS n
         CROSS JOIN LATERAL (
               SELECT CURRENT_DATE + ((n * 17) %% %(days)s - %(past)s) AS day,
                      CURRENT_DATE + ((n * 17) %% %(days)s - %(past)s) < CURRENT_DATE - 10
                      OR n %% 10 = 0 AS paid) AS due,
               (SELECT array_agg(id ORDER BY id) AS ids FROM res_partner WHERE ref LIKE 'BENCH-%%')
                   AS partners,
               (SELECT array_agg(id ORDER BY id) AS ids FROM insurance_policy
                 WHERE name LIKE 'BENCH/%%') AS policies
        """,
        {
            "journal": journal.id,
            "company": company.id,
            "currency": company.currency_id.id,
            "brokers": brokers.ids,
            "broker_count": len(brokers),
            "invoices": invoices,
            "days": 730 * spread,
            "past": 730 * spread - 365,
        },
    )
    # One receivable line (the due date the planner reads) and one income line.
    cr.execute(
        """
        INSERT INTO account_move_line (move_id, move_name, name, display_type, parent_state,
                                       date, date_maturity, account_id, journal_id, company_id,
                                       currency_id, company_currency_id, partner_id,
                                       debit, credit, balance, amount_currency,
                                       amount_residual, amount_residual_currency, reconciled,
                                       create_date, write_date, create_uid, write_uid)
        SELECT m.id, m.name, kind.label, kind.display_type, 'posted',
               m.date, CASE WHEN kind.receivable THEN m.invoice_date_due END,
               CASE WHEN kind.receivable THEN %(receivable)s ELSE %(income)s END,
               m.journal_id, m.company_id, m.currency_id, m.currency_id, m.partner_id,
               CASE WHEN kind.receivable THEN m.amount_total ELSE 0 END,
               CASE WHEN kind.receivable THEN 0 ELSE m.amount_total END,
               kind.sign * m.amount_total, kind.sign * m.amount_total,
               CASE WHEN kind.receivable THEN m.amount_residual ELSE 0 END,
               CASE WHEN kind.receivable THEN m.amount_residual ELSE 0 END,
               kind.receivable AND m.payment_state = 'paid',
               now(), now(), 1, 1
          FROM account_move m
         CROSS JOIN (VALUES (TRUE, 'payment_term', '', 1), (FALSE, 'product', 'Premium', -1))
               AS kind(receivable, display_type, label, sign)
         WHERE m.name LIKE 'BENCH/INV/%%'
        """,
        {"receivable": receivable.id, "income": income.id},
    )
    cr.execute("ANALYZE account_move; ANALYZE account_move_line")
