"""The dispatcher's chunk size and limits come from system parameters
(ir.config_parameter), with safe defaults: a missing or unusable value is
the default, never a stopped queue or a flood. Asserted on what the stateful
providers received."""

from datetime import timedelta

import requests

from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from ..lib.notify_engine.gateways import SmsapiGateway
from .common import warsaw
from .test_crash_and_outage import FaultCase

DISPATCH = "odoo.addons.insurance_notify.models.insurance_notify_dispatch"


class TestDispatchLimits(FaultCase):
    def setUp(self):
        super().setUp()
        self.params = self.env["ir.config_parameter"].sudo()
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        for client in self.clients(7):
            self.make_policy(7, partner_id=client.id)
        self.Rule._cron_plan()
        self.reminders = self.Message.search([("rule_id", "!=", False)])

    def test_the_defaults_hold_without_parameters(self):
        Dispatch = self.env["insurance.notify.dispatch"]
        self.assertEqual(
            [
                Dispatch._dispatch_limit(name)
                for name in ("chunk_size", "sending_timeout", "max_attempts", "outage_retry")
            ],
            [500, 15, 5, 10],
        )

    def test_a_chunk_is_as_large_as_the_parameter_says(self):
        self.params.set_param("insurance_notify.dispatch_chunk_size", "3")
        self.crash_after_provider(SmsapiGateway)
        # The crash leaves one chunk 'sending': three messages, not twenty.
        self.assertEqual(len(self.reminders.filtered(lambda m: m.state == "sending")), 3)
        self.assertEqual(len(self.smsapi.handsets), 3)

    def test_each_chunk_closes_the_connections_it_opened(self):
        self.params.set_param("insurance_notify.dispatch_chunk_size", "3")
        opened, closed = [], []
        configure, close = SmsapiGateway._configure_session, requests.Session.close

        def configure_and_count(adapter, session):
            opened.append(session)
            configure(adapter, session)

        def close_and_count(session):
            closed.append(session)
            close(session)

        self.patch(SmsapiGateway, "_configure_session", configure_and_count)
        self.patch(requests.Session, "close", close_and_count)
        self.Message._cron_dispatch()
        self.assertEqual(set(self.reminders.mapped("state")), {"sent"})
        # Seven messages in chunks of three: three sessions, each closed.
        self.assertEqual(len(opened), 3)
        self.assertEqual(closed, opened)

    def test_a_provider_outage_waits_as_long_as_the_parameter_says(self):
        self.params.set_param("insurance_notify.outage_retry_minutes", "45")
        self.smsapi.down = True
        now = warsaw(self.TODAY, 11)
        self.set_now(now)
        self.Message._cron_dispatch()
        self.assertEqual(set(self.reminders.mapped("state")), {"queued"})
        self.assertEqual(
            set(self.reminders.mapped("scheduled_at")),
            {now.replace(tzinfo=None) + timedelta(minutes=45)},
        )

    def test_an_unusable_value_is_the_default_and_says_so(self):
        Dispatch = self.env["insurance.notify.dispatch"]
        for value in ("abc", "0", "-5", "100000", "2.5"):
            with self.subTest(value=value):
                self.params.set_param("insurance_notify.dispatch_chunk_size", value)
                with self.assertLogs(DISPATCH, "WARNING") as logs:
                    self.assertEqual(Dispatch._dispatch_limit("chunk_size"), 500)
                self.assertIn("insurance_notify.dispatch_chunk_size", logs.output[0])
        # A chunk of the default size still leaves: the queue never stops on a typo.
        self.params.set_param("insurance_notify.dispatch_chunk_size", "lots")
        with mute_logger(DISPATCH):
            self.Message._cron_dispatch()
        self.assertEqual(set(self.reminders.mapped("state")), {"sent"})
        self.assertEqual(len(self.smsapi.handsets), 7)

    def test_a_paced_gateway_keeps_the_chunk_to_twenty_seconds_of_its_pace(self):
        Dispatch = self.env["insurance.notify.dispatch"]
        self.assertEqual(Dispatch._paced_chunk_limit(), 1000, "nothing paced: the highest chunk")
        admin = new_test_user(
            self.env,
            "pace_admin",
            groups="base.group_system,insurance_notify.group_insurance_manager",
        )
        # A Twilio long code sends one message a second.
        self.gw_twilio.with_user(admin).rate_per_second = 1
        self.assertEqual(Dispatch._paced_chunk_limit(), 20)
        # One message every ten seconds: chunks of two, whichever gateway they use.
        self.gw_twilio.with_user(admin).rate_per_second = 0.1
        self.crash_after_provider(SmsapiGateway)
        self.assertEqual(len(self.reminders.filtered(lambda m: m.state == "sending")), 2)
        self.assertEqual(len(self.smsapi.handsets), 2)
