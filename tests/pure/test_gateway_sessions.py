"""HTTP adapters hold their connections for one chunk: opened at the first
request, closed when the caller's ``with`` block (the chunk) ends."""

from __future__ import annotations

import pytest
import requests

from notify_engine.gateways import SandboxGateway, make_gateway
from notify_engine.gateways.base import OutgoingSms

SID = "AC" + "0" * 32


@pytest.fixture
def answering(fake):
    """The loopback SMSAPI, accepting every message."""
    fake.reply(200, {"count": 1, "list": [{"id": "1", "points": 0.16, "parts": 1}]})
    return fake


@pytest.fixture
def closed(monkeypatch):
    """The sessions closed so far."""
    sessions = []
    original = requests.Session.close

    def close(session):
        sessions.append(session)
        original(session)

    monkeypatch.setattr(requests.Session, "close", close)
    return sessions


def test_a_chunk_closes_the_session_it_opened(answering, closed):
    with make_gateway("smsapi", token="t0ken", api_url=answering.url) as adapter:
        adapter.send([OutgoingSms(key="k1", number="+48600123456", body="Hi")])
        session = adapter._session
        assert not closed
    assert closed == [session]
    assert adapter._session_obj is None


def test_a_closed_adapter_opens_a_new_session_when_used_again(answering, closed):
    adapter = make_gateway("smsapi", token="t0ken", api_url=answering.url)
    with adapter:
        adapter.send([OutgoingSms(key="k1", number="+48600123456", body="Hi")])
    first = closed[0]
    with adapter:
        adapter.send([OutgoingSms(key="k2", number="+48600123456", body="Hi")])
    assert len(closed) == 2
    assert closed[1] is not first
    assert len(answering.received) == 2


def test_an_error_inside_the_chunk_still_closes(fake, closed):
    with pytest.raises(RuntimeError), make_gateway("twilio", account_sid=SID, auth_token="x" * 20):
        raise RuntimeError("the chunk failed")
    # Nothing was requested: no session was opened, none to close.
    assert closed == []


def test_parsing_a_callback_opens_no_session(closed):
    adapter = make_gateway("twilio", account_sid=SID, auth_token="x" * 20)
    with adapter:
        adapter.parse_delivery_report({"MessageSid": "SM1", "MessageStatus": "delivered"})
        assert adapter._session_obj is None
    assert closed == []


def test_the_sandbox_is_a_context_manager_too():
    with make_gateway("sandbox") as adapter:
        assert isinstance(adapter, SandboxGateway)
