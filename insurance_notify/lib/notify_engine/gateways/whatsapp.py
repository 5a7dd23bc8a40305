"""WhatsApp over Meta's WhatsApp Cloud API (graph.facebook.com).

A message is a request to ``/{version}/{phone_number_id}/messages``: an
approved template with its numbered parameters (automatic reminders always go
so), or free text, which Meta delivers only inside the 24 hours that follow
the client's own last message. Meta takes no idempotency key and offers no
list of sent messages, so an attempt cut short cannot be looked up: the key
travels as ``biz_opaque_callback_data`` and comes back in the status webhooks,
which tell whether it went; :meth:`WhatsAppGateway.find_sent` never answers
"safe to send" and a message in doubt waits for them.

Webhooks are JSON, signed with ``X-Hub-Signature-256`` (HMAC-SHA256 of the
raw body with the app's secret); :func:`signature_ok` checks it in constant
time and :func:`verify_subscription` answers Meta's ``GET`` check.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import quote, urlsplit

import requests

from . import base
from .base import DeliveryReport, InboundSms, SendResult, aware_utc
from .http import DEFAULT_TIMEOUT, HttpGateway, json_or_none

_logger = logging.getLogger(__name__)

API_VERSION = "v21.0"

# Meta's error codes (Cloud API error codes page); anything not listed is
# base.REJECTED, so an unknown answer can never loop.
ERROR_CLASSES = {
    "0": base.AUTHORIZATION,  # AuthException
    "3": base.AUTHORIZATION,  # capability or permissions
    "10": base.AUTHORIZATION,  # permission denied
    "190": base.AUTHORIZATION,  # access token expired
    "368": base.AUTHORIZATION,  # temporarily blocked for policy violations
    "131031": base.AUTHORIZATION,  # account locked
    "131045": base.AUTHORIZATION,  # incorrect certificate
    "1": base.PROVIDER,  # API unknown
    "2": base.PROVIDER,  # API service
    "131000": base.PROVIDER,  # something went wrong
    "131016": base.PROVIDER,  # service unavailable
    "133004": base.PROVIDER,  # server temporarily unavailable
    "4": base.RATE_LIMIT,  # too many calls
    "80007": base.RATE_LIMIT,  # rate limit issues
    "130429": base.RATE_LIMIT,  # Cloud API message throughput reached
    "131048": base.RATE_LIMIT,  # spam rate limit hit
    "131056": base.NUMBER_BUSY,  # too many messages to this one number just now
    "131042": base.CREDITS,  # business eligibility: payment issue
    "131026": base.INVALID_NUMBER,  # undeliverable (not on WhatsApp, old app, terms)
    "131021": base.INVALID_NUMBER,  # recipient cannot be the sender
    "131047": base.OUTSIDE_WINDOW,  # more than 24 hours since the client's last message
    "131050": base.OPTED_OUT,  # the client stopped marketing messages
    "133010": base.SENDER,  # the sending number is not registered
}
# 132000..132999: the template does not exist, is paused, or its parameters
# do not match (132000 count, 132001 not found, 132005 too long, 132007
# policy, 132012 format, 132015 paused, 132016 disabled).
TEMPLATE_CODES = range(132000, 133000)
# The error code of a request that never reached Meta (the connection was not
# made): safe to send again, unlike a request whose answer was lost.
NOT_CONNECTED = "not_connected"

_STATES = {"sent": base.SENT, "delivered": base.DELIVERED, "read": base.READ, "failed": base.FAILED}


class WhatsAppGateway(HttpGateway):
    provider = "whatsapp"
    idempotent = False
    stop_batch_on = frozenset(
        {base.AUTHORIZATION, base.CREDITS, base.RATE_LIMIT, base.NETWORK, base.PROVIDER}
    )

    def __init__(
        self,
        access_token,
        phone_number_id,
        business_account_id=None,
        api_url="https://graph.facebook.com",
        api_version=API_VERSION,
        timeout=DEFAULT_TIMEOUT,
        concurrency=None,
        rate=None,
    ):
        if not access_token or not phone_number_id:
            raise ValueError("WhatsApp needs an access token and a phone number id")
        self._token = access_token
        self._secret = access_token
        self.phone_number_id = str(phone_number_id)
        self.business_account_id = business_account_id or None
        self.api_url = f"{api_url.rstrip('/')}/{api_version}"
        self.timeout = timeout
        self._host = urlsplit(api_url).netloc
        self._set_throughput(concurrency, rate)

    def _configure_session(self, session):
        session.headers["Authorization"] = f"Bearer {self._secret}"

    # -- sending ---------------------------------------------------------

    def payload(self, message):
        """The JSON Meta is sent for ``message``: a template or free text."""
        data = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.number.lstrip("+"),
            # Echoed in every status webhook of this message: how an attempt
            # cut short is recognised later.
            "biz_opaque_callback_data": message.key,
        }
        if message.template:
            template = {"name": message.template, "language": {"code": message.language or "en"}}
            if message.params:
                template["components"] = [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": value} for value in message.params],
                    }
                ]
            data.update(type="template", template=template)
        else:
            data.update(type="text", text={"preview_url": False, "body": message.body})
        return data

    def _send_one(self, message):
        if not message.number.lstrip("+").isdigit():
            return SendResult.failure(message.key, base.INVALID_NUMBER, None, "not an E.164 number")
        try:
            response = self._session.post(
                f"{self.api_url}/{quote(self.phone_number_id, safe='')}/messages",
                json=self.payload(message),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.ConnectTimeout as exc:
            return self._transport_failure(message.key, exc, "", NOT_CONNECTED)
        except requests.RequestException as exc:
            return self._transport_failure(message.key, exc, "; the message may have been sent")
        result = self._parse_send(message.key, response)
        if result.accepted:
            _logger.info("WhatsApp key=%s accepted id=%s", message.key, result.provider_ref)
        else:
            _logger.warning(
                "WhatsApp key=%s failed: %s (code %s, HTTP %s)",
                message.key,
                result.error_class,
                result.error_code,
                response.status_code,
            )
        return result

    def _transport_failure(self, key, exc, note="", code=None):
        # Only the exception's type: its text can carry request details.
        name = type(exc).__name__
        _logger.warning("WhatsApp key=%s: %s", key, name)
        return SendResult.failure(key, base.NETWORK, code, f"{name} talking to {self._host}{note}")

    def _parse_send(self, key, response):
        status = response.status_code
        payload = json_or_none(response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if 200 <= status < 300 and not error:
            messages = payload.get("messages") if isinstance(payload, dict) else None
            ref = None
            if isinstance(messages, list) and messages and isinstance(messages[0], dict):
                ref = messages[0].get("id")
            return SendResult(key, True, provider_ref=ref or None, parts=1)
        code = text = None
        if isinstance(error, dict):
            code = None if error.get("code") is None else str(error.get("code"))
            details = (error.get("error_data") or {}).get("details")
            text = details or error.get("message")
            text = self._scrub(str(text)) if text else None
        if status >= 500 and code not in ERROR_CLASSES:
            return SendResult.failure(key, base.PROVIDER, code or f"http {status}", text)
        if code in ERROR_CLASSES:
            return SendResult.failure(key, ERROR_CLASSES[code], code, text)
        if code and code.isdigit() and int(code) in TEMPLATE_CODES:
            return SendResult.failure(key, base.TEMPLATE, code, text)
        if status == 429:
            return SendResult.failure(key, base.RATE_LIMIT, code or f"http {status}", text)
        if status in (401, 403):
            return SendResult.failure(key, base.AUTHORIZATION, code or f"http {status}", text)
        return SendResult.failure(key, base.REJECTED, code or f"http {status}", text)

    def find_sent(self, messages, since):
        """Meta lists no sent messages: whether an attempt cut short went out
        is told by its status webhook (carrying the key), never guessed here."""
        aware_utc(since)
        return [
            SendResult.failure(
                m.key, base.PROVIDER, "no_lookup", "waiting for WhatsApp's status webhook"
            )
            for m in messages
        ]

    # -- account and templates ------------------------------------------

    def test_connection(self):
        try:
            response = self._session.get(
                f"{self.api_url}/{quote(self.phone_number_id, safe='')}",
                params={"fields": "display_phone_number,verified_name,quality_rating"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return False, f"{type(exc).__name__} talking to {self._host}"
        payload = json_or_none(response)
        if response.status_code != 200 or not isinstance(payload, dict) or "error" in payload:
            error = (payload or {}).get("error") if isinstance(payload, dict) else None
            message = self._scrub(str((error or {}).get("message") or "error"))
            return False, f"HTTP {response.status_code}: {message}"
        name = payload.get("verified_name") or ""
        return True, f"{payload.get('display_phone_number', '')} {name}".strip()

    def list_templates(self):
        """The account's templates: dicts with name, language, status,
        category and body (``{{1}}``.. placeholders), all pages."""
        if not self.business_account_id:
            raise ValueError("listing templates needs the WhatsApp Business account id")
        url = f"{self.api_url}/{quote(str(self.business_account_id), safe='')}/message_templates"
        params = {"fields": "name,language,status,category,components", "limit": 100}
        templates = []
        for _page in range(50):
            response = self._session.get(
                url, params=params, timeout=self.timeout, allow_redirects=False
            )
            payload = json_or_none(response)
            if response.status_code != 200 or not isinstance(payload, dict):
                raise requests.HTTPError(f"HTTP {response.status_code} listing templates")
            for item in payload.get("data") or []:
                body = next(
                    (
                        c.get("text", "")
                        for c in item.get("components") or []
                        if c.get("type") == "BODY"
                    ),
                    "",
                )
                templates.append(
                    {
                        "name": item.get("name"),
                        "language": item.get("language"),
                        "status": str(item.get("status") or "").lower(),
                        "category": str(item.get("category") or "").lower(),
                        "body": body,
                    }
                )
            after = ((payload.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (payload.get("paging") or {}).get("next"):
                break
            params = {**params, "after": after}
        return templates

    # -- webhooks --------------------------------------------------------

    def parse_delivery_report(self, params):
        """Statuses of a webhook notification (its parsed JSON)."""
        reports = []
        for value in _values(params):
            for status in value.get("statuses") or []:
                state = _STATES.get(str(status.get("status") or "").lower())
                if state is None:
                    continue
                reason = None
                if state == base.FAILED:
                    errors = status.get("errors") or [{}]
                    reason = str(errors[0].get("code") or errors[0].get("title") or "failed")
                reports.append(
                    DeliveryReport(
                        provider_ref=status.get("id"),
                        key=status.get("biz_opaque_callback_data") or None,
                        state=state,
                        reason=reason,
                        number=_plus(status.get("recipient_id")),
                    )
                )
        return reports

    def parse_inbound(self, params):
        """Messages a client sent us, from a webhook notification."""
        inbound = []
        for value in _values(params):
            names = {
                c.get("wa_id"): (c.get("profile") or {}).get("name")
                for c in value.get("contacts") or []
            }
            for message in value.get("messages") or []:
                kind = message.get("type")
                if kind == "text":
                    text = (message.get("text") or {}).get("body", "")
                elif kind == "button":
                    text = (message.get("button") or {}).get("text", "")
                elif kind == "interactive":
                    reply = message.get("interactive") or {}
                    chosen = reply.get("button_reply") or reply.get("list_reply") or {}
                    text = chosen.get("title", "")
                else:
                    # A photo, a voice note, a location: kept, with its kind as text.
                    text = f"[{kind}]"
                inbound.append(
                    InboundSms(
                        number=_plus(message.get("from")),
                        text=text,
                        provider_ref=message.get("id"),
                        name=names.get(message.get("from")),
                        in_reply_to=(message.get("context") or {}).get("id"),
                    )
                )
        return inbound


def signature_ok(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether ``X-Hub-Signature-256`` signs ``raw_body`` with ``app_secret``."""
    if not header or not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


def sign(raw_body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` Meta would send with ``raw_body``."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_subscription(params, verify_token: str) -> str | None:
    """Meta's ``GET`` check of a webhook URL: the challenge to echo, or None."""
    if params.get("hub.mode") != "subscribe" or not verify_token:
        return None
    given = str(params.get("hub.verify_token") or "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    return str(params.get("hub.challenge") or "")


def _values(payload):
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return []
    return [
        change.get("value") or {}
        for entry in payload.get("entry") or []
        for change in entry.get("changes") or []
        if change.get("field") == "messages"
    ]


def _plus(number):
    number = str(number or "").strip()
    return "+" + number if number.isdigit() else number
