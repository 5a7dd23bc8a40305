"""An invoice rule and its dry run as a Polish manager sees them (issue 22, item 9)."""

from odoo.tests import Form
from odoo.tests.common import new_test_user

from .common import InvoiceCase

POLICY_ONLY = ("policy_scope", "insurer_ids", "product_ids", "sales_channel")


class TestInvoiceRuleLabels(InvoiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="invoice_labels_manager",
            lang="pl_PL",
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )

    def test_the_invoice_rule_form_hides_the_policy_filters(self):
        form = Form(
            self.env["insurance.notify.rule"].with_user(self.manager).with_context(lang="pl_PL")
        )
        form.event_type = "policy_expiry"
        for name in POLICY_ONLY:
            self.assertFalse(form._get_modifier(name, "invisible"), name)
        form.event_type = "invoice_due"
        for name in POLICY_ONLY:
            self.assertTrue(form._get_modifier(name, "invisible"), name)
        self.assertFalse(form._get_modifier("user_ids", "invisible"))

    def test_the_dry_run_names_the_invoice_once(self):
        invoice = self.make_invoice()
        line = self.due_lines(invoice)[:1]
        shown = line.with_context(insurance_notify_document=True).display_name
        self.assertEqual(shown, invoice.name)
        # The dry run's list asks with that context for its Reference column.
        archs = self.env["ir.ui.view"].search(
            [
                ("model", "in", ("insurance.notify.dry.run", "insurance.notify.dry.run.line")),
                ("arch_db", "ilike", "record_ref"),
            ]
        )
        self.assertTrue(archs)
        self.assertTrue(all("insurance_notify_document" in view.arch_db for view in archs))

    def test_invoice_templates_apply_to_odoos_polish_model_name(self):
        self.env["ir.module.module"]._load_module_terms(["account"], ["pl_PL"], overwrite=True)
        name = self.env["ir.model"].with_context(lang="pl_PL")._get("account.move.line").name
        # Odoo's own Polish name of journal items ("Pozycja zapisu"/"wpisu"), not English.
        self.assertNotEqual(name, "Journal Item")
        self.assertEqual(self.due_template.with_context(lang="pl_PL").model_id.name, name)
