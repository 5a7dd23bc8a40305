"""Phone numbers: parse what clients type, keep E.164, hand each gateway its format.

Numbers are stored in E.164 (``+48600123456``) and converted to a provider's
format only at the moment of sending, so a change of provider never rewrites
stored data.

A national number is read in the client's region. Without a region, only a
number written with its country code (``+48 …`` or ``0048 …``) is accepted:
bare digits are refused with reason "needs_country_code" rather than guessed
(``508 449 246`` would otherwise be read as Saint-Pierre-et-Miquelon, and
``8 624 95677`` as China).
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

UNPARSEABLE = "unparseable"
INVALID = "invalid"
NOT_MOBILE = "not_mobile"
NEEDS_COUNTRY_CODE = "needs_country_code"  # national digits, and no region to read them in

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

# Only input made of digits and the separators people type is worth a second,
# international reading; anything else ("ext 5", letters) keeps its first verdict.
_DIGITS_AND_SEPARATORS = re.compile(r"[\d\s\-./()]+")
_E164 = re.compile(r"\+[1-9]\d{1,14}")


def _with_plus(e164: str) -> str:
    return e164


def _without_plus(e164: str) -> str:
    return e164[1:]


# Provider -> how it wants the number written.
_GATEWAY_FORMATS = {
    "sandbox": _with_plus,
    "smsapi": _without_plus,
    "twilio": _with_plus,
}


class InvalidPhone(ValueError):
    """A number that cannot be used; ``reason`` is stable, the message is for logs."""

    _MESSAGES = {
        UNPARSEABLE: "not a phone number",
        INVALID: "not a valid phone number",
        NOT_MOBILE: "not a mobile number",
        NEEDS_COUNTRY_CODE: "no country known; write the number with its country code",
    }

    def __init__(self, raw: str, reason: str):
        self.raw = raw
        self.reason = reason
        super().__init__(f"{self._MESSAGES.get(reason, reason)}: {raw!r}")


def _region_code(region: str | None) -> str | None:
    # Odoo hands over False for a partner without a country.
    return region.strip().upper() if region and region.strip() else None


def _international_retry(text: str, region: str | None) -> str | None:
    """The same digits read as an international number, when that reading is plausible.

    ``48600123456`` typed for a Polish client is Poland's code without the
    ``+``; phonenumbers reads it as a national number first and finds it too long.
    Without a region only the ``00`` prefix says the digits are international.
    """
    if not _DIGITS_AND_SEPARATORS.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if region is None:
        return "+" + digits[2:] if digits.startswith("00") else None
    country_code = phonenumbers.country_code_for_region(region)
    if country_code and digits.startswith(str(country_code)):
        return "+" + digits
    return None


def _parse(raw: str, region: str | None) -> phonenumbers.PhoneNumber:
    text = raw.strip()
    reason = INVALID
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        number, reason = None, UNPARSEABLE
        if (
            region is None
            and error.error_type == NumberParseException.INVALID_COUNTRY_CODE
            and "+" not in text
        ):
            # Digits with no country code and no region: any country read
            # into them would be a guess.
            reason = NEEDS_COUNTRY_CODE
    if number is not None and phonenumbers.is_valid_number(number):
        return number

    retry = None if text.startswith("+") else _international_retry(text, region)
    if retry is not None:
        try:
            second = phonenumbers.parse(retry, None)
        except NumberParseException:
            second = None
        if second is not None and phonenumbers.is_valid_number(second):
            return second
        if region is None:
            # "00…" said it was international: the verdict is that reading's.
            reason = UNPARSEABLE if second is None else INVALID
        elif second is not None:
            reason = INVALID
    raise InvalidPhone(raw, reason)


def normalize(raw: str, region: str | None) -> str:
    """E.164 form of ``raw`` read in ``region`` (ISO 3166 code such as "PL").

    An empty or blank input gives "" because the phone fields are optional.
    Raises :class:`InvalidPhone` with reason "unparseable", "invalid", or,
    when ``region`` is empty and ``raw`` has no ``+``/``00`` country code,
    "needs_country_code".
    """
    if not raw or not raw.strip():
        return ""
    number = _parse(raw, _region_code(region))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


# A dispatcher re-checks every message's number as it sends: parsing it
# costs more than the rest of that check, and a number's type never changes.
@functools.lru_cache(maxsize=4096)
def is_mobile(e164: str) -> bool:
    """Whether an E.164 number can receive SMS as far as numbering plans tell.

    FIXED_LINE_OR_MOBILE counts: some plans (the US, Canada) do not separate the two.
    """
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    # number_type is UNKNOWN for an invalid number (is_valid_number is that
    # same test, for the number's own region): asking both read the
    # numbering plan twice.
    return phonenumbers.number_type(number) in _MOBILE_TYPES


def require_mobile(raw: str, region: str | None) -> str:
    """Like :func:`normalize`, and also refuses landlines with reason "not_mobile"."""
    e164 = normalize(raw, region)
    if e164 and not is_mobile(e164):
        raise InvalidPhone(raw, NOT_MOBILE)
    return e164


def region_of(e164: str) -> str | None:
    """ISO code of the country an E.164 number belongs to ("+48 22…" -> "PL")."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or None
    except NumberParseException:
        return None


def mobile_readings(raw: str, regions) -> dict[str, str]:
    """{region: E.164} for each of ``regions`` in which ``raw`` reads as a mobile.

    What to suggest when a number typed without its country code makes no
    mobile in the client's country: ``8 686 88960`` is a landline of Łomża in
    Poland and a mobile in Lithuania. A number written with its country code
    reads the same everywhere.
    """
    readings = {}
    for region in regions:
        code = _region_code(region)
        if code is None or code in readings:
            continue
        try:
            readings[code] = require_mobile(raw, code)
        except InvalidPhone:
            continue
    return {code: e164 for code, e164 in readings.items() if e164}


def for_gateway(e164: str, provider: str) -> str:
    """``e164`` written the way ``provider`` expects it in its API."""
    try:
        convert = _GATEWAY_FORMATS[provider]
    except KeyError:
        raise ValueError(f"unknown SMS provider: {provider!r}") from None
    if not e164 or not _E164.fullmatch(e164):
        raise ValueError(f"not an E.164 number: {e164!r}")
    return convert(e164)


def example_mobile(region: str | None) -> str | None:
    """A mobile number of ``region`` as its people write it, to show in messages."""
    code = _region_code(region)
    if code is None:
        return None
    number = phonenumbers.example_number_for_type(code, PhoneNumberType.MOBILE)
    if number is None:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
