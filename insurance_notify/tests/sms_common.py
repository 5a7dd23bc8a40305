"""Loopback SMS providers for the Odoo tests (the pure suite's fake servers)."""

import itertools

from ..lib.notify_engine.fakes import FakeProvider, FakeTwilio, Reply

TOKEN = "test-token-0123456789"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-0123456789"


class FakeSmsapi(FakeProvider):
    """Answers /sms.do like SMSAPI (one id per message) and /profile with points."""

    def __init__(self):
        super().__init__()
        self._ids = itertools.count(1)
        self.respond(self._answer)

    def _answer(self, request):
        if request.path == "/profile":
            return Reply(200, {"points": 42.5, "name": "Broker"})
        form = request.form
        return Reply(
            200,
            {
                "count": 1,
                "list": [
                    {
                        "id": f"SMSAPI{next(self._ids)}",
                        "points": 0.16,
                        "number": form.get("to"),
                        "status": "QUEUE",
                        "error": None,
                        "idx": form.get("idx"),
                        "parts": 1,
                    }
                ],
            },
        )

    def fail_with(self, code, message="error"):
        self.reply(200, {"error": code, "message": message})


def make_smsapi_gateway(env, url, **values):
    """An SMSAPI gateway on ``url``, made the main company's default."""
    return (
        env["insurance.notify.gateway"]
        .sudo()
        .create(
            {
                "name": "SMSAPI test",
                "provider": "smsapi",
                "api_url": url,
                "smsapi_token": TOKEN,
                "sender": "Broker",
                "sequence": 1,
                "cost_per_part": 0.16,
                "company_id": env.ref("base.main_company").id,
                **values,
            }
        )
    )


def make_twilio_gateway(env, url, **values):
    return (
        env["insurance.notify.gateway"]
        .sudo()
        .create(
            {
                "name": "Twilio test",
                "provider": "twilio",
                "api_url": url,
                "twilio_account_sid": TWILIO_SID,
                "twilio_auth_token": TWILIO_TOKEN,
                "sender": "+15005550006",
                "sequence": 2,
                "company_id": env.ref("base.main_company").id,
                **values,
            }
        )
    )


def fake_twilio():
    """A loopback Twilio account matching :func:`make_twilio_gateway`'s credentials:
    it stores the messages created, can lose answers, and lists them (see FakeTwilio)."""
    return FakeTwilio(TWILIO_SID, TWILIO_TOKEN)
