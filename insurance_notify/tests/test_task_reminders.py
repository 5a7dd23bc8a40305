from datetime import timedelta

from odoo.exceptions import ValidationError
from odoo.fields import Command

from odoo.addons.mail.tests.common import MockEmail

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase, warsaw

PARAM = "insurance_notify.task_{}_{}"


class TaskCase(MockEmail, NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Task = cls.env["project.task"]
        cls.project = cls.env["project.project"].create({"name": "Claims"})
        cls.company_client = cls.env["res.partner"].create(
            {
                "name": "Kowalski Transport",
                "is_company": True,
                "phone": "+48 22 555 01 02",
                "mobile": "+48 601 000 111",
                "email": "office@kowalski.example",
                "country_id": cls.env.ref("base.pl").id,
                "tz": "Europe/Warsaw",
            }
        )
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Anna Nowak",
                "parent_id": cls.company_client.id,
                "mobile": "+48 602 000 222",
                "email": "anna@kowalski.example",
                "country_id": cls.env.ref("base.pl").id,
                "tz": "Europe/Warsaw",
            }
        )
        cls.operator = cls.env["res.users"].create(
            {
                "name": "Piotr Operator",
                "login": "piotr.operator",
                "email": "piotr@broker.example",
                "mobile": "+48 603 000 333",
                "tz": "Europe/Warsaw",
                "groups_id": [Command.link(cls.env.ref("project.group_project_user").id)],
            }
        )
        cls.sms_customer = cls.env.ref("insurance_notify.sms_template_task_customer")
        cls.mail_operator = cls.env.ref("insurance_notify.mail_template_task_operator")
        cls.tomorrow = cls.TODAY + timedelta(days=1)

    def set_defaults(self, audience, enabled=True, channel="sms", lead_time=2.0, **templates):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(PARAM.format(audience, "enabled"), enabled and "True")
        params.set_param(PARAM.format(audience, "channel"), channel)
        params.set_param(PARAM.format(audience, "lead_time"), str(lead_time))
        for name, template in templates.items():
            params.set_param(PARAM.format(audience, name), str(template.id))

    def make_task(self, deadline=None, **values):
        return self.Task.create(
            {
                "name": "Claim inspection",
                "project_id": self.project.id,
                "partner_id": self.contact.id,
                "user_ids": [Command.set(self.operator.ids)],
                "date_deadline": deadline or warsaw(self.tomorrow, 10),
                **values,
            }
        )

    def both_defaults(self):
        self.set_defaults("customer", channel="sms", lead_time=2.0)
        self.set_defaults("operator", channel="email", lead_time=1.0)

    def task_messages(self, task, state=None):
        domain = [("res_model", "=", "project.task"), ("res_id", "=", task.id)]
        if state:
            domain.append(("state", "=", state))
        return self.Message.search(domain, order="id")


