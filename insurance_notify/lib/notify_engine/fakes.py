"""A real HTTP server on 127.0.0.1 that answers like an SMS provider.

Tests script its answers and read back what it received, so the gateways are
exercised through requests, sockets and timeouts exactly as in production,
without leaving the machine.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import sms


class _Server(ThreadingHTTPServer):
    # The standard backlog of 5 refuses connections when a gateway keeps 16
    # requests in flight on a busy machine: a real provider does not.
    request_queue_size = 128


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        """The form fields, one value each (the gateways never repeat a field)."""
        fields = parse_qs(self.body.decode(), keep_blank_values=True)
        return {name: values[-1] for name, values in fields.items()}


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without answering (an answer lost)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "application/json"
        return self.body, "application/octet-stream"


Responder = Callable[[Received], Reply]


class FakeProvider:
    """Start with ``with FakeProvider() as fake:``; ``fake.url`` is its base URL.

    ``fake.reply(...)`` sets one answer for every request, ``fake.respond(fn)``
    a function of the request; ``fake.received`` lists what came in.
    """

    def __init__(self):
        self.received: list[Received] = []
        self._responder: Responder = lambda _request: Reply(404, {"error": "no answer scripted"})
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        # A short poll keeps shutdown (one per test) from costing half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reply(self, status=200, body=b"", headers=None, delay=0.0):
        answer = Reply(status, body, dict(headers or {}), delay)
        self._responder = lambda _request: answer

    def respond(self, responder: Responder):
        self._responder = responder

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record_and_answer(self, request: Received) -> Reply:
        with self._lock:
            self.received.append(request)
        return self._responder(request)

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without this, Nagle and
            # delayed ACKs add 40 ms to every keep-alive answer.
            disable_nagle_algorithm = True

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                request = Received(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query, keep_blank_values=True),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
                answer = fake._record_and_answer(request)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.drop:
                    self.close_connection = True
                    return
                payload, content_type = answer.encoded()
                # The client may give up waiting, which is what slow answers test.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(answer.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args):
                pass

        return Handler


class FakeTwilio(FakeProvider):
    """One Twilio account, answering like api.twilio.com/2010-04-01.

    Creating a message (POST .../Messages.json) stores it and answers 201;
    ``lose_answers`` turns that answer into ``Reply(drop=True)`` (connection
    closed) or a slow one, after the message was stored, as when an answer is
    lost on the way back. Listing (GET .../Messages.json) serves the stored
    messages newest first with Twilio's filters ``To``, ``From``, ``DateSent``,
    ``DateSent>`` and ``DateSent<`` (dates in GMT, on ``date_sent``; a message
    with no ``date_sent`` yet is left out by a date filter), ``PageSize`` and
    ``Page``, and gives ``next_page_uri`` while more remain. ``list_reply``
    replaces the list's answer (the lookup down). GET .../{sid}.json answers
    the account. A request without the account's basic auth gets 401.
    """

    def __init__(self, account_sid, auth_token):
        super().__init__()
        self.account_sid = account_sid
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.account_path = f"/2010-04-01/Accounts/{account_sid}"
        self.messages_path = f"{self.account_path}/Messages.json"
        self.messages: list[dict] = []  # as stored; the list answer sorts them
        self.lose_answers: Reply | None = None
        self.list_reply: Reply | None = None
        self._sids = itertools.count(1)
        self.respond(self._answer)

    def add(self, to, body, created=None, direction="outbound-api", sent=True, sender=None):
        """Store a message as if it had been created at ``created`` (aware, default now)."""
        created = created or datetime.now(UTC)
        message = {
            "sid": f"SM{next(self._sids):032x}",
            "account_sid": self.account_sid,
            "to": to,
            "from": sender or "+15005550006",
            "body": body,
            "status": "sent" if sent else "queued",
            "direction": direction,
            "num_segments": str(sms.analyze(body).parts),
            "_created": created,
            "_sent": created if sent else None,
            "date_created": format_datetime(created.astimezone(UTC), usegmt=True),
            "date_updated": format_datetime(created.astimezone(UTC), usegmt=True),
            "date_sent": format_datetime(created.astimezone(UTC), usegmt=True) if sent else None,
            "error_code": None,
            "error_message": None,
        }
        with self._lock:
            self.messages.append(message)
        return message

    @property
    def created(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST"]

    @property
    def lookups(self) -> list[Received]:
        return [r for r in self.received if r.method == "GET" and r.path == self.messages_path]

    def _answer(self, request):
        if request.headers.get("authorization") != self._auth:
            return Reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if request.path == f"{self.account_path}.json":
            return Reply(200, {"sid": self.account_sid, "status": "active"})
        if request.path != self.messages_path:
            return Reply(404, {"code": 20404, "message": "Not found", "status": 404})
        if request.method == "POST":
            return self._create(request.form)
        if self.list_reply is not None:
            return self.list_reply
        return self._list(request.query)

    def _create(self, form):
        message = self.add(form["To"], form["Body"], sent=True, sender=form.get("From"))
        if self.lose_answers is not None:
            return self.lose_answers
        return Reply(201, _public(message))

    def _list(self, query):
        first = {name: values[-1] for name, values in query.items()}
        day_filters = {
            "DateSent": lambda day, wanted: day == wanted,
            "DateSent>": lambda day, wanted: day >= wanted,
            "DateSent<": lambda day, wanted: day <= wanted,
        }

        def wanted(message):
            if "To" in first and message["to"] != first["To"]:
                return False
            if "From" in first and message["from"] != first["From"]:
                return False
            for name, test in day_filters.items():
                if name in first:
                    sent = message["_sent"]
                    if sent is None or not test(
                        sent.astimezone(UTC).date().isoformat(), first[name]
                    ):
                        return False
            return True

        with self._lock:
            found = [m for m in self.messages if wanted(m)]
        found.sort(key=lambda m: m["_created"], reverse=True)
        size = int(first.get("PageSize", 50))
        page = int(first.get("Page", 0))
        chunk = found[page * size : (page + 1) * size]
        next_uri = None
        if (page + 1) * size < len(found):
            following = {**first, "Page": str(page + 1), "PageToken": f"PA{page + 1}"}
            next_uri = f"{self.messages_path}?{urlencode(following)}"
        return Reply(
            200,
            {
                "messages": [_public(m) for m in chunk],
                "page": page,
                "page_size": size,
                "next_page_uri": next_uri,
                "uri": self.messages_path,
            },
        )


def _public(message):
    return {name: value for name, value in message.items() if not name.startswith("_")}


# ----------------------------------------------------------------------
# Inbound messages (clients' replies), as the providers post them to us
# ----------------------------------------------------------------------

_inbound_ids = itertools.count(1)


def smsapi_inbound_form(
    number, text, to="4100", username="broker@example.com", msg_id=None, when=None
):
    """The fields of SMSAPI's two-way (received SMS) callback: the sender's
    number in digits with its country code and no +, the number it reached,
    the text, the Unix time it arrived, the account's user name and SMSAPI's
    id of the message (the same on a redelivery)."""
    when = when or datetime.now(UTC)
    return {
        "sms_from": number.lstrip("+"),
        "sms_to": to,
        "sms_text": text,
        "sms_date": str(int(when.timestamp())),
        "username": username,
        "MsgId": msg_id or f"MO{next(_inbound_ids):08d}",
    }


def twilio_inbound_form(number, text, account_sid, to="+15005550006", sid=None):
    """The fields of Twilio's incoming-message webhook for an SMS (no media):
    ids, the numbers, the body and Twilio's geographic guesses (often empty)."""
    sid = sid or "SM" + f"{next(_inbound_ids):032x}"
    return {
        "ToCountry": "US",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "PL" if number.startswith("+48") else "LT",
        "To": to,
        "MessagingServiceSid": "",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": number,
        "ApiVersion": "2010-04-01",
    }


