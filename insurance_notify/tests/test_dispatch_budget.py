"""The dispatcher keeps to the cron's time limit: a big bulk send leaves over
several calls of the cron, each ending in time, instead of one run the
server's watchdog kills in the middle of a chunk. Odoo's cron runner is
played as ``ir.cron._run_job`` does it (call again while remaining work is
reported, at most MAX_BATCH_PER_CRON_JOB times a pass), on a simulated clock
where every provider request takes seconds."""

from collections import Counter
from datetime import timedelta
from unittest.mock import patch

from odoo.tools import config

from odoo.addons.base.models.ir_cron import MAX_BATCH_PER_CRON_JOB

from ..lib.notify_engine.gateways import SandboxGateway
from .test_bulk import BulkCase

RECIPIENTS = 300
SECONDS_PER_REQUEST = 4.0
LIMIT = 60  # limit_time_real_cron


class TestDispatchBudget(BulkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        clients = cls.env["res.partner"].create(
            [
                {
                    "name": f"Klient {index}",
                    "mobile": f"+48 601 {index // 1000:03d} {index % 1000:03d}",
                    "country_id": cls.env.ref("base.pl").id,
                    "tz": "Europe/Warsaw",
                }
                for index in range(RECIPIENTS)
            ]
        )
        cls.env["insurance.policy"].create(
            [
                {
                    "name": f"BIG/{client.id}",
                    "partner_id": client.id,
                    "insurer_id": cls.insurer.id,
                    "product_id": cls.product.id,
                    "date_start": cls.TODAY - timedelta(days=355),
                    "date_end": cls.TODAY + timedelta(days=10),
                    "state": "valid",
                }
                for client in clients
            ]
        )

    def setUp(self):
        super().setUp()
        self.clock = 0.0
        self.patch(type(self.Message), "_dispatch_clock", lambda _self: self.clock)
        # The suite's other tests send without a budget (one transaction,
        # whatever the machine's speed); these turn it on.
        self.patch(type(self.Message), "_dispatch_budget_applies", lambda _self: True)
        original = SandboxGateway.send

        def slow_send(gateway, messages):
            self.clock += SECONDS_PER_REQUEST
            return original(gateway, messages)

        self.patch(SandboxGateway, "send", slow_send)
        self.cron = self.env.ref("insurance_notify.ir_cron_dispatch_notifications")
        # Chunks of twenty: the bulk send takes several chunks, as a far larger one would.
        self.env["ir.config_parameter"].sudo().set_param(
            "insurance_notify.dispatch_chunk_size", "20"
        )

    def run_cron_pass(self):
        """One pass of Odoo's cron runner over the dispatch job, as
        ``ir.cron._run_job``; return the progress of each call."""
        started = self.clock
        calls = []
        for _call in range(MAX_BATCH_PER_CRON_JOB):
            cron, progress = self.cron._add_progress()
            self.Message.with_context(
                ir_cron_progress_id=progress.id, cron_id=cron.id
            )._cron_dispatch()
            calls.append((progress.done, progress.remaining))
            # The watchdog of a cron worker counts the whole pass.
            self.assertLess(self.clock - started, LIMIT, "the worker would have been killed")
            if not (progress.done and progress.remaining):
                break
        return calls

    def test_a_big_bulk_send_goes_out_over_calls_that_end_in_time(self):
        batch = self.make_batch(
            date_from=self.TODAY, date_to=self.TODAY + timedelta(days=30), name="Big send"
        )
        batch.action_start()
        self.assertEqual(len(batch.notify_message_ids), RECIPIENTS)
        passes = []
        with patch.dict(config.options, {"limit_time_real_cron": LIMIT}):
            self.assertEqual(self.Message._dispatch_budget(), 3.0)
            while self.Message.search_count([("state", "=", "queued")]):
                passes.append(self.run_cron_pass())
                self.assertLess(len(passes), 10, "the send makes no progress")
        # More than one pass, each call reporting what it left for the next.
        self.assertGreater(len(passes), 1)
        first_call_done, first_call_left = passes[0][0]
        self.assertEqual(first_call_done, 20, "one chunk: the budget was spent")
        self.assertEqual(first_call_left, RECIPIENTS - 20)
        self.assertEqual(passes[-1][-1][1], 0, "the last call reports nothing left")
        # Every client got the SMS once.
        numbers = Counter(sms.number for sms in SandboxGateway.outbox)
        self.assertEqual(len(numbers), RECIPIENTS)
        self.assertEqual(set(numbers.values()), {1})
        self.assertEqual(set(batch.notify_message_ids.mapped("state")), {"sent"})
        self.assertEqual(batch.state, "done")

    def test_the_budget_follows_the_servers_limits(self):
        Message = self.Message
        with patch.dict(config.options, {"limit_time_real_cron": 600, "limit_time_real": 120}):
            self.assertEqual(Message._dispatch_budget(), 30.0)
        # -1: the cron limit is the request limit, as Odoo reads it.
        with patch.dict(config.options, {"limit_time_real_cron": -1, "limit_time_real": 120}):
            self.assertEqual(Message._dispatch_budget(), 6.0)
        # No limit at all: a run still ends, for the worker's other crons.
        with patch.dict(config.options, {"limit_time_real_cron": 0, "limit_time_real": 0}):
            self.assertEqual(Message._dispatch_budget(), 6.0)

    def test_run_by_hand_it_leaves_the_rest_to_the_cron(self):
        batch = self.make_batch(date_from=self.TODAY, date_to=self.TODAY + timedelta(days=30))
        batch.action_start()
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        with patch.dict(config.options, {"limit_time_real_cron": LIMIT}):
            self.assertEqual(self.Message._cron_dispatch(), 20)
        self.assertEqual(len(SandboxGateway.outbox), 20)
        self.assertGreater(
            len(self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])),
            len(triggers),
            "the cron is asked to send the rest",
        )

    def test_each_chunk_is_marked_with_the_time_it_was_locked(self):
        # A slow provider: every request takes six minutes, so the last chunk
        # is locked past the recovery timeout counted from the run's start.
        batch = self.make_batch(date_from=self.TODAY, date_to=self.TODAY + timedelta(days=30))
        batch.action_start()
        start = self.now
        send_original = SandboxGateway.send
        recovered = []

        def slow_send_while_another_worker_recovers(gateway, messages):
            # Another worker's run starts meanwhile and looks for crashed chunks.
            stale = self.Message.search([("state", "=", "sending")])
            self.Message._recover_sending(self.now)
            recovered.extend(stale.filtered(lambda m: m.state != "sending").ids)
            results = send_original(gateway, messages)
            self.set_now(self.now + timedelta(minutes=6))
            return results

        self.patch(SandboxGateway, "send", slow_send_while_another_worker_recovers)
        self.patch(type(self.Message), "_dispatch_budget", lambda _self: 10**6)
        self.Message._cron_dispatch(batch_size=75)
        self.assertEqual(self.now - start, timedelta(minutes=24))
        self.assertFalse(recovered, "a chunk still being sent was taken for a crashed one")
        self.assertEqual(
            sorted(set(batch.notify_message_ids.mapped("sending_since"))),
            [start + timedelta(minutes=minutes) for minutes in (0, 6, 12, 18)],
        )
        self.assertEqual(len(SandboxGateway.outbox), RECIPIENTS)
