import itertools
from datetime import timedelta

from lxml import html

from odoo.addons.mail.tests.common import MockEmail

from ..lib.notify_engine.gateways import base as gateway_errors
from .common import NotifyCase, warsaw


class TestDailyReport(NotifyCase, MockEmail):
    _keys = itertools.count(1)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("insurance_notify.daily_report_date", "")
        cls.env.company.email = "office@agency.example"
        cls.manager = cls.env["res.users"].create(
            {"name": "Maria Manager", "login": "maria", "email": "maria@agency.example"}
        )
        cls.other = cls.env["res.users"].create(
            {"name": "Olek Other", "login": "olek", "email": "olek@agency.example"}
        )
        cls.gateway = cls.env.ref("insurance_notify.gateway_sandbox")
        cls.Rule.search([("report_user_ids", "!=", False)]).report_user_ids = False
        cls.policy = cls.env["insurance.policy"].create(
            {
                "name": "POL/REPORT",
                "partner_id": cls.client.id,
                "insurer_id": cls.insurer.id,
                "product_id": cls.product.id,
                "date_start": cls.TODAY - timedelta(days=300),
                "date_end": cls.TODAY + timedelta(days=65),
                "state": "valid",
            }
        )

    def setUp(self):
        super().setUp()
        self.rule = self.make_rule("60", name="Motor ends", report_user_ids=self.manager.ids)
        self.yesterday = self.TODAY - timedelta(days=1)

    def message(
        self, rule, day, hour, state, channel="sms", reason=False, error_class=False, sandbox=False
    ):
        return self.Message.create(
            {
                "key": f"report-test-{next(self._keys)}",
                "rule_id": rule.id,
                "company_id": rule.company_id.id,
                "res_model": "insurance.policy",
                "res_id": self.policy.id,
                "partner_id": self.client.id,
                "channel": channel,
                "gateway_id": self.gateway.id,
                "scheduled_at": warsaw(day, hour),
                "state": state,
                "reason_code": reason,
                "error_class": error_class,
                "is_sandbox": sandbox,
            }
        )

    def report(self, moment):
        self.set_now(moment)
        with self.mock_mail_gateway():
            mails = self.Rule._cron_daily_report()
            mails.send()
        return mails

    def table(self, body):
        """{(rule, channel): [today, sent, delivered, sandbox, failed, skipped]} as read."""
        tree = html.fromstring(body)
        return {
            tuple(cells[:2]): [int(cell) for cell in cells[2:]]
            for cells in (
                [cell.text_content().strip() for cell in row.findall("td")]
                for row in tree.xpath("//table[hasclass('o_insurance_report_rows')]//tbody/tr")
            )
        }

    def test_the_report_counts_today_and_yesterday_per_rule_and_channel(self):
        for state in ("sent", "sent", "delivered", "failed"):
            self.message(self.rule, self.yesterday, 10, state)
        self.message(self.rule, self.yesterday, 23, "sent")  # 23:00 in Warsaw is still yesterday
        self.message(self.rule, self.yesterday, 9, "sent", channel="email")
        self.message(self.rule, self.yesterday, 0, "skipped", reason="no_sms_consent")
        self.message(self.rule, self.yesterday, 0, "skipped", reason="no_sms_consent")
        self.message(self.rule, self.yesterday, 0, "skipped", reason="policy_cancelled")
        for _ in range(3):
            self.message(self.rule, self.TODAY, 8, "queued")
        self.message(self.rule, self.TODAY - timedelta(days=2), 10, "sent")  # too old

        mails = self.report(warsaw(self.TODAY, 7, 5))

        self.assertEqual(len(mails), 1)
        self.assertSentEmail(
            self.env.company.email_formatted,
            [self.manager.email_formatted],
            subject=f"Notifications report for {self.TODAY.strftime('%m/%d/%Y')}",
        )
        body = self._mails[0]["body"]
        self.assertEqual(
            self.table(body),
            {
                ("Motor ends", "SMS"): [3, 3, 1, 0, 1, 3],
                ("Motor ends", "E-mail"): [0, 1, 0, 0, 0, 0],
            },
        )
        skipped = html.fromstring(body).xpath("//ul[hasclass('o_insurance_report_skipped')]/li")
        self.assertEqual(
            [" ".join(li.text_content().split()) for li in skipped],
            ["Motor ends: no consent to SMS (2)", "Motor ends: policy cancelled (1)"],
        )
        self.assertNotIn("Gateway problems", body)

    def test_sandbox_messages_are_counted_apart_from_sent_ones(self):
        self.message(self.rule, self.yesterday, 10, "sent")
        for _ in range(2):
            self.message(self.rule, self.yesterday, 11, "sent", sandbox=True)
        self.message(self.rule, self.yesterday, 12, "delivered", sandbox=True)

        self.report(warsaw(self.TODAY, 7))

        body = self._mails[0]["body"]
        self.assertEqual(self.table(body)[("Motor ends", "SMS")], [0, 1, 0, 3, 0, 0])
        notice = html.fromstring(body).xpath("//p[hasclass('o_insurance_report_sandbox')]")
        self.assertIn("3 of yesterday's messages", " ".join(notice[0].text_content().split()))
        self.assertIn("not sent", notice[0].text_content())

    def test_without_sandbox_messages_the_report_says_nothing_of_it(self):
        self.message(self.rule, self.yesterday, 10, "sent")
        self.report(warsaw(self.TODAY, 7))
        self.assertNotIn("o_insurance_report_sandbox", self._mails[0]["body"])

    def test_gateway_problems_of_yesterday_are_named(self):
        self.message(
            self.rule,
            self.yesterday,
            10,
            "failed",
            reason="refused",
            error_class=gateway_errors.AUTHORIZATION,
        )
        self.message(
            self.rule,
            self.yesterday,
            11,
            "failed",
            reason="refused",
            error_class="invalid_number",
        )

        self.report(warsaw(self.TODAY, 7))

        body = self._mails[0]["body"]
        problems = html.fromstring(body).xpath("//ul[hasclass('o_insurance_report_problems')]/li")
        self.assertEqual(len(problems), 1)
        self.assertIn("check the gateway's credentials", problems[0].text_content())
        self.assertIn(self.gateway.name, problems[0].text_content())
        self.assertEqual(self.table(body)[("Motor ends", "SMS")], [0, 0, 0, 0, 2, 0])

    def test_one_report_a_day_even_when_the_cron_runs_twice(self):
        self.message(self.rule, self.TODAY, 9, "queued")
        self.assertEqual(len(self.report(warsaw(self.TODAY, 7))), 1)
        self.assertFalse(self.report(warsaw(self.TODAY, 8)))
        self.assertFalse(self.report(warsaw(self.TODAY, 19)))
        self.assertEqual(len(self.report(warsaw(self.TODAY + timedelta(days=1), 7))), 1)

    def test_nothing_leaves_before_seven_in_the_morning(self):
        self.assertFalse(self.report(warsaw(self.TODAY, 6, 30)))
        self.assertEqual(len(self.report(warsaw(self.TODAY, 7, 0))), 1)

    def test_each_subscriber_gets_one_mail_about_their_own_rules(self):
        second = self.make_rule(
            "30", name="Motor ends soon", report_user_ids=(self.manager | self.other).ids
        )
        self.message(self.rule, self.TODAY, 9, "queued")
        self.message(second, self.TODAY, 9, "queued")
        self.message(second, self.TODAY, 9, "queued")

        self.assertEqual(len(self.report(warsaw(self.TODAY, 7))), 2)

        by_recipient = {mail["email_to"][0]: mail["body"] for mail in self._mails}
        self.assertEqual(
            self.table(by_recipient[self.manager.email_formatted]),
            {
                ("Motor ends", "SMS"): [1, 0, 0, 0, 0, 0],
                ("Motor ends soon", "SMS"): [2, 0, 0, 0, 0, 0],
            },
        )
        self.assertEqual(
            self.table(by_recipient[self.other.email_formatted]),
            {("Motor ends soon", "SMS"): [2, 0, 0, 0, 0, 0]},
        )
