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
        "  stop  ",
        "Stop.",
        "\tSTOP\n",
        "«Stop»",
        "stopall",
        "Unsubscribe",
        "cancel",
        "END",
        "quit!",
        "opt-out",
        "Rezygnuję",
        "REZYGNUJE",
        "rezygnacja.",
        "Rezygnuję z SMS",
        "wypisz",
        "Wypisz mnie!",
        "STOP SMS",
        "Atsisakau",
        "ATSISAKYTI",
        "stabdyti",
    ],
)
def test_a_reply_that_is_only_the_keyword_is_an_opt_out(text):
    assert optout.is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "Thanks, I will pay tomorrow",
        "Please don't stop",
        "Cancel the meeting on Friday please",
        "End date of my policy?",
        "Stop by the office tomorrow?",
        "stop please",
        "STOP 48600",
        "Quit calling me at work, e-mail instead",
        "STOPIEN",
        "Nie",
        "NIE!",
        "Ne",
        "Rezygnuję z OC, zostaję przy AC",
        "Atsisakau draudimo, bet ne SMS",
        "OK",
        "123",
        "?!",
    ],
)
def test_any_other_reply_keeps_the_consent(text):
    assert not optout.is_opt_out(text)


def test_fold_trims_and_drops_case_accents_and_punctuation():
    assert optout.fold("  Żaba, idzie!  ") == "ZABA IDZIE"
    assert optout.fold("Łódź") == "LODZ"
    assert optout.fold("Atšaukti") == "ATSAUKTI"
    assert optout.fold("...") == ""
    assert optout.fold(None) == ""


def test_keyword_names_the_folded_keyword():
    assert optout.keyword(" Rezygnuję! ") == "REZYGNUJE"
    assert optout.keyword("Cancel the meeting") == ""


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
