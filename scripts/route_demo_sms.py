"""Route a demo database's stock SMS (chatter, composer) to its sandbox.

Usage: route_demo_sms.py ODOO_CONF DATABASE

The add-on's demo data leaves Odoo's own SMS on IAP, as a fresh install does:
a demo database is a stock database too, and Odoo's runbot and OCA's CI run
the stock suites on one. A demo machine should not spend IAP credits nor text
real people, so `make run` then writes the setting an administrator would
(Settings > Insurance > SMS: "Odoo's own SMS go through"), for each company
that has a sandbox gateway and chose nothing yet. Prints one line per company.
"""

import sys


def route(env):
    """Write the setting; return the (company, gateway) pairs changed."""
    changed = []
    for company in env["res.company"].search([]):
        if company.insurance_stock_sms_gateway_id:
            continue  # an administrator chose already: theirs stays
        sandbox = env["insurance.notify.gateway"].search(
            [("company_id", "=", company.id), ("provider", "=", "sandbox")], limit=1
        )
        if sandbox:
            company.insurance_stock_sms_gateway_id = sandbox
            changed.append((company, sandbox))
    return changed


def main(conf, db):
    import odoo  # noqa: PLC0415 - imported only once the configuration is known
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    with Registry.new(db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        changed = route(env)
        for company, gateway in changed:
            print(f"  {company.name}: Odoo's own SMS now go to {gateway.name} (not sent)")
        if not changed:
            print("  nothing to change: every company with a sandbox has chosen already")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
