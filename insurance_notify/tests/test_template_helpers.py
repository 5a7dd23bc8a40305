"""The template form for a Polish manager (issue 22, item 7): the field picker
gives formatted amounts and dates for insurance models, and the form warns,
without refusing, about another program's tokens while the text is typed."""

from odoo import Command
from odoo.tests import Form, new_test_user

from .common import NotifyCase


class TestTemplateHelpers(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["insurance_notify"], ["pl_PL"], overwrite=True
        )
        main = cls.env.ref("base.main_company")
        cls.manager = new_test_user(
            cls.env,
            login="helpers_manager_pl",
            name="Ewa Kierownik",
            lang="pl_PL",
            tz="Europe/Warsaw",
            company_id=main.id,
            company_ids=[Command.set(main.ids)],
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )
        cls.client.lang = "pl_PL"
        cls.policy = cls.make_policy(
            cls, 10, premium_amount=312.5, currency_id=cls.env.ref("base.PLN").id
        )

    def template_form(self):
        form = Form(self.env["sms.template"].with_user(self.manager).with_context(lang="pl_PL"))
        form.name = "Składka"
        form.model_id = self.env["ir.model"]._get("insurance.policy")
        return form

    def test_the_picker_inserts_formatted_amounts_and_dates(self):
        Template = self.env["sms.template"].with_user(self.manager)
        policy_templates = Template.with_context(default_model="insurance.policy")
        self.assertEqual(
            policy_templates._build_expression("premium_amount", False, False),
            "{{ format_amount(object.premium_amount, object.currency_id) }}",
        )
        self.assertEqual(
            policy_templates._build_expression("date_end", False, "brak"),
            "{{ format_date(object.date_end) ||| brak }}",
        )
        self.assertEqual(
            policy_templates._build_expression("name", False, False), "{{ object.name }}"
        )
        # Other models keep stock Odoo's expression.
        self.assertEqual(
            Template.with_context(default_model="res.partner")._build_expression(
                "date", False, False
            ),
            "{{ object.date }}",
        )

        # What the picker puts into the text is formatted as it arrives.
        form = self.template_form()
        form.body = "Składka {{object.premium_amount}} płatna do {{object.date_end}}."
        self.assertEqual(
            form.body,
            "Składka {{ format_amount(object.premium_amount, object.currency_id) }} "
            "płatna do {{ format_date(object.date_end) }}.",
        )
        template = form.save()
        # Rendered in Polish (the client's language, as the dispatcher does).
        text = template.with_context(lang="pl_PL")._render_field("body", self.policy.ids)[
            self.policy.id
        ]
        # "312,50 zł", not "312.5"; the date in the Polish format.
        self.assertIn("312,50\N{NO-BREAK SPACE}zł", text)
        self.assertIn(self.policy.date_end.strftime("%d.%m.%Y"), text)

    def test_the_form_warns_about_another_programs_tokens_before_saving(self):
        form = self.template_form()
        form.body = "Polisa {{ object.name }} kończy się {{ format_date(object.date_end) }}."
        self.assertFalse(form.insurance_foreign_warning)
        form.body = "Dzień dobry [%1%], polisa %s wygasa {{1}} <<data>>."
        self.assertEqual(
            form.insurance_foreign_warning,
            "“[%1%]”, “%s”, “{{1}}”, “<<data>>”: znaczniki innego programu. Zostałyby "
            "wysłane klientowi dosłownie; wstaw pola przez # lub magiczną różdżkę.",
        )
        # A warning, not a refusal: the manager may still save it.
        form.body = "Dzień dobry [%1%], polisa {{ object.name }}."
        template = form.save()
        self.assertTrue(template.insurance_foreign_warning)
