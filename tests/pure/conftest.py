"""The pure suite imports the core as the top-level package ``notify_engine``.

The core ships inside the add-on (``insurance_notify/lib/notify_engine``) so
that copying the add-on folder is all an integrator does; it imports nothing
from Odoo, so these tests run on any machine, with or without an Odoo tree.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "insurance_notify" / "lib"))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _short_throttle_waits(monkeypatch):
    """A throttled request waits half a second before it goes again; the
    tests' throttling providers answer at once, so they need not wait."""
    from notify_engine.gateways.http import HttpGateway

    monkeypatch.setattr(HttpGateway, "throttle_wait", 0.001)
