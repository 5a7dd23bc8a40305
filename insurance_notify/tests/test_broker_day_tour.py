from datetime import timedelta

from odoo.tests import tagged
from odoo.tests.common import new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestBrokerDayPolishTour(NotifyHttpCase):
    """A new Polish office's day in Chromium, as its broker and its manager."""

    def setUp(self):
        super().setUp()
        env = self.env
        env["res.lang"]._activate_lang("pl_PL")
        env["ir.module.module"]._load_module_terms(
            ["insurance_notify", "web", "base", "sms", "mail"], ["pl_PL"], overwrite=True
        )
        env["insurance.notify.rule"].search([]).action_archive()
        env["insurance.notify.message"].search([]).unlink()
        # The Polish agency: its language and zone. The database's own
        # default language stays English, as a fresh database's does.
        env.company.partner_id.write({"lang": "pl_PL", "tz": "Europe/Warsaw"})
        self.broker = new_test_user(
            env,
            login="day_broker",
            password="day_broker",
            name="Anna Nowicka",
            lang="pl_PL",
            tz="Europe/Warsaw",
            groups="insurance_notify.group_insurance_user,base.group_partner_manager",
        )
        self.broker.mobile = "+48 600 700 800"
        self.manager = new_test_user(
            env,
            login="day_manager",
            password="day_manager",
            name="Marek Zieliński",
            lang="pl_PL",
            tz="Europe/Warsaw",
            groups="insurance_notify.group_insurance_manager,base.group_partner_manager",
        )
        self.insurer = env["res.partner"].create({"name": "Day Insurer", "is_insurer": True})
        self.rule = env["insurance.notify.rule"].create(
            {
                "name": "Koniec polisy, SMS 7 dni przed",
                "event_type": "policy_expiry",
                "channel": "sms",
                "offsets": "7",
                "insurer_ids": self.insurer.ids,  # not the demo book's policies
                # Whatever the hour the suite runs at, the window is open.
                "window_start": 0,
                "window_end": 24,
                "sms_template_id": env.ref("insurance_notify.sms_template_policy_expiry").id,
            }
        )
        SandboxGateway.reset()

    def test_a_polish_brokers_day(self):
        env = self.env
        Message = env["insurance.notify.message"]
        # A new client: Polish by default, shown on the form.
        self.start_tour(
            "/odoo/action-insurance_notify.action_insurance_client/new",
            "insurance_notify_day_new_client",
            login="day_broker",
        )
        client = env["res.partner"].search([("name", "=", "Zofia Kowalczyk")])
        self.assertRecordValues(client, [{"lang": "pl_PL", "mobile": "+48602333444"}])

        # Her policy is entered as a draft; the planner, triggered by the save,
        # leaves its reminder out.
        today = Message._today()
        policy = env["insurance.policy"].create(
            {
                "name": "DAY/PL/1",
                "partner_id": client.id,
                "insurer_id": self.insurer.id,
                "product_id": env["insurance.product"].create({"name": "OC/AC"}).id,
                "subject": "Skoda Octavia WX 12345",
                "date_start": today - timedelta(days=358),
                "date_end": today + timedelta(days=7),
                "user_id": self.broker.id,
                "state": "draft",
            }
        )
        env["insurance.notify.rule"]._cron_plan()
        message = policy.notify_message_ids
        self.assertRecordValues(message, [{"state": "skipped", "reason_code": "policy_draft"}])

        # Validated in the browser, the dry run says it goes, in Polish.
        self.start_tour(
            f"/odoo/action-insurance_notify.action_insurance_policy/{policy.id}",
            "insurance_notify_day_validate",
            login="day_broker",
        )
        self.assertEqual(policy.state, "valid")
        self.start_tour(
            "/odoo/action-insurance_notify.action_insurance_notify_dry_run",
            "insurance_notify_day_dry_run",
            login="day_broker",
        )
        line = env["insurance.notify.dry.run.line"].search(
            [("record_ref", "=", f"insurance.policy,{policy.id}")]
        )
        expected = (
            f"Przypominamy: polisa DAY/PL/1 (Skoda Octavia WX 12345) wygasa "
            f"{policy.date_end.strftime('%d.%m.%Y')}. W sprawie wznowienia prosimy o "
            f"kontakt: Anna Nowicka, +48 600 700 800."
        )
        self.assertEqual((line.state, line.text), ("send", expected))

        # The planner's next run queues the same message.
        env["insurance.notify.rule"]._cron_plan()
        self.assertEqual(policy.notify_message_ids, message)
        self.assertEqual(message.state, "queued")
        self.start_tour(
            "/odoo/action-insurance_notify.action_insurance_notify_message",
            "insurance_notify_day_sent_notifications",
            login="day_broker",
        )

        # The manager's preview opens.
        self.start_tour(
            f"/odoo/action-insurance_notify.action_insurance_notify_rule/{self.rule.id}",
            "insurance_notify_day_manager_preview",
            login="day_manager",
        )

        # The manager's test SMS to their own phone is not the client's history.
        self.start_tour(
            "/odoo/action-insurance_notify.action_insurance_sms_test",
            "insurance_notify_day_test_sms",
            login="day_manager",
        )
        test_sms = Message.search([("key", "=like", "test-%"), ("policy_id", "=", policy.id)])
        self.assertRecordValues(test_sms, [{"number": "+48609111222", "partner_id": False}])
        self.start_tour(
            f"/odoo/action-insurance_notify.action_insurance_client/{client.id}",
            "insurance_notify_day_client_history",
            login="day_broker",
        )
        self.assertEqual(client.insurance_notify_message_ids, message)

        # The dispatcher sends both: the client's in Polish, the test to the manager.
        Message._cron_dispatch()
        self.assertEqual(
            sorted((sms.number, sms.body) for sms in SandboxGateway.outbox),
            sorted([("+48602333444", expected), ("+48609111222", test_sms.body)]),
        )
