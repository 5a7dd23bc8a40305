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
