"""Faults, as a running office meets them: a worker dying between the
provider's work and its own commit, a provider down for hours, a gateway
saved without credentials, a bug in the middle of a chunk. Asserted on what
the client's phone received (the stateful loopback providers)."""

import contextlib
from datetime import timedelta

from lxml import html

from odoo.exceptions import AccessError
from odoo.tests.common import new_test_user

from ..lib.notify_engine.gateways import SmsapiGateway, TwilioGateway
from .common import warsaw
from .sim_providers import StatefulCase
from .sms_common import TOKEN


class WorkerDied(BaseException):
    """A crash no code of ours catches (the process is gone)."""


class FaultCase(StatefulCase):
    def clients(self, count):
        return self.env["res.partner"].create(
            [
                {
                    "name": f"Klient {index}",
                    "mobile": f"+48 601 000 {100 + index}",
                    "country_id": self.env.ref("base.pl").id,
                    "tz": "Europe/Warsaw",
                }
                for index in range(count)
            ]
        )

    def crash_after_provider(self, adapter_class):
        original = adapter_class.send

        def send_then_die(adapter, messages):
            original(adapter, messages)
            raise WorkerDied

        self.patch(adapter_class, "send", send_then_die)
        with contextlib.suppress(WorkerDied):
            self.Message._cron_dispatch()
        self.patch(adapter_class, "send", original)


class TestCrashes(FaultCase):
    def test_smsapi_a_crash_after_the_provider_took_the_chunk_sends_nothing_twice(self):
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        for client in self.clients(25):
            self.make_policy(7, partner_id=client.id)
        self.Rule._cron_plan()
        # Chunks of twenty: the crash comes in the second one.
        self.env["ir.config_parameter"].sudo().set_param(
            "insurance_notify.dispatch_chunk_size", "20"
        )

        self.crash_after_provider(SmsapiGateway)
        # At most one chunk is left 'sending'; the chunk before it is sent.
        sending = self.Message.search([("state", "=", "sending")])
        self.assertLessEqual(len(sending), 20)
        self.assertEqual(len(self.smsapi.handsets), len(sending))

        self.set_now(self.now + timedelta(minutes=20))
        self.Message._cron_dispatch()
        messages = self.Message.search([("rule_id", "!=", False)])
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        numbers = [handset.number for handset in self.smsapi.handsets]
        self.assertEqual(len(numbers), 25)
        self.assertEqual(len(set(numbers)), 25, "a client's phone got the same SMS twice")

    def test_twilio_a_crash_is_looked_up_at_twilio_before_anything_is_resent(self):
        self.make_rule("7", gateway_id=self.gw_twilio.id)
        for client in self.clients(25):
            self.make_policy(7, partner_id=client.id)
        self.Rule._cron_plan()

        self.crash_after_provider(TwilioGateway)
        sending = self.Message.search([("state", "=", "sending")])
        self.assertTrue(sending)
        self.assertEqual(len(self.twilio.handsets), len(sending))

        self.set_now(self.now + timedelta(minutes=20))
        self.Message._cron_dispatch()
        messages = self.Message.search([("rule_id", "!=", False)])
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        numbers = [handset.number for handset in self.twilio.handsets]
        self.assertEqual(len(numbers), 25)
        self.assertEqual(len(set(numbers)), 25, "a client's phone got the same SMS twice")
        # The adopted messages carry Twilio's ids, so delivery reports find them.
        self.assertEqual(
            set(messages.mapped("provider_ref")), {h.ref for h in self.twilio.handsets}
        )