def expand_sms_do(form):
    """SMSAPI's reading of one ``sms.do`` form: ``(number, idx, text)`` per
    recipient, with ``[%1%]``..``[%4%]`` filled from ``param1``..``param4``."""
    numbers = [n.strip() for n in form.get("to", "").split(",") if n.strip()]
    keys = form.get("idx", "").split("|") if "idx" in form else [None] * len(numbers)
    params = [form[f"param{i}"].split("|") if f"param{i}" in form else None for i in range(1, 5)]
    recipients = []
    for j, number in enumerate(numbers):
        text = form.get("message", "")
        for i, values in enumerate(params, start=1):
            if values is not None:
                text = text.replace(f"[%{i}%]", values[j] if j < len(values) else "")
        recipients.append((number, keys[j] if j < len(keys) else None, text))
    return recipients


class FakeSmsapi(FakeProvider):
    """One SMSAPI account answering ``sms.do`` as api.smsapi.pl does: many
    recipients per request (comma-separated ``to``, pipe-separated ``idx`` and
    ``param1``..``param4``), ``check_idx`` refusing the whole request with
    error 53 when any of its keys was seen, numbers listed in
    ``invalid`` left out of ``list`` and named in ``invalid_numbers``, and one
    ``list`` entry per accepted recipient with every field SMSAPI shows.
    ``delivered`` is what reached the handsets: ``(number, idx, text)``.
    ``lose_answers`` drops the answer after the messages were accepted;
    ``latency`` (seconds) delays every answer, as a distant provider would."""

    def __init__(self):
        super().__init__()
        self.seen = {}
        self.delivered: list[tuple[str, str | None, str]] = []
        self.invalid: set[str] = set()
        self.lose_answers = False
        self.latency = 0.0
        self._ids = itertools.count(1)
        self.respond(self._answer)

    def _answer(self, request):
        if request.path == "/profile":
            return Reply(200, {"points": 10.0, "name": "Broker", "username": "broker"})
        recipients = expand_sms_do(request.form)
        with self._lock:
            if request.form.get("check_idx") == "1" and any(
                k in self.seen for _, k, _ in recipients
            ):
                return Reply(200, {"error": 53, "message": "Not unique idx"})
            good = [r for r in recipients if r[0] not in self.invalid]
            bad = [r for r in recipients if r[0] in self.invalid]
            if not good:
                return Reply(
                    200,
                    {
                        "error": 13,
                        "message": "No correct phone numbers",
                        "invalid_numbers": [
                            {"number": n, "submitted_number": n, "message": "Invalid phone number"}
                            for n, _, _ in bad
                        ],
                    },
                )
            entries = []
            for number, key, text in good:
                ref = f"{next(self._ids):016X}"
                self.seen[key] = ref
                self.delivered.append((number, key, text))
                entries.append(
                    {
                        "id": ref,
                        "points": 0.16 * sms.analyze(text).parts,
                        "number": number,
                        "date_sent": int(time.time()),
                        "submitted_number": number,
                        "status": "QUEUE",
                        "error": None,
                        "idx": key,
                        "parts": sms.analyze(text).parts,
                    }
                )
        if self.lose_answers:
            return Reply(drop=True, delay=self.latency)
        body = {"count": len(entries), "list": entries}
        if bad:
            body["invalid_numbers"] = [
                {"number": n, "submitted_number": n, "message": "Invalid phone number"}
                for n, _, _ in bad
            ]
        return Reply(200, body, delay=self.latency)


