"""Offsets ("21,14,7" days before an event) and sending windows in a timezone.

Datetimes follow Odoo: naive values mean UTC, and what this module returns is
naive UTC, ready for a ``fields.Datetime``. Window hours are floats as Odoo's
``float_time`` widget stores them (8.5 is 08:30), read in the recipient's
wall-clock time so that a window survives daylight-saving changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Warsaw"

# datetime.UTC is Python 3.11+; Odoo 18 still runs on 3.10.
_UTC = timezone.utc  # noqa: UP017
_INTEGER = re.compile(r"-?[0-9]+")
_WEEKDAYS = frozenset(range(7))

# How far ahead to look for a window: a week covers any weekday set, the
# margin covers the day we start in and a DST day whose window does not exist.
_HORIZON_DAYS = 9
# No zone changes its offset twice within this step, so sampling at it finds every change.
_SAMPLE_STEP = timedelta(hours=1)


class InvalidOffsets(ValueError):
    """Offsets text that cannot be used; ``reason`` is stable, ``token`` the culprit."""

    _MESSAGES = {
        "empty": "no offsets given",
        "not_a_number": "not a whole number of days",
        "negative": "negative offsets are not allowed here",
        "too_large": "offset too large",
    }

    def __init__(self, reason: str, token: str = ""):
        self.reason = reason
        self.token = token
        super().__init__(f"{self._MESSAGES.get(reason, reason)}: {token!r}")


class InvalidWindow(ValueError):
    """Sending hours that describe no usable window.

    ``reason`` is "out_of_range" (an hour outside 0..24), "empty" (start not
    before end) or "weekdays" (no day, or a day number outside 0..6).
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def parse_offsets(text: str, allow_negative: bool = False, maximum: int = 3650) -> tuple[int, ...]:
    """Whole days from comma-separated text, largest first, each once.

    "21, 14,7,14" gives (21, 14, 7). Empty pieces between commas are ignored;
    anything else that is not a plain integer is refused with that piece
    (stripped) as ``token``, so "21;7" is refused whole rather than guessed at.
    ``maximum`` bounds the absolute value, so it also limits negative offsets.
    """
    values: dict[int, None] = {}  # ordered set
    for piece in (text or "").split(","):
        token = piece.strip()
        if not token:
            continue
        if not _INTEGER.fullmatch(token):
            raise InvalidOffsets("not_a_number", token)
        value = int(token)
        if value < 0 and not allow_negative:
            raise InvalidOffsets("negative", token)
        if abs(value) > maximum:
            raise InvalidOffsets("too_large", token)
        values.setdefault(value)
    if not values:
        raise InvalidOffsets("empty", text or "")
    return tuple(sorted(values, reverse=True))


def format_offsets(offsets: Iterable[int]) -> str:
    """The text form stored on a rule: ``(21, 14, 7)`` gives "21,14,7"."""
    return ",".join(str(int(offset)) for offset in offsets)


