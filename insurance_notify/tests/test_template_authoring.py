"""Templates broker staff can write: refused with a named reason, previewed
with the empty placeholders named, counted once by the server."""

from odoo.exceptions import ValidationError
from odoo.tests import Form
from odoo.tests.common import new_test_user

from .common import NotifyCase


class TestTemplateAuthoring(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="tpl_manager",
            name="Ewa Kierownik",
            groups="insurance_notify.group_insurance_manager,mail.group_mail_template_editor",
        )
        cls.broker = new_test_user(
            cls.env,
            login="tpl_broker",
            name="Jan Broker",
            groups="insurance_notify.group_insurance_user",
        )
        cls.policy_model = cls.env["ir.model"]._get_id("insurance.policy")

    def sms_template(self, body, **context):
        return (
            self.env["sms.template"]
            .with_user(self.manager)
            .with_context(**context)
            .create({"name": "Broker's text", "model_id": self.policy_model, "body": body})
        )

    def test_an_unknown_field_is_refused_and_named_with_a_suggestion(self):
        with self.assertRaisesRegex(ValidationError, r"object\.vehicle_plat.*vehicle_plate"):
            self.sms_template("Plate {{ object.vehicle_plat }}")

    def test_an_unknown_field_behind_a_relation_is_named(self):
        with self.assertRaisesRegex(ValidationError, r"object\.user_id\.mobil\b"):
            self.sms_template("Call {{ object.user_id.mobil }}")

    def test_a_broken_expression_is_refused(self):
        with self.assertRaisesRegex(ValidationError, r"object\.name \+"):
            self.sms_template("Policy {{ object.name + }}")

    def test_tokens_of_other_programs_are_refused_with_our_placeholder(self):
        with self.assertRaisesRegex(ValidationError, r"policy\.no.*\{\{ object\.name \}\}"):
            self.sms_template("Your policy {policy.no} ends soon")
        with self.assertRaisesRegex(
            ValidationError, r"DATA_KONCA.*\{\{ format_date\(object\.date_end\) \}\}"
        ):
            self.sms_template("Polisa wygasa <DATA_KONCA>")

    def test_an_email_subject_and_body_are_checked_too(self):
        values = {"name": "Mail", "model_id": self.policy_model}
        Template = self.env["mail.template"].with_user(self.manager)
        with self.assertRaisesRegex(ValidationError, r"NR_POLISY"):
            Template.create({**values, "subject": "Polisa <NR_POLISY>"})
        with self.assertRaisesRegex(ValidationError, r"object\.date_ende"):
            Template.create({**values, "body_html": '<p t-out="object.date_ende"/>'})

    def test_valid_templates_and_the_pickers_syntax_are_accepted(self):
        template = self.sms_template(
            "{{object.vehicle_plate ||| brak}} {{ object.partner_id.name.split(' ')[0] }} "
            "{{ format_date(object.date_end) }} {{ object.display_name }}"
        )
        self.assertTrue(template)

    def test_other_modules_templates_are_left_alone_outside_our_menus(self):
        partner_model = self.env["ir.model"]._get_id("res.partner")
        Template = self.env["sms.template"].with_user(self.manager)
        Template.create({"name": "x", "model_id": partner_model, "body": "{{ object.nme }}"})
        with self.assertRaisesRegex(ValidationError, r"object\.nme"):
            Template.with_context(insurance_template_check=True).create(
                {"name": "y", "model_id": partner_model, "body": "{{ object.nme }}"}
            )

    def test_the_preview_names_what_renders_empty_and_counts_once(self):
        self.env.company.phone = False
        policy = self.make_policy(30, user_id=self.env.ref("base.user_root").id)
        template = self.sms_template(
            "Polisa {{ object.name }}, przegląd {{ object.vehicle_plate }}. "
            "Tel. {{ object.broker_phone }}",
        )
        template.sms_transliterate = True
        preview = Form(
            self.env["sms.template.preview"]
            .with_user(self.manager)
            .with_context(default_sms_template_id=template.id)
        )
        preview.resource_ref = policy
        self.assertEqual(
            preview.empty_placeholders,
            "{{ object.vehicle_plate }}\n{{ object.broker_phone }}",
        )
        self.assertEqual((preview.sms_encoding, preview.sms_parts), ("GSM-7", 1))

    def test_the_template_form_shows_the_servers_count_of_a_rendered_example(self):
        policy = self.make_policy(30)
        template = self.sms_template("Polisa {{ object.name }} wygasa. Zażółć gęślą jaźń")
        template.sms_transliterate = True
        self.assertEqual(template.sms_sample_record, policy.display_name)
        self.assertIn(policy.name, template.sms_sample_text)
        self.assertIn("Zazolc gesla jazn", template.sms_sample_text)
        self.assertEqual((template.sms_sample_encoding, template.sms_sample_parts), ("GSM-7", 1))
        # A broker who may not edit templates reads the example too.
        template.invalidate_recordset()
        self.assertIn(policy.name, template.with_user(self.broker).sms_sample_text)


class TestClientsAndPlans(NotifyCase):
    def test_the_clients_menu_lists_clients_not_every_contact(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_client"
        )
        stranger = self.env["res.partner"].create({"name": "Some Vendor Ltd"})
        self.make_policy(30)
        walk_in = (
            self.env["res.partner"]
            .with_context(default_is_insurance_client=True)
            .create({"name": "Nowy Klient"})
        )
        from odoo.tools.safe_eval import safe_eval

        clients = self.env["res.partner"].search(safe_eval(action["domain"]))
        self.assertIn(self.client, clients)
        self.assertIn(walk_in, clients)
        self.assertNotIn(stranger, clients)
        self.assertNotIn(self.insurer, clients)

    def test_the_payment_plan_follows_the_installments_entered(self):
        policy = self.make_policy(300, premium_amount=1000)
        self.assertEqual(policy.installment_count, "1")
        for index in range(4):
            self.env["insurance.policy.installment"].create(
                {"policy_id": policy.id, "date_due": policy.date_start, "amount": 250 + index}
            )
        self.assertEqual(policy.installment_count, "4")
        labels = dict(policy._fields["installment_count"]._description_selection(self.env))
        self.assertEqual(labels["4"], "4 installments")
