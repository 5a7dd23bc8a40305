"""Many personalised SMS in one SMSAPI request, as the client's phones see it."""

from odoo.tests.common import new_test_user

from .sim_providers import StatefulCase


class TestSmsapiBatches(StatefulCase):
    def setUp(self):
        super().setUp()
        self.broker = new_test_user(
            self.env, "batch_broker", groups="insurance_notify.group_insurance_user"
        )
        self.template.body = (
            "Dzień dobry {{ object.partner_id.name }}, polisa {{ object.name }} "
            "kończy się {{ object.date_end }}."
        )
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        clients = self.env["res.partner"].create(
            [
                {
                    "name": f"Klient {index}",
                    "mobile": f"+48 601 000 {100 + index}",
                    "country_id": self.env.ref("base.pl").id,
                    "tz": "Europe/Warsaw",
                    "lang": "pl_PL",
                }
                for index in range(45)
            ]
        )
        self.policies = self.env["insurance.policy"]
        for client in clients:
            self.policies |= self.make_policy(7, partner_id=client.id).with_user(self.broker)

    def test_one_request_carries_a_chunk_and_each_phone_gets_its_own_text(self):
        self.Rule._cron_plan()
        self.Message._cron_dispatch()

        messages = self.Message.search([("rule_id", "!=", False)])
        self.assertEqual(len(messages), 45)
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        # The 45 fit one chunk (500 by default) and one request (up to 500).
        self.assertEqual(self.smsapi.requests, 1)
        by_number = {handset.number: handset.body for handset in self.smsapi.handsets}
        self.assertEqual(len(self.smsapi.handsets), 45, "one SMS per phone")
        for policy in self.policies:
            body = by_number[policy.partner_id.mobile.replace(" ", "")]
            self.assertIn(f"Dzień dobry {policy.partner_id.name}, polisa {policy.name} ", body)
        # Each message keeps the provider id its own recipient got.
        self.assertEqual(len(set(messages.mapped("provider_ref"))), 45)


class TestTwilioThroughput(StatefulCase):
    def test_the_gateways_throughput_reaches_its_adapter_and_bad_values_are_refused(self):
        self.env.ref("base.lang_pl").active = True
        admin = new_test_user(
            self.env,
            "throughput_admin",
            groups="base.group_system,insurance_notify.group_insurance_manager",
        )
        gateway = self.gw_twilio.with_user(admin).with_context(lang="pl_PL")
        gateway.write({"parallel_requests": 5, "rate_per_second": 20})
        adapter = gateway._make_adapter()
        self.assertEqual((adapter.concurrency, adapter.rate), (5, 20.0))
        adapter.close()
        with self.assertRaisesRegex(Exception, "od 1 do 100"):
            gateway.write({"parallel_requests": 0})

    def test_a_twilio_chunk_goes_out_concurrently_once_per_phone(self):
        self.gw_twilio.write({"parallel_requests": 4, "rate_per_second": 200})
        self.make_rule("7", gateway_id=self.gw_twilio.id)
        clients = self.env["res.partner"].create(
            [
                {
                    "name": f"Klientas {index}",
                    "mobile": f"+370 612 00{100 + index}",
                    "country_id": self.env.ref("base.lt").id,
                    "tz": "Europe/Vilnius",
                    "lang": "lt_LT",
                }
                for index in range(30)
            ]
        )
        for client in clients:
            self.make_policy(7, partner_id=client.id)
        self.Rule._cron_plan()
        self.Message._cron_dispatch()
        numbers = [handset.number for handset in self.twilio.handsets]
        self.assertEqual(len(numbers), 30)
        self.assertEqual(len(set(numbers)), 30, "a phone got the same SMS twice")
