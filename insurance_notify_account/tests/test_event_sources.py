"""Invoices are events in the databases where this bridge is installed, and
only there: the sources come from a model method the bridge extends, not
from a module-level registry its import would change for every database of
the server."""

from odoo.tests.common import new_test_user

from odoo.addons.insurance_notify.models.insurance_notify_sender import InsuranceNotifySender
from odoo.addons.insurance_notify.models.notify_event_sources import BASE_SOURCES

from .common import InvoiceCase

INVOICE_TYPES = {"invoice_due", "invoice_overdue"}


class TestEventSourcesPerDatabase(InvoiceCase):
    def test_this_database_plans_invoices(self):
        sources = self.env["insurance.notify.sender"]._notify_event_sources()
        self.assertLessEqual(INVOICE_TYPES, set(sources))
        self.assertEqual(sources["invoice_due"].model, "account.move.line")
        # Rules, bulk sends and the dry run read the same method.
        manager = new_test_user(
            self.env,
            login="sources_manager",
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )
        rule = self.Rule.with_user(manager).create(
            {
                "name": "Invoices due",
                "event_type": "invoice_due",
                "channel": "sms",
                "offsets": "3",
                "sms_template_id": self.due_template.id,
            }
        )
        self.assertEqual(rule.res_model, "account.move.line")
        models = dict(self.env["insurance.notify.dry.run.line"]._selection_record_models())
        self.assertIn("account.move.line", models)

    def test_a_database_without_the_bridge_sees_no_invoice_source(self):
        # The bridge's Python is loaded in this process; a registry without
        # the bridge runs the add-on's own method, which knows no invoices.
        without_bridge = InsuranceNotifySender._notify_event_sources(
            self.env["insurance.notify.sender"]
        )
        self.assertFalse(INVOICE_TYPES & set(without_bridge))
        self.assertFalse(INVOICE_TYPES & set(BASE_SOURCES))
        self.assertEqual(set(without_bridge), set(BASE_SOURCES))

    def test_nobody_can_change_the_sources_of_another_caller(self):
        with self.assertRaises(TypeError):
            BASE_SOURCES["invoice_due"] = None
        user = new_test_user(self.env, login="sources_user", groups="base.group_user")
        mine = self.env["insurance.notify.sender"].with_user(user)._notify_event_sources()
        mine.pop("invoice_due")
        mine.clear()
        self.assertIn("invoice_due", self.env["insurance.notify.sender"]._notify_event_sources())
