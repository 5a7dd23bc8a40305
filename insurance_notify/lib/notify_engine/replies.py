"""What does a client's reply ask for? A pure decision on the text.

Clients answer a reminder the way they type on a phone: "Tak, proszę o ofertę
odnowienia", "zadzwonce prosze", "TAIP", "Please call me". Each kind of
request has a list of keywords (per company, editable in the settings); a
reply is of the first kind one of whose keywords it contains, else "other".

Matching is forgiving where people are: case, accents and transliteration do
not matter (ODNÓW, odnow, ODNOW; ł and l), punctuation is ignored, the words
may stand anywhere among others, and a keyword of four letters or more also
matches the longer forms Polish and Lithuanian build on it (ODNÓW matches
"odnowienia", ZADZWOŃ "zadzwońcie"). A short keyword (TAK, YES) matches only
a whole word, so "także" is not a yes. A keyword of several words matches
those words in that order.

The opt-out (STOP) decision is :mod:`optout`'s, not this module's: the caller
asks it first, so the two never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from anyascii import anyascii

RENEWAL = "renewal"
CALL_BACK = "call_back"
STOP = "stop"
OTHER = "other"

# The shipped keywords, in Polish, Lithuanian and English. Call-back first: a
# reply asking for both ("Tak, zadzwońcie") wants a call.
DEFAULT_KEYWORDS = {
    CALL_BACK: (
        "ZADZWOŃ",
        "ZADZWONIĆ",
        "SKAMBINKITE",
        "PASKAMBINKITE",
        "PASKAMBINTI",
        "CALL",
    ),
    RENEWAL: (
        "TAK",
        "ODNÓW",
        "ODNOWIĆ",
        "ODNOWIENIE",
        "TAIP",
        "ATNAUJINTI",
        "ATNAUJINKITE",
        "RENEW",
        "YES",
    ),
}
ORDER = (CALL_BACK, RENEWAL)

# Keywords at least this long also match words that start with them.
PREFIX_MIN = 4

_WORD = re.compile(r"[^\W_]+")
_SEPARATORS = re.compile(r"[,;\n]+")


def fold(text: str | None) -> str:
    """``text`` upper-cased, without accents, transliterated to ASCII letters
    (ł -> L, ż -> Z, ė -> E); characters with no letter form disappear."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return anyascii(stripped).upper()


def words(text: str | None) -> list[str]:
    """The folded words of ``text``, in order."""
    return _WORD.findall(fold(text))


def parse_keywords(text: str | None) -> tuple[tuple[str, ...], ...]:
    """A keyword list as typed in the settings ("TAK, ODNÓW, renew") as
    folded phrases (each a tuple of words); blanks and repeats dropped."""
    phrases = []
    for chunk in _SEPARATORS.split(text or ""):
        phrase = tuple(words(chunk))
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return tuple(phrases)


def format_keywords(keywords: Iterable[str]) -> str:
    """The settings' text of a keyword list."""
    return ", ".join(keywords)


def _word_matches(keyword: str, word: str) -> bool:
    if len(keyword) >= PREFIX_MIN:
        return word.startswith(keyword)
    return word == keyword


def contains(text_words: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether the words of a reply contain ``phrase`` (consecutive words)."""
    size = len(phrase)
    for start in range(len(text_words) - size + 1):
        if all(
            _word_matches(keyword, word)
            for keyword, word in zip(phrase, text_words[start : start + size], strict=True)
        ):
            return True
    return False


def classify(text: str | None, keywords: Mapping[str, Iterable] | None = None) -> str:
    """The kind of a reply that is not an opt-out: the first kind of ``ORDER``
    (then any other kind of ``keywords``) with a keyword in ``text``, else
    ``OTHER``. ``keywords`` maps a kind to its keywords, each a string or a
    tuple of folded words (:func:`parse_keywords`); default: the shipped ones."""
    if keywords is None:
        keywords = DEFAULT_KEYWORDS
    text_words = words(text)
    if not text_words:
        return OTHER
    kinds = [kind for kind in ORDER if kind in keywords]
    kinds += [kind for kind in keywords if kind not in kinds]
    for kind in kinds:
        for keyword in keywords[kind] or ():
            phrase = tuple(words(keyword)) if isinstance(keyword, str) else tuple(keyword)
            if phrase and contains(text_words, phrase):
                return kind
    return OTHER


def excerpt(text: str | None, limit: int) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis when cut)."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"