class TestTaskReminderDefaults(TaskCase):
    def test_a_new_task_starts_with_the_default_reminders_when_they_are_on(self):
        self.set_defaults("customer", channel="sms", lead_time=3.5)
        self.set_defaults("operator", channel="email", lead_time=0.5)
        task = self.make_task()
        customer = task.insurance_customer_reminder_ids
        operator = task.insurance_operator_reminder_ids
        self.assertRecordValues(
            customer,
            [
                {
                    "enabled": True,
                    "channel": "sms",
                    "lead_time": 3.5,
                    "sms_template_id": self.sms_customer.id,
                    "partner_id": self.contact.id,
                    # The contact person's mobile comes first.
                    "number": "+48602000222",
                }
            ],
        )
        self.assertRecordValues(
            operator,
            [{"channel": "email", "lead_time": 0.5, "mail_template_id": self.mail_operator.id}],
        )

    def test_a_default_that_is_off_adds_nothing(self):
        self.set_defaults("customer", enabled=False)
        self.set_defaults("operator", channel="email")
        task = self.make_task()
        self.assertFalse(task.insurance_customer_reminder_ids)
        self.assertEqual(len(task.insurance_operator_reminder_ids), 1)

    def test_the_form_shows_the_defaults_before_saving(self):
        other = self.env["sms.template"].create(
            {
                "name": "Custom task SMS",
                "model_id": self.env["ir.model"]._get_id("project.task"),
                "body": "See you {{ object.insurance_deadline_date }}",
            }
        )
        self.set_defaults("customer", lead_time=4.0, sms_template_id=other)
        defaults = self.Task.default_get(list(self.Task._fields))
        (command,) = defaults["insurance_customer_reminder_ids"]
        self.assertEqual(command[2]["sms_template_id"], other.id)
        self.assertEqual(command[2]["lead_time"], 4.0)
        self.assertNotIn("insurance_operator_reminder_ids", defaults)

    def test_the_settings_page_stores_the_defaults_and_the_sender(self):
        settings = self.env["res.config.settings"].create(
            {
                "insurance_task_customer_enabled": True,
                "insurance_task_customer_channel": "email",
                "insurance_task_customer_lead_time": 48.0,
                "insurance_email_from": "reminders@broker.example",
            }
        )
        settings.execute()
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param(PARAM.format("customer", "channel")), "email")
        self.assertEqual(
            params.get_param("insurance_notify.email_from"), "reminders@broker.example"
        )
        task = self.make_task()
        self.assertRecordValues(
            task.insurance_customer_reminder_ids, [{"channel": "email", "lead_time": 48.0}]
        )


