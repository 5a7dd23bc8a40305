"""The pure suite imports the core as the top-level package ``notify_engine``.

The core ships inside the add-on (``insurance_notify/lib/notify_engine``) so
that copying the add-on folder is all an integrator does; it imports nothing
from Odoo, so these tests run on any machine, with or without an Odoo tree.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "insurance_notify" / "lib"))

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
)


@pytest.fixture
def fake(monkeypatch):
    """A loopback provider, reached directly (no proxy of the machine)."""
    from notify_engine.fakes import FakeProvider  # noqa: PLC0415 - after the path is set

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with FakeProvider() as provider:
        yield provider


@pytest.fixture(autouse=True)
def _short_throttle_waits(monkeypatch):
    """A throttled request waits half a second before it goes again; the
    tests' throttling providers answer at once, so they need not wait."""
    from notify_engine.gateways.http import HttpGateway

    monkeypatch.setattr(HttpGateway, "throttle_wait", 0.001)
