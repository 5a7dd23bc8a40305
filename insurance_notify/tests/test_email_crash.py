"""A worker dies in the middle of an e-mail batch: no recipient gets an
e-mail twice. SMTP is mocked at smtplib (what the mail server received), and
the dispatcher's commits are played as savepoints so the crash rolls back
exactly what a dead worker's transaction loses."""

import contextlib
from collections import Counter
from datetime import timedelta

from odoo.addons.mail.tests.common import MockEmail

from .common import NotifyCase

RECIPIENTS = 60
CRASH_AT = 31  # the 31st e-mail reaches the server, then the worker dies


class WorkerDied(BaseException):
    """A crash no code of ours catches (the process is gone)."""


class TestEmailCrash(MockEmail, NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mail_template = cls.env["mail.template"].create(
            {
                "name": "Expiry mail",
                "model_id": cls.env["ir.model"]._get_id("insurance.policy"),
                "subject": "Policy {{ object.name }} ends soon",
                "body_html": "<p>Your policy ends on <t t-out='object.date_end'/>.</p>",
            }
        )
        clients = cls.env["res.partner"].create(
            [
                {
                    "name": f"Klient {index}",
                    "email": f"klient{index}@example.com",
                    "country_id": cls.env.ref("base.pl").id,
                    "tz": "Europe/Warsaw",
                }
                for index in range(RECIPIENTS)
            ]
        )
        for client in clients:
            cls.env["insurance.policy"].create(
                {
                    "name": f"MAIL/{client.id}",
                    "partner_id": client.id,
                    "insurer_id": cls.insurer.id,
                    "product_id": cls.product.id,
                    "date_start": cls.TODAY - timedelta(days=358),
                    "date_end": cls.TODAY + timedelta(days=7),
                    "state": "valid",
                }
            )

    def play_commits(self):
        """The dispatcher's commits become savepoints; return the crash's rollback."""
        cr = self.env.cr

        def commit(model):
            model.env.flush_all()
            cr.execute("SAVEPOINT played_commit")

        self.patch(type(self.Message), "_commit", commit)
        commit(self.Message)

        def crash():
            cr.execute("ROLLBACK TO SAVEPOINT played_commit")
            self.env.clear()

        return crash

    def received(self):
        return Counter(address for email in self.emails for address in email["smtp_to_list"])

    def test_a_crash_in_an_email_batch_sends_no_email_twice(self):
        self.make_rule(
            "7", channel="email", mail_template_id=self.mail_template.id, sms_template_id=False
        )
        self.Rule._cron_plan()
        messages = self.Message.search([("channel", "=", "email")])
        self.assertEqual(len(messages), RECIPIENTS)
        rollback = self.play_commits()

        with self.mock_mail_gateway():
            session = self.testing_smtp_session
            deliver = session.send_message

            def deliver_then_die(message, smtp_from, smtp_to_list):
                deliver(message, smtp_from, smtp_to_list)
                if len(self.emails) == CRASH_AT:
                    raise WorkerDied

            session.send_message = deliver_then_die
            with contextlib.suppress(WorkerDied):
                self.Message._cron_dispatch()
            rollback()
            self.assertEqual(len(self.emails), CRASH_AT)
            session.send_message = deliver

            # The crashed chunk is recovered by a later run.
            self.set_now(self.now + timedelta(minutes=20))
            self.Message._cron_dispatch()
            # Odoo's own mail queue finds nothing of ours to send again.
            self.env["mail.mail"].process_email_queue()

        received = self.received()
        self.assertEqual(max(received.values()), 1, "a client got the same e-mail twice")
        self.assertEqual(len(received), RECIPIENTS, "every client got the e-mail")
        messages.invalidate_recordset()
        states = Counter(messages.mapped("state"))
        # The one handed to the server when the worker died may or may not
        # have left: it is not sent again, it says so.
        self.assertEqual(states, {"sent": RECIPIENTS - 1, "failed": 1})
        interrupted = messages.filtered(lambda m: m.state == "failed")
        self.assertEqual(interrupted.reason_code, "mail_interrupted")
        self.assertIn("it may have left, so it is not sent again", interrupted.reason)
        self.assertEqual(interrupted.mail_mail_id.state, "exception")
        self.assertIn("it may have been delivered", interrupted.mail_mail_id.failure_reason)

    def test_without_a_crash_each_email_leaves_once_through_odoos_mail(self):
        self.make_rule(
            "7", channel="email", mail_template_id=self.mail_template.id, sms_template_id=False
        )
        with self.mock_mail_gateway():
            self.Rule._cron_plan()
            self.Message._cron_dispatch()
            self.env["mail.mail"].process_email_queue()
        received = self.received()
        self.assertEqual(len(received), RECIPIENTS)
        self.assertEqual(set(received.values()), {1})
        messages = self.Message.search([("channel", "=", "email")])
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        self.assertEqual(set(messages.mail_mail_id.mapped("state")), {"sent"})
