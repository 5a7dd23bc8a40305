"""Is an inbound SMS an opt-out? A pure decision on the text.

A reply whose first word is an opt-out keyword withdraws the channel: STOP and
the carrier-wide English keywords Twilio also honours, and the words Polish and
Lithuanian clients actually type. Case and diacritics do not matter, nor does
punctuation glued to the word ("Stop!", "stop.").
"""

from __future__ import annotations

import re
import unicodedata

# Compared after upper-casing and stripping diacritics (REZYGNUJĘ -> REZYGNUJE).
KEYWORDS = frozenset(
    {
        # English, as carriers and Twilio Advanced Opt-Out understand them.
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        # Polish: "I resign", "unsubscribe me".
        "REZYGNUJE",
        "REZYGNACJA",
        "WYPISZ",
        # Lithuanian: "to cancel / I cancel", "stop".
        "ATSISAKYTI",
        "ATSISAKAU",
        "STABDYTI",
    }
)

_FIRST_WORD = re.compile(r"[^\W_]+")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).upper()


def first_word(text: str | None) -> str:
    """The first word of ``text``, upper-cased without diacritics ("" if none)."""
    match = _FIRST_WORD.search(text or "")
    return _fold(match.group()) if match else ""


def is_opt_out(text: str | None) -> bool:
    """Whether an inbound SMS asks to receive no more messages."""
    return first_word(text) in KEYWORDS
