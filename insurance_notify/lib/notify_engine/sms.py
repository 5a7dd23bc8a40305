"""SMS encoding, length and part counting (GSM 03.38 / 3GPP TS 23.038).

:func:`analyze` tells which encoding a text needs, how many units it takes and
how many parts a provider bills for it; :func:`transliterate` replaces only the
characters GSM-7 cannot carry, so a Polish or Lithuanian text fits GSM-7 while
``é`` or ``€`` are kept; :func:`max_chars` gives the usual "parts → characters"
table for help texts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from anyascii import anyascii

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# The 128 code points of the default alphabet minus ESC (0x1B), which is never
# typed: it only introduces an extension character.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as ESC + code, so each costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

# (single message, per part once concatenated): a 6-octet UDH eats 7 septets
# or 3 UTF-16 units of the 140 octets.
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}

_TRANSLITERATION = {
    # Polish
    "ą": "a",
    "ć": "c",
    "ę": "e",
    "ł": "l",
    "ń": "n",
    "ó": "o",
    "ś": "s",
    "ź": "z",
    "ż": "z",
    "Ą": "A",
    "Ć": "C",
    "Ę": "E",
    "Ł": "L",
    "Ń": "N",
    "Ó": "O",
    "Ś": "S",
    "Ź": "Z",
    "Ż": "Z",
    # Lithuanian (ą, ę, ž shared with Polish above)
    "č": "c",
    "ė": "e",
    "į": "i",
    "š": "s",
    "ų": "u",
    "ū": "u",
    "ž": "z",
    "Č": "C",
    "Ė": "E",
    "Į": "I",
    "Š": "S",
    "Ų": "U",
    "Ū": "U",
    "Ž": "Z",
    # 0x09 is capital Ç in the spec; a gateway may render a small ç sent there as Ç.
    "ç": "c",
    # Typography that word processors and phones insert on their own.
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "–": "-",
    "—": "-",
    "…": "...",
    "\u00a0": " ",
}


@dataclass(frozen=True)
class SmsAnalysis:
    """What a text costs as an SMS.

    ``units`` are septets for GSM-7 (extension characters count 2) and UTF-16
    code units for UCS-2 (characters outside the BMP count 2). The empty text
    is 0 parts: there is nothing to send, and providers refuse empty messages.
    """

    encoding: str
    units: int
    parts: int
    text: str

    @property
    def chars(self) -> int:
        """Length in code points (``len(text)``), what a user would call characters."""
        return len(self.text)

    @property
    def per_part(self) -> int:
        """Units one part can hold at the current number of parts (160/70 or 153/67)."""
        single, concatenated = _LIMITS[self.encoding]
        return single if self.parts <= 1 else concatenated

    @property
    def max_units(self) -> int:
        """Nominal capacity of the current number of parts, for "160/306" style counters.

        Nominal because a pair pushed to the next part leaves one unit unused.
        """
        return max_chars(max(self.parts, 1), self.encoding)


def is_gsm7(text: str) -> bool:
    return GSM7_ALL.issuperset(text)


def analyze(text: str, transliterate: bool = False) -> SmsAnalysis:
    if transliterate:
        text = _transliterate(text)
    # Counted in set and string operations, not character by character: a
    # dry run or a dispatcher chunk analyses thousands of texts.
    if is_gsm7(text):
        encoding = GSM7
        units = len(text) + sum(map(text.count, GSM7_EXTENSION))
    else:
        encoding = UCS2
        units = len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
    return SmsAnalysis(encoding, units, _count_parts(text, units, encoding), text)


def _unit_cost(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _count_parts(text: str, units: int, encoding: str) -> int:
    single, per_part = _LIMITS[encoding]
    if units == 0:
        return 0
    if units <= single:
        return 1
    # Greedy fill instead of a division: an ESC pair or a surrogate pair that
    # would straddle a boundary starts the next part, leaving 152 / 66 behind.
    parts, used = 1, 0
    for char in text:
        cost = _unit_cost(char, encoding)
        if used + cost > per_part:
            parts += 1
            used = 0
        used += cost
    return parts


def max_chars(parts: int, encoding: str) -> int:
    """Units ``parts`` parts can hold: 1 → 160/70, 2 → 306/134, 10 → 1530/670."""
    if encoding not in _LIMITS:
        raise ValueError(f"unknown SMS encoding {encoding!r}; expected {GSM7!r} or {UCS2!r}")
    if parts < 1:
        raise ValueError(f"an SMS has at least one part, got {parts}")
    single, per_part = _LIMITS[encoding]
    return single if parts == 1 else parts * per_part


def transliterate(text: str) -> str:
    """Replace the characters GSM-7 cannot carry; keep those it can (é, ü, ß, €).

    What has no GSM-7 spelling stays as it is, so the text may still need UCS-2.
    """
    # Decomposed input (macOS, some keyboards) would otherwise leave bare
    # combining marks; composing first also keeps e.g. "A" + ring as GSM-7 "Å".
    text = unicodedata.normalize("NFC", text)
    if GSM7_ALL.issuperset(text):
        return text  # nothing to replace: the usual case, checked at C speed
    return "".join(_transliterate_char(char) for char in text)


# analyze() takes a parameter named ``transliterate``, which shadows the function.
_transliterate = transliterate


def _transliterate_char(char: str) -> str:
    if char in GSM7_ALL:
        return char
    if char in _TRANSLITERATION:
        return _TRANSLITERATION[char]
    replacement = anyascii(char)
    if not replacement:
        # anyascii drops marks, joiners and emoji modifiers, which is right, but
        # also what it does not know (private use, newer than its tables):
        # deleting those would silently lose content.
        return char if unicodedata.category(char) in ("Co", "Cn") else ""
    return replacement if is_gsm7(replacement) else char
