"""Consents become each agency's own (company-dependent columns).

Before 18.0.1.3.0 a client's consents were one value per card, shared by every
company. The ORM would turn each boolean or date column into JSON holding the
bare value (``true``), which reads as no consent anywhere. Before it does,
each value is copied to every company that had it: a card of a company to
that company; a shared card (no company) to every company of the database,
since each of them read that value until now. Values are kept exactly, false
ones included (an ``ir.default`` fallback must not turn a refusal into a
consent); a card without a value gets none. The consent trail is not touched.
"""

from odoo.tools import SQL

CONSENT_COLUMNS = (
    "consent_marketing",
    "consent_sms",
    "consent_email",
    "consent_whatsapp",
    "consent_viber",
    "consent_policy_expiry",
    "consent_installment",
    "consent_inspection",
    "consent_birthday",
    "consent_renewal_offer",
    "consent_valid_until",
)


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = 'res_partner' AND column_name = ANY(%s)
           AND udt_name IN ('bool', 'date')
        """,
        [list(CONSENT_COLUMNS)],
    )
    for (column,) in cr.fetchall():
        new = SQL.identifier(column)
        old = SQL.identifier(f"{column}_pre_18_0_1_3_0")
        cr.execute(SQL("ALTER TABLE res_partner RENAME COLUMN %s TO %s", new, old))
        cr.execute(SQL("ALTER TABLE res_partner ADD COLUMN %s jsonb", new))
        cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET %(new)s = CASE
                           WHEN p.company_id IS NOT NULL
                           THEN jsonb_build_object(p.company_id::text, to_jsonb(p.%(old)s))
                           ELSE (SELECT jsonb_object_agg(c.id::text, to_jsonb(p.%(old)s))
                                   FROM res_company c)
                       END
                 WHERE p.%(old)s IS NOT NULL
                """,
                new=new,
                old=old,
            )
        )
        cr.execute(SQL("ALTER TABLE res_partner DROP COLUMN %s", old))
