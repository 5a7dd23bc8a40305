from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools.safe_eval import safe_eval

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase, warsaw


class TestSendNowButtons(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = cls.env["res.users"].create(
            {
                "name": "Bartek Broker",
                "login": "bartek",
                "groups_id": [(6, 0, [cls.env.ref("insurance_notify.group_insurance_user").id])],
            }
        )
        installment_model = cls.env["ir.model"]._get_id("insurance.policy.installment")
        cls.due_template = cls.env["sms.template"].create(
            {"name": "Due", "model_id": installment_model, "body": "Due {{ object.amount }}"}
        )
        cls.overdue_template = cls.env["sms.template"].create(
            {"name": "Overdue", "model_id": installment_model, "body": "Late {{ object.amount }}"}
        )
        cls.inspection_template = cls.env["sms.template"].create(
            {
                "name": "Inspection",
                "model_id": cls.env["ir.model"]._get_id("insurance.policy"),
                "body": "Inspection of {{ object.vehicle_plate }} ends "
                "{{ object.inspection_date }}",
            }
        )

    def notification(self, action):
        self.assertEqual(action["tag"], "display_notification")
        return action["params"]

    def dispatch_as_triggered(self):
        """Send now queues and wakes the dispatcher; no provider is called in
        the user's request. Run the cron it woke."""
        cron = self.env.ref("insurance_notify.ir_cron_dispatch_notifications")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            "Send now must wake the dispatcher",
        )
        self.Message._cron_dispatch()

    def test_send_expiry_reminder_sends_and_marks_the_policy(self):
        self.make_rule("21,14,7")
        policy = self.make_policy(10)
        self.assertFalse(policy.expiry_reminder_sent_at)

        params = self.notification(policy.with_user(self.broker).action_send_expiry_reminder())

        self.assertEqual(params["type"], "success")
        self.assertEqual(params["message"], "Leaving now for +48600123456.")
        self.assertFalse(SandboxGateway.outbox, "nothing is sent inside the user's request")
        self.dispatch_as_triggered()
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertIn(policy.name, SandboxGateway.outbox[0].body)
        policy.invalidate_recordset()
        self.assertEqual(policy.expiry_reminder_sent_at, self.now)
        self.assertFalse(policy.inspection_reminder_sent_at)

    def test_pressing_it_again_says_already_sent_and_sends_nothing(self):
        self.make_rule("21,14,7")
        policy = self.make_policy(10)
        policy.action_send_expiry_reminder()
        self.dispatch_as_triggered()
        self.set_now(self.now + timedelta(hours=2))

        params = self.notification(policy.action_send_expiry_reminder())

        self.assertEqual(params["type"], "info")
        self.assertTrue(params["message"].startswith("Already sent to +48600123456 on "))
        self.assertEqual(len(SandboxGateway.outbox), 1)

    def test_at_night_the_reminder_waits_for_the_sending_window(self):
        self.make_rule("21,14,7")
        policy = self.make_policy(10)
        self.set_now(warsaw(self.TODAY, 22))

        params = self.notification(policy.action_send_expiry_reminder())

        self.assertEqual(params["type"], "warning")
        self.assertIn("Queued for +48600123456: leaves at ", params["message"])
        self.assertFalse(SandboxGateway.outbox)
        policy.invalidate_recordset()
        self.assertFalse(policy.expiry_reminder_sent_at)

    def test_a_client_without_consent_is_told_why_not(self):
        self.make_rule("21,14,7", consent_mode="specific")
        policy = self.make_policy(10)

        params = self.notification(policy.action_send_expiry_reminder())

        self.assertEqual(params["type"], "danger")
        self.assertEqual(params["message"], "Not sent to +48600123456: no consent to SMS.")

    def test_send_inspection_reminder_marks_the_inspection_only(self):
        self.make_rule(
            "30", event_type="inspection_expiry", sms_template_id=self.inspection_template.id
        )
        policy = self.make_policy(
            200, vehicle_plate="WA 12345", inspection_date=self.TODAY + timedelta(days=20)
        )

        params = self.notification(policy.action_send_inspection_reminder())

        self.assertEqual(params["type"], "success")
        self.dispatch_as_triggered()
        self.assertIn("WA 12345", SandboxGateway.outbox[0].body)
        policy.invalidate_recordset()
        self.assertEqual(policy.inspection_reminder_sent_at, self.now)
        self.assertFalse(policy.expiry_reminder_sent_at)

    def test_an_installment_gets_the_due_or_the_overdue_reminder(self):
        self.make_rule("7", event_type="installment_due", sms_template_id=self.due_template.id)
        self.make_rule(
            "3", event_type="installment_overdue", sms_template_id=self.overdue_template.id
        )
        policy = self.make_policy(200)
        due, overdue = self.env["insurance.policy.installment"].create(
            [
                {"policy_id": policy.id, "date_due": self.TODAY + timedelta(days=4), "amount": 120},
                {"policy_id": policy.id, "date_due": self.TODAY - timedelta(days=5), "amount": 80},
            ]
        )
        SandboxGateway.reset()

        due.with_user(self.broker).action_send_reminder()
        overdue.with_user(self.broker).action_send_reminder()
        self.dispatch_as_triggered()

        # Two reminders for one client leaving together: one SMS naming both,
        # the earlier event first.
        self.assertEqual([sms.body for sms in SandboxGateway.outbox], ["Late 80.0 Due 120.0"])
        (due | overdue).invalidate_recordset()
        self.assertEqual((due.reminder_sent_at, overdue.reminder_sent_at), (self.now, self.now))

    def test_a_paid_installment_has_no_reminder_to_send(self):
        self.make_rule("7", event_type="installment_due", sms_template_id=self.due_template.id)
        installment = self.env["insurance.policy.installment"].create(
            {
                "policy_id": self.make_policy(200).id,
                "date_due": self.TODAY + timedelta(days=4),
                "amount": 50,
                "state": "paid",
            }
        )
        with self.assertRaises(UserError):
            installment.action_send_reminder()
        self.assertFalse(SandboxGateway.outbox)


