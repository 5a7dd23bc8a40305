"""Twilio Programmable Messaging over its REST API.

Twilio has no idempotency key for creating a message (``idempotent`` is
False), so unlike SMSAPI a lost answer (read timeout, connection dropped after
the request went out) may mean the message was sent; it is still classed
NETWORK (retryable), because a message never sent is the likelier case, but
the error text says so. Before such a message is sent again, :meth:`find_sent`
looks it up in the account's message list: same number, same body, outbound,
created since the attempt (less :data:`CLOCK_SKEW`). A 2xx answer whose body
cannot be read is taken as accepted (without an id) rather than retried,
because Twilio did create it.

A batch stops at the first account-wide or transport failure, as in
:mod:`.smsapi`; messages not tried carry the same error class.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections import Counter
from datetime import timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

from . import base
from .base import DeliveryReport, InboundSms, SendResult, aware_utc
from .http import DEFAULT_TIMEOUT, HttpGateway, int_or_none, json_or_none, options, str_or_none

_logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"

ERROR_CLASSES = {
    "20003": base.AUTHORIZATION,
    "20429": base.RATE_LIMIT,
    "21211": base.INVALID_NUMBER,  # invalid To
    "21614": base.INVALID_NUMBER,  # To cannot receive SMS (landline)
    "21606": base.SENDER,  # From is not a number of this account / not SMS-capable
    "21610": base.OPTED_OUT,
}


# How much earlier than the attempt a message may say it was created, for
# the difference between our clock and Twilio's.
CLOCK_SKEW = timedelta(minutes=2)

# How a failed message lookup is classed: always so that the caller does not
# send (the message may be there); a throttled lookup is a rate limit, any
# other refusal (bad credentials included) provider trouble.
LOOKUP_ERROR_CLASSES = {
    "20429": base.RATE_LIMIT,
    "http 429": base.RATE_LIMIT,
}

# datetime.UTC is Python 3.11+; Odoo 18 still runs on 3.10.
_UTC = timezone.utc  # noqa: UP017

_STATES = {
    "delivered": base.DELIVERED,
    "read": base.DELIVERED,  # WhatsApp-style channels report reading after delivery
    "undelivered": base.FAILED,
    "failed": base.FAILED,
    "canceled": base.FAILED,
    "queued": base.SENT,
    "accepted": base.SENT,
    "scheduled": base.SENT,
    "sending": base.SENT,
    "sent": base.SENT,
}


class TwilioGateway(HttpGateway):
    provider = "twilio"
    label = "Twilio"
    # The request may have reached Twilio before the answer was lost.
    lost_answer_note = "; the message may have been sent"
    idempotent = False
    # A message lookup reads at most this many pages of this many messages
    # to one number; a longer list is not searched and the lookup fails.
    lookup_page_size = 100
    lookup_max_pages = 5

    def __init__(
        self,
        account_sid,
        auth_token,
        sender=None,
        messaging_service_sid=None,
        api_url="https://api.twilio.com",
        status_callback=None,
        timeout=DEFAULT_TIMEOUT,
        concurrency=None,
        rate=None,
    ):
        if not account_sid or not auth_token:
            raise ValueError("Twilio needs an account SID and an auth token")
        self.account_sid = account_sid
        self._secret = auth_token
        self.sender = sender or None
        self.messaging_service_sid = messaging_service_sid or None
        self.api_url = api_url.rstrip("/")
        self.status_callback = status_callback or None
        self.timeout = timeout
        self._host = urlsplit(self.api_url).netloc
        self._account_url = f"{self.api_url}/{API_VERSION}/Accounts/{quote(account_sid, safe='')}"
        self._set_throughput(concurrency, rate)

    def _configure_session(self, session):
        session.auth = (self.account_sid, self._secret)

    # -- sending ---------------------------------------------------------

    def _send_one(self, message):
        number = message.number
        if not _is_e164(number):
            return SendResult.failure(message.key, base.INVALID_NUMBER, None, "not an E.164 number")
        sender = message.sender or self.sender
        if not sender and not self.messaging_service_sid:
            return SendResult.failure(
                message.key, base.SENDER, None, "no sender and no messaging service configured"
            )
        data = {
            "To": number,
            "Body": message.body,
            **options(
                {
                    "From": sender,
                    "MessagingServiceSid": self.messaging_service_sid,
                    "StatusCallback": self.status_callback,
                }
            ),
        }
        return self._post_message(message, f"{self._account_url}/Messages.json", data)

    def _parse_send(self, key, response):
        status = response.status_code
        payload = json_or_none(response)
        if 200 <= status < 300:
            if not isinstance(payload, dict):
                return SendResult(
                    key, True, error_text=f"accepted (HTTP {status}) but the answer was unreadable"
                )
            return SendResult(
                key,
                True,
                provider_ref=str_or_none(payload.get("sid")),
                parts=int_or_none(payload.get("num_segments")),
            )

        code, text = _code_and_text(payload)
        text = self._scrub(text) if text else None
        if status >= 500:
            return SendResult.failure(key, base.PROVIDER, code or f"http {status}", text)
        if code in ERROR_CLASSES:
            return SendResult.failure(key, ERROR_CLASSES[code], code, text)
        if status in (401, 403):
            return SendResult.failure(key, base.AUTHORIZATION, code or f"http {status}", text)
        if status == 429:
            return SendResult.failure(key, base.RATE_LIMIT, code or f"http {status}", text)
        return SendResult.failure(
            key, base.REJECTED, code or f"http {status}", text or "unexpected HTTP status"
        )

    # -- finding messages whose answer was lost --------------------------

    def find_sent(self, messages, since):
        """Look up, per number, the messages Twilio has sent since ``since``.

        One list request (and its next pages) per distinct number, filtered
        on ``To`` and ``DateSent>=`` the day of ``since`` less
        :data:`CLOCK_SKEW`, in UTC. A message matches an outbound one with the
        same body created at or after ``since`` less the skew; each Twilio
        message is adopted by one of ours at most. Twilio filters on
        ``date_sent``, which a message still queued at Twilio does not have
        yet: look up messages some minutes after their attempt, not at once.
        A failed lookup stops the lookups of the numbers after it, which
        carry its failure with ``not_tried`` set.
        """
        messages = list(messages)
        cutoff = aware_utc(since) - CLOCK_SKEW
        results = [None] * len(messages)
        by_number = {}
        for index, message in enumerate(messages):
            # A number send() refuses before any request cannot be at Twilio.
            if _is_e164(message.number):
                by_number.setdefault(message.number, []).append(index)

        failed = None
        for number, indexes in by_number.items():
            if failed is None:
                bodies = Counter(messages[index].body for index in indexes)
                found = self._sent_to(number, cutoff, bodies)
                if isinstance(found, SendResult):
                    failed = found
                    for index in indexes:
                        results[index] = _lookup_failure(messages[index].key, failed, False)
                    continue
                for index in indexes:
                    results[index] = self._adopt(messages[index], found)
            else:
                for index in indexes:
                    results[index] = _lookup_failure(messages[index].key, failed, True)
        return results

    def _adopt(self, message, candidates):
        for position, entry in enumerate(candidates):
            if entry.get("body") == message.body:
                del candidates[position]
                sid = str_or_none(entry.get("sid"))
                _logger.info("Twilio key=%s found sent before as sid=%s", message.key, sid)
                return SendResult(
                    message.key,
                    True,
                    provider_ref=sid,
                    parts=int_or_none(entry.get("num_segments")),
                    already_sent=True,
                )
        _logger.info("Twilio key=%s not found at Twilio", message.key)
        return None

    def _sent_to(self, number, cutoff, bodies):
        """Outbound messages to ``number`` created since ``cutoff`` (newest
        first), or a failed SendResult (key None) when the list cannot be read.
        Paging stops once every body of ``bodies`` (a Counter) is found."""
        url = f"{self._account_url}/Messages.json"
        params = {
            "To": number,
            "DateSent>": cutoff.date().isoformat(),
            "PageSize": str(self.lookup_page_size),
        }
        candidates = []
        for _page in range(self.lookup_max_pages):
            response, payload = self._get("message lookup", url, params)
            if response is None:
                return payload
            entries = payload.get("messages") if isinstance(payload, dict) else None
            if response.status_code != 200 or not isinstance(entries, list):
                return self._list_failure(response, payload)
            older_seen = False
            for entry in entries:
                if not isinstance(entry, dict):
                    continue
                created = _rfc2822(entry.get("date_created"))
                sent = _rfc2822(entry.get("date_sent"))
                if created is not None and created < cutoff:
                    # Newest first: once one is older both by creation and
                    # by sending, so are all after it, whichever Twilio sorts on.
                    older_seen = older_seen or (sent is not None and sent < cutoff)
                    continue
                # A creation time that cannot be read is kept: never twice.
                outbound = str(entry.get("direction") or "").startswith("outbound")
                if outbound and entry.get("to") in (None, number):
                    candidates.append(entry)
            next_uri = payload.get("next_page_uri")
            have = Counter(entry.get("body") for entry in candidates)
            if older_seen or not next_uri or all(have[b] >= n for b, n in bodies.items()):
                return candidates
            if not isinstance(next_uri, str) or not next_uri.startswith("/"):
                # Never follow (with our credentials) an address off this host.
                _logger.warning("Twilio message lookup: unexpected next page address")
                return SendResult.failure(
                    None, base.PROVIDER, None, "message list gave an unexpected next page address"
                )
            url, params = f"{self.api_url}{next_uri}", None
        _logger.warning(
            "Twilio message lookup: more than %d pages of messages to one number",
            self.lookup_max_pages,
        )
        return SendResult.failure(
            None,
            base.PROVIDER,
            None,
            f"more than {self.lookup_max_pages * self.lookup_page_size} messages to the "
            "number since the attempt; not searched to the end",
        )

    def _list_failure(self, response, payload):
        status = response.status_code
        code, text = _code_and_text(payload)
        code = code or f"http {status}"
        _logger.warning("Twilio message lookup: HTTP %s code %s", status, code)
        error_class = LOOKUP_ERROR_CLASSES.get(code) or LOOKUP_ERROR_CLASSES.get(
            f"http {status}", base.PROVIDER
        )
        detail = self._scrub(text) if text else "unreadable message list"
        return SendResult.failure(None, error_class, code, f"HTTP {status}: {detail}")

    # -- account check ---------------------------------------------------

    def test_connection(self):
        response, payload = self._get("account check", f"{self._account_url}.json")
        if response is None:
            return False, payload.error_text
        if response.status_code != 200:
            code, text = _code_and_text(payload)
            _logger.warning("Twilio account check: HTTP %s code %s", response.status_code, code)
            if response.status_code in (401, 403) or code == "20003":
                return False, f"authorization failed (HTTP {response.status_code})"
            detail = f": {self._scrub(text)}" if text else ""
            return False, f"HTTP {response.status_code}{detail}"
        if not isinstance(payload, dict):
            return False, "malformed account answer"
        account_status = payload.get("status")
        if account_status != "active":
            return False, f"account status: {account_status}"
        _logger.info("Twilio account check ok")
        return True, "account status: active"

    # -- delivery reports ------------------------------------------------

    def parse_delivery_report(self, params):
        # Older callbacks name the same fields Sms*.
        ref = params.get("MessageSid") or params.get("SmsSid")
        status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
        if not ref or not status:
            _logger.warning("Twilio report without sid or status skipped")
            return []
        state = _STATES.get(status)
        if state is None:
            # "receiving"/"received" are inbound messages, not reports on ours.
            _logger.warning("Twilio report with unexpected status %s skipped", status)
            return []
        reason = None
        if state == base.FAILED:
            error_code = params.get("ErrorCode")
            reason = f"{status} (error {error_code})" if error_code else status
        return [DeliveryReport(provider_ref=ref, key=None, state=state, reason=reason)]

    def parse_inbound(self, params):
        """Twilio's incoming-message webhook: ``From`` (E.164), ``Body``, ``MessageSid``."""
        number = (params.get("From") or "").strip()
        if not number:
            _logger.warning("Twilio inbound message without sender skipped")
            return []
        return [
            InboundSms(
                number=number,
                text=params.get("Body") or "",
                provider_ref=params.get("MessageSid") or params.get("SmsSid") or None,
            )
        ]

    def validate_signature(self, url, params, signature):
        """Check an ``X-Twilio-Signature`` header for a form-encoded callback.

        ``url`` is the full URL Twilio called, query string included; ``params``
        the POST fields (a mapping; repeated fields as a list or a MultiDict).
        Twilio may sign the URL with or without the default port, depending on
        what it was configured with, so both forms are accepted.
        """
        if not signature:
            return False
        expected = signature.strip().encode()
        return any(
            hmac.compare_digest(self._signature(candidate, params).encode(), expected)
            for candidate in _port_variants(url)
        )

    def _signature(self, url, params):
        payload = url
        for name in sorted(set(params or ())):
            for value in sorted(set(_values(params, name))):
                payload += name + value
        digest = hmac.new(self._secret.encode(), payload.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()


def _values(params, name):
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    elif hasattr(params, "getall"):
        values = params.getall(name)
    else:
        values = params[name]
    if isinstance(values, (list, tuple)):
        return [str(v) for v in values]
    return [str(values)]


def _port_variants(url):
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    # Split by hand rather than via .hostname, which lowercases the host and
    # would change what was signed.
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host += "]"
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
    default_port = "443" if parts.scheme == "https" else "80"
    prefix = userinfo + at
    without_port = parts._replace(netloc=f"{prefix}{host}").geturl()
    with_port = parts._replace(netloc=f"{prefix}{host}:{port or default_port}").geturl()
    return [url, without_port, with_port]


def _code_and_text(payload):
    """Twilio's error code and message in an answer's JSON, or None each."""
    if not isinstance(payload, dict):
        return None, None
    return str_or_none(payload.get("code")), str_or_none(payload.get("message"))


def _lookup_failure(key, failed, not_tried):
    prefix = "not tried: " if not_tried else ""
    return SendResult.carrying(key, failed, f"{prefix}message lookup failed: ", not_tried)


def _is_e164(number):
    return number.startswith("+") and number[1:].isdigit()


def _rfc2822(value):
    """An aware UTC datetime from Twilio's RFC 2822 dates, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC)
