"""SMSAPI (smsapi.pl / smsapi.com) over its plain HTTP API.

One request per message, because ``idx`` (our key) is per message and
``check_idx=1`` makes SMSAPI refuse a key it has already seen within 24 h
(error 53). That refusal is the proof the message went out earlier, so it is
reported as accepted: a retry after a crash or a lost answer can never send
twice, which is also why lost answers are safe to class as retryable here.

A batch stops at the first account-wide or transport failure (authorization,
credits, rate limit, network, provider trouble): the rest would fail the same
way, each after a full timeout. Messages not tried carry the same error class,
so the caller treats them exactly like the one that was tried. Too many
messages to one number (error 52) is NUMBER_BUSY: retryable later, but it
concerns that number only, so the batch goes on.
"""

from __future__ import annotations

import logging
from itertools import zip_longest
from urllib.parse import urlsplit

from . import base
from .base import DeliveryReport, InboundSms, SendResult
from .http import DEFAULT_TIMEOUT, HttpGateway, int_or_none, json_or_none, options, str_or_none

_logger = logging.getLogger(__name__)


ALREADY_SENT = "53"

# SMSAPI error codes (its documented list of API errors); anything not listed
# is base.REJECTED (not retryable), so an unknown answer can never loop.
ERROR_CLASSES = {
    "11": base.TOO_LONG,  # too long, empty, or special characters with nounicode
    "12": base.TOO_LONG,  # too many parts
    "13": base.INVALID_NUMBER,  # invalid, landline or blacklisted number
    "14": base.SENDER,
    "52": base.NUMBER_BUSY,  # too many attempts to one number (10 within 60 s): later
    "57": base.OPTED_OUT,  # the number is on this account's blacklist at SMSAPI
    "59": base.OPTED_OUT,  # the number is on the OptOut list
    "101": base.AUTHORIZATION,
    "102": base.AUTHORIZATION,  # wrong login or password (legacy auth)
    "105": base.AUTHORIZATION,  # caller's IP not on the account's allow list
    "103": base.CREDITS,
    "201": base.PROVIDER,  # internal system error (temporary)
    "202": base.RATE_LIMIT,  # too many simultaneous requests, message not sent
    "203": base.RATE_LIMIT,
    "999": base.PROVIDER,
}

# What GET /profile answers; "points" is missing on subscription accounts.
_PROFILE_FIELDS = frozenset({"points", "username", "name", "payment_type", "user_type"})

# Delivery-report statuses, by code and by name; SMSAPI sends either.
_STATUS_NAMES = {
    "401": "NOT_FOUND",
    "402": "EXPIRED",
    "403": "SENT",
    "404": "DELIVERED",
    "405": "UNDELIVERED",
    "406": "FAILED",
    "407": "REJECTED",
    "408": "UNKNOWN",
    "409": "QUEUE",
    "410": "ACCEPTED",
}
# Our state of each status name. UNKNOWN: the operator has not answered yet;
# a later report may still settle it.
_STATE_BY_NAME = {
    "DELIVERED": base.DELIVERED,
    **dict.fromkeys(("SENT", "QUEUE", "ACCEPTED", "UNKNOWN"), base.SENT),
    **dict.fromkeys(("NOT_FOUND", "EXPIRED", "UNDELIVERED", "FAILED", "REJECTED"), base.FAILED),
}


