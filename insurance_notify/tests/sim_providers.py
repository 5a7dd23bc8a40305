"""Loopback SMSAPI and Twilio that keep state like the real ones.

SMSAPI refuses an ``idx`` it has seen (error 53) when asked to check it; Twilio
keeps every message it created and lists them by recipient and date sent.
Both record what reached the handset, with the (simulated) time it arrived,
and can be switched down (an outage) or told to lose their answer after
accepting (a crash between the provider's work and ours).
"""

import itertools
import threading
from email.utils import format_datetime

import pytz

from odoo.tools import mute_logger

from ..lib.notify_engine.fakes import FakeProvider, Reply, expand_sms_do
from .common import NotifyCase
from .sms_common import TOKEN, TWILIO_SID, TWILIO_TOKEN


class Handset:
    """One SMS as the client's phone received it."""

    def __init__(self, number, body, at, ref, key=None):
        self.key = key  # the idempotency key it came with, where the provider has one
        self.number = number
        self.body = body
        self.at = at  # naive UTC, the simulated clock
        self.ref = ref


class StatefulFake(FakeProvider):
    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.down = False
        self.handsets = []
        self._ids = itertools.count(1)
        self._state_lock = threading.Lock()
        self.respond(self._answer)

    def _answer(self, request):
        if self.down:
            return Reply(503, {"error": "unavailable"})
        with self._state_lock:
            return self._handle(request)

    def _deliver(self, number, body, prefix, key=None):
        ref = f"{prefix}{next(self._ids)}"
        self.handsets.append(Handset(number, body, self.clock(), ref, key))
        return ref


class StatefulSmsapi(StatefulFake):
    def __init__(self, clock):
        super().__init__(clock)
        self.idx_seen = {}
        self.requests = 0  # sms.do requests that delivered something

    def _handle(self, request):
        if request.path == "/profile":
            return Reply(200, {"points": 10.0, "name": "Broker", "username": "broker"})
        form = request.form
        recipients = expand_sms_do(form)
        # SMSAPI refuses the whole request when one of its keys was seen.
        if form.get("check_idx") == "1" and any(idx in self.idx_seen for _n, idx, _t in recipients):
            return Reply(200, {"error": 53, "message": "Not unique idx"})
        entries = []
        for number, idx, text in recipients:
            ref = self._deliver("+" + number.lstrip("+"), text, "SMSAPI", idx)
            self.idx_seen[idx] = ref
            entries.append(
                {
                    "id": ref,
                    "points": 0.16,
                    "number": number,
                    "date_sent": 1767000000,
                    "submitted_number": number,
                    "status": "QUEUE",
                    "error": None,
                    "idx": idx,
                    "parts": 1,
                }
            )
        self.requests += 1
        return Reply(200, {"count": len(entries), "list": entries})


class StatefulTwilio(StatefulFake):
    def _handle(self, request):
        if request.method == "POST" and request.path.endswith("/Messages.json"):
            form = request.form
            self._deliver(form.get("To"), form.get("Body", ""), "SM")
            return Reply(201, self._resource(self.handsets[-1]))
        if request.method == "GET" and request.path.endswith("/Messages.json"):
            to = (request.query.get("To") or [None])[0]
            since = (request.query.get("DateSent>") or [None])[0]
            found = [
                self._resource(handset)
                for handset in self.handsets
                if (not to or handset.number == to)
                and (not since or handset.at.date().isoformat() >= since)
            ]
            return Reply(200, {"messages": found, "next_page_uri": None})
        if request.method == "GET" and request.path.endswith(".json"):
            return Reply(200, {"status": "active"})
        return Reply(404, {"code": 20404, "message": "not found"})

    def _resource(self, handset):
        created = format_datetime(pytz.utc.localize(handset.at))
        return {
            "sid": handset.ref,
            "to": handset.number,
            "body": handset.body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": created,
            "date_sent": created,
        }


class StatefulCase(NotifyCase):
    """The stateful SMSAPI and Twilio, each behind a gateway of the main company."""

    QUIET = (
        "odoo.addons.insurance_notify.models.insurance_notify_dispatch",
        "odoo.addons.insurance_notify.models.insurance_notify_composer",
        "odoo.addons.insurance_notify.models.insurance_notify_gateway",
        "odoo.addons.insurance_notify.lib.notify_engine.gateways.smsapi",
        "odoo.addons.insurance_notify.lib.notify_engine.gateways.twilio",
        "odoo.addons.insurance_notify.lib.notify_engine.gateways.http",
    )

    def setUp(self):
        super().setUp()
        self.enterContext(mute_logger(*self.QUIET))
        self.smsapi = self.enterContext(StatefulSmsapi(lambda: self.now))
        self.twilio = self.enterContext(StatefulTwilio(lambda: self.now))
        Gateway = self.env["insurance.notify.gateway"].sudo()
        company = self.env.ref("base.main_company")
        self.gw_smsapi = Gateway.create(
            {
                "name": "SMSAPI",
                "provider": "smsapi",
                "api_url": self.smsapi.url,
                "smsapi_token": TOKEN,
                "sender": "Broker",
                "sequence": 1,
                "company_id": company.id,
            }
        )
        self.gw_twilio = Gateway.create(
            {
                "name": "Twilio",
                "provider": "twilio",
                "api_url": self.twilio.url,
                "twilio_account_sid": TWILIO_SID,
                "twilio_auth_token": TWILIO_TOKEN,
                "sender": "+15005550006",
                "sequence": 2,
                "company_id": company.id,
            }
        )
