"""Every message names what sent it in one reference, whatever the kind.

The queue and the dispatcher read ``sender_ref`` one way: a rule, a bulk send,
a task reminder and a direct message (the test SMS) differ only in what the
sender model answers.
"""

from odoo.exceptions import AccessError
from odoo.tests.common import new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from .common import warsaw
from .test_task_reminders import TaskCase


class TestSenderRef(TaskCase):
    def test_the_reference_offers_every_model_inheriting_the_sender(self):
        offered = {name for name, _label in self.Message._selection_sender_ref()}
        self.assertEqual(
            offered,
            {
                "insurance.notify.rule",
                "insurance.notify.batch",
                "insurance.task.reminder",
                "insurance.notify.direct",
                "insurance.notify.answer",
            },
        )

    def test_a_rule_s_reminder_names_the_rule_and_joins_the_client_s_day(self):
        rule = self.make_rule("7")
        policy = self.make_policy(7)
        self.Rule._cron_plan()
        message = self.messages_of(policy)
        self.assertRecordValues(
            message, [{"sender_ref": rule, "rule_id": rule.id, "is_reminder": True}]
        )
        self.assertIn(rule.display_name, message.display_name)

    def test_a_task_reminder_names_its_line_and_the_task_s_company(self):
        self.set_defaults("customer", channel="sms", lead_time=2.0)
        task = self.make_task()
        line = task.insurance_customer_reminder_ids
        self.assertEqual(line.company_id, task.company_id)
        message = self.task_messages(task)
        self.assertRecordValues(
            message,
            [{"sender_ref": line, "task_reminder_id": line.id, "is_reminder": False}],
        )
        self.assertIn(message.sender_ref.display_name, message.display_name)

    def test_a_test_sms_is_a_direct_message_that_leaves_at_night(self):
        """The test SMS has a sender like any other: "Test SMS", whose window is
        always open and which asks for no consent."""
        self.set_now(warsaw(self.TODAY, 23, 30))
        self.client.consent_sms = False
        policy = self.make_policy(30)
        manager = new_test_user(
            self.env,
            login="sender.manager",
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )
        wizard = (
            self.env["insurance.sms.test"]
            .with_user(manager)
            .create(
                {
                    "policy_id": policy.id,
                    "number": "+48 600 999 888",
                    "gateway_id": self.env.ref("insurance_notify.gateway_sandbox").id,
                }
            )
        )
        wizard.action_send()
        self.Message._cron_dispatch()
        message = wizard.message_id
        direct = self.env["insurance.notify.direct"].search(
            [("kind", "=", "test"), ("company_id", "=", self.env.company.id)]
        )
        self.assertRecordValues(
            message,
            [
                {
                    "sender_ref": direct,
                    "rule_id": False,
                    "batch_id": False,
                    "task_reminder_id": False,
                    "is_reminder": False,
                    "state": "sent",
                }
            ],
        )
        self.assertEqual(direct.with_context(lang="en_US").display_name, "Test SMS")
        self.assertEqual(
            [(sms.number, sms.key) for sms in SandboxGateway.outbox],
            [("+48600999888", message.key)],
        )

    def test_another_company_sees_neither_its_task_reminders_nor_its_direct_sender(self):
        self.set_defaults("customer", channel="sms", lead_time=2.0)
        self.project.company_id = self.env.company
        task = self.make_task()
        line = task.insurance_customer_reminder_ids
        self.assertEqual(line.company_id, self.env.company)
        direct = self.env["insurance.notify.direct"]._for("test", self.env.company)
        other = self.env["res.company"].create({"name": "Other Agency"})
        stranger = new_test_user(
            self.env,
            login="sender.stranger",
            groups="base.group_user,project.group_project_user,"
            "insurance_notify.group_insurance_user",
            company_id=other.id,
            company_ids=[other.id],
        )
        reminders = self.env["insurance.task.reminder"].with_user(stranger)
        self.assertFalse(reminders.search([("id", "=", line.id)]))
        with self.assertRaises(AccessError):
            reminders.browse(line.id).read(["number"])
        with self.assertRaises(AccessError):
            direct.with_user(stranger).read(["kind"])
