"""A gateway that sends nothing: it keeps what it would have sent.

The default for demo databases and tests, so nothing leaves the machine.
Messages it accepted are kept in :attr:`SandboxGateway.outbox` (shared by the
process, newest last, bounded). Like SMSAPI with ``check_idx``, it refuses a key
it has already accepted and answers that the message was already sent.
"""

from __future__ import annotations

import itertools
from collections import deque

from .. import sms
from .base import Gateway, OutgoingSms, SendResult


class SandboxGateway(Gateway):
    provider = "sandbox"
    outbox: deque[OutgoingSms] = deque(maxlen=100_000)
    accepted_keys: dict[str, str] = {}
    _ids = itertools.count(1)

    def __init__(self, **_settings):
        pass

    @classmethod
    def reset(cls):
        """Forget everything sent (tests start from an empty outbox)."""
        cls.outbox.clear()
        cls.accepted_keys.clear()

    def send(self, messages):
        results = []
        for message in messages:
            parts = sms.analyze(message.body).parts
            if message.key in self.accepted_keys:
                ref = self.accepted_keys[message.key]
                results.append(SendResult(message.key, True, ref, parts, already_sent=True))
                continue
            if len(self.accepted_keys) >= self.outbox.maxlen:
                del self.accepted_keys[next(iter(self.accepted_keys))]
            ref = self.accepted_keys[message.key] = f"sandbox-{next(self._ids)}"
            self.outbox.append(message)
            results.append(SendResult(message.key, True, provider_ref=ref, parts=parts))
        return results
