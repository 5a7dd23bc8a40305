from datetime import date, timedelta

from psycopg2.errors import UniqueViolation

from odoo.exceptions import UserError, ValidationError
from odoo.tools import mute_logger

from .common import NotifyCase


class TestPolicy(NotifyCase):
    def test_a_number_is_unique_within_a_company_only(self):
        self.make_policy(30, name="PL/1")
        with self.assertRaisesRegex(ValidationError, "PL/1 already exists"):
            self.make_policy(60, name="PL/1")
        with self.assertRaisesRegex(ValidationError, "PL/2 already exists"):
            self.env["insurance.policy"].create(
                [self.make_policy(61, name="PL/2").copy_data()[0] | {"name": "PL/2"}]
            )
        # The unique index stays the guard against concurrent transactions.
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(UniqueViolation),
            self.cr.savepoint(),
        ):
            self.patch(
                type(self.env["insurance.policy"]), "_check_numbers_free", lambda *a, **k: None
            )
            self.make_policy(60, name="PL/1")
        other = self.env["res.company"].create({"name": "Other Agency"})
        policy = self.make_policy(60, name="PL/1", company_id=other.id)
        self.assertEqual(policy.company_id, other)

    def test_the_display_falls_back_to_the_product_without_an_insured_object(self):
        car = self.make_policy(30, subject="Toyota Corolla WA 12345")
        bare = self.make_policy(31)
        self.assertEqual(car.display_name, f"{car.name} (Toyota Corolla WA 12345)")
        self.assertEqual(bare.display_name, f"{bare.name} (Motor)")
        self.assertEqual(bare.subject_display, "Motor")

    def test_only_insurers_issue_policies(self):
        with self.assertRaisesRegex(ValidationError, "is not an insurer"):
            self.make_policy(30, insurer_id=self.client.id)

    def test_a_policy_cannot_end_before_it_starts(self):
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(Exception),  # noqa: B017 - psycopg2 CheckViolation
            self.cr.savepoint(),
        ):
            self.make_policy(30, date_start=self.TODAY, date_end=self.TODAY - timedelta(days=1))

    def test_states_move_only_along_the_buttons(self):
        policy = self.make_policy(30, state="draft")
        policy.action_validate()
        self.assertEqual(policy.state, "valid")
        with self.assertRaisesRegex(UserError, "Only draft policies can be validated"):
            policy.action_validate()
        with self.assertRaisesRegex(UserError, "Only cancelled policies"):
            policy.action_draft()
        policy.action_cancel()
        self.assertEqual(policy.state, "cancelled")
        with self.assertRaisesRegex(UserError, "Only valid or expired policies can be renewed"):
            policy.action_renew()
        with self.assertRaisesRegex(UserError, "Only draft or valid policies can be cancelled"):
            policy.action_cancel()
        policy.action_draft()
        self.assertEqual(policy.state, "draft")

    def test_renewing_creates_the_next_period_and_closes_this_one(self):
        policy = self.make_policy(
            7,
            date_start=date(2025, 12, 1),
            date_end=date(2026, 11, 30),
            subject="Skoda Octavia",
            vehicle_plate="KR 7F421",
            premium_amount=1200,
        )
        self.make_rule("7")
        self.Rule._cron_plan()
        queued = self.messages_of(policy)
        self.assertEqual(queued.state, "queued")

        action = policy.action_renew()

        successor = policy.successor_ids
        self.assertEqual(action["res_id"], successor.id)
        self.assertEqual(policy.state, "renewed")
        self.assertEqual(queued.state, "cancelled")
        self.assertEqual(queued.reason, "policy renewed")
        self.assertRecordValues(
            successor,
            [
                {
                    "state": "draft",
                    "predecessor_id": policy.id,
                    "date_start": date(2026, 12, 1),
                    "date_end": date(2027, 11, 30),
                    "partner_id": policy.partner_id.id,
                    "insurer_id": policy.insurer_id.id,
                    "product_id": policy.product_id.id,
                    "subject": "Skoda Octavia",
                    "vehicle_plate": "KR 7F421",
                    "premium_amount": 1200,
                }
            ],
        )
        with self.assertRaisesRegex(UserError, "Only valid or expired policies can be renewed"):
            policy.action_renew()

    def test_a_year_from_a_leap_day_stays_a_year(self):
        policy = self.make_policy(
            7, date_start=date(2027, 3, 1), date_end=date(2028, 2, 29), name="LEAP"
        )
        start, end = policy._next_period()
        self.assertEqual((start, end), (date(2028, 3, 1), date(2029, 2, 28)))
        short = self.make_policy(
            7, date_start=date(2026, 6, 1), date_end=date(2026, 6, 10), name="SHORT"
        )
        self.assertEqual(short._next_period(), (date(2026, 6, 11), date(2026, 6, 20)))

    def test_the_daily_cron_expires_valid_policies_past_their_end(self):
        ended = self.make_policy(-1, name="ENDED")
        ends_today = self.make_policy(0, name="TODAY")
        draft = self.make_policy(-5, state="draft", name="DRAFT")
        self.env["insurance.policy"]._cron_expire(batch_size=1)
        self.assertEqual(ended.state, "expired")
        self.assertEqual(ends_today.state, "valid")
        self.assertEqual(draft.state, "draft")
        ended.action_renew()
        self.assertEqual(ended.state, "renewed")