class FakeMeta(FakeProvider):
    """Meta's WhatsApp Cloud API for one phone number: ``POST
    /{version}/{phone_number_id}/messages`` with the bearer token answers as
    graph.facebook.com does (``messaging_product``, ``contacts`` with
    ``input`` and ``wa_id``, ``messages`` with a ``wamid`` id and
    ``message_status``), refuses free text to a number whose client has not
    written within 24 hours (131047), numbers in ``not_on_whatsapp`` (131026),
    templates not in ``approved`` (132001). ``sent`` holds the accepted
    payloads; ``status_webhook`` and ``inbound_webhook`` build the signed
    notifications Meta would post about them."""

    def __init__(self, token, phone_number_id, app_secret, waba_id="102290129340398"):
        super().__init__()
        self.token = token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.waba_id = waba_id
        self.sent: list[dict] = []
        self.ids: dict[str, str] = {}  # wamid -> the payload's biz_opaque_callback_data
        self.payloads: dict[str, dict] = {}  # wamid -> what was sent
        self.not_on_whatsapp: set[str] = set()
        self.window_open: set[str] = set()  # numbers whose client wrote in the last 24 h
        self.approved: set[tuple[str, str]] = set()  # (template name, language)
        self.templates: list[dict] = []
        self.lose_answers = False
        self._wamids = itertools.count(1)
        self.respond(self._answer)

    def _error(self, status, code, message, title=None):
        return Reply(
            status,
            {
                "error": {
                    "message": message,
                    "type": "OAuthException",
                    "code": code,
                    "error_data": {"messaging_product": "whatsapp", "details": title or message},
                    "fbtrace_id": "AazdvVtlE4B3UVUR8l-qh6X",
                }
            },
        )

    def _answer(self, request):
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self._error(401, 190, "Error validating access token: Session has expired")
        if request.method == "GET" and request.path.endswith(f"/{self.phone_number_id}"):
            return Reply(
                200,
                {
                    "verified_name": "Agencja Ubezpieczeniowa",
                    "display_phone_number": "+48 22 100 20 30",
                    "quality_rating": "GREEN",
                    "id": self.phone_number_id,
                },
            )
        if request.method == "GET" and request.path.endswith(f"/{self.waba_id}/message_templates"):
            return Reply(
                200,
                {
                    "data": self.templates,
                    "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}},
                },
            )
        if request.method != "POST" or not request.path.endswith(
            f"/{self.phone_number_id}/messages"
        ):
            return self._error(400, 100, "Unsupported post request.")
        data = json.loads(request.body or b"{}")
        to = str(data.get("to", ""))
        if to in self.not_on_whatsapp:
            return self._error(400, 131026, "Message Undeliverable.", "Message Undeliverable.")
        if data.get("type") == "template":
            template = data.get("template") or {}
            wanted = (template.get("name"), (template.get("language") or {}).get("code"))
            if wanted not in self.approved:
                return self._error(
                    404,
                    132001,
                    "(#132001) Template name does not exist in the translation",
                    f"template name ({wanted[0]}) does not exist in {wanted[1]}",
                )
        elif to not in self.window_open:
            return self._error(
                400,
                131047,
                "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the "
                "customer last replied to this number.",
            )
        wamid = f"wamid.HBgLNDg2MDAxMjM0NTYVAgARGBI{next(self._wamids):08X}"
        with self._lock:
            self.sent.append(data)
            self.ids[wamid] = data.get("biz_opaque_callback_data")
            self.payloads[wamid] = data
        if self.lose_answers:
            return Reply(drop=True)
        return Reply(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            },
        )

    def _notification(self, value):
        body = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "48221002030",
                                    "phone_number_id": self.phone_number_id,
                                },
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }
        raw = json.dumps(body).encode()
        from .gateways.whatsapp import sign

        return raw, {
            "X-Hub-Signature-256": sign(raw, self.app_secret),
            "Content-Type": "application/json",
        }

    def status_webhook(self, wamid, status, error_code=None):
        """The signed notification of ``wamid`` reaching ``status``."""
        recipient = self.payloads[wamid]["to"]
        entry = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": recipient,
            "biz_opaque_callback_data": self.ids.get(wamid),
            "conversation": {
                "id": "b1f6a3d4c4e2f0a9b8c7d6e5f4a3b2c1",
                "origin": {"type": "utility"},
                "expiration_timestamp": str(int(time.time()) + 86400),
            },
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "utility"},
        }
        if status == "failed":
            entry["errors"] = [
                {
                    "code": error_code or 131026,
                    "title": "Message undeliverable",
                    "message": "Message undeliverable",
                    "error_data": {"details": "Message Undeliverable."},
                }
            ]
            entry.pop("conversation")
        return self._notification({"statuses": [entry]})

    def inbound_webhook(self, number, text, name="Klient", context_id=None):
        """The signed notification of a client writing ``text`` from ``number``."""
        digits = number.lstrip("+")
        self.window_open.add(digits)
        message = {
            "from": digits,
            "id": f"wamid.IN{next(self._wamids):08X}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": text},
        }
        if context_id:
            message["context"] = {"from": "48221002030", "id": context_id}
        return self._notification(
            {"contacts": [{"profile": {"name": name}, "wa_id": digits}], "messages": [message]}
        )
