"""Each role's daily work, done as that role; and the holes over HTTP.

Broker: a new client with consent and its proof, a policy, Send now, then a
cancelled policy and a payment while reminders are queued. Manager: a rule, SMS
and e-mail templates, a bulk send started and stopped. Administrator: gateway
credentials and secret rotation. Over HTTP: the sensitive actions called with
JSON-RPC as a portal user and a plain employee are refused and change nothing;
a STOP received by one company's gateway leaves the other company's clients
alone; the webhook secret never reaches the access log.
"""

import logging
import threading
import time
from datetime import timedelta

from odoo.tests import JsonRpcException, tagged
from odoo.tools import mute_logger

from ..controllers.main import WebhookSecretFilter
from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyHttpCase, warsaw
from .sms_common import make_smsapi_gateway
from .test_security_roles import SecurityCase, make_users


@tagged("post_install", "-at_install")
class TestRoleWorkflows(SecurityCase):
    def setUp(self):
        super().setUp()
        self.patch(type(self.env["ir.cron"]), "_trigger", lambda *args, **kwargs: None)

    def test_broker_day(self):
        broker = self.env(user=self.users["broker"])
        client = broker["res.partner"].create(
            {
                "name": "Anna Nowak",
                "mobile": "+48 601 222 333",
                "country_id": self.env.ref("base.pl").id,
                "consent_sms": True,
                "consent_policy_expiry": True,
                "consent_proof_text": "Signed the consent form at the office",
            }
        )
        logs = client.consent_log_ids
        self.assertTrue(logs)
        self.assertEqual(set(logs.mapped("source")), {"form"})
        self.assertEqual(set(logs.mapped("proof_text")), {"Signed the consent form at the office"})
        self.assertEqual(logs.company_id, self.company)
        self.assertFalse(client.consent_marketing, "marketing consent is never pre-ticked")

        policy = broker["insurance.policy"].create(
            {
                "name": "BRK/1",
                "partner_id": client.id,
                "insurer_id": self.insurer.id,
                "product_id": self.product.id,
                "date_start": self.TODAY - timedelta(days=345),
                "date_end": self.TODAY + timedelta(days=20),
                "premium_amount": 1200,
                "installment_count": "4",
            }
        )
        policy.action_validate()
        policy.action_generate_installments()
        self.assertEqual(len(policy.installment_ids), 4)

        SandboxGateway.reset()
        policy.action_send_expiry_reminder()
        self.assertFalse(SandboxGateway.outbox, "Send now only queues; the dispatcher sends")
        self.env["insurance.notify.message"]._cron_dispatch()
        self.assertEqual([sms.number for sms in SandboxGateway.outbox], ["+48601222333"])

    def test_broker_cancels_and_takes_a_payment_while_reminders_are_queued(self):
        """Needs the lead's _cancel_queued_for running with sudo after the
        caller's check (policy and installment writes call it)."""
        due_template = self.env["sms.template"].create(
            {
                "name": "Due",
                "model_id": self.env["ir.model"]._get_id("insurance.policy.installment"),
                "body": "Due {{ object.date_due }}",
            }
        )
        # Before the sending window: what is planned stays queued.
        self.set_now(warsaw(self.TODAY, 5))
        self.rule.action_archive()
        self.Rule.create(
            {
                "name": "Expiry in 20",
                "event_type": "policy_expiry",
                "offsets": "20",
                "sms_template_id": self.template.id,
                "gateway_id": self.sandbox.id,
            }
        )
        self.Rule.create(
            {
                "name": "Due 5",
                "event_type": "installment_due",
                "offsets": "5",
                "sms_template_id": due_template.id,
                "gateway_id": self.sandbox.id,
            }
        )
        self.Rule._cron_plan()
        queued = self.Message.search([("state", "=", "queued")])
        self.assertEqual(
            set(queued.mapped("res_model")), {"insurance.policy", "insurance.policy.installment"}
        )
        broker = self.env(user=self.users["broker"])
        self.installment.with_env(broker).action_mark_paid()
        self.policy.with_env(broker).action_cancel()
        self.assertEqual(set(queued.mapped("state")), {"cancelled"})
        self.assertEqual(self.policy.state, "cancelled")

    def test_marketing_consent_is_never_pre_ticked(self):
        self.env["ir.config_parameter"].set_param("insurance_notify.default_consent_phone", "1")
        self.env["ir.default"].set("res.partner", "consent_marketing", True)
        broker = self.env(user=self.users["broker"])
        Partner = broker["res.partner"].with_context(
            default_consent_marketing=True, default_consent_birthday=True
        )
        typed = Partner.create({"name": "Typed"})
        result = Partner.with_context(import_file=True).load(["name"], [["Imported"]])
        imported = broker["res.partner"].browse(result["ids"])
        for partner in typed | imported:
            self.assertRecordValues(
                partner,
                [{"consent_marketing": False, "consent_birthday": False, "consent_sms": True}],
            )
        self.assertEqual(
            imported.consent_log_ids.filtered(lambda log: log.consent == "consent_sms").source,
            "import",
        )

    def test_manager_day(self):
        manager = self.env(user=self.users["manager"])
        template = manager["sms.template"].create(
            {
                "name": "Ends soon",
                "model_id": self.env["ir.model"]._get_id("insurance.policy"),
                "body": "{{ object.name }} ends {{ object.date_end }}",
            }
        )
        template.write({"body": "Policy {{ object.name }} ends {{ object.date_end }}"})
        mail_template = self.env.ref("insurance_notify.mail_template_policy_expiry", False)
        if mail_template:
            # The shipped text is shared (administrators'): the manager makes
            # the agency's own copy and words it.
            own = mail_template.with_env(manager).copy()
            self.assertEqual(own.company_id, self.company)
            own.write({"subject": "Your policy ends soon"})
        rule = manager["insurance.notify.rule"].create(
            {
                "name": "Ends in 21",
                "event_type": "policy_expiry",
                # Not today's offset for the client's policy: the bulk send
                # below would skip a policy the rule reminded of today.
                "offsets": "21",
                "sms_template_id": template.id,
                "gateway_id": self.sandbox.id,
            }
        )
        rule.write({"offsets": "21,11"})
        self.set_now(warsaw(self.TODAY, 5))
        send = manager["insurance.notify.batch"].create(
            {"name": "Renewals", "target": "policy_expiry", "sms_template_id": template.id}
        )
        send.action_start()
        self.assertEqual(send.state, "running")
        self.assertTrue(send.queued_count)
        send.action_stop()
        send.invalidate_recordset()
        self.assertEqual(send.state, "stopped")
        self.assertEqual(send.queued_count, 0)
        # A started send is history: it stays.
        with self.refused():
            send.unlink()

    def test_administrator_sets_credentials_and_rotates_the_secret(self):
        admin = self.env(user=self.users["admin"])
        gateway = admin["insurance.notify.gateway"].create(
            {
                "name": "Twilio",
                "provider": "twilio",
                "api_url": "https://api.twilio.com",
                "twilio_account_sid": "AC" + "1" * 32,
                "twilio_auth_token": "auth-token-0123456789",
            }
        )
        old = gateway.webhook_secret
        self.assertIn(old, gateway.delivery_report_url)
        gateway.action_regenerate_webhook_secret()
        self.assertNotEqual(gateway.webhook_secret, old)


