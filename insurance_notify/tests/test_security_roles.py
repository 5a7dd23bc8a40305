"""The permission matrix of readme/CONFIGURE.rst, tried as each role.

Every model x read/create/write/unlink and every public action, over the
path the web client uses (``with_user``, no sudo), for a portal user, an
employee without insurance rights, a broker (Insurance User), an Insurance
Manager, a Settings administrator, and a manager of a second company who must
see and change nothing of the first.
"""

from contextlib import contextmanager
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import NotifyCase

R, C, W, U = "read", "create", "write", "unlink"
ALL = {R, C, W, U}
ROLES = ("portal", "employee", "broker", "manager", "admin", "other_company")


def make_users(env, company2):
    main = env.ref("base.main_company")

    def user(login, groups, company=main):
        return new_test_user(
            env,
            login=login,
            groups=groups,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
            tz="Europe/Warsaw",
        )

    return {
        "portal": user("sec_portal", "base.group_portal"),
        "employee": user("sec_employee", "base.group_user"),
        "broker": user("sec_broker", "base.group_user,insurance_notify.group_insurance_user"),
        "manager": user("sec_manager", "base.group_user,insurance_notify.group_insurance_manager"),
        "admin": user(
            "sec_admin",
            "base.group_user,insurance_notify.group_insurance_manager,base.group_system",
        ),
        "other_company": user(
            "sec_other",
            "base.group_user,insurance_notify.group_insurance_manager,base.group_system",
            company2,
        ),
    }


