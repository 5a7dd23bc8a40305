"""Every message gets an outcome (18.0.1.3.0).

The ORM adds ``outcome`` as pending on every existing row (one UPDATE); here
the history is settled the way the daily job settles it: messages asking for
nothing measurable become not applicable, and the others converted or not
from what their documents show (renewals, payment dates, later inspections,
extended consents). A constant number of set-based statements, however long
the history; nothing else of it changes (states, reasons, texts stay).
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["insurance.notify.message"]._settle_outcomes()
