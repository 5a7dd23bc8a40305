"""A task's name is the office's own: the customer's reminder says the task's
text for the client, else a neutral phrase, in the client's language; the
internal title never reaches the client. Tried as a broker of the project
(a project user with insurance rights), with a Polish client."""

from odoo.tests.common import new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from .common import warsaw
from .test_task_reminders import TaskCase

INTERNAL = "Kowalski - reklamacja 17, oddzwonic, klient zly"


class TestTaskClientText(TaskCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"].search([("name", "=", "insurance_notify")])._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )
        cls.contact.lang = "pl_PL"
        cls.broker = new_test_user(
            cls.env,
            login="task_client_text_broker",
            lang="pl_PL",
            groups="base.group_user,project.group_project_user,"
            "insurance_notify.group_insurance_user",
        )

    def sms_sent(self, **values):
        """The SMS the client gets for a task the broker made (with the default
        customer reminder and the shipped template), the morning of the deadline."""
        self.set_defaults("customer", lead_time=2.0)
        task = (
            self.Task.with_user(self.broker)
            .with_context(lang="pl_PL")
            .create(
                {
                    "name": INTERNAL,
                    "project_id": self.project.id,
                    "partner_id": self.contact.id,
                    "date_deadline": warsaw(self.tomorrow, 10),
                    **values,
                }
            )
        )
        self.assertEqual(task.insurance_customer_reminder_ids.sms_template_id, self.sms_customer)
        self.set_now(warsaw(self.tomorrow, 8))
        self.Message._cron_dispatch()
        (sms,) = SandboxGateway.outbox
        return task, sms.body

    def test_the_client_reads_the_text_for_the_client_not_the_internal_title(self):
        task, body = self.sms_sent(insurance_client_subject="oględziny samochodu w biurze")
        # The shipped Polish template, transliterated (it is one SMS part cheaper).
        self.assertIn("Przypomnienie: ogledziny samochodu w biurze dnia", body)
        self.assertIn("o godz. 10:00", body)
        self.assertNotIn("Kowalski", body)
        self.assertNotIn("reklamacja", body)
        self.assertEqual(task.with_user(self.broker).name, INTERNAL)

    def test_without_a_text_the_client_reads_a_neutral_phrase_in_polish(self):
        _task, body = self.sms_sent()
        self.assertIn("Przypomnienie: umowione spotkanie dnia", body)
        self.assertNotIn("Kowalski", body)
        self.assertNotIn("reklamacja", body)

    def test_the_email_says_the_text_for_the_client_too(self):
        task = self.make_task(name=INTERNAL, insurance_client_subject="wizyta u agenta")
        mail = self.env.ref("insurance_notify.mail_template_task_customer")
        subject = mail._render_field("subject", task.ids, compute_lang=True)[task.id]
        body = mail._render_field("body_html", task.ids, compute_lang=True)[task.id]
        self.assertIn("Przypomnienie: wizyta u agenta", subject)
        self.assertIn("wizyta u agenta", body)
        for text in (subject, body):
            self.assertNotIn("Kowalski", text)

    def test_the_lithuanian_fallback_is_lithuanian(self):
        task = self.make_task(name=INTERNAL)
        self.assertEqual(
            task.with_context(lang="lt_LT").insurance_client_label, "suplanuotas susitikimas"
        )
        self.assertEqual(
            task.with_context(lang="pl_PL").insurance_client_label, "umówione spotkanie"
        )

    def test_the_reminders_tab_shows_the_text_for_the_client(self):
        views = self.Task.with_user(self.broker).get_views([(False, "form")])
        arch = views["views"]["form"]["arch"]
        page = arch[arch.index('name="insurance_reminders"') :]
        self.assertIn('name="insurance_client_subject"', page)
