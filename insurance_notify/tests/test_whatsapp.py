"""WhatsApp on Meta's Cloud API: the gateway, its signed webhook and templates,
as an administrator sets it up and Meta (a loopback fake) talks to it."""

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from ..lib.notify_engine.fakes import FakeMeta
from .common import NotifyHttpCase

TOKEN = "EAAGm0PX4ZCpsBA-S3CRET-token-0123456789"
PHONE_ID = "106540352242922"
APP_SECRET = "app-s3cret-4c1d-9f"
QUIET = (
    "odoo.addons.insurance_notify.controllers.whatsapp",
    "odoo.addons.insurance_notify.controllers.main",
    "odoo.addons.insurance_notify.models.insurance_whatsapp_template",
    "werkzeug",
)


@tagged("post_install", "-at_install")
class TestWhatsappWebhook(NotifyHttpCase):
    def setUp(self):
        super().setUp()
        self.meta = self.enterContext(FakeMeta(TOKEN, PHONE_ID, APP_SECRET))
        self.enterContext(mute_logger(*QUIET))
        self.env.ref("base.lang_pl").active = True
        self.admin = new_test_user(
            self.env,
            "wa_admin",
            groups="base.group_system,insurance_notify.group_insurance_manager",
        )
        self.manager = new_test_user(
            self.env, "wa_manager", groups="insurance_notify.group_insurance_manager", lang="pl_PL"
        )
        self.gateway = (
            self.env["insurance.notify.gateway"]
            .with_user(self.admin)
            .create(
                {
                    "name": "WhatsApp",
                    "provider": "whatsapp",
                    "api_url": self.meta.url,
                    "whatsapp_access_token": TOKEN,
                    "whatsapp_phone_number_id": PHONE_ID,
                    "whatsapp_business_account_id": self.meta.waba_id,
                    "whatsapp_app_secret": APP_SECRET,
                    "sequence": 50,
                }
            )
        )
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.url = f"/insurance_notify/whatsapp/{self.gateway.sudo().webhook_secret}"
        self.client_pl = self.env["res.partner"].create(
            {
                "name": "Anna Nowak",
                "mobile": "+48 600 123 456",
                "lang": "pl_PL",
                "consent_sms": True,
                "consent_whatsapp": True,
            }
        )

    def post(self, raw, headers):
        return self.url_open(self.url, data=raw, headers=headers)

    def sent_message(self, wamid):
        return self.env["insurance.notify.message"].create(
            {
                "key": f"wa-test-{wamid}",
                "company_id": self.env.company.id,
                "res_model": "res.partner",
                "res_id": self.client_pl.id,
                "partner_id": self.client_pl.id,
                "channel": "whatsapp",
                "number": "+48600123456",
                "gateway_id": self.gateway.id,
                "state": "sent",
                "provider_ref": wamid,
                "scheduled_at": fields.Datetime.now(),
            }
        )

    def test_credentials_are_the_administrators_and_the_manager_cannot_read_them(self):
        gateway = self.gateway.with_user(self.manager)
        self.assertEqual(gateway.name, "WhatsApp")
        with self.assertRaises(AccessError):
            gateway.read(["whatsapp_access_token"])
        with self.assertRaises(AccessError):
            gateway.write({"whatsapp_app_secret": "mine"})
        ok = self.gateway.with_user(self.admin).action_test_connection()
        self.assertEqual(ok["params"]["type"], "success")

    def test_meta_checks_the_address_with_the_verify_token(self):
        token = self.gateway.sudo().whatsapp_verify_token
        good = self.url_open(
            f"{self.url}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        )
        self.assertEqual((good.status_code, good.text), (200, "1158201444"))
        bad = self.url_open(
            f"{self.url}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444"
        )
        self.assertEqual(bad.status_code, 403)

    def test_signed_statuses_move_the_message_and_a_forged_one_changes_nothing(self):
        adapter = self.gateway.sudo()._make_adapter()
        self.meta.approved = {("policy_expiry_reminder", "pl")}
        from ..lib.notify_engine.gateways.base import OutgoingSms

        [result] = adapter.send(
            [
                OutgoingSms(
                    "wa-test-x",
                    "+48600123456",
                    "Dzień dobry",
                    template="policy_expiry_reminder",
                    language="pl",
                    params=("Anna", "OC/1", "09.12.2026", "Biuro"),
                )
            ]
        )
        message = self.sent_message(result.provider_ref)

        raw, headers = self.meta.status_webhook(result.provider_ref, "delivered")
        forged = self.post(raw, {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64})
        self.assertEqual(forged.status_code, 403)
        unsigned = self.post(raw, {"Content-Type": "application/json"})
        self.assertEqual(unsigned.status_code, 403)
        message.invalidate_recordset()
        self.assertEqual(message.state, "sent")

        self.assertEqual(self.post(raw, headers).status_code, 200)
        message.invalidate_recordset()
        self.assertEqual(message.state, "delivered")
        self.assertFalse(message.read_at)
        raw, headers = self.meta.status_webhook(result.provider_ref, "read")
        self.assertEqual(self.post(raw, headers).status_code, 200)
        message.invalidate_recordset()
        self.assertTrue(message.read_at)

    def test_a_stop_on_whatsapp_withdraws_whatsapp_only(self):
        raw, headers = self.meta.inbound_webhook("+48600123456", " stop ")
        self.assertEqual(self.post(raw, headers).status_code, 200)
        self.client_pl.invalidate_recordset()
        self.assertFalse(self.client_pl.consent_whatsapp)
        self.assertTrue(self.client_pl.consent_sms, "a WhatsApp STOP keeps the SMS consent")
        self.assertFalse(
            self.env["phone.blacklist"].sudo().search([("number", "=", "+48600123456")]),
            "a WhatsApp STOP does not blacklist the number for SMS",
        )


class TestWhatsappTemplates(NotifyHttpCase):
    def test_shipped_templates_cover_every_reminder_in_polish_and_lithuanian(self):
        Template = self.env["insurance.whatsapp.template"]
        shipped = Template.search([("company_id", "=", self.env.ref("base.main_company").id)])
        pairs = {(t.event_type, t.language_code) for t in shipped}
        for event in (
            "policy_expiry",
            "installment_due",
            "installment_overdue",
            "inspection_expiry",
            "consent_renewal",
            "birthday",
        ):
            self.assertIn((event, "pl"), pairs)
            self.assertIn((event, "lt"), pairs)
        self.assertEqual(set(shipped.mapped("category")), {"utility"})

    def test_the_polish_template_renders_the_clients_text(self):
        policy = self.env.ref("insurance_notify.policy_kowalski_motor")
        template = self.env.ref("insurance_notify.whatsapp_template_policy_expiry_pl")
        [params] = template._render_parameters([policy.id]).values()
        self.assertEqual(params[0], policy.partner_id.name)
        self.assertEqual(params[1], policy.name)
        [text] = template._render_text([policy.id]).values()
        self.assertTrue(text.startswith(f"Dzień dobry {policy.partner_id.name}, Twoja polisa"))
        self.assertNotIn("{{", text)

    def test_a_manager_syncs_the_status_and_bad_numbering_is_refused_in_polish(self):
        self.env.ref("base.lang_pl").active = True
        manager = new_test_user(
            self.env,
            "wa_tmpl_manager",
            groups="insurance_notify.group_insurance_manager",
            lang="pl_PL",
        )
        with FakeMeta(TOKEN, PHONE_ID, APP_SECRET) as meta, mute_logger(*QUIET):
            gateway = self.env["insurance.notify.gateway"].create(
                {
                    "name": "WhatsApp",
                    "provider": "whatsapp",
                    "api_url": meta.url,
                    "whatsapp_access_token": TOKEN,
                    "whatsapp_phone_number_id": PHONE_ID,
                    "whatsapp_business_account_id": meta.waba_id,
                    "sequence": 50,
                }
            )
            template = self.env.ref("insurance_notify.whatsapp_template_policy_expiry_pl")
            template.gateway_id = gateway
            meta.templates = [
                {
                    "name": "policy_expiry_reminder",
                    "language": "pl",
                    "status": "APPROVED",
                    "category": "UTILITY",
                    "components": [{"type": "BODY", "text": template.body}],
                }
            ]
            template.with_user(manager).action_sync_status()
        self.assertEqual(template.status, "approved")
        # assertRaises (not ...Regex) rolls the refused write back, as the user's request would be.
        with self.assertRaises(ValidationError) as refused:
            template.with_user(manager).with_context(lang="pl_PL").write(
                {"body": "Dzień dobry {{1}} i {{3}}"}
            )
        self.assertIn("bez przerw", str(refused.exception))
        template.invalidate_recordset()
        self.assertIn("{{4}}", template.body, "the refused body was not saved")
