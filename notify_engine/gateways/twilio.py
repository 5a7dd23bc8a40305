"""Twilio Programmable Messaging over its REST API.

Twilio has no idempotency key for creating a message, so unlike SMSAPI a
lost answer (read timeout, connection dropped after the request went out) may
mean the message was sent; it is still classed NETWORK (retryable), because a
message never sent is the likelier case, but the error text says so. A 2xx
answer whose body cannot be read is taken as accepted (without an id) rather
than retried, because Twilio did create it.

A batch stops at the first account-wide or transport failure, as in
:mod:`.smsapi`; messages not tried carry the same error class.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from urllib.parse import quote, urlsplit

import requests

from notify_engine.gateways.base import (
    AUTHORIZATION,
    DELIVERED,
    FAILED,
    INVALID_NUMBER,
    NETWORK,
    OPTED_OUT,
    PROVIDER,
    RATE_LIMIT,
    REJECTED,
    SENDER,
    SENT,
    DeliveryReport,
    InboundSms,
    SendResult,
)
from notify_engine.gateways.http import HttpGateway

_logger = logging.getLogger(__name__)


DEFAULT_TIMEOUT = (5, 15)
API_VERSION = "2010-04-01"

ERROR_CLASSES = {
    "20003": AUTHORIZATION,
    "20429": RATE_LIMIT,
    "21211": INVALID_NUMBER,  # invalid To
    "21614": INVALID_NUMBER,  # To cannot receive SMS (landline)
    "21606": SENDER,  # From is not a number of this account / not SMS-capable
    "21610": OPTED_OUT,
}


_STATES = {
    "delivered": DELIVERED,
    "read": DELIVERED,  # WhatsApp-style channels report reading after delivery
    "undelivered": FAILED,
    "failed": FAILED,
    "canceled": FAILED,
    "queued": SENT,
    "accepted": SENT,
    "scheduled": SENT,
    "sending": SENT,
    "sent": SENT,
}


class TwilioGateway(HttpGateway):
    provider = "twilio"

    def __init__(
        self,
        account_sid,
        auth_token,
        sender=None,
        messaging_service_sid=None,
        api_url="https://api.twilio.com",
        status_callback=None,
        timeout=DEFAULT_TIMEOUT,
    ):
        if not account_sid or not auth_token:
            raise ValueError("Twilio needs an account SID and an auth token")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.sender = sender or None
        self.messaging_service_sid = messaging_service_sid or None
        self.api_url = api_url.rstrip("/")
        self.status_callback = status_callback or None
        self.timeout = timeout
        self._host = urlsplit(self.api_url).netloc
        self._account_url = f"{self.api_url}/{API_VERSION}/Accounts/{quote(account_sid, safe='')}"
        self._session = self._new_session()
        self._session.auth = (account_sid, auth_token)

    def close(self):
        self._session.close()

    # -- sending ---------------------------------------------------------

    def _send_one(self, message):
        number = message.number
        if not (number.startswith("+") and number[1:].isdigit()):
            return SendResult.failure(message.key, INVALID_NUMBER, None, "not an E.164 number")
        sender = message.sender or self.sender
        if not sender and not self.messaging_service_sid:
            return SendResult.failure(
                message.key, SENDER, None, "no sender and no messaging service configured"
            )
        data = {"To": number, "Body": message.body}
        if sender:
            data["From"] = sender
        if self.messaging_service_sid:
            data["MessagingServiceSid"] = self.messaging_service_sid
        if self.status_callback:
            data["StatusCallback"] = self.status_callback

        try:
            response = self._session.post(
                f"{self._account_url}/Messages.json",
                data=data,
                timeout=self.timeout,
                # requests would resend basic auth to wherever a redirect points.
                allow_redirects=False,
            )
        except requests.ConnectTimeout as exc:
            return self._transport_failure(message.key, exc, "")
        except requests.RequestException as exc:
            # The request may have reached Twilio before the answer was lost.
            return self._transport_failure(message.key, exc, "; the message may have been sent")

        result = self._parse_send(message.key, response)
        if result.accepted:
            _logger.info(
                "Twilio key=%s accepted sid=%s parts=%s",
                message.key,
                result.provider_ref,
                result.parts,
            )
        else:
            _logger.warning(
                "Twilio key=%s failed: %s (code %s, HTTP %s)",
                message.key,
                result.error_class,
                result.error_code,
                response.status_code,
            )
        return result

    def _transport_failure(self, key, exc, note):
        # Only the exception's type: its text can carry request details.
        name = type(exc).__name__
        _logger.warning("Twilio key=%s: %s", key, name)
        return SendResult.failure(key, NETWORK, None, f"{name} talking to {self._host}{note}")

    def _parse_send(self, key, response):
        status = response.status_code
        payload = _json_or_none(response)
        if 200 <= status < 300:
            if not isinstance(payload, dict):
                return SendResult(
                    key, True, error_text=f"accepted (HTTP {status}) but the answer was unreadable"
                )
            return SendResult(
                key,
                True,
                provider_ref=_str_or_none(payload.get("sid")),
                parts=_int_or_none(payload.get("num_segments")),
            )

        code = None
        text = None
        if isinstance(payload, dict):
            code = _str_or_none(payload.get("code"))
            text = _str_or_none(payload.get("message"))
        text = self._scrub(text) if text else None
        if status >= 500:
            return SendResult.failure(key, PROVIDER, code or f"http {status}", text)
        if code in ERROR_CLASSES:
            return SendResult.failure(key, ERROR_CLASSES[code], code, text)
        if status in (401, 403):
            return SendResult.failure(key, AUTHORIZATION, code or f"http {status}", text)
        if status == 429:
            return SendResult.failure(key, RATE_LIMIT, code or f"http {status}", text)
        return SendResult.failure(
            key, REJECTED, code or f"http {status}", text or "unexpected HTTP status"
        )

    def _scrub(self, text):
        # Provider texts are echoed into our records; never let them carry the token.
        return text.replace(self._auth_token, "***")

    # -- account check ---------------------------------------------------

    def test_connection(self):
        try:
            response = self._session.get(
                f"{self._account_url}.json", timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            _logger.warning("Twilio account check: %s", type(exc).__name__)
            return False, f"{type(exc).__name__} talking to {self._host}"
        payload = _json_or_none(response)
        if response.status_code != 200:
            code = None
            text = None
            if isinstance(payload, dict):
                code = _str_or_none(payload.get("code"))
                text = _str_or_none(payload.get("message"))
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
        if state == FAILED:
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
        digest = hmac.new(self._auth_token.encode(), payload.encode(), hashlib.sha1).digest()
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


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def _str_or_none(value):
    return None if value in (None, "") else str(value)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
