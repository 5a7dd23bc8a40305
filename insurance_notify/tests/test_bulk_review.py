"""Bulk sends a broker trusts: review and untick recipients, a confirmation
stating the numbers, and resuming a stopped run (issue 11, item 5).

Everything is done as an Insurance Manager, the group that runs bulk sends;
what counts is what the sandbox gateway received after the dispatcher ran.
"""

from collections import Counter
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from ..lib.notify_engine import sms
from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase

CLIENTS = [
    ("Anna Kowalska", "+48 600 100 001"),
    ("Piotr Nowak", "+48 600 100 002"),
    # A long name with Polish letters: her SMS is UCS-2 and two parts long.
    ("Zażółć Gęślą Jaźń Wielkopolska-Świętokrzyska", "+48 600 100 003"),
    ("Rūta Petrauskienė", "+48 600 100 004"),
    ("Marek Bez Numeru", False),
]


class BulkReviewCase(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        main = cls.env.ref("base.main_company")

        def user(login, groups, company=main):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
                tz="Europe/Warsaw",
            )

        cls.manager = user(
            "bulk_review_manager", "base.group_user,insurance_notify.group_insurance_manager"
        )
        cls.broker = user(
            "bulk_review_broker", "base.group_user,insurance_notify.group_insurance_user"
        )
        company2 = cls.env["res.company"].create({"name": "Other Broker Office"})
        cls.other_manager = user(
            "bulk_review_other",
            "base.group_user,insurance_notify.group_insurance_manager",
            company2,
        )
        cls.gateway = cls.env["insurance.notify.gateway"].sudo()._default_for_company(main)
        cls.assertTrue(cls, cls.gateway, "the demo sandbox gateway is the company's")
        cls.gateway.cost_per_part = 0.16
        cls.template.body = (
            "{{ object.partner_id.name }}: policy {{ object.name }} ends on {{ object.date_end }}."
        )
        cls.clients = cls.env["res.partner"].create(
            [
                {
                    "name": name,
                    "mobile": mobile,
                    "country_id": cls.env.ref("base.pl").id,
                    "tz": "Europe/Warsaw",
                }
                for name, mobile in CLIENTS
            ]
        )
        cls.policies = cls.env["insurance.policy"].create(
            [
                {
                    "name": f"REV/{index}",
                    "partner_id": client.id,
                    "insurer_id": cls.insurer.id,
                    "product_id": cls.product.id,
                    "date_start": cls.TODAY - timedelta(days=355),
                    "date_end": cls.TODAY + timedelta(days=10),
                    "state": "valid",
                }
                for index, client in enumerate(cls.clients)
            ]
        )
        cls.anna, cls.piotr, cls.zofia, cls.ruta, cls.marek = cls.clients

    def make_batch(self, user=None, **values):
        return (
            self.env["insurance.notify.batch"]
            .with_user(user or self.manager)
            .create(
                {
                    "name": "Ending soon",
                    "kind": "bulk",
                    "target": "policy_expiry",
                    "channel": "sms",
                    "sms_template_id": self.template.id,
                    **values,
                }
            )
        )

    def review(self, batch):
        action = batch.action_review()
        self.assertEqual(action["res_model"], "insurance.notify.batch.start")
        return batch.env["insurance.notify.batch.start"].browse(action["res_id"])

    def line_of(self, wizard, partner):
        return wizard.line_ids.filtered(lambda line: line.partner_id == partner)

    def sent_numbers(self):
        return Counter(sms_.number for sms_ in SandboxGateway.outbox)


