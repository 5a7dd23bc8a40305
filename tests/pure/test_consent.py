from datetime import date

import pytest

from notify_engine import consent
from notify_engine.consent import Decision

TODAY = date(2025, 6, 15)

EVERYTHING_GIVEN = {
    "channel_allowed": True,
    "blacklisted": False,
    "marketing": True,
    "specific": True,
}
NOTHING_GIVEN = {
    "channel_allowed": False,
    "blacklisted": False,
    "marketing": False,
    "specific": False,
}

# (mode, facts that differ from EVERYTHING_GIVEN, reason it is refused or None)
CASES = [
    ("none", {}, None),
    ("none", NOTHING_GIVEN, None),
    ("none", {"blacklisted": True}, "blacklisted"),
    ("general", {}, None),
    ("general", {"specific": False}, None),
    ("general", {"blacklisted": True}, "blacklisted"),
    ("general", {"channel_allowed": False}, "channel_consent_missing"),
    ("general", {"marketing": False}, "marketing_consent_missing"),
    ("general", NOTHING_GIVEN, "channel_consent_missing"),
    ("specific", {}, None),
    ("specific", {"marketing": False}, None),
    ("specific", {"blacklisted": True}, "blacklisted"),
    ("specific", {"channel_allowed": False}, "channel_consent_missing"),
    ("specific", {"specific": False}, "specific_consent_missing"),
    ("specific", {**NOTHING_GIVEN, "blacklisted": True}, "blacklisted"),
]

# (mode, last day the consent holds, reason or None)
EXPIRY_CASES = [
    ("general", date(2025, 6, 14), "consent_expired"),
    ("general", date(2025, 6, 15), None),
    ("general", date(2026, 1, 1), None),
    ("specific", date(2024, 12, 31), "consent_expired"),
    ("specific", None, None),
    ("specific", False, None),
    # Service reminders rest on the contract, not on consent.
    ("none", date(2020, 1, 1), None),
]


@pytest.mark.parametrize(("mode", "facts", "reason"), CASES)
def test_decide(mode, facts, reason):
    decision = consent.decide(mode, **{**EVERYTHING_GIVEN, **facts}, today=TODAY)
    assert decision == Decision(reason is None, reason)


@pytest.mark.parametrize(("mode", "valid_until", "reason"), EXPIRY_CASES)
def test_consent_expiry(mode, valid_until, reason):
    decision = consent.decide(
        mode, **EVERYTHING_GIVEN, consent_valid_until=valid_until, today=TODAY
    )
    assert decision == Decision(reason is None, reason)


def test_withdrawal_wins_over_an_expired_consent():
    decision = consent.decide(
        "general",
        **{**EVERYTHING_GIVEN, "blacklisted": True},
        consent_valid_until=date(2020, 1, 1),
        today=TODAY,
    )
    assert decision.reason == "blacklisted"


def test_missing_consent_is_reported_before_expiry():
    decision = consent.decide(
        "specific",
        **{**EVERYTHING_GIVEN, "specific": False},
        consent_valid_until=date(2020, 1, 1),
        today=TODAY,
    )
    assert decision.reason == "specific_consent_missing"


def test_expiry_is_checked_against_the_current_date_by_default():
    past = consent.decide("general", **EVERYTHING_GIVEN, consent_valid_until=date(2000, 1, 1))
    future = consent.decide("general", **EVERYTHING_GIVEN, consent_valid_until=date(9999, 1, 1))
    assert past.reason == "consent_expired"
    assert future.allowed


@pytest.mark.parametrize("mode", ["marketing", "", None, "GENERAL"])
def test_unknown_mode_is_refused_even_for_a_blacklisted_partner(mode):
    with pytest.raises(ValueError, match="unknown consent mode"):
        consent.decide(mode, **{**EVERYTHING_GIVEN, "blacklisted": True})


def test_flags_are_keyword_only():
    with pytest.raises(TypeError):
        consent.decide("none", True, False, True, True)


def test_decision_cannot_be_altered():
    decision = consent.decide("none", **EVERYTHING_GIVEN)
    with pytest.raises(AttributeError):
        decision.allowed = False


# WhatsApp: Meta requires the client's opt-in whatever the rule says.
def test_whatsapp_needs_its_own_consent_even_when_rule_needs_none():
    decision = consent.decide_whatsapp(
        "none", whatsapp_consent=False, marketing_template=False,
        blacklisted=False, marketing=True, specific=False,
    )  # fmt: skip
    assert decision == consent.Decision(False, consent.CHANNEL_CONSENT_MISSING)


def test_whatsapp_utility_template_with_consent_goes():
    assert consent.decide_whatsapp(
        "none", whatsapp_consent=True, marketing_template=False,
        blacklisted=False, marketing=False, specific=False,
    ).allowed  # fmt: skip


def test_whatsapp_marketing_template_needs_marketing_consent():
    decision = consent.decide_whatsapp(
        "none", whatsapp_consent=True, marketing_template=True,
        blacklisted=False, marketing=False, specific=False,
    )  # fmt: skip
    assert decision.reason == consent.MARKETING_CONSENT_MISSING


def test_whatsapp_blacklisted_number_wins():
    decision = consent.decide_whatsapp(
        "none", whatsapp_consent=True, marketing_template=False,
        blacklisted=True, marketing=True, specific=True,
    )  # fmt: skip
    assert decision.reason == consent.BLACKLISTED
