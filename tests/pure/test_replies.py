"""What a client's reply asks for, without Odoo."""

import pytest

from notify_engine import fakes, replies
from notify_engine.gateways import SmsapiGateway, TwilioGateway


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Polish, as clients type it: accents or none, any case, words around.
        ("Tak, proszę o ofertę odnowienia", "renewal"),
        ("tak", "renewal"),
        ("TAK!", "renewal"),
        ("Proszę odnów polisę", "renewal"),
        ("prosze odnow", "renewal"),
        ("Chcę odnowić", "renewal"),
        ("Zadzwoń do mnie jutro", "call_back"),
        ("zadzwon prosze", "call_back"),
        ("Proszę zadzwonić po 17", "call_back"),
        ("Zadzwońcie", "call_back"),
        # Both: a call is what the client wants first.
        ("Tak, zadzwońcie", "call_back"),
        # Lithuanian.
        ("Taip", "renewal"),
        ("Noriu atnaujinti draudimą", "renewal"),
        ("Prašau paskambinkite", "call_back"),
        ("SKAMBINKITE", "call_back"),
        # English.
        ("Yes please renew", "renewal"),
        ("Please call me", "call_back"),
        # Nothing asked.
        ("Dziękuję, zapłaciłem wczoraj", "other"),
        ("Także dziękuję", "other"),  # "także" starts with TAK, but TAK is a whole word
        ("", "other"),
        (None, "other"),
        ("👍", "other"),
    ],
)
def test_classify_the_shipped_keywords(text, kind):
    assert replies.classify(text) == kind


def test_fold_transliterates_polish_and_lithuanian_letters():
    assert replies.fold("Zażółć gęślą jaźń") == "ZAZOLC GESLA JAZN"
    assert replies.fold("Ačiū, šį kartą ėjo") == "ACIU, SI KARTA EJO"
    assert replies.words("ODNÓW, proszę!") == ["ODNOW", "PROSZE"]


def test_company_keywords_as_typed_in_the_settings():
    keywords = {
        "call_back": replies.parse_keywords("oddzwońcie; proszę o kontakt"),
        "renewal": replies.parse_keywords("Jasne,\nJASNE, ok"),
    }
    assert keywords["renewal"] == (("JASNE",), ("OK",))
    assert replies.classify("jasne", keywords) == "renewal"
    assert replies.classify("Proszę o kontakt jutro", keywords) == "call_back"
    # A phrase matches its words in order only.
    assert replies.classify("kontakt, proszę", keywords) == "other"
    # The shipped words are not there any more.
    assert replies.classify("TAK", keywords) == "other"
    assert replies.classify("TAK", {}) == "other"


def test_parse_keywords_drops_blanks_and_repeats():
    assert replies.parse_keywords(" , ,") == ()
    assert replies.parse_keywords(None) == ()
    assert replies.parse_keywords("Tak, TAK, tak") == (("TAK",),)


def test_excerpt():
    assert replies.excerpt("  short ", 10) == "short"
    assert replies.excerpt("a" * 20, 10) == "a" * 9 + "…"


def test_the_fake_inbound_payloads_parse_like_the_real_ones():
    smsapi = SmsapiGateway(token="t")
    form = fakes.smsapi_inbound_form("+48600123456", "Tak", msg_id="MO77")
    assert set(form) == {"sms_from", "sms_to", "sms_text", "sms_date", "username", "MsgId"}
    (inbound,) = smsapi.parse_inbound(form)
    assert (inbound.number, inbound.text, inbound.provider_ref) == ("+48600123456", "Tak", "MO77")

    twilio = TwilioGateway(account_sid="AC" + "1" * 32, auth_token="x", sender="+15005550006")
    form = fakes.twilio_inbound_form("+37061234567", "Taip", "AC" + "1" * 32)
    assert form["SmsStatus"] == "received" and form["NumMedia"] == "0"
    (inbound,) = twilio.parse_inbound(form)
    assert inbound.number == "+37061234567"
    assert inbound.provider_ref == form["MessageSid"]