class SmsapiGateway(HttpGateway):
    provider = "smsapi"
    label = "SMSAPI"
    stop_batch_on = frozenset(
        {base.AUTHORIZATION, base.CREDITS, base.RATE_LIMIT, base.NETWORK, base.PROVIDER}
    )

    def __init__(
        self,
        token,
        sender=None,
        api_url="https://api.smsapi.pl",
        test_mode=False,
        flash=False,
        notify_url=None,
        normalize=False,
        timeout=DEFAULT_TIMEOUT,
    ):
        if not token:
            raise ValueError("SMSAPI needs an API token")
        self._secret = token
        self.sender = sender or None
        self.api_url = api_url.rstrip("/")
        self.test_mode = bool(test_mode)
        self.flash = bool(flash)
        self.notify_url = notify_url or None
        self.normalize = bool(normalize)
        self.timeout = timeout
        self._host = urlsplit(self.api_url).netloc

    def _configure_session(self, session):
        session.headers["Authorization"] = f"Bearer {self._secret}"

    # -- sending ---------------------------------------------------------

    def _send_one(self, message):
        to = message.number[1:] if message.number.startswith("+") else message.number
        if not to.isdigit():
            return SendResult.failure(message.key, base.INVALID_NUMBER, None, "not an E.164 number")
        data = {
            "to": to,
            "message": message.body,
            "format": "json",
            "encoding": "utf-8",
            "details": "1",
            "idx": message.key,
            "check_idx": "1",
            **options(
                {
                    "from": message.sender or self.sender,
                    "test": self.test_mode and "1",
                    "flash": self.flash and "1",
                    "normalize": self.normalize and "1",
                    "notify_url": self.notify_url,
                }
            ),
        }
        return self._post_message(message, f"{self.api_url}/sms.do", data)

    def _parse_send(self, key, response):
        status = response.status_code
        payload = json_or_none(response)
        # A server error or a throttle is temporary whatever its body says (a
        # proxy in front of SMSAPI answers 503 with a JSON error of its own).
        if status >= 500:
            return SendResult.failure(key, base.PROVIDER, f"http {status}", "provider server error")
        if status == 429:
            return SendResult.failure(key, base.RATE_LIMIT, f"http {status}", "too many requests")
        if isinstance(payload, dict) and payload.get("error") not in (None, ""):
            return self._error_result(key, payload.get("error"), payload.get("message"), payload)

        if status in (401, 403):
            return SendResult.failure(
                key, base.AUTHORIZATION, f"http {status}", "authorization failed"
            )
        if status >= 300:
            return SendResult.failure(
                key, base.REJECTED, f"http {status}", "unexpected HTTP status"
            )
        if payload is None:
            # Resending is safe: if this request did get through, idx makes the
            # retry come back as error 53 (already sent).
            return SendResult.failure(key, base.PROVIDER, None, "malformed JSON in provider answer")

        items = payload.get("list") if isinstance(payload, dict) else None
        if not items or not isinstance(items[0], dict):
            return SendResult.failure(
                key, base.PROVIDER, None, "provider answer has no message list"
            )
        item = items[0]
        if item.get("error") not in (None, ""):
            return self._error_result(key, item.get("error"), item.get("message"), item)
        # With details=1 the part count may come at the top level instead.
        parts = item.get("parts")
        if parts is None:
            parts = payload.get("parts")
        return SendResult(
            key,
            True,
            provider_ref=str_or_none(item.get("id")),
            parts=int_or_none(parts),
        )

    def _error_result(self, key, code, text, payload):
        code = str(code)
        text = self._scrub(str(text)) if text else None
        if code == ALREADY_SENT:
            # Not a failure: the earlier request with this idx was accepted.
            ref = None
            items = payload.get("list")
            if isinstance(items, list) and items and isinstance(items[0], dict):
                ref = str_or_none(items[0].get("id"))
            return SendResult(
                key,
                True,
                provider_ref=ref,
                error_code=code,
                error_text=text or "idx already used",
                already_sent=True,
            )
        return SendResult.failure(key, ERROR_CLASSES.get(code, base.REJECTED), code, text)

    # -- account check ---------------------------------------------------

    def test_connection(self):
        response, payload = self._get("profile check", f"{self.api_url}/profile")
        if response is None:
            return False, payload.error_text
        if isinstance(payload, dict) and payload.get("error") not in (None, ""):
            code = str(payload["error"])
            _logger.warning("SMSAPI profile check: error %s", code)
            message = self._scrub(str(payload.get("message") or "error"))
            return False, f"SMSAPI error {code}: {message}"
        if response.status_code in (401, 403):
            return False, f"authorization failed (HTTP {response.status_code})"
        if response.status_code != 200:
            return False, f"unexpected HTTP {response.status_code}"
        if not isinstance(payload, dict) or not _PROFILE_FIELDS.intersection(payload):
            return False, "malformed profile answer"
        _logger.info("SMSAPI profile check ok")
        if "points" in payload:
            return True, f"points: {payload['points']}"
        # Subscription (postpaid) accounts have no points balance to show.
        kind = payload.get("payment_type")
        detail = f" ({kind})" if kind else ""
        return True, f"account works; no points balance{detail}"

    # -- delivery reports ------------------------------------------------

    def parse_delivery_report(self, params):
        ids = _split(params.get("MsgId"))
        statuses = _split(params.get("status"))
        keys = _split(params.get("idx"))
        if len(statuses) == 1 and len(ids) > 1:
            statuses = statuses * len(ids)
        # Our keys could contain a comma; if the counts do not line up the keys
        # cannot be paired with ids, and the id alone still finds the message.
        if len(keys) != len(ids):
            keys = [None] * len(ids)

        reports = []
        for ref, raw_status, key in zip_longest(ids, statuses, keys):
            if not ref or not raw_status:
                _logger.warning("SMSAPI report without id or status skipped")
                continue
            name = raw_status.strip().upper()
            name = _STATUS_NAMES.get(name, name)
            state = _STATE_BY_NAME.get(name)
            if state is None:
                _logger.warning("SMSAPI report with unknown status %s", name)
                state = base.SENT
            reports.append(
                DeliveryReport(
                    provider_ref=ref,
                    key=key or None,
                    state=state,
                    reason=name if state == base.FAILED else None,
                )
            )
        return reports

    def parse_inbound(self, params):
        """SMSAPI's two-way callback: ``sms_from`` (digits with the country
        code, no +), ``sms_to``, ``sms_text``, ``sms_date``, ``MsgId``."""
        number = (params.get("sms_from") or "").strip()
        if not number:
            _logger.warning("SMSAPI inbound message without sender skipped")
            return []
        if number.isdigit():
            number = "+" + number
        return [
            InboundSms(
                number=number,
                text=params.get("sms_text") or "",
                provider_ref=str_or_none(params.get("MsgId")),
            )
        ]


def _split(value):
    if value is None:
        return []
    return [part.strip() for part in str(value).split(",")]
