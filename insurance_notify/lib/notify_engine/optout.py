"""Is an inbound SMS an opt-out? A pure decision on the text.

A reply is an opt-out only when the WHOLE reply is a keyword, as carriers
match them (Twilio and the US carriers' STOP, STOPALL, UNSUBSCRIBE, CANCEL,
END, QUIT): "Stop", " STOP! " and "stop." withdraw the channel, "Cancel the
meeting on Friday please" and "End date of my policy?" do not - they are a
client's words for a person, not a withdrawal. Case, diacritics, surrounding
blanks and punctuation do not matter (the reply is folded first).

Polish and Lithuanian clients type the words below. "NIE" / "NE" (no) are
left out on purpose: they answer a reminder's question ("renew?") and must
reach the broker, not silently withdraw the consent.
"""

from __future__ import annotations

import re
import unicodedata

# Compared with the folded reply (see ``fold``): upper case, no diacritics,
# words separated by one space (REZYGNUJĘ -> REZYGNUJE, "wypisz  mnie!" -> WYPISZ MNIE).
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
        "OPT OUT",
        # Polish: "I resign", "resignation", "unsubscribe (me)", "stop sending".
        "REZYGNUJE",
        "REZYGNACJA",
        "REZYGNUJE Z SMS",
        "WYPISZ",
        "WYPISZ MNIE",
        "STOP SMS",
        # Lithuanian: "to cancel / I cancel (the subscription)", "stop".
        "ATSISAKYTI",
        "ATSISAKAU",
        "STABDYTI",
    }
)

# Anything that is neither a letter nor a digit separates words.
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str | None) -> str:
    """``text`` upper-cased without diacritics or punctuation, its words
    joined by single spaces ("" when nothing is left)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Letters that do not decompose into a base and a mark (Polish Ł).
    plain = plain.replace("ł", "l").replace("Ł", "L")
    return " ".join(_NOT_WORD.sub(" ", plain).split()).upper()


def keyword(text: str | None) -> str:
    """The opt-out keyword the whole reply is (folded), else ""."""
    folded = fold(text)
    return folded if folded in KEYWORDS else ""


def is_opt_out(text: str | None) -> bool:
    """Whether an inbound SMS asks to receive no more messages."""
    return bool(keyword(text))
