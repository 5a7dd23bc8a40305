import threading
import time
from collections import Counter

from odoo import SUPERUSER_ID, api

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase

MESSAGES = 60


class TestTwoDispatchers(NotifyCase):
    """Two cron workers (two hosts, DESIGN.md) share the queue without sending twice.

    The test's own transaction cannot be seen by other workers, so the queue is
    committed from a cursor of its own and removed afterwards.
    """

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create({"name": "Concurrency Client"})
            gateway = env.ref("insurance_notify.gateway_sandbox")
            messages = env["insurance.notify.message"].create(
                [
                    {
                        "key": f"concurrency-{partner.id}-{n}",
                        "company_id": env.company.id,
                        "res_model": "res.partner",
                        "res_id": partner.id,
                        "partner_id": partner.id,
                        "channel": "sms",
                        "number": "+48600123456",
                        "timezone": "Europe/Warsaw",
                        "scheduled_at": self.now,
                        "gateway_id": gateway.id,
                        "body": f"Message {n}",
                    }
                    for n in range(MESSAGES)
                ]
            )
            self.partner_id, self.message_ids = partner.id, messages.ids
        self.addCleanup(self._remove_queue)

    def _remove_queue(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM insurance_notify_message WHERE id = ANY(%s)", [self.message_ids]
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'res.partner' AND res_id = %s",
                [self.partner_id],
            )
            cr.execute("DELETE FROM res_partner WHERE id = %s", [self.partner_id])

    def test_each_message_is_sent_once(self):
        original_send = SandboxGateway.send

        def slow_send(gateway, messages):
            time.sleep(0.01)  # lets the two workers interleave
            return original_send(gateway, messages)

        self.patch(SandboxGateway, "send", slow_send)
        start = threading.Barrier(2)
        errors = []

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    start.wait()
                    env["insurance.notify.message"]._cron_dispatch(batch_size=5)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertFalse(errors)

        sent_keys = Counter(sms.key for sms in SandboxGateway.outbox)
        ours = {key: count for key, count in sent_keys.items() if key.startswith("concurrency-")}
        self.assertEqual(len(ours), MESSAGES)
        self.assertEqual(set(ours.values()), {1})
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT state, count(*) FROM insurance_notify_message WHERE id = ANY(%s) "
                "GROUP BY state",
                [self.message_ids],
            )
            self.assertEqual(dict(cr.fetchall()), {"sent": MESSAGES})
