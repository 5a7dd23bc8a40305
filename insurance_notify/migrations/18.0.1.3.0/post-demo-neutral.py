"""The demo data no longer routes Odoo's own SMS to the sandbox.

A demo database is a stock database too (Odoo's runbot and OCA's CI run the
stock suites on one), so from 18.0.1.3.0 the demo leaves stock SMS on IAP and
``make run`` routes them to the sandbox as a step of its own. An upgraded demo
database gets the state a fresh one has: a company whose stock SMS go to one
of the demo's own sandboxes goes back to IAP. Any other choice (a real
provider, a sandbox an administrator made) stays.
"""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)

DEMO_SANDBOXES = ("insurance_notify.gateway_sandbox", "insurance_notify.gateway_sandbox_lt")


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    if not env["ir.module.module"].search([("name", "=", "insurance_notify")]).demo:
        return
    sandboxes = env["insurance.notify.gateway"].browse()
    for xml_id in DEMO_SANDBOXES:
        sandboxes |= env.ref(xml_id, raise_if_not_found=False) or sandboxes.browse()
    companies = env["res.company"].search([("insurance_stock_sms_gateway_id", "in", sandboxes.ids)])
    companies.write({"insurance_stock_sms_gateway_id": False})
    if companies:
        _logger.info(
            "Demo data: stock SMS of %s back on IAP (make run routes them to the sandbox)",
            ", ".join(companies.mapped("name")),
        )
