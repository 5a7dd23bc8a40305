from datetime import date, timedelta

from odoo.exceptions import UserError

from .common import NotifyCase


class TestInstallments(NotifyCase):
    def make_installment_message(self, installment):
        return self.Message.create(
            {
                "key": f"test-installment-{installment.id}",
                "company_id": installment.company_id.id,
                "res_model": installment._name,
                "res_id": installment.id,
                "partner_id": installment.partner_id.id,
                "channel": "sms",
                "scheduled_at": self.now,
            }
        )

    def test_a_schedule_splits_the_premium_into_equal_installments(self):
        policy = self.make_policy(
            300, date_start=date(2026, 1, 15), date_end=date(2027, 1, 14), premium_amount=1000
        )
        for count, months in ((1, 12), (2, 6), (4, 3), (12, 1)):
            with self.subTest(count=count):
                policy.installment_count = str(count)
                policy.action_generate_installments()
                installments = policy.installment_ids
                self.assertEqual(len(installments), count)
                self.assertAlmostEqual(sum(installments.mapped("amount")), 1000)
                self.assertEqual(
                    installments.mapped("date_due"),
                    [date(2026, 1 + months * index, 15) for index in range(count)],
                )
        # 1000 / 12 does not divide: the last installment takes the cents left.
        self.assertEqual(policy.installment_ids.mapped("amount"), [83.33] * 11 + [83.37])

    def test_a_schedule_with_paid_installments_is_not_regenerated(self):
        policy = self.make_policy(300, premium_amount=400)
        policy.installment_count = "2"
        policy.action_generate_installments()
        policy.installment_ids[0].action_mark_paid()
        with self.assertRaisesRegex(UserError, "already has paid installments"):
            policy.action_generate_installments()
        self.assertEqual(len(policy.installment_ids), 2)
        with self.assertRaisesRegex(UserError, "1, 2, 4 or 12"):
            policy._generate_installments(3)

    def test_overdue_is_open_and_past_due_and_searchable(self):
        policy = self.make_policy(300, premium_amount=300)
        Installment = self.env["insurance.policy.installment"]
        past, future, paid = Installment.create(
            [
                {"policy_id": policy.id, "date_due": self.TODAY - timedelta(days=3), "amount": 100},
                {"policy_id": policy.id, "date_due": self.TODAY + timedelta(days=3), "amount": 100},
                {"policy_id": policy.id, "date_due": self.TODAY - timedelta(days=9), "amount": 100},
            ]
        )
        paid.action_mark_paid()
        self.assertEqual(
            (past.is_overdue, future.is_overdue, paid.is_overdue), (True, False, False)
        )
        mine = [("policy_id", "=", policy.id)]
        self.assertEqual(Installment.search([*mine, ("is_overdue", "=", True)]), past)
        self.assertEqual(Installment.search([*mine, ("is_overdue", "=", False)]), future | paid)
        overdue_policies = self.env["insurance.policy"].search(
            [("installment_ids.is_overdue", "=", True), ("id", "=", policy.id)]
        )
        self.assertEqual(overdue_policies, policy)

    def test_paying_cancels_the_installments_queued_reminders(self):
        policy = self.make_policy(300, premium_amount=200)
        first, second = policy._generate_installments(2)
        first_message = self.make_installment_message(first)
        second_message = self.make_installment_message(second)

        first.action_mark_paid()

        self.assertEqual(first.state, "paid")
        self.assertTrue(first.date_paid)
        self.assertEqual(first_message.state, "cancelled")
        self.assertEqual(first_message.reason, "installment paid")
        self.assertEqual(second_message.state, "queued")
        self.assertEqual(policy.installment_open_count, 1)

    def test_an_installment_is_paid_once(self):
        policy = self.make_policy(300, premium_amount=200)
        installment = policy._generate_installments(1)
        installment.action_mark_paid()
        with self.assertRaisesRegex(UserError, "Only open installments"):
            installment.action_mark_paid()
        installment.action_reopen()
        self.assertEqual((installment.state, installment.date_paid), ("open", False))
        with self.assertRaisesRegex(UserError, "Only paid installments"):
            installment.action_reopen()

    def test_installments_of_a_cancelled_policy_cannot_be_planned(self):
        policy = self.make_policy(300, premium_amount=200, state="cancelled")
        with self.assertRaisesRegex(UserError, "only for draft or valid policies"):
            policy._generate_installments(2)
