"""Texts belong to an agency (issue 16, item 2).

The Lithuanian agency's manager could rewrite or delete the template the
Polish agency's rule sends, leaving the rule without a template. Tried here as
the manager of agency A, the manager of agency B, a broker, an employee
without insurance rights and a portal user.
"""

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import NotifyCase


@tagged("post_install", "-at_install")
class TestTemplatesBelongToAnAgency(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.ref("base.main_company")
        cls.company_b = cls.env["res.company"].create({"name": "Draudimo Agentūra"})

        def user(login, groups, company):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        manager = "base.group_user,insurance_notify.group_insurance_manager"
        cls.manager_a = user("agency_a_manager", manager, cls.company_a)
        cls.manager_b = user("agency_b_manager", manager, cls.company_b)
        cls.broker = user(
            "agency_a_broker",
            "base.group_user,insurance_notify.group_insurance_user",
            cls.company_a,
        )
        cls.employee = user("agency_a_employee", "base.group_user", cls.company_a)
        cls.portal = user("agency_a_portal", "base.group_portal", cls.company_a)
        cls.policy_model = cls.env["ir.model"]._get_id("insurance.policy")
        cls.sms_a = (
            cls.env["sms.template"]
            .with_user(cls.manager_a)
            .create(
                {
                    "name": "Polisa wygasa",
                    "model_id": cls.policy_model,
                    "body": "Polisa {{ object.name }} wygasa {{ format_date(object.date_end) }}.",
                }
            )
        )
        cls.mail_a = (
            cls.env["mail.template"]
            .with_user(cls.manager_a)
            .create(
                {
                    "name": "Polisa wygasa (e-mail)",
                    "model_id": cls.policy_model,
                    "subject": "Polisa {{ object.name }}",
                    "body_html": '<p t-out="object.name"/>',
                }
            )
        )
        cls.rule_a = (
            cls.env["insurance.notify.rule"]
            .with_user(cls.manager_a)
            .create(
                {
                    "name": "Wygasanie",
                    "event_type": "policy_expiry",
                    "channel": "sms_email",
                    "offsets": "30",
                    "sms_template_id": cls.sms_a.id,
                    "mail_template_id": cls.mail_a.id,
                }
            )
        )

    def test_a_managers_templates_are_their_agencys(self):
        self.assertEqual(self.sms_a.company_id, self.company_a)
        self.assertEqual(self.mail_a.company_id, self.company_a)
        # Not chosen: a shared text (no agency) is an administrator's.
        with self.assertRaisesRegex(ValidationError, "administrators only"):
            self.env["sms.template"].with_user(self.manager_a).create(
                {"name": "x", "model_id": self.policy_model, "body": "Hi", "company_id": False}
            )

    def test_another_agencys_manager_cannot_read_write_or_delete_them(self):
        for template in (self.sms_a, self.mail_a):
            as_b = template.with_user(self.manager_b)
            with self.subTest(model=template._name):
                self.assertFalse(
                    self.env[template._name]
                    .with_user(self.manager_b)
                    .search([("id", "=", template.id)])
                )
                with self.assertRaises(AccessError):
                    as_b.read(["name"])
                with self.assertRaises(AccessError):
                    as_b.write({"name": "Pakeista"})
                with self.assertRaises(AccessError):
                    as_b.unlink()
        self.assertEqual(self.rule_a.sms_template_id, self.sms_a)
        # Nor send with them from their own agency.
        with self.assertRaises(UserError):
            self.env["insurance.notify.rule"].with_user(self.manager_b).create(
                {
                    "name": "Galiojimo pabaiga",
                    "event_type": "policy_expiry",
                    "offsets": "30",
                    "sms_template_id": self.sms_a.id,
                    "company_id": self.company_b.id,
                }
            )

    def test_shared_templates_are_read_by_all_and_changed_by_administrators(self):
        shipped = self.env.ref("insurance_notify.sms_template_policy_expiry")
        self.assertFalse(shipped.company_id)
        for manager in (self.manager_a, self.manager_b):
            self.assertTrue(shipped.with_user(manager).read(["body"]))
            with self.assertRaises(AccessError):
                shipped.with_user(manager).write({"body": "Rewritten"})
            with self.assertRaises(AccessError):
                shipped.with_user(manager).unlink()
        shipped_mail = self.env.ref("insurance_notify.mail_template_policy_expiry", False)
        if shipped_mail:
            with self.assertRaises(AccessError):
                shipped_mail.with_user(self.manager_b).write({"subject": "Rewritten"})

    def test_broker_employee_and_portal(self):
        self.assertTrue(self.sms_a.with_user(self.broker).read(["body"]))
        self.assertTrue(self.sms_a.with_user(self.employee).read(["body"]))
        for user in (self.broker, self.employee):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.sms_a.with_user(user).write({"body": "Changed"})
                with self.assertRaises(AccessError):
                    self.sms_a.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    self.mail_a.with_user(user).write({"subject": "Changed"})
        with self.assertRaises(AccessError):
            self.sms_a.with_user(self.portal).read(["body"])
        with self.assertRaises(AccessError):
            self.mail_a.with_user(self.portal).read(["subject"])

    def test_a_template_in_use_is_archived_not_deleted(self):
        admin = self.env.ref("base.user_admin")
        for user in (self.manager_a, admin):
            for template in (self.sms_a, self.mail_a):
                with (
                    self.subTest(user=user.login, model=template._name),
                    self.assertRaisesRegex(UserError, "Wygasanie"),
                ):
                    template.with_user(user).unlink()
        self.sms_a.with_user(self.manager_a).action_archive()
        self.assertFalse(self.sms_a.active)
        self.assertEqual(self.rule_a.sms_template_id, self.sms_a)
        # An unused template goes.
        spare = self.sms_a.with_user(self.manager_a).copy()
        spare.unlink()
        self.assertFalse(spare.exists())

    def test_a_rule_is_never_left_without_its_template(self):
        # Not by SQL either: the database refuses.
        self.env.flush_all()
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute("DELETE FROM sms_template WHERE id = %s", [self.sms_a.id])
        # Nor by giving its template another model.
        with self.assertRaisesRegex(ValidationError, "this rule sends about"):
            self.mail_a.with_user(self.manager_a).write(
                {"model_id": self.env["ir.model"]._get_id("res.partner")}
            )
        # A bulk send's template too, and an archived rule's.
        self.rule_a.action_archive()
        with self.assertRaises(UserError):
            self.sms_a.unlink()
