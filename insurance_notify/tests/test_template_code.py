"""Templates run no code for anyone but administrators (issue 16, item 1).

An insurance manager used to hold Odoo's template editor right through our
group: one SMS body such as ``{{ object.env.ref('base.group_system').sudo()
.write(...) }}``, previewed once, made them an administrator. Tried here as
that manager: every payload is refused at save, a template that reached the
database with code anyway is not rendered (its messages fail with a reason,
the provider receives nothing), and the manager stays a manager.
"""

import importlib.util
from contextlib import contextmanager
from pathlib import Path

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from ..lib.notify_engine.gateways import SandboxGateway
from .common import warsaw
from .test_security_roles import SecurityCase


def sms_payloads(manager):
    """Bodies an attacker with the old editor right used, and their cousins."""
    return [
        # Privilege escalation: the manager joins Settings administrators.
        "{{ object.env.ref('base.group_system').sudo().write({'users': [(4, UID)]}) }}".replace(
            "UID", str(manager.id)
        ),
        "{{ user.sudo().write({'groups_id': [(4, object.env.ref('base.group_system').id)]}) }}",
        # Secrets: database secret, gateway tokens, password hashes.
        "{{ object.env['ir.config_parameter'].sudo().get_param('database.secret') }}",
        "{{ object.env['insurance.notify.gateway'].sudo().search([]).mapped('smsapi_token') }}",
        "{{ object.company_id.insurance_stock_sms_gateway_id.smsapi_token }}",
        "{{ object.user_id.sudo().password }}",
        "{{ object.with_user(1).partner_id.name }}",
        # Python's way out of the sandbox and any other call.
        "{{ object.__class__.__init__.__globals__ }}",
        "{{ object._cr.execute('select 1') }}",
        "{{ object.partner_id.name.split(' ')[0] }}",
        "{{ ctx.get('lang') }}",
        "{{ [p.name for p in object.partner_id] }}",
    ]


QWEB_PAYLOADS = [
    "<p t-out=\"object.env['ir.config_parameter'].sudo().get_param('database.secret')\"/>",
    '<p t-out="object.env.user.sudo().password"/>',
    '<t t-set="x" t-value="object.env"/><p t-out="x"/>',
    '<p t-foreach="object.partner_id" t-as="p" t-out="p.name"/>',
    '<p t-att-title="object.name">x</p>',
    '<t t-call="web.layout"/>',
]


