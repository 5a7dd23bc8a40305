"""Opt-out keywords and inbound callbacks, without Odoo."""

import pytest

from notify_engine import optout
from notify_engine.gateways import InboundSms, SandboxGateway, SmsapiGateway, TwilioGateway


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop!",
        "  stop please",
        "STOP 48600",
        "Rezygnuję",
        "wypisz mnie",
        "Atsisakau",
        "ATSISAKYTI",
        "unsubscribe",
        "Stop.",
    ],
)
def test_opt_out_words(text):
    assert optout.is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    ["", None, "Thanks, I will pay tomorrow", "Please don't stop", "STOPIEN", "OK", "123", "?!"],
)
def test_other_replies_are_not_opt_outs(text):
    assert not optout.is_opt_out(text)


def test_first_word_folds_case_and_diacritics():
    assert optout.first_word("  Żaba idzie") == "ZABA"
    assert optout.first_word("...") == ""


def test_smsapi_inbound_callback():
    gateway = SmsapiGateway(token="t" * 20)
    params = {
        "sms_from": "48600123456",
        "sms_to": "4xxxx",
        "sms_text": "STOP",
        "sms_date": "1700000000",
        "MsgId": "MO1",
    }
    assert gateway.parse_inbound(params) == [InboundSms("+48600123456", "STOP", "MO1")]
    assert gateway.parse_inbound({"sms_text": "STOP"}) == []


def test_twilio_inbound_callback():
    gateway = TwilioGateway(account_sid="AC" + "0" * 32, auth_token="x" * 20, sender="+1500")
    params = {"From": "+37068688960", "Body": "Atsisakau", "MessageSid": "SM1"}
    assert gateway.parse_inbound(params) == [InboundSms("+37068688960", "Atsisakau", "SM1")]
    assert gateway.parse_inbound({"Body": "STOP"}) == []


def test_the_sandbox_has_no_inbound():
    with pytest.raises(NotImplementedError):
        SandboxGateway().parse_inbound({})