class TestReviewBeforeSending(BulkReviewCase):
    def test_the_review_lists_every_client_and_who_is_skipped_why(self):
        wizard = self.review(self.make_batch())
        self.assertEqual(wizard.line_ids.partner_id, self.clients)
        anna = self.line_of(wizard, self.anna)
        self.assertEqual(anna.number, "+48600100001")
        self.assertEqual(anna.documents, self.policies[0].display_name)
        self.assertEqual((anna.send_count, anna.skipped_count, anna.reason), (1, 0, False))
        marek = self.line_of(wizard, self.marek)
        self.assertEqual((marek.send_count, marek.skipped_count), (0, 1))
        self.assertEqual(marek.reason, "no valid mobile number")
        self.assertTrue(all(wizard.line_ids.mapped("included")))
        # Reviewing writes no message.
        self.assertFalse(self.Message.search([("batch_id", "=", wizard.batch_id.id)]))

    def test_unticked_clients_receive_nothing(self):
        batch = self.make_batch()
        wizard = self.review(batch)
        self.line_of(wizard, self.piotr).included = False
        self.line_of(wizard, self.ruta).included = False
        self.assertEqual(wizard.excluded_count, 2)
        wizard.action_send()
        self.assertEqual(batch.state, "running")
        self.assertEqual(batch.excluded_partner_ids, self.piotr | self.ruta)

        self.Message._cron_dispatch()

        self.assertEqual(self.sent_numbers(), Counter({"+48600100001": 1, "+48600100003": 1}))
        self.assertFalse(
            self.Message.search(
                [("batch_id", "=", batch.id), ("partner_id", "in", (self.piotr | self.ruta).ids)]
            ),
            "an unticked client gets no message at all, not even a skipped one",
        )
        self.assertEqual(batch.state, "done")

    def test_the_ticks_are_kept_and_a_client_ticked_again_is_sent_to(self):
        batch = self.make_batch()
        wizard = self.review(batch)
        self.line_of(wizard, self.anna).included = False
        wizard.action_save()
        self.assertEqual(batch.state, "draft")
        self.assertEqual(batch.recipient_count, 4)
        wizard = self.review(batch)
        anna = self.line_of(wizard, self.anna)
        self.assertFalse(anna.included, "the review shows the excluded client unticked")
        anna.included = True
        wizard.action_send()
        self.Message._cron_dispatch()
        self.assertEqual(self.sent_numbers()["+48600100001"], 1)

    def test_a_broker_cannot_review_nor_send(self):
        batch = self.make_batch()
        with self.assertRaises(AccessError):
            batch.with_user(self.broker).action_review()
        with self.assertRaises(AccessError):
            batch.with_user(self.other_manager).action_review()
        self.assertEqual(batch.state, "draft")


class TestConfirmationNumbers(BulkReviewCase):
    def test_the_confirmation_numbers_are_what_is_sent(self):
        batch = self.make_batch()
        wizard = self.review(batch)
        self.line_of(wizard, self.piotr).included = False
        # Anna, Zofia (two parts) and Rūta leave; Marek has no mobile.
        self.assertEqual(wizard.message_count, 3)
        self.assertEqual(wizard.skipped_count, 1)
        self.assertEqual(wizard.sms_parts, 4)
        self.assertAlmostEqual(wizard.cost, 4 * 0.16)
        self.assertEqual(wizard.currency_id, self.gateway.currency_id)
        self.assertEqual(
            wizard.summary,
            f"3 messages will leave, 1 are skipped: 4 SMS parts in all, "
            f"about 0.64 {self.gateway.currency_id.name}.",
        )
        # The form's figure is per message; the confirmation's is the sum.
        self.assertEqual(batch._fields["sms_parts"].string, "SMS Parts per Message")
        numbers = (wizard.message_count, wizard.skipped_count, wizard.sms_parts, wizard.cost)

        wizard.action_send()
        self.Message._cron_dispatch()

        outbox = list(SandboxGateway.outbox)
        messages = batch.notify_message_ids
        self.assertEqual(len(outbox), numbers[0])
        self.assertEqual(len(messages.filtered(lambda m: m.state == "skipped")), numbers[1])
        self.assertEqual(sum(sms.analyze(sms_.body).parts for sms_ in outbox), numbers[2])
        self.assertEqual(sum(messages.mapped("sms_parts")), numbers[2])
        self.assertAlmostEqual(sum(messages.mapped("cost")), numbers[3])

    def test_pressing_send_opens_the_confirmation_and_starts_nothing(self):
        batch = self.make_batch()
        self.review(batch)
        self.assertEqual(batch.state, "draft")
        self.assertFalse(batch.notify_message_ids)
        self.Message._cron_dispatch()
        self.assertFalse(SandboxGateway.outbox)

    def test_no_text_is_refused_before_the_review(self):
        batch = self.make_batch(sms_template_id=False, body=False)
        with self.assertRaises(UserError):
            batch.action_review()


