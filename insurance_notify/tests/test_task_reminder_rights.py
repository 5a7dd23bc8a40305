"""Task reminders are SMS and e-mails at the agency's cost: who may create
them, and to whom they may go. Tried as each role would over RPC."""

import contextlib

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests.common import new_test_user

from .common import warsaw
from .test_task_reminders import TaskCase


class TestTaskReminderRights(TaskCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        project_user = "project.group_project_user"
        cls.employee = new_test_user(
            cls.env, login="task_employee", groups=f"base.group_user,{project_user}"
        )
        cls.broker = new_test_user(
            cls.env,
            login="task_broker",
            groups=f"base.group_user,{project_user},insurance_notify.group_insurance_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="task_manager",
            groups=f"base.group_user,{project_user},insurance_notify.group_insurance_manager",
        )
        cls.stranger = cls.env["res.partner"].create(
            {
                "name": "Someone Else",
                "mobile": "+48 609 999 999",
                "country_id": cls.env.ref("base.pl").id,
            }
        )

    @contextlib.contextmanager
    def refused(self, words):
        """AccessError naming ``words``; the attempt is rolled back (Odoo's
        assertRaises takes a savepoint, unittest's assertRaisesRegex does not)."""
        with self.assertRaises(AccessError) as caught:
            yield
        self.assertIn(words, str(caught.exception))

    def customer_line(self, **values):
        return {
            "audience": "customer",
            "channel": "sms",
            "sms_template_id": self.sms_customer.id,
            "lead_time": 2.0,
            **values,
        }

    def sms_numbers(self, task):
        return (
            self.task_messages(task, "queued")
            .filtered(lambda m: m.channel == "sms")
            .mapped("number")
        )

    # ------------------------------------------------------------------
    # A plain employee
    # ------------------------------------------------------------------

    def test_an_employee_without_insurance_rights_creates_no_reminder(self):
        task = self.make_task()
        Reminder = self.env["insurance.task.reminder"].with_user(self.employee)
        with self.assertRaises(AccessError):
            Reminder.create({"task_id": task.id, **self.customer_line(number="+48 609 000 000")})
        # Nor through the task, the way the form would send it.
        with self.assertRaises(AccessError):
            task.with_user(self.employee).write(
                {"insurance_customer_reminder_ids": [Command.create(self.customer_line())]}
            )
        self.assertFalse(task.insurance_reminder_ids)
        self.assertFalse(self.task_messages(task))

    def test_an_employee_changes_no_reminder_and_reads_them(self):
        self.set_defaults("customer", lead_time=2.0)
        task = self.make_task()
        line = task.insurance_customer_reminder_ids
        as_employee = line.with_user(self.employee)
        self.assertEqual(as_employee.number, "+48602000222")
        with self.assertRaises(AccessError):
            as_employee.write({"number": "+48 609 000 000"})
        with self.assertRaises(AccessError):
            as_employee.unlink()
        self.assertEqual(self.sms_numbers(task), ["+48602000222"])

    def test_an_employees_task_starts_without_the_default_reminders(self):
        self.set_defaults("customer", lead_time=2.0)
        self.set_defaults("operator", channel="email", lead_time=1.0)
        Task = self.Task.with_user(self.employee)
        defaults = Task.default_get(list(Task._fields))
        self.assertNotIn("insurance_customer_reminder_ids", defaults)
        task = Task.create(
            {
                "name": "Call back",
                "project_id": self.project.id,
                "partner_id": self.contact.id,
                "user_ids": [Command.set(self.operator.ids)],
                "date_deadline": warsaw(self.tomorrow, 10),
            }
        )
        self.assertFalse(task.insurance_reminder_ids)
        self.assertFalse(self.task_messages(task))
        # The employee still works on the task: its reminders follow.
        broker_task = self.make_task()
        broker_task.with_user(self.employee).write({"date_deadline": warsaw(self.tomorrow, 12)})
        queued = self.task_messages(broker_task, "queued")
        self.assertEqual(len(queued), 2)
        self.assertEqual(set(queued.mapped("event_date")), {self.tomorrow})

    # ------------------------------------------------------------------
    # A broker
    # ------------------------------------------------------------------

    def test_a_broker_reminds_the_customer_on_their_own_numbers(self):
        task = self.make_task()
        as_broker = task.with_user(self.broker)
        as_broker.write({"insurance_customer_reminder_ids": [Command.create(self.customer_line())]})
        line = task.insurance_customer_reminder_ids
        self.assertEqual(line.number, "+48602000222")
        # The company's mobile, as the list suggests it.
        line.with_user(self.broker).number = "+48 601 000 111"
        self.assertEqual(self.sms_numbers(task), ["+48601000111"])

    def test_a_broker_cannot_type_a_number_of_their_choice(self):
        task = self.make_task()
        Reminder = self.env["insurance.task.reminder"].with_user(self.broker)
        with self.refused("Only an insurance manager"):
            Reminder.create({"task_id": task.id, **self.customer_line(number="+48 609 000 000")})
        line = Reminder.create({"task_id": task.id, **self.customer_line()})
        with self.refused("typed by hand"):
            line.write({"number": "+48 609 000 000"})
        self.assertEqual(self.sms_numbers(task), ["+48602000222"])

    def test_a_broker_cannot_send_a_tasks_reminder_to_another_client(self):
        task = self.make_task()
        Reminder = self.env["insurance.task.reminder"].with_user(self.broker)
        with self.refused("Someone Else"):
            Reminder.create({"task_id": task.id, **self.customer_line(partner_id=self.stranger.id)})
        line = Reminder.create({"task_id": task.id, **self.customer_line()})
        with self.assertRaises(AccessError):
            line.write({"partner_id": self.stranger.id})
        # The company itself is the task's customer too.
        line.write({"partner_id": self.company_client.id})
        self.assertEqual(self.sms_numbers(task), ["+48601000111"])

    def test_a_brokers_task_starts_with_the_defaults(self):
        self.set_defaults("customer", lead_time=2.0)
        Task = self.Task.with_user(self.broker)
        defaults = Task.default_get(list(Task._fields))
        self.assertIn("insurance_customer_reminder_ids", defaults)

    # ------------------------------------------------------------------
    # A manager
    # ------------------------------------------------------------------

    def test_a_manager_may_type_a_number_and_pick_another_person(self):
        task = self.make_task()
        Reminder = self.env["insurance.task.reminder"].with_user(self.manager)
        line = Reminder.create({"task_id": task.id, **self.customer_line(number="+48 609 000 000")})
        self.assertEqual(self.sms_numbers(task), ["+48609000000"])
        line.write({"partner_id": self.stranger.id})
        self.assertEqual(line.number, "+48609999999")


class TestTaskReminderRightsLanguages(TaskCase):
    """A Polish or Lithuanian broker reads the refusal in their language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"].search([("name", "=", "insurance_notify")])._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )
        cls.broker = new_test_user(
            cls.env,
            login="task_broker_lang",
            groups="base.group_user,project.group_project_user,"
            "insurance_notify.group_insurance_user",
        )

    def test_a_typed_number_is_refused_in_polish_and_lithuanian(self):
        task = self.make_task()
        expected = {
            "pl_PL": "Tylko kierownik ubezpieczeń może wysłać przypomnienie",
            "lt_LT": "Tik draudimo vadovas gali siųsti užduoties priminimą",
        }
        for lang, words in expected.items():
            with self.subTest(lang=lang), self.assertRaises(AccessError) as caught:
                self.env["insurance.task.reminder"].with_user(self.broker).with_context(
                    lang=lang
                ).create(
                    {
                        "task_id": task.id,
                        "audience": "customer",
                        "channel": "sms",
                        "sms_template_id": self.sms_customer.id,
                        "number": "+48 609 000 000",
                    }
                )
            self.assertIn(words, str(caught.exception))