def _zone(tz: str) -> ZoneInfo:
    if not tz or not isinstance(tz, str):
        raise ValueError(f"unknown timezone: {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        # ValueError: names zoneinfo rejects outright, such as absolute paths.
        raise ValueError(f"unknown timezone: {tz!r}") from None


def resolve_timezone(*candidates: str | None, default: str = DEFAULT_TIMEZONE) -> str:
    """The first valid IANA name among ``candidates`` (partner, company, rule), else ``default``."""
    for candidate in candidates:
        try:
            _zone(candidate)
        except ValueError:
            continue
        return candidate
    _zone(default)
    return default


def _seconds_of_day(hour: float) -> int:
    # float_time stores 08:20 as 8.3333...; rounding to the second recovers it.
    return round(hour * 3600)


def _check_window(start_hour, end_hour, weekdays) -> tuple[int, int, frozenset[int]]:
    for hour in (start_hour, end_hour):
        if isinstance(hour, bool) or not isinstance(hour, int | float) or not 0 <= hour <= 24:
            raise InvalidWindow("out_of_range", f"window hour must be within 0..24: {hour!r}")
    start, end = _seconds_of_day(start_hour), _seconds_of_day(end_hour)
    if start >= end:
        raise InvalidWindow(
            "empty", f"window start must be before its end: {start_hour!r} >= {end_hour!r}"
        )
    if weekdays is None:
        days = _WEEKDAYS
    else:
        days = frozenset(weekdays)
        if not days or not days <= _WEEKDAYS:
            raise InvalidWindow(
                "weekdays", f"weekdays must be a non-empty set of 0..6: {sorted(days)!r}"
            )
    return start, end, days


def _as_utc(moment: datetime) -> datetime:
    """Naive UTC, whatever form ``moment`` came in."""
    if moment.tzinfo is not None:
        return moment.astimezone(_UTC).replace(tzinfo=None)
    return moment


def _local(utc_naive: datetime, zone: ZoneInfo) -> datetime:
    return utc_naive.replace(tzinfo=_UTC).astimezone(zone).replace(tzinfo=None)


def _inside(utc_naive: datetime, zone: ZoneInfo, start: int, end: int, days) -> bool:
    local = _local(utc_naive, zone)
    if local.weekday() not in days:
        return False
    micros = (local.hour * 3600 + local.minute * 60 + local.second) * 1_000_000 + local.microsecond
    return start * 1_000_000 <= micros < end * 1_000_000


def in_window(
    moment: datetime,
    tz: str,
    start_hour: float,
    end_hour: float,
    weekdays: frozenset[int] | None = None,
) -> bool:
    """Whether ``moment`` falls inside the sending window, read in ``tz`` wall-clock time.

    ``start_hour`` is inclusive and ``end_hour`` exclusive; ``weekdays`` uses
    ``datetime.weekday()`` numbers (0 is Monday), None meaning every day.
    """
    start, end, days = _check_window(start_hour, end_hour, weekdays)
    return _inside(_as_utc(moment), _zone(tz), start, end, days)


def _offset_changes(zone: ZoneInfo, since: datetime, until: datetime) -> list[datetime]:
    """UTC instants around [since, until] where ``zone`` changes its offset (DST and the like)."""

    def offset(instant: datetime) -> timedelta | None:
        return instant.replace(tzinfo=_UTC).astimezone(zone).utcoffset()

    changes = []
    # Whole hours, so the bisection below lands on whole seconds like real transitions.
    low = since.replace(minute=0, second=0, microsecond=0)
    low_offset = offset(low)
    while low < until:
        high = low + _SAMPLE_STEP
        high_offset = offset(high)
        if high_offset != low_offset:
            before, after = 0, int(_SAMPLE_STEP.total_seconds())
            while after - before > 1:
                middle = (before + after) // 2
                if offset(low + timedelta(seconds=middle)) == high_offset:
                    after = middle
                else:
                    before = middle
            changes.append(low + timedelta(seconds=after))
        low, low_offset = high, high_offset
    return changes


def _window_starts(zone: ZoneInfo, day: date, start: int) -> list[datetime]:
    """UTC instants whose wall-clock time is ``day`` at ``start``: two on a repeated hour."""
    wall = datetime.combine(day, time()) + timedelta(seconds=start)
    return [
        wall.replace(tzinfo=zone, fold=fold).astimezone(_UTC).replace(tzinfo=None)
        for fold in (0, 1)
    ]


def next_window_start(
    moment: datetime,
    tz: str,
    start_hour: float,
    end_hour: float,
    weekdays: frozenset[int] | None = None,
) -> datetime:
    """The earliest naive-UTC instant at or after ``moment`` that is inside the window.

    ``moment`` itself when it already is. On a spring-forward night a window
    opening in the skipped hour opens when the clocks jump; on a fall-back
    night the repeated hour is inside the window both times it happens.
    """
    start, end, days = _check_window(start_hour, end_hour, weekdays)
    zone = _zone(tz)
    moment = _as_utc(moment)
    if _inside(moment, zone, start, end, days):
        return moment

    # Wall-clock time enters the window either by reaching the start hour on an
    # allowed day, or by jumping into it when the offset changes; those instants
    # are the only candidates.
    until = moment + timedelta(days=_HORIZON_DAYS)
    first_day = _local(moment, zone).date() - timedelta(days=1)
    candidates = _offset_changes(zone, moment, until)
    for shift in range(_HORIZON_DAYS + 2):
        day = first_day + timedelta(days=shift)
        if day.weekday() in days:
            candidates.extend(_window_starts(zone, day, start))
    found = [c for c in candidates if c >= moment and _inside(c, zone, start, end, days)]
    if not found:  # pragma: no cover - a valid window always recurs within a week
        raise RuntimeError(f"no sending window within {_HORIZON_DAYS} days of {moment}")
    return min(found)


# A reminder moved out of the night leaves this long before its window closes,
# so a dispatcher running every few minutes still finds the window open.
_EVENING_MARGIN = timedelta(hours=1)


def reminder_time(
    deadline: datetime,
    lead: timedelta,
    tz: str,
    start_hour: float,
    end_hour: float,
) -> datetime:
    """When a reminder ``lead`` before ``deadline`` leaves, never at night.

    ``deadline - lead`` when that is inside the daily window (in ``tz``);
    else the next window opening if it is still before the deadline (a 07:00
    reminder for a 09:00 meeting leaves at 08:00); else the evening before,
    an hour before the window closes (a 05:00 reminder for a 07:00 meeting
    leaves at 19:00 the day before), so that it always arrives ahead.
    """
    start, end, days = _check_window(start_hour, end_hour, None)
    zone = _zone(tz)
    deadline = _as_utc(deadline)
    moment = deadline - lead
    if _inside(moment, zone, start, end, days):
        return moment
    following = next_window_start(moment, tz, start_hour, end_hour)
    if following < deadline:
        return following
    local = _local(moment, zone)
    day = local.date()
    if (local.hour * 3600 + local.minute * 60 + local.second) < end:
        day -= timedelta(days=1)
    closing = datetime.combine(day, time()) + timedelta(seconds=end)
    evening = max(
        closing - _EVENING_MARGIN, datetime.combine(day, time()) + timedelta(seconds=start)
    )
    return _as_utc(evening.replace(tzinfo=zone))
