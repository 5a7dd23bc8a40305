"""A realistic broker's book, generated in PostgreSQL (set-based, a few seconds).

Clients with Polish mobiles, policies whose ends, inspections and starts spread
over two years around today, so every day has its share of events. Used by the
benchmarks only: rows are inserted straight into the tables the add-on made.
"""

import logging

_logger = logging.getLogger(__name__)


def generate(env, clients, policies, installments):
    """Fill the book up to the given sizes; do nothing when it is already there."""
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
    _logger.info("generating %s clients", clients)
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, ref, mobile, phone_sanitized, email,
                                 email_normalized, tz, lang, active, type, is_company,
                                 is_insurer, birthdate, consent_valid_until, consent_sms,
                                 consent_email, consent_marketing, consent_birthday,
                                 consent_policy_expiry, consent_installment,
                                 create_date, write_date, create_uid, write_uid)
        SELECT 'Client ' || n, 'Client ' || n, 'BENCH-' || n,
               '+48' || (600000000 + n)::text, '+48' || (600000000 + n)::text,
               'client' || n || '@example.com', 'client' || n || '@example.com',
               'Europe/Warsaw', 'en_US', TRUE, 'contact', FALSE, FALSE,
               DATE '1950-01-01' + (n * 37) %% 20000,
               CASE WHEN n %% 3 = 0 THEN CURRENT_DATE + (n %% 730 - 100) END,
               n %% 10 < 7, n %% 10 < 8, n %% 2 = 0, n %% 10 < 3, n %% 10 < 6, n %% 10 < 6,
               now(), now(), 1, 1
          FROM generate_series(1, %s) AS n
        """,
        [clients],
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
               CURRENT_DATE + (n %% 730 - 365) - 365,
               CURRENT_DATE + (n %% 730 - 365),
               CASE WHEN n %% 2 = 0 THEN CURRENT_DATE + ((n * 7) %% 730 - 365) END,
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
         CROSS JOIN LATERAL (SELECT CURRENT_DATE + ((i * 13) %% 730 - 365) AS day) AS due
        """,
        {"installments": installments, "policies": policies},
    )
    cr.execute(
        "ANALYZE res_partner; ANALYZE insurance_policy; ANALYZE insurance_policy_installment"
    )
