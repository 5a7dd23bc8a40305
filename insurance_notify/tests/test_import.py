from datetime import timedelta

from odoo.tools import mute_logger

from .common import NotifyCase

POLICY_FIELDS = [
    "name",
    "partner_id",
    "insurer_id",
    "product_id",
    "date_start",
    "date_end",
    "premium_amount",
]


class TestImport(NotifyCase):
    """What the import wizard calls: load() with import_file in the context."""

    def setUp(self):
        super().setUp()
        self.Policy = self.env["insurance.policy"].with_context(import_file=True)

    def row(self, index, **changes):
        start = self.TODAY - timedelta(days=index % 300)
        values = {
            "name": f"IMP/{index:04d}",
            "partner_id": self.client.name,
            "insurer_id": self.insurer.name,
            "product_id": self.product.name,
            "date_start": start.isoformat(),
            "date_end": (start + timedelta(days=364)).isoformat(),
            "premium_amount": "1234.50",
            **changes,
        }
        return [values[field] for field in POLICY_FIELDS]

    def test_a_thousand_rows_with_bad_ones_import_the_good_and_name_the_bad(self):
        bad = {
            17: {"date_end": "31/02/2026"},
            250: {"insurer_id": "No Such Insurer SA"},
            611: {"name": "IMP/0005"},  # the number of row 5
            999: {"date_start": "tomorrow"},
        }
        rows = [self.row(index, **bad.get(index, {})) for index in range(1000)]

        result = self.Policy.load(POLICY_FIELDS, rows)

        errors = [m for m in result["messages"] if m["type"] == "error"]
        self.assertEqual({m["rows"]["from"] for m in errors}, set(bad))
        by_row = {m["rows"]["from"]: m["message"] for m in reversed(errors)}
        self.assertIn("31/02/2026", by_row[17])
        self.assertIn("No Such Insurer SA", by_row[250])
        self.assertIn("IMP/0005 already exists", by_row[611])
        self.assertIn("tomorrow", by_row[999])
        self.assertEqual(len(result["ids"]), 996)
        imported = self.env["insurance.policy"].search([("name", "=like", "IMP/%")])
        self.assertEqual(len(imported), 996)
        self.assertEqual(imported.mapped("premium_amount"), [1234.5] * 996)
        self.assertNotIn("IMP/0017", imported.mapped("name"))

    def test_a_file_without_errors_imports_every_row(self):
        result = self.Policy.load(POLICY_FIELDS, [self.row(index) for index in range(3)])
        self.assertFalse(result["messages"])
        self.assertEqual(len(result["ids"]), 3)

    def test_installments_import_with_their_policy_number(self):
        policy = self.make_policy(100, name="INST/1")
        with mute_logger("odoo.sql_db"):
            result = (
                self.env["insurance.policy.installment"]
                .with_context(import_file=True)
                .load(
                    ["policy_id", "date_due", "amount", "state", "date_paid"],
                    [
                        ["INST/1", "2026-12-01", "100", "open", ""],
                        ["INST/1", "2027-01-01", "100", "paid", "2026-12-20"],
                        ["INST/404", "2027-02-01", "100", "open", ""],
                        ["INST/1", "2027-03-01", "-5", "open", ""],
                    ],
                )
            )
        errors = sorted(
            (m["rows"]["from"], m["message"]) for m in result["messages"] if m["type"] == "error"
        )
        self.assertEqual({row for row, _message in errors}, {2, 3})
        self.assertIn("No matching record found for name 'INST/404'", str(errors))
        self.assertIn("must be positive", errors[-1][1])
        self.assertEqual(policy.installment_ids.mapped("state"), ["open", "paid"])

    def test_outside_the_import_wizard_load_stays_all_or_nothing(self):
        result = self.env["insurance.policy"].load(
            POLICY_FIELDS, [self.row(1), self.row(2, insurer_id="Nobody")]
        )
        self.assertFalse(result["ids"])
        self.assertFalse(self.env["insurance.policy"].search([("name", "=like", "IMP/%")]))
