"""The effectiveness report's kept totals, for the history an upgraded
database has: the model's ``init`` created the tables and the triggers; this
sums the history once, so the first pivot after the upgrade reads monthly
totals, not every message. Messages are only read."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["insurance.notify.effectiveness.summary"]._refresh(full=True)