class TestTaskReminderQueue(TaskCase):
    def test_both_reminders_are_queued_at_the_deadline_minus_their_lead_time(self):
        self.both_defaults()
        task = self.make_task()
        customer, operator = self.task_messages(task)
        self.assertRecordValues(
            customer,
            [
                {
                    "channel": "sms",
                    "state": "queued",
                    "partner_id": self.contact.id,
                    "number": "+48602000222",
                    "scheduled_at": warsaw(self.tomorrow, 8),
                    "event_date": self.tomorrow,
                    "timezone": "Europe/Warsaw",
                }
            ],
        )
        self.assertRecordValues(
            operator,
            [
                {
                    "channel": "email",
                    "state": "queued",
                    "partner_id": self.operator.partner_id.id,
                    "email": "piotr@broker.example",
                    "scheduled_at": warsaw(self.tomorrow, 9),
                }
            ],
        )
        # The template is the reminder's: the message names its sender.
        self.assertEqual(customer.task_reminder_id._notify_templates()[0], self.sms_customer)
        self.assertEqual(operator.task_reminder_id._notify_templates()[1], self.mail_operator)

    def test_a_night_reminder_leaves_the_evening_before_an_early_deadline(self):
        self.set_defaults("customer", lead_time=2.0)
        task = self.make_task(deadline=warsaw(self.tomorrow, 7))
        self.assertEqual(self.task_messages(task).scheduled_at, warsaw(self.TODAY, 19))

    def test_each_assignee_gets_one(self):
        self.set_defaults("operator", channel="sms", lead_time=1.0)
        colleague = self.operator.copy(
            {"name": "Ewa Operator", "login": "ewa.operator", "mobile": "+48 604 000 444"}
        )
        task = self.make_task(user_ids=[Command.set((self.operator | colleague).ids)])
        self.assertEqual(
            sorted(self.task_messages(task).mapped("number")), ["+48603000333", "+48604000444"]
        )

    def test_moving_the_deadline_reschedules_and_a_sent_one_is_never_sent_again(self):
        self.set_defaults("customer", lead_time=2.0)
        task = self.make_task()
        first = self.task_messages(task)
        self.set_now(warsaw(self.tomorrow, 8, 5))
        self.Message._cron_dispatch()
        self.assertEqual(first.state, "sent")
        self.assertEqual(len(SandboxGateway.outbox), 1)

        task.date_deadline = warsaw(self.tomorrow, 15)
        second = self.task_messages(task, "queued")
        self.assertEqual(second.scheduled_at, warsaw(self.tomorrow, 13))
        self.assertEqual(first.state, "sent")

        task.date_deadline = warsaw(self.tomorrow, 16)
        self.assertRecordValues(second, [{"state": "cancelled", "reason": "deadline moved"}])
        third = self.task_messages(task, "queued")
        self.assertEqual(third.scheduled_at, warsaw(self.tomorrow, 14))

        # Back to the first deadline: its reminder went already, none goes again.
        task.date_deadline = warsaw(self.tomorrow, 10)
        self.assertFalse(self.task_messages(task, "queued"))
        self.set_now(warsaw(self.tomorrow, 9))
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 1)

    def test_a_changed_lead_time_replans_the_queued_message(self):
        self.set_defaults("customer", lead_time=2.0)
        task = self.make_task()
        message = self.task_messages(task)
        task.insurance_customer_reminder_ids.lead_time = 1.5
        self.assertEqual(message.scheduled_at, warsaw(self.tomorrow, 8, 30))
        task.insurance_customer_reminder_ids.enabled = False
        self.assertEqual(message.state, "cancelled")

    def test_closing_the_task_cancels_and_reopening_requeues(self):
        self.both_defaults()
        task = self.make_task()
        task.state = "1_done"
        messages = self.task_messages(task)
        self.assertEqual(messages.mapped("state"), ["cancelled", "cancelled"])
        self.assertEqual(set(messages.mapped("reason")), {"task closed"})
        self.set_now(warsaw(self.tomorrow, 9, 30))
        with self.mock_mail_gateway():
            self.Message._cron_dispatch()
        self.assertFalse(SandboxGateway.outbox)
        self.assertFalse(self._mails)

        self.set_now(warsaw(self.TODAY, 12))
        task.state = "01_in_progress"
        self.assertEqual(messages.mapped("state"), ["queued", "queued"])

    def test_a_folded_stage_closes_too(self):
        self.set_defaults("customer")
        self.env["project.task.type"].create(
            {"name": "To do", "sequence": 1, "project_ids": [Command.link(self.project.id)]}
        )
        done = self.env["project.task.type"].create(
            {
                "name": "Archive",
                "sequence": 9,
                "fold": True,
                "project_ids": [Command.link(self.project.id)],
            }
        )
        task = self.make_task()
        task.stage_id = done
        self.assertEqual(self.task_messages(task).state, "cancelled")

    def test_a_past_deadline_queues_nothing(self):
        self.set_defaults("customer")
        task = self.make_task(deadline=warsaw(self.TODAY, 9))
        self.assertFalse(self.task_messages(task))


