"""What the providers that take one HTTP request per message share.

Sending keeps several requests in flight (a provider answering in 20 ms
would otherwise cap a dispatcher at 50 messages a second). The first request
of a batch goes alone: when it meets an account-wide or transport failure
(bad token, no credits, provider down), the rest of the batch is not tried and
carries that failure with ``not_tried`` set, so a dead provider costs one
timeout, not one per message. After it, a window of ``concurrency`` requests slides over the batch.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

from .base import (
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
    concurrency = 16

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
        first = self._send_one(messages[0])
        stopped = [first] if self._stops_batch(first) else []

        def attempt(message):
            # Requests already in flight finish; the ones not started yet are
            # not tried once any of them met a batch-stopping failure.
            if stopped:
                return SendResult(
                    message.key,
                    False,
                    error_class=stopped[0].error_class,
                    error_code=stopped[0].error_code,
                    error_text=f"not tried: {stopped[0].error_text}",
                    not_tried=True,
                )
            result = self._send_one(message)
            if self._stops_batch(result):
                stopped.append(result)
            return result

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            results = [first, *pool.map(attempt, messages[1:])]
        not_tried = sum(1 for r in results if r.not_tried)
        if not_tried:
            _logger.warning(
                "%s batch stopped after %s (code %s); %d of %d messages not tried",
                self.provider,
                stopped[0].error_class,
                stopped[0].error_code,
                not_tried,
                len(results),
            )
        return results
