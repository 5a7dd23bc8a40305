"""Entry edges (issue 16, item 5): numbers read in the right country, landlines
refused for SMS, sane bounds on amounts, dates and lengths — at entry and at
import, in the user's language — and imports that keep the good rows and name
the bad row as the spreadsheet numbers it."""

from datetime import date, timedelta

from odoo.exceptions import ValidationError
from odoo.tests import Form
from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase

POLICY_FIELDS = ["name", "partner_id", "insurer_id", "product_id", "date_start", "date_end"]


class EdgeCase(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pl = cls.env.ref("base.pl")
        cls.lt = cls.env.ref("base.lt")
        cls.env.company.country_id = cls.pl
        cls.broker = new_test_user(
            cls.env,
            login="edges_broker",
            groups="insurance_notify.group_insurance_user,base.group_partner_manager",
        )
        cls.Clients = (
            cls.env["res.partner"].with_user(cls.broker).with_context(insurance_client=True)
        )


class TestNumbersReadInTheClientsCountry(EdgeCase):
    def test_a_lithuanian_number_of_a_lithuanian_client_in_the_polish_agency(self):
        client = self.Clients.create(
            {"name": "Jonas", "mobile": "8 686 88960", "country_id": self.lt.id}
        )
        self.assertEqual(client.mobile, "+37068688960")

    def test_without_a_country_it_is_no_polish_landline_but_refused_with_a_hint(self):
        # Read in the company's country it is a landline of Łomża: refused, and
        # the message says in which country the digits make a mobile.
        self.env["res.company"].create({"name": "Vilnius", "country_id": self.lt.id})
        with self.assertRaisesRegex(
            ValidationError, r"“8 686 88960” is not a mobile number in Poland.*Lithuania"
        ):
            self.Clients.create({"name": "Jonas", "mobile": "8 686 88960"})
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Jonas")]))

    def test_a_landline_is_refused_as_a_mobile(self):
        for raw in ("22 123 45 67", "+48 22 123 45 67"):
            with self.subTest(raw=raw), self.assertRaisesRegex(ValidationError, "not a mobile"):
                self.Clients.create({"name": "Office", "mobile": raw, "country_id": self.pl.id})
        client = self.Clients.create({"name": "Ok", "mobile": "600 999 888"})
        with self.assertRaisesRegex(ValidationError, "landline"):
            client.write({"mobile": "22 123 45 67"})

    def test_the_form_reads_the_number_again_when_the_country_is_chosen_after_it(self):
        form = Form(self.Clients)
        form.name = "Jonas"
        form.mobile = "8 686 88960"
        # Not a mobile in Poland: left as typed, not turned into +48 86 868 89 60.
        self.assertEqual(form.mobile, "8 686 88960")
        form.country_id = self.lt
        self.assertEqual(form.mobile, "+370 686 88960")
        self.assertEqual(form.save().mobile, "+37068688960")

    def test_a_landline_on_the_card_gets_no_sms_and_says_why(self):
        landline = self.env["res.partner"].create(
            {"name": "Landline Only", "phone": "+48 22 123 45 67", "country_id": self.pl.id}
        )
        self.assertEqual(landline.phone_sanitized, "+48221234567")
        self.make_rule(offsets="7")
        policy = self.make_policy(7, partner_id=landline.id)
        # Left out when planned (the dispatcher checks again at send time).
        self.Rule._cron_plan()
        message = self.messages_of(policy)
        self.assertEqual((message.state, message.reason_code), ("skipped", "not_mobile"))
        self.Message._cron_dispatch()
        self.assertFalse(SandboxGateway.outbox)


class TestBounds(EdgeCase):
    def policy_vals(self, **values):
        return {
            "name": "B/1",
            "partner_id": self.client.id,
            "insurer_id": self.insurer.id,
            "product_id": self.product.id,
            "date_start": self.TODAY,
            "date_end": self.TODAY + timedelta(days=364),
            **values,
        }

    def test_absurd_premiums_are_refused_not_overflowing(self):
        Policy = self.env["insurance.policy"].with_user(self.broker)
        for premium, text in (
            (1e308, "too large"),
            (1e23, "too large"),
            (float("nan"), "must be a number"),
            (float("inf"), "must be a number"),
        ):
            with self.subTest(premium=premium), self.assertRaisesRegex(ValidationError, text):
                Policy.create(self.policy_vals(premium_amount=premium))
        policy = Policy.create(self.policy_vals(premium_amount=1234.5))
        with self.assertRaisesRegex(ValidationError, "too large"):
            policy.write({"premium_amount": 1e308})
        self.assertEqual(policy.premium_amount, 1234.5)

    def test_a_policy_number_has_a_length_limit(self):
        with self.assertRaisesRegex(ValidationError, "too long"):
            self.env["insurance.policy"].create(self.policy_vals(name="X" * 10_000))

    def test_an_end_date_of_9999_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "too far ahead"):
            self.env["insurance.policy"].create(self.policy_vals(date_end=date(9999, 12, 31)))
        policy = self.env["insurance.policy"].create(self.policy_vals())
        with self.assertRaisesRegex(ValidationError, "too far ahead"):
            policy.write({"inspection_date": "9999-12-31"})

    def test_an_end_before_the_start_is_refused_naming_the_policy(self):
        with self.assertRaisesRegex(ValidationError, r"cannot end before it starts. \(B/1\)"):
            self.env["insurance.policy"].create(
                self.policy_vals(date_end=self.TODAY - timedelta(days=1))
            )

    def test_installment_amounts_and_dates_are_bounded(self):
        policy = self.env["insurance.policy"].create(self.policy_vals())
        Installment = self.env["insurance.policy.installment"]
        with self.assertRaisesRegex(ValidationError, "too large"):
            Installment.create({"policy_id": policy.id, "date_due": self.TODAY, "amount": 1e308})
        with self.assertRaisesRegex(ValidationError, "too far ahead"):
            Installment.create({"policy_id": policy.id, "date_due": "9999-12-31", "amount": 10})

    def test_a_birth_date_in_the_future_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be in the future"):
            self.Clients.create({"name": "Not Born", "birthdate": date(2090, 1, 1)})
        with self.assertRaisesRegex(ValidationError, "too far in the past"):
            self.client.write({"birthdate": date(1850, 1, 1)})