class TestTaskReminderContacts(TaskCase):
    def test_an_assignee_without_a_mobile_blocks_saving_and_is_named(self):
        self.set_defaults("operator", channel="sms")
        self.operator.partner_id.mobile = False
        with self.assertRaisesRegex(
            ValidationError, "Piotr Operator has no mobile number for the SMS reminder"
        ):
            self.make_task()

    def test_adding_an_assignee_without_an_email_is_refused(self):
        self.set_defaults("operator", channel="email")
        task = self.make_task()
        mute = self.env["res.users"].create({"name": "Nomail Operator", "login": "nomail"})
        with self.assertRaisesRegex(ValidationError, "Nomail Operator has no e-mail address"):
            task.user_ids = [Command.link(mute.id)]

    def test_email_goes_to_the_contact_else_the_customer(self):
        self.set_defaults("customer", channel="email")
        self.contact.email = False
        task = self.make_task()
        self.assertEqual(self.task_messages(task).email, "office@kowalski.example")

    def test_a_customer_without_any_email_is_refused(self):
        self.set_defaults("customer", channel="email")
        loner = self.env["res.partner"].create({"name": "Jan Bezmaila"})
        with self.assertRaisesRegex(ValidationError, "Jan Bezmaila has no e-mail address"):
            self.make_task(partner_id=loner.id)

    def test_a_customer_reminder_without_a_customer_is_refused(self):
        self.set_defaults("customer")
        with self.assertRaisesRegex(ValidationError, "needs a customer"):
            self.make_task(partner_id=False)

    def test_the_customers_numbers_come_after_the_contact_persons(self):
        self.set_defaults("customer")
        task = self.make_task()
        line = task.insurance_customer_reminder_ids
        self.assertEqual(line.number, "+48602000222")
        self.assertEqual(line.number_suggestions, "+48601000111, +48225550102")
        self.contact.mobile = False
        other = self.make_task()
        self.assertEqual(other.insurance_customer_reminder_ids.number, "+48601000111")

    def test_a_number_typed_by_hand_is_read_and_stored_in_e164(self):
        self.set_defaults("customer")
        task = self.make_task()
        line = task.insurance_customer_reminder_ids
        line.number = "+48 605 000 555"
        self.assertEqual(line.number, "+48605000555")
        self.assertEqual(self.task_messages(task, "queued").number, "+48605000555")
        with self.assertRaisesRegex(ValidationError, "“call me” for the SMS reminder"):
            line.number = "call me"

    def test_a_closed_task_saves_whatever_is_missing(self):
        self.set_defaults("operator", channel="sms")
        task = self.make_task()
        task.state = "1_canceled"
        self.operator.partner_id.mobile = False
        task.user_ids = [Command.set(self.operator.ids)]
        self.assertEqual(self.task_messages(task).state, "cancelled")


class TestTaskReminderSending(TaskCase):
    def test_the_sms_shows_the_deadline_in_the_recipients_time(self):
        self.set_defaults("customer", lead_time=2.0)
        self.make_task()
        self.set_now(warsaw(self.tomorrow, 8))
        self.Message._cron_dispatch()
        (sms,) = SandboxGateway.outbox
        self.assertEqual(sms.number, "+48602000222")
        # Stored in UTC as 09:00; the client in Warsaw reads 10:00.
        self.assertIn("at 10:00", sms.body)

    def test_a_vilnius_operator_reads_vilnius_time(self):
        self.set_defaults("operator", channel="sms", lead_time=1.0)
        self.operator.partner_id.tz = "Europe/Vilnius"
        self.make_task()
        self.set_now(warsaw(self.tomorrow, 9))
        self.Message._cron_dispatch()
        self.assertIn("11:00", SandboxGateway.outbox[0].body)

    def test_emails_leave_from_the_configured_address_with_the_templates_bcc(self):
        self.set_defaults("operator", channel="email", lead_time=1.0)
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(
            "insurance_notify.email_from", "Broker Reminders <reminders@broker.example>"
        )
        self.mail_operator.write(
            {
                "email_from": "someone.else@example.com",
                "insurance_email_bcc": "audit@broker.example",
            }
        )
        task = self.make_task()
        self.set_now(warsaw(self.tomorrow, 9))
        with self.mock_mail_gateway():
            self.Message._cron_dispatch()
        self.assertEqual(self.task_messages(task).state, "sent")
        self.assertSentEmail(
            '"Broker Reminders" <reminders@broker.example>',
            ["piotr@broker.example"],
            subject="Task Claim inspection due 11/24/2026 10:00",
        )
        self.assertEqual(self._mails[0]["headers"].get("Bcc"), "audit@broker.example")

    def test_without_the_setting_the_templates_sender_stays(self):
        self.set_defaults("operator", channel="email", lead_time=1.0)
        self.mail_operator.email_from = "desk@broker.example"
        self.make_task()
        self.set_now(warsaw(self.tomorrow, 9))
        with self.mock_mail_gateway():
            self.Message._cron_dispatch()
        self.assertSentEmail("desk@broker.example", ["piotr@broker.example"])
