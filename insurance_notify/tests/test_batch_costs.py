"""A bulk send's form and its review agree (issue 22, item 8): the same part
count and cost from one function, the send's transliterate box on a broadcast's
free text, the opt-out line in the preview, and a progress that says 0 % with
nothing sent and that messages wait for the sending window.

Everything is done as a Polish Insurance Manager; what counts is what the form
and the review show and what the sandbox gateway received.
"""

from datetime import timedelta

from odoo import Command
from odoo.tests import Form, new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase, warsaw

# 233 characters with Polish letters: 4 UCS-2 parts, 2 GSM-7 parts once transliterated.
OFFICE_TEXT = (
    "Szanowni Państwo, od poniedziałku nasze biuro przenosi się na ulicę Długą 15 "
    "w Łodzi. Zapraszamy od ósmej do szesnastej; w sprawie polis, rat i szkód "
    "prosimy dzwonić pod dotychczasowy numer. Dziękujemy za zaufanie, cały zespół biura."
)


class TestBatchCostsAgree(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["insurance_notify"], ["pl_PL"], overwrite=True
        )
        main = cls.env.ref("base.main_company")
        cls.manager = new_test_user(
            cls.env,
            login="costs_manager_pl",
            name="Ewa Kierownik",
            lang="pl_PL",
            tz="Europe/Warsaw",
            company_id=main.id,
            company_ids=[Command.set(main.ids)],
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )
        cls.gateway = cls.env["insurance.notify.gateway"].sudo()._default_for_company(main)
        cls.gateway.write({"cost_per_part": 0.16, "opt_out_text": "STOP na 4100"})
        cls.client.write({"lang": "pl_PL", "consent_sms": True, "consent_marketing": True})
        cls.no_mobile = cls.env["res.partner"].create(
            {"name": "Marek Bez Numeru", "lang": "pl_PL", "consent_marketing": True}
        )
        # The template transliterates: "kończy się" would otherwise be UCS-2.
        cls.template.write(
            {
                "body": "Polisa {{ object.name }} kończy się {{ format_date(object.date_end) }}. "
                "Prosimy o kontakt w sprawie wznowienia; dziękujemy, zespół Państwa biura.",
                "sms_transliterate": True,
            }
        )
        cls.policy = cls.make_policy(cls, 10)
        cls.policy_no_mobile = cls.make_policy(cls, 11, partner_id=cls.no_mobile.id)

    def make_policy(self, days_left, **values):
        return self.env["insurance.policy"].create(
            {
                "name": f"POL/{days_left}",
                "partner_id": self.client.id,
                "insurer_id": self.insurer.id,
                "product_id": self.product.id,
                "date_start": self.TODAY - timedelta(days=365 - days_left),
                "date_end": self.TODAY + timedelta(days=days_left),
                "state": "valid",
                **values,
            }
        )

    def batch(self, **values):
        return (
            self.env["insurance.notify.batch"]
            .with_user(self.manager)
            .with_context(lang="pl_PL")  # as the web client sends it
            .create({"name": "Wznowienia", "gateway_id": self.gateway.id, **values})
        )

    def review(self, batch):
        action = batch.action_review()
        return batch.env["insurance.notify.batch.start"].browse(action["res_id"])

    def test_the_form_and_the_review_show_the_same_parts_and_cost(self):
        batch = self.batch(
            kind="bulk", target="policy_expiry", channel="sms", sms_template_id=self.template.id
        )
        self.assertTrue(batch.sms_transliterate, "the box starts as the template's")
        wizard = self.review(batch)
        # One SMS leaves (Marek has no mobile), transliterated: one GSM-7 part.
        self.assertEqual(batch.recipient_count, 2)
        self.assertEqual(wizard.message_count, 1)
        self.assertEqual(batch.sms_parts, 1)
        self.assertEqual(wizard.sms_parts, 1)
        self.assertAlmostEqual(batch.cost_estimate, 0.16)
        self.assertAlmostEqual(wizard.cost, batch.cost_estimate)
        self.assertIn("konczy sie", batch.preview)
        self.assertEqual(
            wizard.summary,
            "Wiadomości do wysłania: 1, pominięte: 1; części SMS łącznie: 1, "
            f"około 0,16 {self.gateway.currency_id.name}.",
        )
        # Unticked, the same text is UCS-2: both figures change together.
        batch.sms_transliterate = False
        wizard = self.review(batch)
        self.assertEqual((batch.sms_parts, wizard.sms_parts), (2, 2))
        self.assertAlmostEqual(batch.cost_estimate, 0.32)
        self.assertAlmostEqual(wizard.cost, 0.32)

        wizard.action_send()
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertIn("kończy się", SandboxGateway.outbox[0].body, "unticked: sent as written")

    def test_a_broadcast_transliterates_its_text_and_previews_the_opt_out_line(self):
        batch = self.batch(
            kind="broadcast",
            channel="sms",
            body=OFFICE_TEXT,
            partner_ids=[Command.set((self.client | self.no_mobile).ids)],
        )
        self.assertEqual(len(OFFICE_TEXT), 233)
        self.assertTrue(batch.opt_out_line)
        self.assertEqual(batch.sms_parts, 4, "Polish letters: UCS-2, 67 characters a part")
        self.assertTrue(batch.preview.endswith("\nSTOP na 4100"))
        batch.sms_transliterate = True
        self.assertEqual(batch.sms_parts, 2)
        self.assertAlmostEqual(batch.cost_estimate, 0.32)
        self.assertTrue(batch.preview.startswith("Szanowni Panstwo, od poniedzialku"))
        self.assertTrue(batch.preview.endswith("\nSTOP na 4100"))
        wizard = self.review(batch)
        self.assertEqual((wizard.sms_parts, wizard.cost), (2, batch.cost_estimate))

        wizard.action_send()
        self.Message._cron_dispatch()
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertEqual(SandboxGateway.outbox[0].body, batch.preview)

    def test_progress_is_zero_with_nothing_sent_and_says_it_waits_for_the_window(self):
        # 22:00 in Warsaw: outside the 08:00-20:00 sending window.
        self.set_now(warsaw(self.TODAY, 22))
        batch = self.batch(
            kind="bulk", target="policy_expiry", channel="sms", sms_template_id=self.template.id
        )
        batch.action_start()
        self.Message._cron_dispatch()
        self.assertFalse(SandboxGateway.outbox)
        batch.invalidate_recordset()
        self.assertEqual((batch.sent_count, batch.skipped_count, batch.queued_count), (0, 1, 1))
        self.assertEqual(batch.progress, 0.0, "a skipped client is not progress")
        self.assertIn("czekają na okno wysyłki", batch.waiting_note)
        self.assertIn("08:00", batch.waiting_note)

        self.set_now(warsaw(self.TODAY + timedelta(days=1), 8, 5))
        self.Message._cron_dispatch()
        batch.invalidate_recordset()
        self.assertEqual(len(SandboxGateway.outbox), 1)
        self.assertEqual(batch.progress, 100.0)
        self.assertFalse(batch.waiting_note)

    def test_the_unsaved_form_shows_the_reviews_figures(self):
        form = Form(
            self.env["insurance.notify.batch"]
            .with_user(self.manager)
            .with_context(default_kind="bulk", lang="pl_PL")
        )
        form.target = "policy_expiry"
        form.channel = "sms"
        form.gateway_id = self.gateway
        form.sms_template_id = self.template
        self.assertTrue(form.sms_transliterate, "taken from the template")
        self.assertEqual((form.recipient_count, form.sms_parts), (2, 1))
        self.assertAlmostEqual(form.cost_estimate, 0.16)
        form.sms_transliterate = False
        self.assertEqual(form.sms_parts, 2)
        self.assertAlmostEqual(form.cost_estimate, 0.32)
        batch = form.save()
        wizard = self.review(batch)
        self.assertEqual((wizard.sms_parts, wizard.cost), (2, form.cost_estimate))
