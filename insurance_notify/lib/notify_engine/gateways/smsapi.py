"""SMSAPI (smsapi.pl / smsapi.com) over its plain HTTP API.

Every message carries its own ``idx`` (our key), and ``check_idx=1`` makes
SMSAPI refuse a key it has already seen within 24 h (error 53). That refusal
is the proof the message went out earlier, so it is reported as accepted: a
retry after a crash or a lost answer can never send twice, which is also why
lost answers are safe to class as retryable here.

Many messages go in one request where SMSAPI allows it (``sms.do`` takes a
comma-separated ``to`` with a pipe-separated ``idx``): messages of one sender
whose texts differ only in up to four places are sent as one ``message`` with
``[%1%]``..``[%4%]`` filled per recipient from ``param1``..``param4``
(:func:`personalise`), and each recipient's answer is read by its ``idx``.
A request-wide refusal that may concern only some recipients (53 for a key
seen before, a bad text, a busy number) sends that group again one message
per request, so every message still gets its own answer.

A batch stops at the first account-wide or transport failure (authorization,
credits, rate limit, network, provider trouble): the rest would fail the same
way, each after a full timeout. Messages not tried carry the same error class,
so the caller treats them exactly like the one that was tried. Too many
messages to one number (error 52) is NUMBER_BUSY: retryable later, but it
concerns that number only, so the batch goes on.
"""

from __future__ import annotations

import logging
import re
from itertools import zip_longest
from urllib.parse import urlsplit

import requests

from . import base
from .base import DeliveryReport, InboundSms, SendResult
from .http import DEFAULT_TIMEOUT, HttpGateway, int_or_none, json_or_none, str_or_none

_logger = logging.getLogger(__name__)


ALREADY_SENT = "53"

