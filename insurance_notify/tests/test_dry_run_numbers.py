from odoo import Command
from odoo.tests import new_test_user

from .common import NotifyCase


class TestDryRunNumbers(NotifyCase):
    """The dry run inserts its lines in one statement and compiles each
    placeholder once: what a broker reads (lines, texts, parts, costs, reasons)
    must be what the dispatcher would send, record by record."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["insurance_notify"], ["pl_PL"], overwrite=True
        )
        main = cls.env.ref("base.main_company")
        cls.broker = new_test_user(
            cls.env,
            login="dry_run_broker_pl",
            name="Piotr Agent",
            lang="pl_PL",
            tz="Europe/Warsaw",
            company_id=main.id,
            company_ids=[Command.set(main.ids)],
            groups="base.group_user,insurance_notify.group_insurance_user",
        )
        gateway = cls.env["insurance.notify.gateway"].sudo()._default_for_company(main)
        gateway.write({"cost_per_part": 0.16})
        cls.client.lang = "pl_PL"
        cls.no_mobile = cls.env["res.partner"].create({"name": "Anna Bez Telefonu"})
        # Values differ per record: a cached compile must not reuse one's text.
        # In the client's language, as the shipped templates are.
        cls.template.lang = "{{ object.partner_id.lang }}"
        cls.template.body = (
            "Polisa {{ object.name }} kończy się {{ format_date(object.date_end) }}; "
            "składka {{ format_amount(object.premium_amount, object.currency_id) }}."
            "{{ ' Dziękujemy za zaufanie, zespół biura.' * (object.premium_amount > 500) }}"
        )
        cls.rule = cls.make_rule(cls, "7", sms_max_parts=1)
        cls.short = cls.make_policy(cls, 8, premium_amount=120)
        cls.long_one = cls.make_policy(cls, 8, premium_amount=900)
        cls.make_policy(cls, 8, state="cancelled")
        cls.make_policy(cls, 8, partner_id=cls.no_mobile.id)
        cls.planned = cls.make_policy(cls, 8, premium_amount=130)

    def test_a_broker_reads_the_dispatchers_texts_parts_costs_and_reasons_in_polish(self):
        self.Message._send_now(self.planned, "policy_expiry")
        # As the web client calls it: the broker's language in the context.
        Wizard = self.env["insurance.notify.dry.run"].with_user(self.broker)
        wizard = Wizard.with_context(lang=self.broker.lang).create({})
        wizard.action_run()

        lines = wizard.line_ids | wizard.left_out_ids
        self.assertEqual(len(lines), 5)
        # Each text as the dispatcher renders it, one record at a time.
        for line in lines.filtered("text"):
            alone = self.template._render_field("body", [line.record_ref.id], compute_lang=True)
            self.assertEqual(line.text, alone[line.record_ref.id])
        short = wizard.line_ids
        self.assertEqual(short.record_ref, self.short)
        self.assertIn(f"Polisa {self.short.name} kończy się", short.text)
        self.assertNotIn("Dziękujemy", short.text)
        self.assertRecordValues(short, [{"state": "send", "sms_parts": 1, "channel": "sms"}])
        self.assertAlmostEqual(short.cost, 0.16)
        self.assertEqual((wizard.message_count, wizard.sms_count, wizard.sms_parts), (1, 1, 1))
        self.assertAlmostEqual(wizard.cost, 0.16)
        self.assertEqual(wizard.left_out_count, 4)
        too_long = wizard.left_out_ids.filtered(lambda line: line.record_ref == self.long_one)
        self.assertRecordValues(too_long, [{"state": "fail", "sms_parts": 2}])
        self.assertIn("Dziękujemy", too_long.text)
        self.assertEqual(
            sorted(
                wizard.left_out_ids.filtered(lambda line: line.state != "fail").mapped("reason")
            ),
            [
                "brak prawidłowego numeru telefonu komórkowego",
                "już zaplanowane lub wysłane",
                "polisa anulowana",
            ],
        )
        self.assertIn("polisa anulowana: 1", wizard.left_out_summary)
