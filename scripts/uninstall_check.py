"""Uninstalling insurance_notify leaves stock Odoo working.

Usage: uninstall_check.py ODOO_CONF DATABASE

DATABASE is a scratch copy of a database with the add-on and its demo data.
The script checks the demo left stock SMS on IAP, routes them to the sandbox
as `make run` does (route_demo_sms.py), uninstalls the
add-on, then, in a fresh process (no trace of the add-on's Python classes),
checks that stock SMS go back to IAP (the composer and the chatter, with IAP
mocked), and that no view, menu, cron or data record of the add-on is left
broken. Prints one line per check; exits 1 when one fails.
"""

import subprocess
import sys
from unittest.mock import patch

import route_demo_sms

ADDON = "insurance_notify"


def open_env(conf, db, quiet_sql=False):
    import odoo  # noqa: PLC0415 - imported only once the configuration is known
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    options = ["-c", conf, "--log-level=warn"]
    if quiet_sql:
        # Uninstalling deletes data records one by one and retries those
        # still referenced (the demo's rules by their messages): Odoo logs
        # each refused DELETE before the tables go. Not errors of ours.
        options.append("--log-handler=odoo.sql_db:CRITICAL")
    odoo.tools.config.parse_config(options)
    registry = Registry.new(db)
    cr = registry.cursor()
    return cr, api.Environment(cr, SUPERUSER_ID, {})


def uninstall(conf, db):
    cr, env = open_env(conf, db, quiet_sql=True)
    with cr:
        module = env["ir.module.module"].search([("name", "=", ADDON)])
        if module.state != "installed":
            print(f"FAIL: {ADDON} is not installed in {db} ({module.state})")
            return 1
        if env["res.company"].search([("insurance_stock_sms_gateway_id", "!=", False)]):
            print("FAIL: the demo data should leave stock SMS on IAP (no company routes them)")
            return 1
        print("ok: the demo data leaves stock SMS on IAP")
        # What `make run` does next: uninstalling must undo it.
        if not route_demo_sms.route(env):
            print("FAIL: no demo company has a sandbox to route stock SMS to")
            return 1
        cr.commit()
        print("ok: stock SMS routed to the sandbox before uninstalling")
        module.button_immediate_uninstall()
        cr.commit()
    print(f"ok: {ADDON} uninstalled")
    return 0


def check(conf, db):
    cr, env = open_env(conf, db)
    from odoo.addons.sms.tools.sms_api import SmsApi  # noqa: PLC0415 - after the addons path

    failures = []

    def expect(ok, what):
        print(f"{'ok' if ok else 'FAIL'}: {what}")
        if not ok:
            failures.append(what)

    with cr:
        module = env["ir.module.module"].search([("name", "=", ADDON)])
        expect(module.state == "uninstalled", f"{ADDON} is uninstalled")
        # Technical records must all go; a demo record of a stock model that
        # other data still references (the demo's second company) may stay.
        data = env["ir.model.data"].search([("module", "=", ADDON)])
        technical = data.filtered(lambda d: d.model.startswith("ir.") or d.model == "res.groups")
        expect(
            not technical,
            f"no view, menu, action, cron, rule or group of {ADDON} is left "
            f"{technical.mapped('complete_name')[:5]}",
        )
        for leftover in data - technical:
            print(f"note: kept {leftover.model} {leftover.complete_name} (still referenced)")
        expect(
            "insurance_stock_sms_gateway_id" not in env["res.company"]._fields,
            "the company has no stock SMS routing field any more",
        )
        cr.execute("SELECT proname FROM pg_proc WHERE proname LIKE 'insurance_notify%'")
        functions = [name for (name,) in cr.fetchall()]
        cr.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'res_partner_consent_valid%'"
        )
        indexes = [name for (name,) in cr.fetchall()]
        expect(
            not functions and not indexes,
            f"no database function or consent index of {ADDON} is left {functions + indexes}",
        )
        # The effectiveness report's kept totals and the triggers keeping them.
        cr.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'insurance\\_%'"
            " UNION ALL SELECT tgname FROM pg_trigger WHERE tgname LIKE '%effectiveness%'"
        )
        tables = [name for (name,) in cr.fetchall()]
        expect(not tables, f"no table or trigger of {ADDON} is left {tables}")

        # Every view of the models the add-on extended still renders.
        models = [
            "res.partner",
            "project.task",
            "res.config.settings",
            "mail.template",
            "sms.template",
            "sms.composer",
            "res.company",
        ]
        broken = []
        for view in env["ir.ui.view"].search(
            [("model", "in", models), ("type", "in", ("form", "list", "kanban", "search"))]
        ):
            try:
                env[view.model].get_view(view.id, view.type)
            except Exception as error:  # noqa: BLE001 - every error is a broken view
                broken.append(f"{view.xml_id or view.id}: {error}")
        expect(not broken, f"the views of {', '.join(models)} render {broken[:3]}")

        menus = env["ir.ui.menu"].search([])
        dead = [m.complete_name for m in menus if m.action and not m.action.exists()]
        expect(not dead, f"every menu opens an action {dead[:3]}")
        env["ir.ui.menu"].load_menus(False)
        crons = env["ir.cron"].with_context(active_test=False).search([])
        orphans = [c.name for c in crons if c.model_id.model not in env]
        expect(not orphans, f"every scheduled action has its model {orphans[:3]}")

        # Stock SMS go through IAP again: the composer and the chatter.
        calls = []

        def fake_iap(_api, messages, delivery_reports_url=False):
            calls.append(messages)
            return [
                {"uuid": number["uuid"], "state": "success"}
                for message in messages
                for number in message["numbers"]
            ]

        partner = env["res.partner"].create(
            {
                "name": "Uninstall Check",
                "mobile": "+48 600 555 444",
                "country_id": env.ref("base.pl").id,
            }
        )
        admin = env.ref("base.user_admin")
        with patch.object(SmsApi, "_send_sms_batch", fake_iap):
            composer = (
                env["sms.composer"]
                .with_user(admin)
                .with_context(active_model="res.partner", active_id=partner.id)
                .create({"body": "Composer after uninstall", "composition_mode": "comment"})
            )
            composer.action_send_sms()
            partner.with_user(admin)._message_sms("Chatter after uninstall")
            env["sms.sms"].search([("state", "=", "outgoing")]).send(unlink_sent=False)
        bodies = [message["content"] for batch in calls for message in batch]
        expect(
            sorted(bodies) == ["Chatter after uninstall", "Composer after uninstall"],
            f"the composer and the chatter send through IAP ({bodies})",
        )
        states = env["sms.sms"].search([("partner_id", "=", partner.id)]).mapped("state")
        expect(
            states and set(states) <= {"pending", "sent"}, f"the stock SMS are pending ({states})"
        )
        cr.rollback()
    return 1 if failures else 0


def main():
    conf, db = sys.argv[1:3]
    if len(sys.argv) > 3 and sys.argv[3] == "--check":
        return check(conf, db)
    status = uninstall(conf, db)
    if status:
        return status
    # A new process: the registry holds nothing the add-on ever loaded.
    return subprocess.run([sys.executable, __file__, conf, db, "--check"], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
