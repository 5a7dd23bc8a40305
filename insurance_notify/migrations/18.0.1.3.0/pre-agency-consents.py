"""Consents become each agency's own (company-dependent columns).

Before 18.0.1.3.0 a client's consents were one value per card, shared by every
company. The ORM would turn each boolean or date column into JSON holding the
bare value (``true``), which reads as no consent anywhere. Before it does,
each value is copied to every company that had it: a card of a company to
that company; a shared card (no company) to every company of the database,
since each of them read that value until now (see ``consents_per_company``,
which res.partner also runs before updating its table). The consent trail is
not touched.
"""

from odoo.addons.insurance_notify.models.res_partner import consents_per_company


def migrate(cr, version):
    if not version:
        return
    consents_per_company(cr)
