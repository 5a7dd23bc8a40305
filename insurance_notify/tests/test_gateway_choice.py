import importlib.util
from pathlib import Path

from lxml import etree

from odoo.tests.common import new_test_user

from .common import NotifyCase
from .sms_common import FakeSmsapi, make_smsapi_gateway

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "insurance_notify/migrations/18.0.1.1.0/post-stock-sms-routing.py"
)


class TestGatewayChoice(NotifyCase):
    """Reminders and stock SMS go where an administrator chose, and every
    screen says when that is the sandbox."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Gateway = cls.env["insurance.notify.gateway"]
        cls.sandbox = cls.env.ref("insurance_notify.gateway_sandbox")
        cls.company = cls.env.ref("base.main_company")
        cls.manager = new_test_user(
            cls.env, login="choice_manager", groups="insurance_notify.group_insurance_manager"
        )

    def without_gateways(self):
        """A fresh install without demo data: no gateway at all."""
        self.company.insurance_stock_sms_gateway_id = False
        self.Gateway.with_context(active_test=False).search(
            [("company_id", "=", self.company.id)]
        ).unlink()

    def test_a_fresh_install_asks_for_a_gateway_on_the_rules(self):
        self.without_gateways()
        rule = self.make_rule().with_user(self.manager)
        self.assertEqual(rule.sms_gateway_notice, "missing")
        email_rule = self.make_rule(
            channel="email",
            sms_template_id=False,
            mail_template_id=self.env.ref("insurance_notify.mail_template_policy_expiry").id,
        )
        self.assertFalse(email_rule.sms_gateway_notice)
        admin = new_test_user(
            self.env, login="choice_admin", groups="base.group_system,base.group_user"
        )
        settings = self.env["res.config.settings"].with_user(admin).create({})
        self.assertFalse(settings.insurance_reminder_gateway_id)

        gateway = make_smsapi_gateway(self.env, "http://127.0.0.1:9")
        rule.invalidate_recordset()
        self.assertFalse(rule.sms_gateway_notice)
        self.assertEqual(
            self.env["res.config.settings"]
            .with_user(admin)
            .create({})
            .insurance_reminder_gateway_id,
            gateway,
        )

    def test_the_rule_and_gateway_forms_say_when_reminders_go_to_the_sandbox(self):
        rule = self.make_rule().with_user(self.manager)
        self.assertEqual(rule.sms_gateway_notice, "sandbox")
        self.assertTrue(self.sandbox.with_user(self.manager).reminders_in_sandbox)
        with FakeSmsapi() as fake:
            gateway = make_smsapi_gateway(self.env, fake.url)
            rule.invalidate_recordset()
            self.assertFalse(rule.sms_gateway_notice)
            self.assertFalse(gateway.with_user(self.manager).reminders_in_sandbox)
            # A rule that names the sandbox itself still says so.
            rule.sudo().gateway_id = self.sandbox
            self.assertEqual(rule.sms_gateway_notice, "sandbox")
        # The demo leaves stock SMS on IAP; once an administrator (or make
        # run) chooses the sandbox for them, its form says so too.
        self.assertFalse(self.sandbox.sends_stock_sms)
        self.company.insurance_stock_sms_gateway_id = self.sandbox
        self.sandbox.invalidate_recordset(["sends_stock_sms"])
        self.assertTrue(self.sandbox.sends_stock_sms)
        self.assertFalse(gateway.sends_stock_sms)

    def test_the_banners_are_in_the_forms(self):
        def arch(model, view_type):
            view = self.env[model].with_user(self.manager).get_view(view_type=view_type)
            return etree.fromstring(view["arch"])

        self.assertTrue(
            arch("insurance.notify.rule", "form").xpath(
                "//div[hasclass('o_insurance_gateway_missing')]"
            )
        )
        self.assertTrue(
            arch("insurance.notify.rule", "list").xpath("//field[@name='sms_gateway_notice']")
        )
        self.assertTrue(
            arch("insurance.notify.gateway", "form").xpath(
                "//div[hasclass('o_insurance_gateway_sandbox')]"
            )
        )
        message_list = arch("insurance.notify.message", "list")
        self.assertTrue(message_list.xpath("//field[@name='is_sandbox']"))
        self.assertTrue(
            arch("insurance.notify.message", "form").xpath(
                "//div[hasclass('o_insurance_sandbox_message')]"
            )
        )

    def test_a_sandbox_message_is_marked_not_sent(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        self.client.consent_sms = True
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "sent")
        self.assertTrue(message.is_sandbox)
        self.assertIn(message, self.client.insurance_notify_message_ids)
        self.assertIn(message, policy.notify_message_ids)


class TestUpgradeKeepsRouting(NotifyCase):
    """Before 18.0.1.1.0 stock SMS left through the company's first gateway."""

    def setUp(self):
        super().setUp()
        self.company = self.env.ref("base.main_company")
        self.company.insurance_stock_sms_gateway_id = False

    def test_a_real_provider_keeps_sending_stock_sms(self):
        gateway = make_smsapi_gateway(self.env, "http://127.0.0.1:9")
        self.company._insurance_route_stock_sms_as_before(demo=False)
        self.assertEqual(self.company.insurance_stock_sms_gateway_id, gateway)

    def test_a_sandbox_goes_back_to_iap_except_on_a_demo_database(self):
        self.company._insurance_route_stock_sms_as_before(demo=False)
        self.assertFalse(self.company.insurance_stock_sms_gateway_id)
        self.company._insurance_route_stock_sms_as_before(demo=True)
        self.assertEqual(
            self.company.insurance_stock_sms_gateway_id,
            self.env.ref("insurance_notify.gateway_sandbox"),
        )

    def test_the_migration_script_runs_on_every_company(self):
        gateway = make_smsapi_gateway(self.env, "http://127.0.0.1:9")
        spec = importlib.util.spec_from_file_location("post_stock_sms_routing", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.company.invalidate_recordset()
        self.assertEqual(self.company.insurance_stock_sms_gateway_id, gateway)
        # The Lithuanian demo company's first gateway is a sandbox: demo keeps it.
        lithuanian = self.env.ref("insurance_notify.company_lt")
        self.assertEqual(
            lithuanian.insurance_stock_sms_gateway_id.provider,
            "sandbox" if self.env["ir.module.module"]._get("insurance_notify").demo else False,
        )