class TestResume(BulkReviewCase):
    def stop_after(self, batch, count):
        """Dispatch, pressing STOP (as the manager) once ``count`` SMS have left."""
        send = SandboxGateway.send
        pressed = []

        def send_then_press_stop(gateway, messages):
            results = send(gateway, messages)
            if not pressed and len(SandboxGateway.outbox) >= count:
                pressed.append(True)
                batch.action_stop()
            return results

        self.patch(SandboxGateway, "send", send_then_press_stop)
        self.Message._cron_dispatch(batch_size=1)

    def test_stop_after_some_resume_every_client_gets_exactly_one_sms(self):
        batch = self.make_batch()
        self.review(batch).action_send()
        self.stop_after(batch, 2)
        self.assertEqual(batch.state, "stopped")
        self.assertEqual(len(SandboxGateway.outbox), 2)
        stopped = batch.notify_message_ids.filtered(lambda m: m.reason_code == "stopped")
        self.assertEqual(len(stopped), 2)

        batch.action_resume()
        self.assertEqual(batch.state, "running")
        # Only what STOP cancelled goes back to the queue: the sent stay sent.
        self.assertEqual(
            Counter(batch.notify_message_ids.mapped("state")),
            Counter(sent=2, queued=2, skipped=1),
        )
        self.assertEqual(batch.notify_message_ids.filtered(lambda m: m.state == "queued"), stopped)
        self.Message._cron_dispatch()

        self.assertEqual(
            self.sent_numbers(),
            Counter({number.replace(" ", ""): 1 for _name, number in CLIENTS[:4]}),
        )
        self.assertEqual(len(batch.notify_message_ids), 5, "no second message for anyone")
        self.assertEqual(
            Counter(batch.notify_message_ids.mapped("state")), Counter(sent=4, skipped=1)
        )
        self.assertEqual(batch.state, "done")
        # Resuming again finds nothing to send and sends nothing twice.
        with self.assertRaises(UserError):
            batch.action_resume()
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 4)

    def test_a_broker_cannot_resume(self):
        batch = self.make_batch()
        self.review(batch).action_send()
        self.stop_after(batch, 1)
        self.assertEqual(batch.state, "stopped")
        # Refused by the rights check itself, before anything is written with sudo.
        with self.assertRaisesRegex(AccessError, "Only insurance managers"):
            batch.with_user(self.broker).action_resume()
        with self.assertRaises(AccessError):
            batch.with_user(self.other_manager).action_resume()
        self.assertEqual(batch.state, "stopped")
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertFalse(
            self.Message.search([("batch_id", "=", batch.id), ("state", "=", "queued")])
        )

    def test_only_a_stopped_send_resumes(self):
        batch = self.make_batch()
        with self.assertRaises(UserError):
            batch.action_resume()
        self.assertEqual(batch.state, "draft")


class TestReviewLanguages(BulkReviewCase):
    """The broker reads the review in their own language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"].search([("name", "=", "insurance_notify")])._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )

    def test_the_review_in_polish_and_lithuanian(self):
        currency = self.gateway.currency_id.name
        expected = {
            "pl_PL": f"Wiadomości do wysłania: 4, pominięte: 1; części SMS łącznie: 5, "
            f"około 0,80 {currency}.",
            "lt_LT": f"Bus išsiųsta pranešimų: 4, praleista: 1; iš viso SMS dalių: 5, "
            f"apie 0,80 {currency}.",
        }
        for lang, summary in expected.items():
            with self.subTest(lang=lang):
                # The web client sends the user's language in the context.
                batch = self.make_batch().with_context(lang=lang)
                self.assertEqual(self.review(batch).summary, summary)
                with self.assertRaisesRegex(UserError, "Only a stopped send|Tęsti galima|Wznowić"):
                    batch.action_resume()