@tagged("post_install", "-at_install")
class TestTemplatesRunNoCode(SecurityCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = cls.users["manager"]
        cls.policy_model = cls.env["ir.model"]._get_id("insurance.policy")

    @contextmanager
    def refused(self):
        """Refused, and nothing of it stays (as a request's rollback)."""
        with self.assertRaises(UserError), self.env.cr.savepoint():
            yield
        self.env.invalidate_all()

    def as_manager(self, model):
        return self.env[model].with_user(self.manager)

    def assert_still_a_manager(self):
        self.manager.invalidate_recordset()
        self.env["res.groups"].invalidate_model()
        self.assertFalse(self.manager._is_system(), "the manager became an administrator")
        self.assertFalse(self.manager.has_group("mail.group_mail_template_editor"))
        self.assertTrue(self.manager.has_group("insurance_notify.group_insurance_manager"))

    def test_no_group_of_ours_grants_the_template_editor_right(self):
        editor = self.env.ref("mail.group_mail_template_editor")
        for xmlid in ("group_insurance_user", "group_insurance_manager"):
            group = self.env.ref(f"insurance_notify.{xmlid}")
            self.assertNotIn(editor, group.trans_implied_ids, xmlid)
        self.assertFalse(self.manager.has_group("mail.group_mail_template_editor"))
        # The demo's managers (Polish and Lithuanian agencies) hold no such right.
        for login in ("anna", "tomasz", "ruta"):
            user = self.env["res.users"].search([("login", "=", login)])
            if user:
                self.assertFalse(user.has_group("mail.group_mail_template_editor"), login)

    def test_every_payload_is_refused_at_save_as_a_manager(self):
        own = self.as_manager("sms.template").create(
            {"name": "Own text", "model_id": self.policy_model, "body": "{{ object.name }}"}
        )
        for payload in sms_payloads(self.manager):
            with self.subTest(payload=payload):
                with self.refused():
                    self.as_manager("sms.template").create(
                        {"name": "Attack", "model_id": self.policy_model, "body": payload}
                    )
                with self.refused():
                    own.write({"body": payload})
                with self.refused():
                    own.write({"lang": payload})
        self.assertEqual(own.body, "{{ object.name }}")
        self.assert_still_a_manager()

    def test_every_payload_is_refused_in_an_email_template_too(self):
        values = {"name": "Attack", "model_id": self.policy_model}
        for payload in sms_payloads(self.manager):
            with self.subTest(subject=payload), self.refused():
                self.as_manager("mail.template").create({**values, "subject": payload})
        for payload in QWEB_PAYLOADS:
            with self.subTest(body=payload), self.refused():
                self.as_manager("mail.template").create({**values, "body_html": payload})
        self.assert_still_a_manager()

    def test_the_refusal_names_the_code_in_the_users_language(self):
        with self.assertRaisesRegex(AccessError, r"env.*Only administrators write code"):
            self.as_manager("sms.template").create(
                {
                    "name": "Attack",
                    "model_id": self.policy_model,
                    "body": "{{ object.env.user.name }}",
                }
            )
        with self.assertRaisesRegex(AccessError, r"smsapi_token.*may not read"):
            self.as_manager("sms.template").create(
                {
                    "name": "Attack",
                    "model_id": self.policy_model,
                    "body": "{{ object.company_id.insurance_stock_sms_gateway_id.smsapi_token }}",
                }
            )

    def test_placeholders_and_formatting_helpers_are_the_managers(self):
        body = (
            "{{ object.partner_id.name ||| Klient }}, polisa {{ object.name }} "
            "({{ object.insurer_id.name or '' }}) wygasa {{ format_date(object.date_end) }}, "
            "składka {{ format_amount(object.premium_amount, object.currency_id) }}. "
            "{{ (object.company_id or user.company_id).name }}"
        )
        template = self.as_manager("sms.template").create(
            {"name": "Own text", "model_id": self.policy_model, "body": body}
        )
        mail = self.as_manager("mail.template").create(
            {
                "name": "Own mail",
                "model_id": self.policy_model,
                "subject": "Polisa {{ object.name }}",
                "body_html": '<p>Dzień dobry <t t-out="object.partner_id.name"/>,</p>'
                '<p t-if="object.vehicle_plate">Pojazd <t t-out="object.vehicle_plate"/></p>'
                '<p>Koniec: <t t-out="format_date(object.date_end)"/></p>',
            }
        )
        rendered = template._render_field("body", self.policy.ids)[self.policy.id]
        self.assertIn(self.policy.name, rendered)
        self.assertIn("Jan Testowy", rendered)
        self.assertIn(
            self.policy.name, mail._render_field("subject", self.policy.ids)[self.policy.id]
        )
        # The shipped texts, copied by the manager into the agency's own.
        for xmlid in (
            "insurance_notify.sms_template_policy_expiry",
            "insurance_notify.mail_template_policy_expiry",
            "insurance_notify.sms_template_task_customer",
            "insurance_notify.mail_template_task_operator",
        ):
            shipped = self.env.ref(xmlid, False)
            if shipped:
                with self.subTest(xmlid=xmlid):
                    copy = shipped.with_user(self.manager).copy()
                    self.assertEqual(copy.company_id, self.company)

    def inject(self, template, field, text):
        """Code that reached the database without the save check (written
        before managers lost the right, or straight into the table)."""
        table = template._table
        self.env.flush_all()
        self.env.cr.execute(
            f"UPDATE {table} SET {field} = jsonb_build_object('en_US', %s::text), "  # noqa: S608
            "write_uid = %s WHERE id = %s",
            [text, self.manager.id, template.id],
        )
        template.invalidate_recordset()

    def test_code_in_the_database_is_not_rendered_and_fails_the_message(self):
        template = self.as_manager("sms.template").create(
            {"name": "Own text", "model_id": self.policy_model, "body": "{{ object.name }}"}
        )
        rule = self.as_manager("insurance.notify.rule").create(
            {
                "name": "Expiry 20 (own)",
                "event_type": "policy_expiry",
                "channel": "sms",
                "offsets": "20",
                "sms_template_id": template.id,
                "gateway_id": self.sandbox.id,
            }
        )
        self.rule.action_archive()
        payload = sms_payloads(self.manager)[0]
        self.inject(template, "body", payload)
        self.set_now(warsaw(self.TODAY, 10))
        self.Rule._cron_plan()
        self.Message._cron_dispatch()
        message = self.Message.search([("rule_id", "=", rule.id)])
        self.assertEqual(len(message), 1)
        self.assertRecordValues(message, [{"state": "failed", "reason_code": "template_code"}])
        self.assertIn("object.env.ref", message.reason)
        self.assertEqual(list(SandboxGateway.outbox), [])
        self.assert_still_a_manager()
        # The preview does not run it either, and says why.
        with self.assertRaisesRegex(UserError, "no administrator wrote"):
            preview = Form(
                self.env["sms.template.preview"]
                .with_user(self.manager)
                .with_context(default_sms_template_id=template.id)
            )
            preview.resource_ref = self.policy
        self.assert_still_a_manager()
        # A sender choosing such a template is refused at once.
        with self.assertRaisesRegex(ValidationError, "no administrator wrote"):
            self.as_manager("insurance.notify.batch").create(
                {"name": "Send", "target": "policy_expiry", "sms_template_id": template.id}
            )

    def test_code_in_an_email_body_fails_the_email_not_the_run(self):
        mail = self.as_manager("mail.template").create(
            {
                "name": "Own mail",
                "model_id": self.policy_model,
                "subject": "Polisa {{ object.name }}",
                "body_html": '<p t-out="object.name"/>',
            }
        )
        self.client.email = "jan@example.com"
        self.client.consent_email = True
        rule = self.as_manager("insurance.notify.rule").create(
            {
                "name": "Expiry 20 by e-mail",
                "event_type": "policy_expiry",
                "channel": "email",
                "offsets": "20",
                "mail_template_id": mail.id,
            }
        )
        self.rule.action_archive()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE mail_template SET body_html = jsonb_build_object('en_US', %s::text), "
            "write_uid = %s WHERE id = %s",
            [
                "<p t-out=\"object.env['ir.config_parameter'].sudo()"
                ".get_param('database.secret')\"/>",
                self.manager.id,
                mail.id,
            ],
        )
        mail.invalidate_recordset()
        mails_before = self.env["mail.mail"].search_count([])
        self.Rule._cron_plan()
        self.Message._cron_dispatch()
        message = self.Message.search([("rule_id", "=", rule.id)])
        self.assertRecordValues(message, [{"state": "failed", "reason_code": "template_code"}])
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)

    def test_an_administrator_keeps_odoos_code_right(self):
        admin = self.users["admin"]
        template = (
            self.env["sms.template"]
            .with_user(admin)
            .create(
                {
                    "name": "Admin's",
                    "model_id": self.policy_model,
                    "body": "{{ object.partner_id.name.split(' ')[0] }}",
                }
            )
        )
        self.assertEqual(template._render_field("body", self.policy.ids)[self.policy.id], "Jan")
        # And a manager may send with the administrator's text, not change it.
        self.as_manager("insurance.notify.batch").create(
            {"name": "Send", "target": "policy_expiry", "sms_template_id": template.id}
        )
        with self.assertRaises(UserError):
            template.with_user(self.manager).write({"name": "Changed"})

    def test_stock_templates_outside_the_addon_keep_odoos_rules(self):
        # An employee who is no insurance user writes a contact template
        # with the placeholders stock Odoo allows them, as before.
        employee = new_test_user(self.env, login="tpl_employee", groups="base.group_user")
        partner_model = self.env["ir.model"]._get_id("res.partner")
        template = (
            self.env["mail.template"]
            .with_user(employee)
            .create({"name": "Mine", "model_id": partner_model, "subject": "{{ object.name }}"})
        )
        self.assertFalse(template.company_id)
        with self.assertRaises(AccessError):
            template.write({"subject": "{{ object.env.user.name }}"})

    def test_whatsapp_parameters_are_placeholders_too(self):
        values = {
            "name": "Own WhatsApp",
            "template_name": "own_expiry",
            "language_code": "pl",
            "model_id": self.policy_model,
            "body": "Dzień dobry {{1}}, polisa {{2}} wygasa.",
        }
        WhatsApp = self.as_manager("insurance.whatsapp.template")
        own = WhatsApp.create(
            {**values, "parameters": "{{ object.partner_id.name }}\n{{ object.name }}"}
        )
        self.assertIn("Jan Testowy", own._render_text(self.policy.ids)[self.policy.id])
        for payload in sms_payloads(self.manager):
            with self.subTest(payload=payload), self.refused():
                own.write({"parameters": f"{payload}\n{{{{ object.name }}}}"})
        # Written into the table anyway, it is not rendered.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE insurance_whatsapp_template SET parameters = %s, write_uid = %s WHERE id = %s",
            [sms_payloads(self.manager)[0] + "\n{{ object.name }}", self.manager.id, own.id],
        )
        own.invalidate_recordset()
        with self.assertRaisesRegex(UserError, "no administrator wrote"):
            own._render_text(self.policy.ids)
        self.assert_still_a_manager()


