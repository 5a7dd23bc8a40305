"""Several texts for one person, sent as one.

A client with three reminders due the same day (a policy ending, an
inspection, an installment) gets one SMS. Each reminder's text is written on
its own, usually with the same greeting ("Dzień dobry Janie,") and often the
same signature ("Twój agent, 600 123 456"): the joined text keeps the shared
greeting once at the start and the shared signature once at the end, whatever
the language, by comparing the texts rather than knowing their words.
"""

from __future__ import annotations

import os

# Where a greeting ends and a signature starts.
_GREETING_ENDS = (",", "!", ":", "\n")
_SENTENCE_ENDS = (". ", "! ", "\n")


def _greeting(texts: list[str]) -> str:
    """The shared opening up to its first ", " / "! " / ": " or line end: a
    greeting ("Dzień dobry Janie,") or a sender ("Polisa24:"), never a number's
    decimal comma ("920,00") nor the start of what differs."""
    prefix = os.path.commonprefix(texts)
    ends = [
        index
        for index, char in enumerate(prefix[:-1])
        if char in _GREETING_ENDS and (char == "\n" or prefix[index + 1] == " ")
    ]
    return prefix[: ends[0] + 1] if ends else ""


def _signature(texts: list[str]) -> str:
    suffix = os.path.commonprefix([text[::-1] for text in texts])[::-1]
    # The signature starts after the last sentence end before it; a suffix
    # that is only the end of a sentence (". Thank you.") is no signature.
    starts = [suffix.find(mark) for mark in _SENTENCE_ENDS]
    starts = [
        start + len(mark) for start, mark in zip(starts, _SENTENCE_ENDS, strict=True) if start >= 0
    ]
    if not starts:
        return ""
    signature = suffix[min(starts) :]
    return signature if signature.strip() else ""


def join(texts: list[str]) -> str:
    """One text saying what ``texts`` say, the shared greeting and signature once."""
    texts = [text.strip() for text in texts if text and text.strip()]
    if len(texts) <= 1:
        return texts[0] if texts else ""
    greeting = _greeting(texts)
    signature = _signature([text[len(greeting) :] for text in texts])
    middles = []
    for text in texts:
        middle = text[len(greeting) : len(text) - len(signature)].strip()
        if middle and middle not in middles:
            # A later text starts a new sentence of the joined one.
            middles.append(middle[:1].upper() + middle[1:] if middles else middle)
    parts = [greeting.strip(), *middles, signature.strip()]
    return " ".join(part for part in parts if part)
