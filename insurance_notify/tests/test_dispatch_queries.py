"""A chunk's database work does not grow with its messages: the dispatcher
sends ten reminders or a hundred with the same number of queries, so a large
chunk costs each message a fraction of a query."""

from odoo.tests.common import new_test_user
from odoo.tools import SQL

from .sim_providers import StatefulCase


class TestDispatchQueries(StatefulCase):
    def setUp(self):
        super().setUp()
        self.broker = new_test_user(
            self.env, "queries_broker", groups="insurance_notify.group_insurance_user"
        )
        self.template.body = (
            "Dzień dobry {{ object.partner_id.name }}, polisa {{ object.name }} "
            "kończy się {{ object.date_end }}."
        )
        self.make_rule("7", gateway_id=self.gw_smsapi.id)
        self.cron_user = self.env.ref("insurance_notify.ir_cron_dispatch_notifications").user_id
        self.serial = 0

    def book(self, count):
        """``count`` clients of the broker, each with a policy ending in 7 days."""
        Partner = self.env["res.partner"].with_user(self.broker)
        clients = Partner.create(
            [
                {
                    "name": f"Klient {self.serial + index}",
                    "mobile": f"+48 601 {200000 + self.serial + index}",
                    "country_id": self.env.ref("base.pl").id,
                    "tz": "Europe/Warsaw",
                    "lang": "pl_PL",
                }
                for index in range(count)
            ]
        )
        self.serial += count
        policies = self.env["insurance.policy"]
        for client in clients:
            policies |= self.make_policy(7, partner_id=client.id).with_user(self.broker)
        return policies

    def logged_dispatch(self):
        """Plan and send as the crons do; the dispatcher's logged queries."""
        self.env.ref("base.lang_pl").active = True
        self.Rule._cron_plan()
        self.env.flush_all()
        with self.assertLogs("odoo.sql_db", "DEBUG") as logs:
            self.Message.with_user(self.cron_user)._cron_dispatch()
            self.env.flush_all()
        return logs.output

    def dispatch(self, policies):
        """Plan and send as the crons do; the dispatcher's query count."""
        logged = self.logged_dispatch()
        # Not counted: Odoo refilling a cache of its own (the company-dependent
        # defaults) once after the test's creates, whichever run comes first.
        queries = [line for line in logged if "query:" in line and "ir_default" not in line]
        messages = self.messages_of(policies)
        self.assertEqual(len(messages), len(policies))
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        by_number = {handset.number: handset.body for handset in self.smsapi.handsets}
        for policy in policies:
            self.assertIn(
                f"Dzień dobry {policy.partner_id.name}, polisa {policy.name} kończy się",
                by_number[policy.partner_id.mobile.replace(" ", "")],
            )
        # Each chatter line tells the broker what left.
        last = policies[-1]
        self.assertIn(last.partner_id.mobile.replace(" ", ""), last.message_ids[0].body)
        return len(queries)

    def test_ten_or_a_hundred_reminders_cost_the_same_queries(self):
        self.dispatch(self.book(3))  # caches warm, as on a running server
        ten = self.dispatch(self.book(10))
        hundred = self.dispatch(self.book(100))
        self.assertEqual(hundred, ten, "no query per message")
        self.assertLess(hundred, 60)

    def test_a_chunk_writes_each_message_once_out_and_once_answered(self):
        """Its text, parts and 'sending' in one UPDATE before the provider is
        called, the answer (state, provider id) in one after: each UPDATE of
        a message writes its row and every index entry again."""
        policies = self.book(60)
        updates = [
            line
            for line in self.logged_dispatch()
            if "UPDATE" in line and "insurance_notify_message" in line
        ]
        self.assertEqual(len(updates), 2, "\n".join(line[:200] for line in updates))
        messages = self.messages_of(policies)
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        self.assertEqual(len(set(messages.mapped("provider_ref"))), 60)
        self.assertTrue(all(message.body.startswith("Dzień dobry") for message in messages))

    def copy_message(self, message, count, overrides):
        """``count`` copies of ``message``'s row (every column, whatever
        add-ons added), with ``overrides`` (column: SQL of ``n``)."""
        cr = self.env.cr
        cr.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'insurance_notify_message' AND column_name <> 'id'"
        )
        columns = [name for (name,) in cr.fetchall()]
        cr.execute(
            SQL(
                "INSERT INTO insurance_notify_message (%s) SELECT %s"
                " FROM insurance_notify_message, generate_series(1, %s) AS n WHERE id = %s",
                SQL(", ").join(SQL.identifier(name) for name in columns),
                SQL(", ").join(SQL(overrides.get(name, f'"{name}"')) for name in columns),
                count,
                message.id,
            )
        )

    def test_the_next_chunk_is_found_without_reading_what_was_sent(self):
        """A year of reminders sent lies before the queue in the order of
        their due times: the dispatcher finds its next chunk through an index
        of the queue alone, however long the history."""
        policies = self.book(1)
        self.Rule._cron_plan()
        message = self.messages_of(policies)
        self.assertEqual(message.state, "queued")
        self.env.flush_all()
        # A morning's queue of 5,000 behind 100,000 sent over the last year.
        self.copy_message(message, 5000, {"key": "'queue-' || n", "partner_id": "NULL"})
        self.copy_message(
            message,
            100000,
            {
                "key": "'history-' || n",
                "partner_id": "NULL",
                "state": "'sent'",
                "scheduled_at": "scheduled_at - (n %% 365) * interval '1 day' - interval '1 hour'",
            },
        )
        # Sent in the order they were due, as the history is stored.
        self.env.cr.execute(
            "CLUSTER insurance_notify_message USING insurance_notify_message__scheduled_at_index"
        )
        self.env.cr.execute("ANALYZE insurance_notify_message")
        chunk, captured = self.capture_queries(
            "ORDER BY scheduled_at, id LIMIT",
            lambda: self.Message._lock_due_chunk(self.Message._now(), 500, set()),
        )
        self.assertEqual(len(chunk), 500)
        self.assertIn(message, chunk, "the first due goes first")
        self.assertEqual(set(chunk.mapped("state")), {"queued"})
        self.assertEqual(len(captured), 1)
        self.env.cr.execute(SQL("EXPLAIN (ANALYZE, COSTS OFF) %s", captured[0]))
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("insurance_notify_message_queue_index", plan)
        self.assertNotIn("Rows Removed by Filter", plan)

    def test_the_caps_read_only_what_was_sent_to_the_client_lately(self):
        """The daily and weekly caps count what each client of the chunk got
        in the last week: a client's years of reminders are not read."""
        self.env.company.insurance_daily_cap = 1
        policies = self.book(1)
        self.Rule._cron_plan()
        message = self.messages_of(policies)
        self.env.flush_all()
        # Two years of reminders to this client, the last a day ago.
        self.copy_message(
            message,
            20000,
            {
                "key": "'history-' || n",
                "state": "'sent'",
                "sent_at": "scheduled_at - (1 + n %% 730) * interval '1 day'",
            },
        )
        self.env.cr.execute("ANALYZE insurance_notify_message")
        ready, captured = self.capture_queries(
            "SELECT DISTINCT partner_id", lambda: message._hold_over_cap(self.Message._now())
        )
        self.assertEqual(ready, message, "nothing sent today: it goes")
        self.assertEqual(len(captured), 1)
        self.env.cr.execute(SQL("EXPLAIN (ANALYZE, COSTS OFF) %s", captured[0]))
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("insurance_notify_message_partner_sent_index", plan)
        self.assertNotIn("Rows Removed by Filter", plan)