@tagged("post_install", "-at_install")
class TestUpgradeTakesTheRightBack(SecurityCase):
    """18.0.1.3.0's migration: what the old group gave is taken back."""

    def migrate(self):
        path = Path(__file__).parents[1] / "migrations" / "18.0.1.3.0" / "post-templates.py"
        spec = importlib.util.spec_from_file_location("post_templates", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.2.0")
        self.env.invalidate_all()

    def test_managers_lose_the_editor_right_administrators_keep_it(self):
        editor = self.env.ref("mail.group_mail_template_editor")
        manager, admin = self.users["manager"], self.users["admin"]
        editor.users |= manager | admin
        # A template the manager wrote, used by one agency's rule only.
        template = self.env["sms.template"].create(
            {
                "name": "Old text",
                "model_id": self.env["ir.model"]._get_id("insurance.policy"),
                "body": "{{ object.name }}",
            }
        )
        self.rule.sms_template_id = template
        shipped = self.env.ref("insurance_notify.sms_template_policy_expiry")
        self.migrate()
        self.assertFalse(manager.has_group("mail.group_mail_template_editor"))
        self.assertTrue(admin.has_group("mail.group_mail_template_editor"))
        self.assertEqual(template.company_id, self.company)
        self.assertFalse(shipped.company_id)