class TestImportEdges(EdgeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"].search([("name", "=", "insurance_notify")])._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )

    def row(self, index, **changes):
        values = {
            "name": f"EDGE/{index}",
            "partner_id": self.client.name,
            "insurer_id": self.insurer.name,
            "product_id": self.product.name,
            "date_start": "2026-01-01",
            "date_end": "2026-12-31",
            "premium_amount": "100",
            **changes,
        }
        return [values[field] for field in [*POLICY_FIELDS, "premium_amount"]]

    def test_a_policy_import_keeps_the_good_rows_and_names_each_bad_one(self):
        rows = [
            self.row(0),
            self.row(1, premium_amount="1e308"),
            self.row(2, premium_amount="nan"),
            self.row(3, date_end="9999-12-31"),
            self.row(4, name="X" * 10_000),
            self.row(5, date_end="2025-12-31"),
            self.row(6),
        ]
        with mute_logger("odoo.sql_db"):
            result = (
                self.env["insurance.policy"]
                .with_user(self.broker)
                .with_context(import_file=True)
                .load([*POLICY_FIELDS, "premium_amount"], rows)
            )
        errors = {m["record"]: m["message"] for m in result["messages"] if m["type"] == "error"}
        self.assertEqual(set(errors), {1, 2, 3, 4, 5})
        self.assertIn("too large", errors[1])
        self.assertIn("must be a number", errors[2])
        self.assertIn("too far ahead", errors[3])
        self.assertIn("too long", errors[4])
        self.assertIn("cannot end before it starts", errors[5])
        self.assertEqual(len(result["ids"]), 2)
        self.assertEqual(
            self.env["insurance.policy"].browse(result["ids"]).mapped("name"), ["EDGE/0", "EDGE/6"]
        )

    def test_a_polish_import_says_a_policy_cannot_end_before_it_starts_in_polish(self):
        self.broker.lang = "pl_PL"
        with mute_logger("odoo.sql_db"):
            result = (
                self.env["insurance.policy"]
                .with_user(self.broker)
                .with_context(import_file=True, lang="pl_PL")
                .load(
                    [*POLICY_FIELDS, "premium_amount"],
                    [self.row(0), self.row(1, date_end="2025-06-30")],
                )
            )
        errors = [m for m in result["messages"] if m["type"] == "error"]
        self.assertEqual([m["record"] for m in errors], [1])
        self.assertIn("Polisa nie może kończyć się przed datą rozpoczęcia.", errors[0]["message"])
        self.assertEqual(len(result["ids"]), 1)

    def test_the_client_import_keeps_the_good_rows_and_names_the_line_of_the_file(self):
        csv = (
            "name,mobile,birthdate\n"  # line 1
            "Anna Good,600 100 200,1980-05-01\n"  # line 2
            "Bad Birth,600 100 201,2090-01-01\n"  # line 3
            "Landline,22 123 45 67,\n"  # line 4
            "Piotr Good,600 100 203,\n"  # line 5
        )
        importer = (
            self.env["base_import.import"]
            .with_user(self.broker)
            .with_context(insurance_client=True)
            .create(
                {
                    "res_model": "res.partner",
                    "file": csv.encode(),
                    "file_type": "text/csv",
                }
            )
        )
        with mute_logger("odoo.sql_db"):
            result = importer.execute_import(
                ["name", "mobile", "birthdate"],
                ["name", "mobile", "birthdate"],
                {
                    "has_headers": True,
                    "quoting": '"',
                    "separator": ",",
                    "date_format": "%Y-%m-%d",
                },
            )
        errors = {m["record"]: m["message"] for m in result["messages"] if m["type"] == "error"}
        self.assertEqual(set(errors), {3, 4}, result["messages"])
        self.assertIn("cannot be in the future", errors[3])
        self.assertIn("not a mobile", errors[4])
        imported = self.env["res.partner"].browse(result["ids"])
        self.assertEqual(imported.mapped("name"), ["Anna Good", "Piotr Good"])
        self.assertEqual(imported.mapped("mobile"), ["+48600100200", "+48600100203"])

    def test_refusals_read_in_polish(self):
        with self.assertRaisesRegex(ValidationError, "za duż|zbyt duż"):
            self.env["insurance.policy"].with_context(lang="pl_PL").create(
                {
                    "name": "PL/1",
                    "partner_id": self.client.id,
                    "insurer_id": self.insurer.id,
                    "product_id": self.product.id,
                    "premium_amount": 1e23,
                }
            )