# At most this many recipients in one request: a dispatcher chunk of the
# default size (500) goes in one. SMSAPI takes more, but a refused request is retried one
# message per request, which should stay cheap (50 rounds of 10 in parallel).
BATCH_SIZE = 500
# SMSAPI fills [%1%]..[%4%] of the message from param1..param4.
MAX_PARAMS = 4

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
_STATE_BY_NAME = {
    "DELIVERED": base.DELIVERED,
    "SENT": base.SENT,
    "QUEUE": base.SENT,
    "ACCEPTED": base.SENT,
    # The operator has not answered yet; a later report may still settle it.
    "UNKNOWN": base.SENT,
    "NOT_FOUND": base.FAILED,
    "EXPIRED": base.FAILED,
    "UNDELIVERED": base.FAILED,
    "FAILED": base.FAILED,
    "REJECTED": base.FAILED,
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
        batch=True,
        concurrency=None,
        rate=None,
    ):
        if not token:
            raise ValueError("SMSAPI needs an API token")
        self._token = token
        self._secret = token
        self.sender = sender or None
        self.api_url = api_url.rstrip("/")
        self.test_mode = bool(test_mode)
        self.flash = bool(flash)
        self.notify_url = notify_url or None
        self.normalize = bool(normalize)
        self.timeout = timeout
        self.batch = bool(batch)
        self._host = urlsplit(self.api_url).netloc
        self._set_throughput(concurrency, rate)

    def _configure_session(self, session):
        session.headers["Authorization"] = f"Bearer {self._secret}"

    # -- sending ---------------------------------------------------------

    def send(self, messages):
        """Personalised batches where texts allow it, one request per message
        for the rest; one result per message, in order."""
        messages = list(messages)
        if not self.batch or len(messages) < 2:
            return super().send(messages)
        results = {}
        singles = []
        for group in _batches(messages):
            if len(group) < 2:
                singles.extend(group)
                continue
            shape = personalise([m.body for m in group])
            if shape is not None:
                shaped = [(group, shape)]
            else:
                # Too many differences for four parameters: the same texts
                # (a broadcast) still share a request.
                same = {}
                for message in group:
                    same.setdefault(message.body, []).append(message)
                shaped = [(g, (body, [])) for body, g in same.items() if len(g) > 1]
                singles.extend(m for g in same.values() if len(g) == 1 for m in g)
            for batch, (text, params) in shaped:
                batch_results = self._send_batch(batch, text, params)
                if batch_results is None:
                    singles.extend(batch)  # a refusal that may concern only some of them
                    continue
                results.update((r.key, r) for r in batch_results)
                stop = next((r for r in batch_results if self._stops_batch(r)), None)
                if stop is not None:
                    # The provider is down or the account refused: nothing else is tried.
                    rest = [m for m in messages if m.key not in results]
                    results.update((m.key, SendResult.carrying(m.key, stop)) for m in rest)
                    return [results[m.key] for m in messages]
        results.update((r.key, r) for r in super().send(singles))
        return [results[m.key] for m in messages]

    def _form(self, message_text, sender):
        data = {
            "message": message_text,
            "format": "json",
            "encoding": "utf-8",
            "details": "1",
            "check_idx": "1",
        }
        if sender:
            data["from"] = sender
        if self.test_mode:
            data["test"] = "1"
        if self.flash:
            data["flash"] = "1"
        if self.normalize:
            data["normalize"] = "1"
        if self.notify_url:
            data["notify_url"] = self.notify_url
        return data

    def _post(self, data, what):
        """POST sms.do; the response, or the failure text of a transport error."""
        try:
            return self._session.post(
                f"{self.api_url}/sms.do",
                data=data,
                timeout=self.timeout,
                # A redirect would turn the POST into a GET and may drop or
                # forward the bearer header; neither is wanted.
                allow_redirects=False,
            ), None
        except requests.RequestException as exc:
            # Only the exception's type: its text can carry request details.
            _logger.warning("SMSAPI %s: %s", what, type(exc).__name__)
            return None, f"{type(exc).__name__} talking to {self._host}"

    def _send_batch(self, group, text, params):
        """One request for ``group``; its results, or None to send them one by one."""
        keys = [m.key for m in group]
        numbers = [m.number[1:] if m.number.startswith("+") else m.number for m in group]
        data = self._form(text, group[0].sender or self.sender)
        data["to"] = ",".join(numbers)
        data["idx"] = "|".join(keys)
        for position, values in enumerate(params, start=1):
            data[f"param{position}"] = "|".join(values)
        what = f"batch of {len(group)} (first key={keys[0]})"
        response, transport_error = self._post(data, what)
        if response is None:
            return [SendResult.failure(key, base.NETWORK, None, transport_error) for key in keys]
        first = self._parse_send(keys[0], response)
        if first.error_code and first.error_class not in self.stop_batch_on:
            # Refused as a whole for what may concern only some recipients (a
            # key seen before, a bad text, a busy number): ask one by one,
            # unless every number was named invalid.
            payload = json_or_none(response) or {}
            invalid = {str(i.get("number")) for i in payload.get("invalid_numbers") or []}
            if first.error_class == base.INVALID_NUMBER and invalid.issuperset(numbers):
                return [
                    SendResult.failure(key, base.INVALID_NUMBER, "13", first.error_text)
                    for key in keys
                ]
            _logger.info("SMSAPI %s refused (code %s): one request each", what, first.error_code)
            return None
        if not first.accepted:
            return [
                SendResult.failure(key, first.error_class, first.error_code, first.error_text)
                for key in keys
            ]
        payload = json_or_none(response)
        entries = payload.get("list") if isinstance(payload, dict) else None
        if not isinstance(entries, list):
            return [
                SendResult.failure(k, base.PROVIDER, None, "provider answer has no message list")
                for k in keys
            ]
        by_idx = {str(e.get("idx")): e for e in entries if isinstance(e, dict)}
        invalid = {
            str(i.get("number") or i.get("submitted_number"))
            for i in (payload.get("invalid_numbers") or [])
            if isinstance(i, dict)
        }
        results = []
        for key, number in zip(keys, numbers, strict=True):
            entry = by_idx.get(key)
            if entry is None:
                if number in invalid:
                    results.append(
                        SendResult.failure(key, base.INVALID_NUMBER, "13", "invalid number")
                    )
                else:
                    # Not in the answer: a retry is safe, SMSAPI refuses a seen idx.
                    results.append(
                        SendResult.failure(key, base.PROVIDER, None, "not in provider answer")
                    )
                continue
            if entry.get("error") not in (None, ""):
                results.append(
                    self._error_result(key, entry.get("error"), entry.get("message"), entry)
                )
                continue
            parts = entry.get("parts")
            if parts is None and len(group) == 1:
                parts = payload.get("parts")
            results.append(
                SendResult(
                    key, True, provider_ref=str_or_none(entry.get("id")), parts=int_or_none(parts)
                )
            )
        accepted = sum(r.accepted for r in results)
        _logger.info("SMSAPI %s: %d of %d accepted", what, accepted, len(results))
        return results

    def _send_one(self, message):
        to = message.number[1:] if message.number.startswith("+") else message.number
        if not to.isdigit():
            return SendResult.failure(message.key, base.INVALID_NUMBER, None, "not an E.164 number")
        data = self._form(message.body, message.sender or self.sender)
        data["to"] = to
        data["idx"] = message.key
        response, transport_error = self._post(data, f"key={message.key}")
        if response is None:
            return SendResult.failure(message.key, base.NETWORK, None, transport_error)

        return self._log_result(message.key, self._parse_send(message.key, response), response)

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
        try:
            response = self._session.get(
                f"{self.api_url}/profile", timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            _logger.warning("SMSAPI profile check: %s", type(exc).__name__)
            return False, f"{type(exc).__name__} talking to {self._host}"
        payload = json_or_none(response)
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


# Words and the spaces between them: a text's places that may differ.
_TOKENS = re.compile(r"(\s+)")


def personalise(bodies):
    """One SMSAPI text for ``bodies``: ``(message, params)`` or None.

    ``message`` holds ``[%1%]``..``[%4%]`` where the texts differ and
    ``params[i][j]`` is what the i-th place holds in the j-th body, so that
    filling the message reproduces every body exactly. None when the texts
    differ in their number of words, in more than four places, or hold what
    SMSAPI's syntax would misread (``[%`` in the text, ``|`` in a value).
    """
    split = [_TOKENS.split(body) for body in bodies]
    length = len(split[0])
    if any(len(tokens) != length for tokens in split):
        return None
    differs = [len({tokens[i] for tokens in split}) > 1 for i in range(length)]
    # Runs of differing words with the same spaces between them are one place
    # ("Jan Kowalski" and "Anna Nowak" are one name).
    runs = []
    i = 0
    while i < length:
        if not differs[i]:
            i += 1
            continue
        start = i
        while i + 2 < length and not differs[i + 1] and differs[i + 2]:
            i += 2
        runs.append((start, i + 1))
        i += 1
    if len(runs) > MAX_PARAMS:
        return None
    pieces, params, last = [], [], 0
    for number, (start, end) in enumerate(runs, start=1):
        pieces.append("".join(split[0][last:start]))
        pieces.append(f"[%{number}%]")
        params.append(["".join(tokens[start:end]) for tokens in split])
        last = end
    pieces.append("".join(split[0][last:]))
    message = "".join(pieces)
    if not re.sub(r"\[%\d%\]|\s", "", message):
        return None  # nothing in common: the whole text would be a parameter
    if "|" in "".join(v for values in params for v in values):
        return None
    if any("[%" in body or "%]" in body for body in bodies):
        return None
    for j, body in enumerate(bodies):
        filled = message
        for number, values in enumerate(params, start=1):
            filled = filled.replace(f"[%{number}%]", values[j], 1)
        if filled != body:
            return None
    return message, params


def _batches(messages):
    """The messages in groups that may share a request: one sender, valid
    numbers, at most BATCH_SIZE, in their order."""
    groups = {}
    for message in messages:
        number = message.number[1:] if message.number.startswith("+") else message.number
        if not number.isdigit():
            groups.setdefault(("single", message.key), []).append(message)
            continue
        shape = len(_TOKENS.split(message.body))
        groups.setdefault((message.sender, shape), []).append(message)
    for group in groups.values():
        for start in range(0, len(group), BATCH_SIZE):
            yield group[start : start + BATCH_SIZE]


def _split(value):
    if value is None:
        return []
    return [part.strip() for part in str(value).split(",")]
