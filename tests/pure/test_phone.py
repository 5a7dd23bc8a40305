import pytest

from notify_engine import phone
from notify_engine.phone import InvalidPhone

# (typed by a user, country of the client, stored E.164)
NORMALIZED = [
    ("600 123 456", "PL", "+48600123456"),
    ("0048600123456", "PL", "+48600123456"),
    ("48600123456", "PL", "+48600123456"),
    ("+48 600-123-456", "PL", "+48600123456"),
    ("(+48) 600.123.456", "PL", "+48600123456"),
    ("  600123456\t", "pl", "+48600123456"),
    ("22 123 45 67", "PL", "+48221234567"),
    ("8-686 88960", "LT", "+37068688960"),
    ("370 686 88960", "LT", "+37068688960"),
    ("+370 686 88960", "PL", "+37068688960"),
    ("00370 686 88960", "PL", "+37068688960"),
    # No region known: a number written with its country code still reads.
    ("+48 600 123 456", None, "+48600123456"),
    ("0048 600 123 456", None, "+48600123456"),
    ("(+48) 600.123.456", None, "+48600123456"),
    ("+370 686 88960", "", "+37068688960"),
    ("00370 686 88960", "  ", "+37068688960"),
]

# (typed by a user, country of the client, reason given back)
REFUSED = [
    ("abc", "PL", "unparseable"),
    ("tel. komórkowy", "LT", "unparseable"),
    ("123", "PL", "invalid"),
    ("600 123 45", "PL", "invalid"),
    ("600 123 4567", "PL", "invalid"),
    ("+48 100 000 000", "PL", "invalid"),
    ("4812", "PL", "invalid"),
    ("600123456", "XX", "unparseable"),
    # No region known and no country code: the digits are not guessed at.
    ("600123456", None, "needs_country_code"),
    ("508 449 246", None, "needs_country_code"),  # not Saint-Pierre-et-Miquelon
    ("8 624 95677", None, "needs_country_code"),  # not China
    ("48600123456", None, "needs_country_code"),
    ("600 123 456", "", "needs_country_code"),
    ("600 123 456", False, "needs_country_code"),  # Odoo's empty country
    ("abc", None, "unparseable"),
    ("+999 123", None, "unparseable"),
    ("0048 100 000 000", None, "invalid"),
    ("00999 123", None, "unparseable"),  # "00" said international; no such country
]

GATEWAY_FORMS = [
    ("+37068688960", "smsapi", "37068688960"),
    ("+48600123456", "smsapi", "48600123456"),
    ("+37068688960", "twilio", "+37068688960"),
    ("+48600123456", "sandbox", "+48600123456"),
]


@pytest.mark.parametrize(("raw", "region", "expected"), NORMALIZED)
def test_normalize_gives_e164(raw, region, expected):
    assert phone.normalize(raw, region) == expected


@pytest.mark.parametrize(("raw", "region", "reason"), REFUSED)
def test_normalize_refuses_with_a_reason(raw, region, reason):
    with pytest.raises(InvalidPhone) as caught:
        phone.normalize(raw, region)
    assert caught.value.reason == reason
    assert caught.value.raw == raw


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", None, False])
def test_blank_number_is_not_an_error(raw):
    assert phone.normalize(raw, "PL") == ""
    assert phone.require_mobile(raw, "PL") == ""


def test_invalid_phone_is_a_value_error_with_an_english_log_message():
    with pytest.raises(ValueError, match="not a valid phone number: '123'"):
        phone.normalize("123", "PL")


def test_needs_country_code_says_so_in_the_log_message():
    with pytest.raises(InvalidPhone, match="country code: '508 449 246'"):
        phone.normalize("508 449 246", None)


def test_require_mobile_without_region_asks_for_the_country_code():
    with pytest.raises(InvalidPhone) as caught:
        phone.require_mobile("8-686 88960", None)
    assert caught.value.reason == "needs_country_code"
    assert phone.require_mobile("+370 686 88960", None) == "+37068688960"


def test_national_number_of_another_country_is_not_reinterpreted():
    # Lithuanian digits without "+" for a Polish client: guessing a country
    # here could text a stranger, so the user must write the prefix.
    with pytest.raises(InvalidPhone) as caught:
        phone.normalize("370 686 88960", "PL")
    assert caught.value.reason == "invalid"


@pytest.mark.parametrize(
    ("e164", "mobile"),
    [
        ("+48600123456", True),
        ("+37068688960", True),
        ("+48221234567", False),
        # The US plan does not tell mobiles from landlines.
        ("+12025550123", True),
        ("+48123", False),
        ("600123456", False),
        ("", False),
    ],
)
def test_is_mobile(e164, mobile):
    assert phone.is_mobile(e164) is mobile


def test_require_mobile_accepts_mobiles():
    assert phone.require_mobile("8-686 88960", "LT") == "+37068688960"


def test_require_mobile_refuses_a_polish_landline():
    with pytest.raises(InvalidPhone) as caught:
        phone.require_mobile("22 123 45 67", "PL")
    assert caught.value.reason == "not_mobile"
    assert caught.value.raw == "22 123 45 67"


def test_require_mobile_reports_garbage_before_landline():
    with pytest.raises(InvalidPhone) as caught:
        phone.require_mobile("abc", "PL")
    assert caught.value.reason == "unparseable"


@pytest.mark.parametrize(("e164", "provider", "expected"), GATEWAY_FORMS)
def test_for_gateway(e164, provider, expected):
    assert phone.for_gateway(e164, provider) == expected


def test_for_gateway_refuses_an_unknown_provider():
    with pytest.raises(ValueError, match="unknown SMS provider"):
        phone.for_gateway("+48600123456", "carrier-pigeon")


@pytest.mark.parametrize("number", ["48600123456", "600 123 456", "", "+0123"])
def test_for_gateway_refuses_numbers_that_are_not_e164(number):
    with pytest.raises(ValueError, match="not an E.164 number"):
        phone.for_gateway(number, "smsapi")


def test_example_mobile_shows_a_national_number_of_the_region():
    from notify_engine.phone import example_mobile, normalize

    example = example_mobile("PL")
    assert normalize(example, "PL").startswith("+48")
    assert example_mobile(None) is None
    assert example_mobile("XX") is None


def test_a_lithuanian_number_typed_without_its_country_is_a_polish_landline():
    # The attack: "8 686 88960" typed for a client in the Polish agency.
    assert phone.normalize("8 686 88960", "PL") == "+48868688960"
    assert not phone.is_mobile("+48868688960")
    with pytest.raises(InvalidPhone) as caught:
        phone.require_mobile("8 686 88960", "PL")
    assert caught.value.reason == "not_mobile"
    assert phone.require_mobile("8 686 88960", "LT") == "+37068688960"


def test_mobile_readings_suggest_the_country_that_makes_a_mobile():
    assert phone.mobile_readings("8 686 88960", ["PL", "LT"]) == {"LT": "+37068688960"}
    assert phone.mobile_readings("600 123 456", ["pl", "LT", None, ""]) == {"PL": "+48600123456"}
    assert phone.mobile_readings("22 123 45 67", ["PL", "LT"]) == {}
    assert phone.mobile_readings("+370 686 88960", ["PL", "LT"]) == {
        "PL": "+37068688960",
        "LT": "+37068688960",
    }


def test_region_of():
    assert phone.region_of("+48221234567") == "PL"
    assert phone.region_of("+37068688960") == "LT"
    assert phone.region_of("garbage") is None