class TestHistoryViews(NotifyCase):
    def test_the_client_card_lists_the_clients_notifications(self):
        policy = self.make_policy(7)
        self.make_rule("7")
        self.Message._cron_dispatch()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "sent")
        self.assertEqual(self.client.insurance_notify_message_ids, message)
        self.assertEqual(self.client.insurance_notify_message_count, 1)
        arch = self.env["res.partner"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="insurance_notifications"', arch)

    def test_the_history_opens_as_pivot_and_graph(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_notify_message"
        )
        self.assertEqual(action["view_mode"], "list,pivot,graph,form")
        views = self.Message.get_views([(False, "pivot"), (False, "graph"), (False, "search")])
        self.assertIn('name="rule_id"', views["views"]["pivot"]["arch"])
        search = views["views"]["search"]["arch"]
        for name in ("channel_sms", "gateway_problem", "sent_at", "group_day", "group_reason"):
            self.assertIn(f'name="{name}"', search)

    def test_the_history_opens_on_the_last_30_days_and_what_is_ahead(self):
        """The default filter, evaluated as the web client does: yesterday's
        and tomorrow's notifications are shown, those of two months ago are
        one click away (the facet removed), not read by every screen."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_notify_message"
        )
        context = safe_eval(action["context"])
        self.assertTrue(context["search_default_scheduled_at"])
        views = self.Message.get_views([(False, "search")])
        search = etree.fromstring(views["views"]["search"]["arch"])
        dated = search.find(".//filter[@name='scheduled_at']")
        option = dated.get("default_period").removeprefix("custom_")
        domain = safe_eval(
            dated.find(f"filter[@name='{option}']").get("domain"),
            {"context_today": date.today, "relativedelta": relativedelta},
        )
        self.make_rule("7")
        policies = [self.make_policy(7) for _days in range(3)]
        self.Rule._cron_plan()
        old, recent, ahead = (self.messages_of(policy) for policy in policies)
        now = fields.Datetime.now()
        for message, days in ((old, -60), (recent, -1), (ahead, 1)):
            message.scheduled_at = now + timedelta(days=days)
        shown = self.Message.search(domain + [("id", "in", (old | recent | ahead).ids)])
        self.assertEqual(shown, recent | ahead)