@tagged("post_install", "-at_install")
class TestSecurityOverHttp(NotifyHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("base.main_company")
        cls.company2 = cls.env["res.company"].create({"name": "Second Agency HTTP"})
        cls.users = make_users(cls.env, cls.company2)

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.gateway = make_smsapi_gateway(self.env, "http://127.0.0.1:9")
        self.gateway2 = make_smsapi_gateway(
            self.env, "http://127.0.0.1:9", name="Second", company_id=self.company2.id
        )

    def call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def test_sensitive_actions_over_json_rpc_are_refused(self):
        message = (
            self.env["insurance.notify.message"]
            .sudo()
            .create(
                {
                    "key": "http-security",
                    "company_id": self.company.id,
                    "res_model": "res.partner",
                    "res_id": self.users["portal"].partner_id.id,
                    "channel": "sms",
                    "state": "delivered",
                    "body": "Kept",
                }
            )
        )
        secret = self.gateway.webhook_secret
        calls = [
            ("insurance.notify.gateway", "action_regenerate_webhook_secret", [self.gateway.id]),
            ("insurance.notify.gateway", "action_test_connection", [self.gateway.id]),
            ("insurance.notify.gateway", "read", [self.gateway.id], ["api_url", "webhook_secret"]),
            (
                "insurance.notify.gateway",
                "write",
                [self.gateway.id],
                {"api_url": "https://attacker.example"},
            ),
            ("insurance.notify.message", "write", [message.id], {"state": "failed"}),
            ("insurance.consent.log", "search_read", []),
        ]
        for login in ("sec_portal", "sec_employee"):
            self.authenticate(login, login)
            for model, method, *args in calls:
                with (
                    self.subTest(login=login, method=method),
                    mute_logger("odoo.http"),
                    self.assertRaises(JsonRpcException),
                ):
                    self.call(model, method, *args)
        self.env.invalidate_all()
        self.assertEqual(self.gateway.webhook_secret, secret)
        self.assertEqual(self.gateway.api_url, "http://127.0.0.1:9")
        self.assertEqual(message.state, "delivered")

    def test_stop_to_one_company_leaves_the_other_company_clients(self):
        first = self.env["res.partner"].create(
            {
                "name": "Client of the first",
                "mobile": "+48 602 000 111",
                "company_id": self.company.id,
                "consent_sms": True,
            }
        )
        # Consents are each company's own: the second company's client
        # consented with the second company.
        second = (
            self.env["res.partner"]
            .with_company(self.company2)
            .create(
                {
                    "name": "Client of the second",
                    "mobile": "+48 602 000 111",
                    "company_id": self.company2.id,
                    "consent_sms": True,
                }
            )
            .with_env(self.env)
        )
        response = self.url_open(
            f"/insurance_notify/inbound/smsapi/{self.gateway2.webhook_secret}",
            data={"sms_from": "48602000111", "sms_to": "4100", "sms_text": "STOP", "MsgId": "M1"},
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertTrue(first.consent_sms)
        self.assertFalse(second.with_company(self.company2).consent_sms)
        self.assertEqual(second.consent_log_ids[:1].company_id, self.company2)
        self.assertEqual(second.consent_log_ids[:1].source, "stop")

    def test_delivery_report_of_another_company_gateway_changes_nothing(self):
        message = (
            self.env["insurance.notify.message"]
            .sudo()
            .create(
                {
                    "key": "dlr-first",
                    "company_id": self.company.id,
                    "res_model": "res.partner",
                    "res_id": self.users["portal"].partner_id.id,
                    "channel": "sms",
                    "state": "sent",
                    "provider_ref": "FIRST1",
                    "gateway_id": self.gateway.id,
                }
            )
        )
        with mute_logger("odoo.addons.insurance_notify.controllers.main", "odoo.http"):
            response = self.url_open(
                f"/insurance_notify/dlr/smsapi/{self.gateway2.webhook_secret}",
                data={"MsgId": "FIRST1", "status": "403", "idx": "dlr-first"},
            )
        self.assertEqual(response.status_code, 404)
        self.env.invalidate_all()
        self.assertEqual(message.state, "sent")

    def test_many_ids_in_one_report_cost_one_lookup(self):
        ids = ",".join(f"NOPE{i}" for i in range(20000))
        statuses = ",".join(["404"] * 20000)
        with mute_logger("odoo.addons.insurance_notify.controllers.main", "odoo.http"):
            response = self.url_open(
                f"/insurance_notify/dlr/smsapi/{self.gateway.webhook_secret}",
                data={"MsgId": ids, "status": statuses},
                timeout=30,
            )
        self.assertEqual(response.status_code, 404)
        self.assertLess(response.elapsed.total_seconds(), 3)

    def test_the_webhook_secret_never_reaches_the_access_log(self):
        secret = self.gateway.webhook_secret
        # Nothing of ours on the process's loggers outside a webhook request
        # (none is attached at import).
        self.assertEqual(settled_filters(), [])
        with self.assertLogs("werkzeug", level=logging.INFO) as logs:
            refused = self.url_open(f"/insurance_notify/dlr/smsapi/{secret}?MsgId=X&status=404")
            taken = self.url_open(
                f"/insurance_notify/inbound/smsapi/{secret}?sms_text=hi&sms_from=1"
            )
        self.assertEqual((refused.status_code, taken.status_code), (404, 200))
        lines = "\n".join(logs.output)
        self.assertIn("/insurance_notify/dlr/smsapi/***", lines)
        self.assertIn("/insurance_notify/inbound/smsapi/***", lines)
        self.assertNotIn(secret, lines)
        # Each request's filter leaves with its answer (closed just after the
        # client read it).
        self.assertEqual(settled_filters(), [])

    def test_a_requests_filter_touches_no_other_requests_lines(self):
        secret = self.gateway.webhook_secret
        log_filter = WebhookSecretFilter.attach()
        try:
            self.assertIs(WebhookSecretFilter.attach(), log_filter, "once per request")
            with self.assertLogs("odoo.http", level=logging.INFO) as logs:
                logging.getLogger("odoo.http").info("GET /insurance_notify/dlr/smsapi/%s", secret)
                other = threading.Thread(
                    target=logging.getLogger("odoo.http").info,
                    args=("GET /insurance_notify/dlr/twilio/%s", "another-request-secret"),
                )
                other.start()
                other.join()
        finally:
            log_filter.detach()
        self.assertNotIn(secret, logs.output[0])
        self.assertIn("another-request-secret", logs.output[1])
        self.assertEqual(WebhookSecretFilter.attached(), [])


def settled_filters():
    """Our log filters once the requests served meanwhile have closed their
    answers (werkzeug closes one just after the client has read it)."""
    for _wait in range(100):
        if not WebhookSecretFilter.attached():
            break
        time.sleep(0.02)
    return WebhookSecretFilter.attached()


@tagged("post_install", "-at_install")
class TestConsentTrailLanguages(SecurityCase):
    """The trail reads in the reader's language, dates in the reader's format."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"].search([("name", "=", "insurance_notify")])._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )

    def test_trail_in_polish_and_lithuanian(self):
        broker = self.env(user=self.users["broker"])
        client = broker["res.partner"].create({"name": "Ona", "consent_sms": True})
        client.write({"consent_valid_until": "2027-03-31"})
        expected = {
            "pl_PL": ("Udzielona", "31.03.2027", "Formularz"),
            "lt_LT": ("Duotas", "2027-03-31", None),
        }
        for lang, (given, date, source) in expected.items():
            logs = client.with_context(lang=lang).consent_log_ids
            sms = logs.filtered(lambda log: log.consent == "consent_sms")
            until = logs.filtered(lambda log: log.consent == "consent_valid_until")
            self.assertEqual(sms.new_display, given)
            self.assertEqual(until.new_display, date)
            if source:
                labels = dict(sms._fields["source"]._description_selection(sms.env))
                self.assertEqual(labels["form"], source)