class SecurityCase(NotifyCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("base.main_company")
        cls.company2 = cls.env["res.company"].create({"name": "Second Agency"})
        cls.users = make_users(cls.env, cls.company2)
        cls.gateway = cls.env["insurance.notify.gateway"].create(
            {
                "name": "SMSAPI main",
                "provider": "smsapi",
                "api_url": "https://api.smsapi.pl",
                "smsapi_token": "secret-token-0123456789",
                "sequence": 1,
            }
        )
        cls.sandbox = cls.env["insurance.notify.gateway"].create(
            {"name": "Sandbox main", "provider": "sandbox", "sequence": 0}
        )
        cls.gateway2 = cls.env["insurance.notify.gateway"].create(
            {"name": "Sandbox 2", "provider": "sandbox", "company_id": cls.company2.id}
        )
        cls.policy = cls.make_policy_cls(20)
        cls.installment = cls.env["insurance.policy.installment"].create(
            {"policy_id": cls.policy.id, "date_due": cls.TODAY + timedelta(days=5), "amount": 100}
        )
        cls.rule = cls.Rule.create(
            {
                "name": "Expiry 20",
                "event_type": "policy_expiry",
                "channel": "sms",
                "offsets": "20",
                "sms_template_id": cls.template.id,
                "gateway_id": cls.sandbox.id,
            }
        )
        # A rule with a history cannot be deleted (archive it): this one is
        # tried as a fresh rule, so what its creation planned goes.
        cls.Message.search([("rule_id", "=", cls.rule.id)]).unlink()
        cls.batch = cls.env["insurance.notify.batch"].create(
            {"name": "Main send", "target": "policy_expiry", "body": "Hello"}
        )
        cls.message = cls.Message.create(
            {
                "key": "security-test-message",
                "company_id": cls.company.id,
                "res_model": "insurance.policy",
                "res_id": cls.policy.id,
                "policy_id": cls.policy.id,
                "partner_id": cls.client.id,
                "channel": "sms",
                "state": "delivered",
                "body": "Delivered text",
                "number": "+48600123456",
                "provider_ref": "REF1",
                "gateway_id": cls.sandbox.id,
            }
        )
        cls.spare_product = cls.env["insurance.product"].create({"name": "Unused"})
        cls.own_template = cls.env["sms.template"].create(
            {
                "name": "Main agency's text",
                "model_id": cls.env["ir.model"]._get_id("insurance.policy"),
                "body": "Policy {{ object.name }}",
                "company_id": cls.company.id,
            }
        )
        cls.client.write({"consent_sms": True})
        cls.consent_log = cls.client.consent_log_ids[:1]

    @classmethod
    def make_policy_cls(cls, days_left, **values):
        return cls.env["insurance.policy"].create(
            {
                "premium_amount": 1000,
                "name": f"SEC/{days_left}/{len(values)}",
                "partner_id": cls.client.id,
                "insurer_id": cls.insurer.id,
                "product_id": cls.product.id,
                "date_start": cls.TODAY - timedelta(days=365 - days_left),
                "date_end": cls.TODAY + timedelta(days=days_left),
                "state": "valid",
                **values,
            }
        )

    @contextmanager
    def refused(self):
        """The operation is refused, and nothing it did stays."""
        try:
            with mute_logger("odoo.models"), self.env.cr.savepoint():
                yield
        except (AccessError, UserError):
            return
        self.fail("the operation was not refused")

    def allowed(self, operation):
        """Run ``operation``; True when it went through, False when refused
        (the savepoint rolls back what it did either way)."""
        try:
            with mute_logger("odoo.models"), self.env.cr.savepoint(flush=True) as savepoint:
                operation()
                self.env.flush_all()
                savepoint.rollback()
        except (AccessError, UserError):
            return False
        return True


@tagged("post_install", "-at_install")
class TestPermissionMatrix(SecurityCase):
    """Model x operation x role, as written in CONFIGURE.rst."""

    # role -> operations; other_company is tried on the first company's records.
    MATRIX = {
        "insurance.policy": {
            "broker": {R, C, W},
            "manager": ALL,
            "admin": ALL,
        },
        "insurance.policy.installment": {
            "broker": ALL,
            "manager": ALL,
            "admin": ALL,
        },
        "insurance.product": {"broker": {R}, "manager": ALL, "admin": ALL},
        "insurance.notify.rule": {"broker": {R}, "manager": ALL, "admin": ALL},
        "insurance.notify.message": {"broker": {R}, "manager": {R}, "admin": {R}},
        "insurance.notify.gateway": {"broker": {R}, "manager": ALL, "admin": ALL},
        "insurance.notify.batch": {"broker": {R}, "manager": ALL, "admin": ALL},
        "insurance.consent.log": {"broker": {R}, "manager": {R}, "admin": {R}},
        "res.partner": {
            "employee": {R},
            "broker": {R, C, W},
            "manager": {R, C, W},
            "admin": {R, C, W},
        },
        "sms.template": {"employee": {R}, "broker": {R}, "manager": ALL, "admin": ALL},
    }

    def records(self):
        return {
            "insurance.policy": self.policy,
            "insurance.policy.installment": self.installment,
            "insurance.product": self.spare_product,
            "insurance.notify.rule": self.rule,
            "insurance.notify.message": self.message,
            "insurance.notify.gateway": self.sandbox,
            "insurance.notify.batch": self.batch,
            "insurance.consent.log": self.consent_log,
            "res.partner": self.client,
            # An agency's own template that no sender uses (shared ones are
            # the administrators', one in use is archived, not deleted).
            "sms.template": self.own_template,
        }

    def create_vals(self, model):
        return {
            "insurance.policy": {
                "name": "SEC/NEW",
                "partner_id": self.client.id,
                "insurer_id": self.insurer.id,
                "product_id": self.product.id,
                "company_id": self.company.id,
            },
            "insurance.policy.installment": {
                "policy_id": self.policy.id,
                "date_due": self.TODAY,
                "amount": 5,
            },
            "insurance.product": {"name": "Travel"},
            "insurance.notify.rule": {
                "name": "New",
                "event_type": "policy_expiry",
                "offsets": "5",
                "sms_template_id": self.template.id,
                "company_id": self.company.id,
            },
            "insurance.notify.message": {
                "key": "forged",
                "company_id": self.company.id,
                "res_model": "insurance.policy",
                "res_id": self.policy.id,
                "channel": "sms",
                "state": "delivered",
            },
            "insurance.notify.gateway": {
                "name": "New",
                "provider": "sandbox",
                "company_id": self.company.id,
            },
            "insurance.notify.batch": {
                "name": "New",
                "target": "policy_expiry",
                "body": "Hi",
                "company_id": self.company.id,
            },
            "insurance.consent.log": {
                "partner_id": self.client.id,
                "consent": "consent_sms",
                "source": "stop",
                "company_id": self.company.id,
            },
            "res.partner": {"name": "New client", "company_id": self.company.id},
            "sms.template": {
                "name": "New",
                "model_id": self.env["ir.model"]._get_id("insurance.policy"),
                "body": "Hi",
                "company_id": self.company.id,
            },
        }[model]

    def write_vals(self, model):
        return {
            "insurance.policy": {"subject": "Changed"},
            "insurance.policy.installment": {"date_due": self.TODAY + timedelta(days=6)},
            "insurance.product": {"code": "CHG"},
            "insurance.notify.rule": {"offsets": "9"},
            "insurance.notify.message": {"state": "failed", "body": "rewritten"},
            "insurance.notify.gateway": {"sender": "Changed"},
            "insurance.notify.batch": {"name": "Changed"},
            "insurance.consent.log": {"source": "form"},
            "res.partner": {"comment": "Changed"},
            "sms.template": {"body": "Changed"},
        }[model]

    def try_operation(self, user, model, record, operation):
        env = self.env(user=user)
        if operation == R:

            def run():
                found = env[model].search([("id", "=", record.id)])
                if not found:
                    raise AccessError("not found")
                found.read(["display_name"])

        elif operation == C:

            def run():
                env[model].create(self.create_vals(model))

        elif operation == W:

            def run():
                record.with_env(env).write(self.write_vals(model))

        else:

            def run():
                record.with_env(env).unlink()

        return self.allowed(run)

    def test_every_role_model_and_operation(self):
        self.patch(type(self.env["ir.cron"]), "_trigger", lambda *args, **kwargs: None)
        mismatches = []
        for model, record in self.records().items():
            for role in ROLES:
                expected = set() if role == "other_company" else self.MATRIX[model].get(role, set())
                if model in ("res.partner", "insurance.product") and role == "other_company":
                    # Shared records (no company) are shared by design.
                    continue
                for operation in (R, C, W, U):
                    if model == "res.partner" and operation == U:
                        continue  # stock Odoo's rights; ours add none
                    got = self.try_operation(self.users[role], model, record, operation)
                    if got != (operation in expected):
                        mismatches.append(
                            f"{role} {operation} {model}: {'allowed' if got else 'refused'}"
                        )
        self.assertEqual(mismatches, [])

    def test_second_company_sees_nothing_of_the_first(self):
        other = self.env(user=self.users["other_company"])
        for model in (
            "insurance.policy",
            "insurance.policy.installment",
            "insurance.notify.rule",
            "insurance.notify.message",
            "insurance.notify.gateway",
            "insurance.notify.batch",
        ):
            self.assertFalse(
                other[model].search([("company_id", "=", self.company.id)]), f"{model} leaks"
            )
        self.assertFalse(other["insurance.consent.log"].search([("id", "=", self.consent_log.id)]))

    # ------------------------------------------------------------------
    # Secrets and credentials
    # ------------------------------------------------------------------

    def test_only_administrators_see_or_set_credentials_and_provider_url(self):
        for role in ("broker", "manager"):
            gateway = self.gateway.with_user(self.users[role])
            for field in ("api_url", "smsapi_token", "webhook_secret", "delivery_report_url"):
                with self.refused():
                    gateway.read([field])
            for field in ("api_url", "smsapi_token", "webhook_secret"):
                with self.refused():
                    gateway.search([(field, "=like", "h%")])
            with self.refused():
                gateway.write({"api_url": "https://attacker.example.com"})
            with self.refused():
                gateway.env["insurance.notify.gateway"].create(
                    {"name": "Mine", "provider": "smsapi", "api_url": "https://evil.example"}
                )
        self.assertEqual(self.gateway.api_url, "https://api.smsapi.pl")
        admin = self.gateway.with_user(self.users["admin"])
        admin.write({"api_url": "https://api.smsapi.com", "smsapi_token": "new-token-123"})
        self.assertEqual(admin.read(["api_url"])[0]["api_url"], "https://api.smsapi.com")

    def test_manager_keeps_the_non_secret_settings(self):
        gateway = self.gateway.with_user(self.users["manager"])
        gateway.write({"sender": "Broker", "cost_per_part": 0.2, "test_mode": True})
        self.assertEqual(self.gateway.sender, "Broker")

    # ------------------------------------------------------------------
    # Public actions
    # ------------------------------------------------------------------

    ACTIONS = {
        # (record getter, method): roles allowed
        ("gateway", "action_regenerate_webhook_secret"): {"admin"},
        ("sandbox", "action_test_connection"): {"admin"},
        ("batch", "action_start"): {"manager", "admin"},
        ("running_batch", "action_stop"): {"manager", "admin"},
        ("batch", "action_view_messages"): {"broker", "manager", "admin"},
        ("policy", "action_send_expiry_reminder"): {"broker", "manager", "admin"},
        ("policy", "action_cancel"): {"broker", "manager", "admin"},
        ("policy", "action_renew"): {"broker", "manager", "admin"},
        ("policy", "action_generate_installments"): {"broker", "manager", "admin"},
        ("policy", "action_view_notify_messages"): {"broker", "manager", "admin"},
        ("installment", "action_mark_paid"): {"broker", "manager", "admin"},
        ("installment", "action_send_reminder"): {"broker", "manager", "admin"},
        # A shared client (no company) is every company's.
        ("client", "action_view_insurance_policies"): {
            "broker",
            "manager",
            "admin",
            "other_company",
        },
    }

    def test_every_public_action_as_every_role(self):
        self.patch(type(self.env["ir.cron"]), "_trigger", lambda *args, **kwargs: None)
        self.env["insurance.notify.rule"].create(
            {
                "name": "Installments",
                "event_type": "installment_due",
                "offsets": "5",
                "sms_template_id": self.env["sms.template"]
                .create(
                    {
                        "name": "Due",
                        "model_id": self.env["ir.model"]._get_id("insurance.policy.installment"),
                        "body": "Due {{ object.date_due }}",
                    }
                )
                .id,
            }
        )
        running = self.env["insurance.notify.batch"].create(
            {"name": "Running", "target": "policy_expiry", "body": "Hi"}
        )
        running.action_start()
        records = {
            "gateway": self.gateway,
            "sandbox": self.sandbox,
            "batch": self.batch,
            "running_batch": running,
            "policy": self.policy,
            "installment": self.installment,
            "client": self.client,
        }
        mismatches = []
        for (name, method), allowed_roles in self.ACTIONS.items():
            for role in ROLES:
                record = records[name].with_user(self.users[role])
                got = self.allowed(getattr(record, method))
                if got != (role in allowed_roles):
                    mismatches.append(f"{role} {name}.{method}: {'ran' if got else 'refused'}")
        self.assertEqual(mismatches, [])

    def test_dry_run_of_another_company_rule_is_refused(self):
        rule2 = self.Rule.create(
            {
                "name": "Other company",
                "event_type": "policy_expiry",
                "offsets": "20",
                "sms_template_id": self.template.id,
                "company_id": self.company2.id,
            }
        )
        broker = self.env(user=self.users["broker"])
        wizard = broker["insurance.notify.dry.run"].create(
            {"rule_ids": [Command.set(rule2.ids)], "day": self.TODAY}
        )
        with self.refused():
            wizard.action_run()

    # ------------------------------------------------------------------
    # History and trail are append-only
    # ------------------------------------------------------------------

    def test_history_cannot_be_rewritten_by_any_role(self):
        for role in ("broker", "manager", "admin"):
            message = self.message.with_user(self.users[role])
            for vals in (
                {"state": "failed"},
                {"body": "rewritten"},
                {"number": "+48111222333"},
                {"provider_ref": "FORGED"},
            ):
                with self.refused():
                    message.write(vals)
            with self.refused():
                message.unlink()
        self.assertRecordValues(
            self.message,
            [{"state": "delivered", "body": "Delivered text", "provider_ref": "REF1"}],
        )

    def test_consent_trail_cannot_be_edited_or_deleted(self):
        for role in ("broker", "manager", "admin"):
            log = self.consent_log.with_user(self.users[role])
            with self.refused():
                log.write({"source": "portal"})
            with self.refused():
                log.unlink()

    def test_consent_source_is_set_by_the_entry_point_not_the_caller(self):
        broker_client = self.client.with_user(self.users["broker"])
        broker_client.with_context(consent_source="stop", import_file=False).write(
            {"consent_birthday": True}
        )
        broker_client.withdraw_consent("sms")
        with self.assertRaises(TypeError):
            broker_client.withdraw_consent("email", source="stop")
        logs = self.client.consent_log_ids.filtered(
            lambda log: log.consent in ("consent_birthday", "consent_sms") and log.source != "form"
        )
        self.assertFalse(logs.filtered(lambda log: log.user_id == self.users["broker"]))

    # ------------------------------------------------------------------
    # Companies
    # ------------------------------------------------------------------

    def test_relations_are_company_checked(self):
        manager2 = self.env(user=self.users["other_company"])
        with self.assertRaises(UserError):
            manager2["insurance.notify.batch"].create(
                {
                    "name": "Borrowed gateway",
                    "target": "policy_expiry",
                    "body": "Hi",
                    "company_id": self.company2.id,
                    "gateway_id": self.gateway.id,
                }
            )
        own_client = self.env["res.partner"].create(
            {"name": "Main only", "company_id": self.company.id}
        )
        with self.assertRaises(UserError):
            self.env["insurance.policy"].create(
                {
                    "name": "SEC/X",
                    "partner_id": own_client.id,
                    "insurer_id": self.insurer.id,
                    "product_id": self.product.id,
                    "company_id": self.company2.id,
                }
            )

    # ------------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------------

    def test_policy_numbers_trimmed_unique_whatever_the_case(self):
        Policy = self.env["insurance.policy"].with_user(self.users["broker"])
        values = {
            "partner_id": self.client.id,
            "insurer_id": self.insurer.id,
            "product_id": self.product.id,
        }
        policy = Policy.create({"name": "  ab/123  ", **values})
        self.assertEqual(policy.name, "ab/123")
        for clash in ("AB/123", "ab/123 ", " Ab/123"):
            with self.assertRaises(ValidationError):
                Policy.create({"name": clash, **values})
        # Another company may use the same number.
        self.env["insurance.policy"].create(
            {"name": "AB/123", "company_id": self.company2.id, **values}
        )
        for empty in ("", "   "):
            with self.assertRaises(ValidationError):
                Policy.create({"name": empty, **values})
        with self.assertRaises(ValidationError):
            Policy.create({"name": "NEG/1", "premium_amount": -5, **values})
        # The database refuses it; the web client shows the constraint's message.
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env["insurance.policy.installment"].with_user(self.users["broker"]).create(
                {"policy_id": policy.id, "date_due": self.TODAY, "amount": -1}
            )

    def test_typed_sms_longer_than_the_part_limit_is_refused(self):
        batch = self.env["insurance.notify.batch"].with_user(self.users["manager"])
        with self.assertRaises(ValidationError):
            batch.create({"name": "Long", "target": "policy_expiry", "body": "x" * 153 * 11})
        batch.create({"name": "Ten", "target": "policy_expiry", "body": "x" * 153 * 10})
        self.env["ir.config_parameter"].set_param("insurance_notify.free_text_max_parts", 12)
        batch.create({"name": "Raised", "target": "policy_expiry", "body": "x" * 153 * 11})

    def test_paid_installments_are_deleted_by_managers_only(self):
        self.installment.action_mark_paid()
        with self.refused():
            self.installment.with_user(self.users["broker"]).unlink()
        self.installment.with_user(self.users["manager"]).unlink()
