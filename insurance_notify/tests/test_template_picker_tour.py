"""The field picker of an SMS template, in a real browser, for a Polish
insurance manager who may not write code in templates (issue 22, item 7):
amounts and dates first, no technical fields, the premium inserted formatted."""

from odoo import Command
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from .common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestTemplatePickerTour(NotifyHttpCase):
    def setUp(self):
        super().setUp()
        self.env["res.lang"]._activate_lang("pl_PL")
        self.env["ir.module.module"]._load_module_terms(
            ["insurance_notify", "web"], ["pl_PL"], overwrite=True
        )
        # Stock Odoo's default: only administrators write code in templates.
        self.env["ir.config_parameter"].set_param("mail.restrict.template.rendering", "1")
        company = self.env.company
        self.manager = new_test_user(
            self.env,
            login="picker_manager_pl",
            password="picker_manager_pl",
            name="Ewa Kierownik",
            lang="pl_PL",
            tz="Europe/Warsaw",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )
        self.assertFalse(self.manager.has_group("mail.group_mail_template_editor"))
        self.template = (
            self.env["sms.template"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Składka do zapłaty",
                    "model_id": self.env["ir.model"]._get_id("insurance.policy"),
                    "body": "Polisa {{ object.name }}: składka",
                }
            )
        )

    def test_the_picker_offers_formatted_fields_first_and_inserts_them_formatted(self):
        action = self.env.ref("insurance_notify.action_insurance_sms_template")
        self.start_tour(
            f"/odoo/action-{action.id}/{self.template.id}",
            "insurance_notify_template_picker",
            login="picker_manager_pl",
        )
        self.template.invalidate_recordset()
        # Saved in the manager's language (the body is translatable).
        self.assertEqual(
            self.template.with_context(lang="pl_PL").body,
            "Polisa {{ object.name }}: składka "
            "{{ format_amount(object.premium_amount, object.currency_id) }}",
        )
