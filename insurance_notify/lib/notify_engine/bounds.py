"""Sane bounds of what people type: amounts, dates and lengths.

A typo in a spreadsheet (a premium of ``1e23``, an end date of ``9999-12-31``,
a birth date in 2090, a 10,000-character policy number) is refused where it is
entered instead of breaking a computation later (``OverflowError`` when a
currency rounds ``1e308``, a date beyond ``date.max`` when a reminder's day is
computed). Each check returns a stable reason code, or ``None`` when the value
is fine; the add-on turns a code into a message in the user's language.
"""

from __future__ import annotations

import math
from datetime import date

# Above a trillion in any currency a premium or an installment is a typo.
MAX_AMOUNT = 1e12
# Policy numbers are printed on documents and SMS: insurers use well under this.
MAX_NUMBER_LENGTH = 64
EARLIEST_DATE = date(1900, 1, 1)
# The longest policies (life) run for decades: a century ahead is the limit.
MAX_YEARS_AHEAD = 100

NOT_A_NUMBER = "not_a_number"
NEGATIVE = "negative"
TOO_LARGE = "too_large"
TOO_LONG = "too_long"
TOO_EARLY = "too_early"
TOO_LATE = "too_late"
IN_FUTURE = "in_future"


def amount_problem(value) -> str | None:
    """Why ``value`` cannot be an amount of money, or None.

    ``None``/``False`` (an empty field) is fine; NaN and infinities are not numbers.
    """
    if value is None or value is False:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return NOT_A_NUMBER
    if not math.isfinite(number):
        return NOT_A_NUMBER
    if number < 0:
        return NEGATIVE
    if number > MAX_AMOUNT:
        return TOO_LARGE
    return None


def length_problem(text, limit: int = MAX_NUMBER_LENGTH) -> str | None:
    """TOO_LONG when ``text`` has more than ``limit`` characters."""
    return TOO_LONG if isinstance(text, str) and len(text) > limit else None


def latest_date(today: date, years: int = MAX_YEARS_AHEAD) -> date:
    """``today`` plus ``years`` years (29 February becomes 28 February)."""
    try:
        return today.replace(year=today.year + years)
    except ValueError:
        return today.replace(year=today.year + years, day=28)


def date_problem(value: date | None, today: date, *, future: bool = True) -> str | None:
    """Why ``value`` is no plausible date, or None.

    Dates before 1900 are typos; so are dates more than a century ahead, and
    with ``future=False`` (a birth date) any date after ``today``.
    """
    if not value:
        return None
    if value < EARLIEST_DATE:
        return TOO_EARLY
    if not future and value > today:
        return IN_FUTURE
    if value > latest_date(today):
        return TOO_LATE
    return None
