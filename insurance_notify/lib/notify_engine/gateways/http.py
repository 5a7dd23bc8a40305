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

The adapter's ``requests.Session`` (its connection pool) is opened at the first
request and closed by :meth:`HttpGateway.close`: callers use an adapter for
one chunk, ``with make_gateway(...) as adapter:``, so no connection outlives
the chunk that needed it. Parsing a callback opens none.
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

# (connect, read) seconds of every provider request.
DEFAULT_TIMEOUT = (5, 15)


class HttpGateway(Gateway):
    stop_batch_on = frozenset({AUTHORIZATION, RATE_LIMIT, NETWORK, PROVIDER})
    concurrency = 10
    label = ""  # the provider's name in log lines
    # What a request whose answer was lost after it went out may mean (none:
    # the provider dedupes a resend by its key).
    lost_answer_note = ""
    # The credential a provider's texts must never echo into our records.
    _secret = ""
    _session_obj = None
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

    def _configure_session(self, session: requests.Session) -> None:
        """Set the provider's authentication on a new session."""

    @property
    def _session(self) -> requests.Session:
        if self._session_obj is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.concurrency)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._configure_session(session)
            self._session_obj = session
        return self._session_obj

    def close(self):
        if self._session_obj is not None:
            self._session_obj.close()
            self._session_obj = None

    def _scrub(self, text):
        # Provider texts are echoed into our records; never let them carry the secret.
        return text.replace(self._secret, "***") if self._secret else text

    def _get(self, what, url, params=None):
        """GET ``url`` (no redirect: the credentials stay on the provider's
        host): (the response, its JSON or None), or (None, a NETWORK failure)
        when no answer came."""
        try:
            response = self._session.get(
                url, params=params, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            return None, self._transport_failure(what, exc)
        return response, json_or_none(response)

    def _transport_failure(self, what, exc, note="", key=None):
        """A request that got no answer: logged and answered by the
        exception's type only (its text can carry request details)."""
        name = type(exc).__name__
        # The adapter's own logger, as its other lines.
        logging.getLogger(type(self).__module__).warning("%s %s: %s", self.label, what, name)
        return SendResult.failure(key, NETWORK, None, f"{name} talking to {self._host}{note}")

    def _send_one(self, message) -> SendResult:
        raise NotImplementedError

    def _parse_send(self, key, response) -> SendResult:
        raise NotImplementedError

    def _post_message(self, message, url, data) -> SendResult:
        """POST one message to the provider; its answer, parsed and logged."""
        key = message.key
        try:
            response = self._session.post(
                url,
                data=data,
                timeout=self.timeout,
                # A redirect would turn the POST into a GET, and requests would
                # resend the credentials wherever it points: neither is wanted.
                allow_redirects=False,
            )
        except requests.ConnectTimeout as exc:
            return self._transport_failure(f"key={key}", exc, key=key)
        except requests.RequestException as exc:
            return self._transport_failure(f"key={key}", exc, self.lost_answer_note, key=key)
        return self._log_result(key, self._parse_send(key, response), response)

    def _log_result(self, key, result, response) -> SendResult:
        """Log a provider's answer to one message, in the adapter's logger."""
        logger = logging.getLogger(type(self).__module__)
        if result.accepted:
            logger.info(
                "%s key=%s accepted id=%s parts=%s%s",
                self.label,
                key,
                result.provider_ref,
                result.parts,
                " (already sent before)" if result.already_sent else "",
            )
        else:
            logger.warning(
                "%s key=%s failed: %s (code %s, HTTP %s)",
                self.label,
                key,
                result.error_class,
                result.error_code,
                response.status_code,
            )
        return result

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
                return SendResult.carrying(message.key, stopped[0])
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


def options(values):
    """The request parameters among ``values`` that are set (an option off,
    or a setting left empty, is not sent at all)."""
    return {name: value for name, value in values.items() if value}


def json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def str_or_none(value):
    return None if value in (None, "") else str(value)


def int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
