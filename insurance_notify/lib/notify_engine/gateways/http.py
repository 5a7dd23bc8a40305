"""What the providers that take one HTTP request per message share.

Sending keeps several requests in flight (a provider answering in 20 ms
would otherwise cap a dispatcher at 50 messages a second). The first request
of a batch goes alone: when it meets an account-wide or transport failure
(bad token, no credits, provider down), the rest of the batch is not tried and
carries that failure with ``not_tried`` set, so a dead provider costs one
timeout, not one per message. After it, a window of ``concurrency`` requests
slides over the batch, started no faster than ``rate`` a second (the sender's
throughput at the provider; 0: as fast as it answers). A request the provider
throttles (HTTP 429, Twilio 20429) waits and goes again, up to
``throttle_retries`` times, slowing the pace; only a throttle that persists
stops the batch like an outage.
"""

from __future__ import annotations

import logging
import threading
import time
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
    concurrency = 10
    rate = 0.0  # requests started per second; 0: no limit
    throttle_retries = 3
    throttle_wait = 0.5  # seconds before the first retry of a throttled request

    def _set_throughput(self, concurrency=None, rate=None):
        """Parallel requests and messages per second, from the gateway's settings."""
        if concurrency:
            self.concurrency = max(1, int(concurrency))
        if rate:
            self.rate = max(0.0, float(rate))
        self._pace_lock = threading.Lock()
        self._next_start = 0.0

    def _pace(self):
        """Wait for this request's turn under ``rate``."""
        if not self.rate:
            return
        with self._pace_lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + 1.0 / self.rate
        if start > now:
            time.sleep(start - now)

    def _send_paced(self, message) -> SendResult:
        """One request in its turn; a throttled one waits and goes again."""
        wait = self.throttle_wait
        for retry in range(self.throttle_retries + 1):
            self._pace()
            result = self._send_one(message)
            if result.accepted or result.error_class != RATE_LIMIT:
                return result
            if retry == self.throttle_retries:
                break
            _logger.info(
                "%s throttled (code %s); waiting %.1f s", self.provider, result.error_code, wait
            )
            if self.rate:
                # Everyone waits: the provider counts the account's rate, not ours.
                with self._pace_lock:
                    self._next_start = max(self._next_start, time.monotonic() + wait)
            time.sleep(wait)
            wait *= 2
        return result

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
        if not hasattr(self, "_pace_lock"):
            self._set_throughput()
        first = self._send_paced(messages[0])
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
            result = self._send_paced(message)
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
