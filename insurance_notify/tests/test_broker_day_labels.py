"""A Polish broker's client form and rule form say what they mean (issue 22, items 5 and 9).

Duplicates stay allowed until an administrator opts in, and the *shared number*
checkbox beside the mobile carries a visible, translated label; the leftover
English of the walk-through (sales channels, the rule's chatter line) reads Polish.
"""

from odoo.tests import Form
from odoo.tests.common import new_test_user

from .common import NotifyCase

PARAM = "insurance_notify.prevent_duplicate_clients"


class PolishBrokerCase(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["insurance_notify"], ["pl_PL"], overwrite=True
        )
        cls.broker = new_test_user(
            cls.env,
            login="broker_labels",
            name="Anna Nowicka",
            lang="pl_PL",
            tz="Europe/Warsaw",
            groups="insurance_notify.group_insurance_user,base.group_partner_manager",
        )

    def as_user(self, user):
        """The environment of the user's browser: their rights and their language
        (the web client sends the user's lang in every call's context)."""
        return self.env(user=user, context=dict(self.env.context, lang=user.lang))


class TestDuplicatesStayAllowedUntilChosen(PolishBrokerCase):
    def test_installing_the_add_on_refuses_no_duplicate(self):
        # No one has set the parameter: the fresh database of this test run.
        self.assertFalse(self.env["ir.config_parameter"].sudo().get_param(PARAM))
        self.assertFalse(
            self.env["res.config.settings"].create({}).insurance_prevent_duplicate_clients
        )
        form = Form(self.as_user(self.broker)["res.partner"])
        form.name = "Jan T."
        form.mobile = "+48 600 123 456"  # the mobile of cls.client
        self.assertFalse(form.insurance_shared_contact)
        twin = form.save()
        self.assertEqual(twin.mobile, self.client.mobile)

    def test_the_shared_number_checkbox_has_a_polish_label(self):
        form = Form(self.as_user(self.broker)["res.partner"])
        self.assertFalse(form.insurance_shared_contact)
        arch = form._view["tree"]
        node = arch.xpath("//field[@name='insurance_shared_contact']")[0]
        # A field in a form group gets its label; inside the sms add-on's mobile
        # row (a div) it would be a bare checkbox.
        self.assertEqual(node.getparent().tag, "group")
        self.assertNotEqual(node.get("nolabel"), "1")
        self.assertEqual(
            form._view["fields"]["insurance_shared_contact"]["string"], "Wspólny numer"
        )

    def test_the_setting_says_it_is_off_until_chosen(self):
        Settings = self.env["res.config.settings"].with_context(lang="pl_PL")
        helps = Settings.fields_get(["insurance_prevent_duplicate_clients"])
        self.assertIn(
            "Wyłączone, dopóki administrator", helps["insurance_prevent_duplicate_clients"]["help"]
        )


class TestLeftoverEnglish(PolishBrokerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="labels_manager",
            lang="pl_PL",
            tz="Europe/Warsaw",
            groups="insurance_notify.group_insurance_manager",
        )

    def test_the_rules_sales_channels_read_polish(self):
        Rule = self.as_user(self.manager)["insurance.notify.rule"]
        choices = dict(Rule.fields_get(["sales_channel"])["sales_channel"]["selection"])
        self.assertEqual(choices["office"], "Biuro")
        self.assertEqual(choices["partner"], "Partner biznesowy")

    def test_the_rules_creation_line_in_the_chatter_is_polish(self):
        self.env["ir.module.module"]._load_module_terms(["mail"], ["pl_PL"], overwrite=True)
        rule = self.as_user(self.manager)["insurance.notify.rule"].create(
            {
                "name": "Koniec polisy: SMS",
                "event_type": "policy_expiry",
                "channel": "sms",
                "offsets": "7",
                "sms_template_id": self.template.id,
            }
        )
        bodies = " ".join(str(message.body) for message in rule.message_ids)
        self.assertIn("Reguła automatycznego powiadomienia", bodies)
        self.assertNotIn("Automatic Notification Rule", bodies)

    def test_the_sandbox_gateway_reads_polish(self):
        gateway = self.env.ref("insurance_notify.gateway_sandbox", raise_if_not_found=False)
        if not gateway:
            self.skipTest("the sandbox gateway is demo data")
        self.assertEqual(gateway.with_env(self.as_user(self.manager)).display_name, "Piaskownica")
        self.assertEqual(gateway.with_context(lang="en_US").name, "Sandbox")
