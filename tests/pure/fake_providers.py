"""A real HTTP server on 127.0.0.1 that answers like an SMS provider.

Tests script its answers and read back what it received, so the gateways are
exercised through requests, sockets and timeouts exactly as in production,
without leaving the machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


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
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
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
                payload, content_type = answer.encoded()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, which is what slow answers test

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args):
                pass

        return Handler
