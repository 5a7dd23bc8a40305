from datetime import datetime, timedelta

import pytz

from odoo.fields import Command
from odoo.tests import tagged

from .common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestTaskRemindersTour(NotifyHttpCase):
    def test_a_task_due_tomorrow_at_ten_queues_both_reminders(self):
        env = self.env
        params = env["ir.config_parameter"].sudo()
        for name, value in {
            "customer_enabled": "True",
            "customer_channel": "sms",
            "customer_lead_time": "2.0",
            "operator_enabled": "True",
            "operator_channel": "email",
            "operator_lead_time": "1.0",
        }.items():
            params.set_param(f"insurance_notify.task_{name}", value)
        env["project.project"].create({"name": "Tour Project"})
        customer = env["res.partner"].create(
            {
                "name": "Tour Customer",
                "mobile": "+48 602 000 222",
                "country_id": env.ref("base.pl").id,
                "tz": "Europe/Warsaw",
            }
        )
        operator = env["res.users"].create(
            {
                "name": "Tour Operator",
                "login": "tour.operator",
                "email": "tour.operator@broker.example",
                "tz": "Europe/Warsaw",
                "groups_id": [Command.link(env.ref("project.group_project_user").id)],
            }
        )

        self.start_tour("/odoo", "insurance_notify_task_reminders", login="admin")

        task = env["project.task"].search([("name", "=", "Tour claim inspection")])
        # The browser typed 10:00 tomorrow in its (the machine's) local time.
        local = pytz.utc.localize(task.date_deadline).astimezone(datetime.now().astimezone().tzinfo)
        self.assertEqual((local.hour, local.minute), (10, 0))
        self.assertEqual(local.date(), datetime.now().astimezone().date() + timedelta(days=1))
        # The form may add the user who creates the task as an assignee too.
        messages = env["insurance.notify.message"].search(
            [
                ("res_model", "=", "project.task"),
                ("res_id", "=", task.id),
                ("partner_id", "in", (customer | operator.partner_id).ids),
            ]
        )
        self.assertRecordValues(
            messages.sorted("channel", reverse=True),
            [
                {
                    "channel": "sms",
                    "state": "queued",
                    "number": "+48602000222",
                    "email": False,
                    "scheduled_at": task.date_deadline - timedelta(hours=2),
                },
                {
                    "channel": "email",
                    "state": "queued",
                    "number": False,
                    "email": "tour.operator@broker.example",
                    "scheduled_at": task.date_deadline - timedelta(hours=1),
                },
            ],
        )
