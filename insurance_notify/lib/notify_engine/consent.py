"""May this message go to this person? A pure decision with a reason.

A rule names the consent it needs. Service reminders (policy end, installment
due) rest on the contract and need none; promotional messages need the
client's marketing consent (general) or consent to this very purpose
(specific). A withdrawal — the channel's blacklist, a STOP reply — wins
whatever the rule says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

NONE = "none"
GENERAL = "general"
SPECIFIC = "specific"
MODES = (NONE, GENERAL, SPECIFIC)

BLACKLISTED = "blacklisted"
CHANNEL_CONSENT_MISSING = "channel_consent_missing"
MARKETING_CONSENT_MISSING = "marketing_consent_missing"
SPECIFIC_CONSENT_MISSING = "specific_consent_missing"
CONSENT_EXPIRED = "consent_expired"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None


ALLOWED = Decision(True, None)


def decide(
    mode: str,
    *,
    channel_allowed: bool,
    blacklisted: bool,
    marketing: bool,
    specific: bool,
    consent_valid_until: date | None = None,
    today: date | None = None,
) -> Decision:
    """Whether a message of a rule with consent ``mode`` may be sent, and why not.

    ``consent_valid_until`` is the last day the consent holds (inclusive);
    None or False means it does not expire. ``today`` defaults to the local date.
    A missing consent is reported before an expired one, since renewing is
    pointless until it has been given.
    """
    if mode not in MODES:
        raise ValueError(f"unknown consent mode: {mode!r}")
    if blacklisted:
        return Decision(False, BLACKLISTED)
    if mode == NONE:
        return ALLOWED
    if not channel_allowed:
        return Decision(False, CHANNEL_CONSENT_MISSING)
    if mode == GENERAL and not marketing:
        return Decision(False, MARKETING_CONSENT_MISSING)
    if mode == SPECIFIC and not specific:
        return Decision(False, SPECIFIC_CONSENT_MISSING)
    if consent_valid_until and consent_valid_until < (today or date.today()):
        return Decision(False, CONSENT_EXPIRED)
    return ALLOWED


def decide_whatsapp(
    mode: str,
    *,
    whatsapp_consent: bool,
    marketing_template: bool,
    blacklisted: bool,
    marketing: bool,
    specific: bool,
    consent_valid_until: date | None = None,
    today: date | None = None,
) -> Decision:
    """Whether a WhatsApp message may go: Meta requires the client's opt-in to
    WhatsApp whatever the rule's consent mode, and a marketing template needs
    marketing consent even on a rule that asks for none."""
    if mode not in MODES:
        raise ValueError(f"unknown consent mode: {mode!r}")
    if blacklisted:
        return Decision(False, BLACKLISTED)
    if not whatsapp_consent:
        return Decision(False, CHANNEL_CONSENT_MISSING)
    if marketing_template and mode == NONE:
        mode = GENERAL
    if mode == NONE:
        return ALLOWED
    return decide(
        mode,
        channel_allowed=True,
        blacklisted=False,
        marketing=marketing,
        specific=specific,
        consent_valid_until=consent_valid_until,
        today=today,
    )