class TestOutage(FaultCase):
    def test_three_hours_down_loses_nothing_and_spends_no_attempt(self):
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        for client in self.clients(30):
            self.make_policy(7, partner_id=client.id)
        self.Rule._cron_plan()
        self.smsapi.down = True
        for minutes in range(0, 180, 10):
            self.set_now(warsaw(self.TODAY, 9) + timedelta(minutes=minutes))
            requests_before = len(self.smsapi.received)
            self.Message._cron_dispatch()
            # A dead provider costs one request a run, not one per message.
            self.assertLessEqual(len(self.smsapi.received) - requests_before, 1)
        messages = self.Message.search([("rule_id", "!=", False)])
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertEqual(set(messages.mapped("attempts")), {0})
        self.assertEqual(set(messages.mapped("reason_code")), {"provider_down"})
        self.assertTrue(self.gw_smsapi.outage_since)

        self.smsapi.down = False
        self.set_now(warsaw(self.TODAY, 12, 5))
        self.Message._cron_dispatch()
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        self.assertEqual(set(messages.mapped("reason_code")), {"late_outage"})
        self.assertEqual(len(self.smsapi.handsets), 30)
        self.assertEqual(len({h.number for h in self.smsapi.handsets}), 30)
        self.assertFalse(self.gw_smsapi.outage_since)
        self.assertTrue(self.gw_smsapi.last_outage_end)

        # The next morning's report names the outage and what waited for it.
        manager = new_test_user(
            self.env,
            login="outage_manager",
            email="manager@broker.example",
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )
        self.Rule.search([]).write({"report_user_ids": [(4, manager.id)]})
        self.set_now(warsaw(self.TODAY + timedelta(days=1), 7, 5))
        [mail] = self.Rule._cron_daily_report()
        text = " ".join(html.fromstring(mail.body_html).text_content().split())
        self.assertIn("SMSAPI: unavailable from 10:00 to 12:05; 30 messages waited for it.", text)

    def test_down_past_the_gateways_limit_fails_with_the_reason(self):
        self.gw_smsapi.max_delay_hours = 2
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        policy = self.make_policy(7)
        self.Rule._cron_plan()
        self.smsapi.down = True
        self.set_now(warsaw(self.TODAY, 9))
        self.Message._cron_dispatch()
        self.set_now(warsaw(self.TODAY, 12, 30))
        self.Message._cron_dispatch()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "failed")
        self.assertEqual(
            message.reason,
            "not sent in time: the SMS provider was unavailable for over 2 hours",
        )
        self.assertFalse(self.smsapi.handsets)

    def test_a_gateway_without_credentials_fails_its_messages_with_the_reason(self):
        self.gw_smsapi.smsapi_token = False
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        policy = self.make_policy(7)
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "failed")
        self.assertIn("the SMS gateway is not set up", message.reason)
        self.assertIn("has no SMSAPI token", message.reason)
        self.assertFalse(self.Message.search([("state", "=", "sending")]))

    def test_an_unexpected_error_requeues_the_chunk_and_leaves_nothing_sending(self):
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        policy = self.make_policy(7)
        self.Rule._cron_plan()

        def broken(groups, now):
            raise ValueError("a bug")

        self.patch(type(self.Message), "_send_groups", broken)
        self.Message._cron_dispatch()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.reason_code, "internal_error")
        self.assertFalse(self.Message.search([("state", "=", "sending")]))


class TestRetry(FaultCase):
    def test_a_manager_sends_a_failed_message_again_a_broker_cannot(self):
        broker = new_test_user(
            self.env,
            login="retry_broker",
            groups="base.group_user,insurance_notify.group_insurance_user",
        )
        manager = new_test_user(
            self.env,
            login="retry_manager",
            groups="base.group_user,insurance_notify.group_insurance_manager",
        )
        self.gw_smsapi.smsapi_token = False
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        policy = self.make_policy(7)
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual(message.state, "failed")
        with self.assertRaises(AccessError):
            message.with_user(broker).action_retry()

        self.gw_smsapi.smsapi_token = TOKEN
        message.with_user(manager).action_retry()
        self.assertEqual(message.state, "queued")
        self.assertIn(manager.name, message.reason)
        self.Message._cron_dispatch()
        self.assertEqual(message.state, "sent")
        self.assertEqual([h.number for h in self.smsapi.handsets], ["+48600123456"])
