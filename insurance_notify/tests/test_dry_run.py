from datetime import timedelta

from .common import NotifyCase


class TestDryRun(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gateway = cls.env.ref("insurance_notify.gateway_sandbox")
        cls.gateway.cost_per_part = 0.07
        cls.no_mobile = cls.env["res.partner"].create({"name": "Anna Bez Telefonu"})

    def dry_run(self, **values):
        wizard = self.env["insurance.notify.dry.run"].create(values)
        wizard.action_run()
        return wizard

    def test_tomorrow_lists_the_message_with_its_text_parts_and_cost(self):
        rule = self.make_rule("7")
        tomorrow = self.make_policy(8)
        self.make_policy(7)  # due today: the planner has done it already
        self.make_policy(30)  # not due tomorrow

        wizard = self.dry_run()

        self.assertEqual(wizard.day, self.TODAY + timedelta(days=1))
        self.assertRecordValues(
            wizard.line_ids,
            [
                {
                    "rule_id": rule.id,
                    "record_ref": tomorrow,
                    "partner_id": self.client.id,
                    "channel": "sms",
                    "number": "+48600123456",
                    "text": f"Policy {tomorrow.name} ends on {tomorrow.date_end}.",
                    "sms_encoding": "GSM-7",
                    "sms_parts": 1,
                    "cost": 0.07,
                    "state": "send",
                }
            ],
        )
        self.assertEqual((wizard.message_count, wizard.sms_parts), (1, 1))
        self.assertAlmostEqual(wizard.cost, 0.07)
        self.assertFalse(wizard.left_out_ids)

    def test_left_out_clients_carry_the_planners_reasons(self):
        self.make_rule("7")
        self.make_policy(8, state="cancelled")
        self.make_policy(8, partner_id=self.no_mobile.id)
        sent_by_hand = self.make_policy(8)
        self.Message._send_now(sent_by_hand, "policy_expiry")

        wizard = self.dry_run()

        self.assertFalse(wizard.line_ids)
        self.assertEqual(
            sorted(wizard.left_out_ids.mapped("reason")),
            ["already planned or sent", "no valid mobile number", "policy cancelled"],
        )
        self.assertEqual(wizard.left_out_count, 3)
        self.assertIn("policy cancelled: 1", wizard.left_out_summary)

    def test_a_dry_run_creates_no_message(self):
        rule = self.make_rule("7,1")
        self.make_policy(8)
        self.make_policy(2, state="cancelled")
        before = self.Message.search_count([])
        last_planned = rule.last_planned_date

        wizard = self.dry_run()

        self.assertEqual(len(wizard.line_ids | wizard.left_out_ids), 2)
        self.assertEqual(self.Message.search_count([]), before)
        self.assertEqual(rule.last_planned_date, last_planned)

    def test_an_sms_over_the_rules_part_limit_would_fail(self):
        self.template.body = "Polisa {{ object.name }} kończy się " + "ż" * 80
        self.make_rule("7", sms_max_parts=1)
        self.make_policy(8)

        wizard = self.dry_run()

        self.assertRecordValues(
            wizard.left_out_ids,
            [{"state": "fail", "sms_encoding": "UCS-2", "sms_parts": 2}],
        )
        self.assertIn("too long", wizard.left_out_ids.reason)

    def test_sms_else_email_shows_the_email_subject(self):
        mail_template = self.env.ref("insurance_notify.mail_template_policy_expiry")
        self.no_mobile.email = "anna@example.com"
        self.make_rule("7", channel="sms_email", mail_template_id=mail_template.id)
        policy = self.make_policy(8, partner_id=self.no_mobile.id)

        wizard = self.dry_run()

        self.assertRecordValues(
            wizard.line_ids, [{"channel": "email", "email": "anna@example.com", "cost": 0}]
        )
        self.assertIn(policy.name, wizard.line_ids.text)
        self.assertEqual(wizard.email_count, 1)

    def test_opened_from_a_rule_it_simulates_that_rule_only(self):
        rule = self.make_rule("7")
        other = self.make_rule("8")
        self.make_policy(8)
        self.make_policy(9)

        context = {"active_model": rule._name, "active_ids": rule.ids, "active_id": rule.id}
        wizard = self.env["insurance.notify.dry.run"].with_context(**context).create({})
        self.assertEqual(wizard.rule_ids, rule)
        wizard.action_run()

        self.assertEqual(wizard.line_ids.rule_id, rule)
        self.assertNotIn(other, wizard.line_ids.rule_id)
