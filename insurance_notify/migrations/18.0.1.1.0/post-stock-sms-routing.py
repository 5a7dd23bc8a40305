"""Stock SMS routing becomes a setting (res.company.insurance_stock_sms_gateway_id).

Databases that sent stock SMS through a real provider keep doing so; a database
whose first gateway was the sandbox goes back to IAP, unless it has demo data.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    demo = env["ir.module.module"].search([("name", "=", "insurance_notify")]).demo
    env["res.company"].search([])._insurance_route_stock_sms_as_before(demo=demo)
