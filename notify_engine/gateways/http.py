"""What the providers that take one HTTP request per message share.

Sending keeps several requests in flight (a provider answering in 20 ms
would otherwise cap a dispatcher at 50 messages a second). The first request
of a batch goes alone: when it meets an account-wide or transport failure
(bad token, no credits, provider down), the rest of the batch is not tried and
carries that failure, so a dead provider costs one timeout, not one per message.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

from notify_engine.gateways.base import (
    AUTHORIZATION,
    NETWORK,
    PROVIDER,
    RATE_LIMIT,
    Gateway,
    SendResult,
)

_logger = logging.getLogger(__name__)


class HttpGateway(Gateway):
    stop_batch_on = frozenset({AUTHORIZATION, RATE_LIMIT, NETWORK, PROVIDER})
    concurrency = 8

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.concurrency)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def _send_one(self, message) -> SendResult:
        raise NotImplementedError

    def _stops_batch(self, result):
        return not result.accepted and result.error_class in self.stop_batch_on

    def send(self, messages):
        messages = list(messages)
        if not messages:
            return []
        results = [self._send_one(messages[0])]
        stopped = results[0] if self._stops_batch(results[0]) else None
        rest = messages[1:]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for start in range(0, len(rest), self.concurrency):
                wave = rest[start : start + self.concurrency]
                if stopped is None:
                    wave_results = list(pool.map(self._send_one, wave))
                    results += wave_results
                    stopped = next(filter(self._stops_batch, wave_results), None)
                else:
                    results += [
                        SendResult.failure(
                            message.key,
                            stopped.error_class,
                            stopped.error_code,
                            f"not tried: {stopped.error_text}",
                        )
                        for message in wave
                    ]
        not_tried = sum(1 for r in results if (r.error_text or "").startswith("not tried: "))
        if not_tried:
            _logger.warning(
                "%s batch stopped after %s (code %s); %d of %d messages not tried",
                self.provider,
                stopped.error_class,
                stopped.error_code,
                not_tried,
                len(results),
            )
        return results
