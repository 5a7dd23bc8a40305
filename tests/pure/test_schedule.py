from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notify_engine import schedule
from notify_engine.schedule import InvalidOffsets, InvalidWindow

WORKDAYS = frozenset(range(5))

# Clocks in 2025: both zones go forward and back at 01:00 UTC on the last
# Sunday of March (30th) and of October (26th).
SPRING = datetime(2025, 3, 30, 1, 0)
AUTUMN = datetime(2025, 10, 26, 1, 0)

# (text, keyword arguments, offsets)
OFFSETS = [
    ("21,14,7", {}, (21, 14, 7)),
    (" 7 , 21,14 ", {}, (21, 14, 7)),
    ("7,7,21,7", {}, (21, 7)),
    ("21,14,7,", {}, (21, 14, 7)),
    ("0", {}, (0,)),
    ("007", {}, (7,)),
    ("3650", {}, (3650,)),
    ("-3,0,3", {"allow_negative": True}, (3, 0, -3)),
    ("30", {"maximum": 30}, (30,)),
]

# (text, keyword arguments, reason, token)
BAD_OFFSETS = [
    ("", {}, "empty", ""),
    (None, {}, "empty", ""),
    (" , ,", {}, "empty", " , ,"),
    ("21;x", {}, "not_a_number", "21;x"),
    ("21;7", {}, "not_a_number", "21;7"),
    ("14, 7.5", {}, "not_a_number", "7.5"),
    ("1e3", {}, "not_a_number", "1e3"),
    ("seven", {}, "not_a_number", "seven"),
    ("+5", {}, "not_a_number", "+5"),
    ("14 7", {}, "not_a_number", "14 7"),
    ("\u0663", {}, "not_a_number", "\u0663"),  # an Arabic-Indic three
    ("14, -3", {}, "negative", "-3"),
    ("3651", {}, "too_large", "3651"),
    ("7, 400", {"maximum": 365}, "too_large", "400"),
    ("-4000", {"allow_negative": True}, "too_large", "-4000"),
]

# (UTC moment, tz, start, end, weekdays, inside?)
WINDOW_CASES = [
    (datetime(2025, 1, 6, 7, 0), "Europe/Warsaw", 8, 20, None, True),
    (datetime(2025, 1, 6, 6, 59, 59), "Europe/Warsaw", 8, 20, None, False),
    (datetime(2025, 1, 6, 18, 59, 59), "Europe/Warsaw", 8, 20, None, True),
    (datetime(2025, 1, 6, 19, 0), "Europe/Warsaw", 8, 20, None, False),
    (datetime(2025, 7, 7, 6, 0), "Europe/Warsaw", 8, 20, None, True),
    (datetime(2025, 7, 7, 5, 59), "Europe/Warsaw", 8, 20, None, False),
    (datetime(2025, 7, 7, 18, 0), "Europe/Warsaw", 8, 20, None, False),
    (datetime(2025, 1, 6, 6, 0), "Europe/Vilnius", 8, 20, None, True),
    (datetime(2025, 7, 7, 5, 0), "Europe/Vilnius", 8, 20, None, True),
    (datetime(2025, 7, 7, 4, 59), "Europe/Vilnius", 8, 20, None, False),
    (datetime(2025, 1, 6, 7, 0), "UTC", 8, 20, None, False),
    (datetime(2025, 1, 6, 7, 29), "Europe/Warsaw", 8.5, 20, None, False),
    (datetime(2025, 1, 6, 7, 30), "Europe/Warsaw", 8.5, 20, None, True),
    # 08:20 as the float_time widget stores it.
    (datetime(2025, 1, 6, 7, 19, 59), "Europe/Warsaw", 8 + 1 / 3, 20, None, False),
    (datetime(2025, 1, 6, 7, 20), "Europe/Warsaw", 8 + 1 / 3, 20, None, True),
    (datetime(2025, 1, 6, 22, 59, 59), "Europe/Warsaw", 8, 24, None, True),
    (datetime(2025, 1, 5, 23, 0), "Europe/Warsaw", 0, 8, None, True),
    (datetime(2025, 1, 11, 10, 0), "Europe/Warsaw", 8, 20, WORKDAYS, False),
    (datetime(2025, 1, 10, 10, 0), "Europe/Warsaw", 8, 20, WORKDAYS, True),
    # Sunday 23:30 in UTC is already Monday 00:30 in Warsaw.
    (datetime(2025, 1, 5, 23, 30), "Europe/Warsaw", 0, 1, frozenset({0}), True),
    (datetime(2025, 1, 5, 23, 30), "UTC", 0, 1, frozenset({0}), False),
    # 02:30 on the autumn night happens twice, both times inside.
    (AUTUMN - timedelta(minutes=30), "Europe/Warsaw", 2.5, 3, None, True),
    (AUTUMN + timedelta(minutes=30), "Europe/Warsaw", 2.5, 3, None, True),
    (AUTUMN, "Europe/Warsaw", 2.5, 3, None, False),
]

# (UTC moment, tz, start, end, weekdays, next UTC start)
NEXT_CASES = [
    (datetime(2025, 1, 6, 3, 0), "Europe/Warsaw", 8, 20, None, datetime(2025, 1, 6, 7, 0)),
    (datetime(2025, 1, 6, 19, 0), "Europe/Warsaw", 8, 20, None, datetime(2025, 1, 7, 7, 0)),
    (datetime(2025, 7, 7, 19, 0), "Europe/Warsaw", 8, 20, None, datetime(2025, 7, 8, 6, 0)),
    (datetime(2025, 7, 7, 19, 0), "Europe/Vilnius", 8, 20, None, datetime(2025, 7, 8, 5, 0)),
    (datetime(2025, 1, 6, 3, 0), "Europe/Warsaw", 8.5, 20, None, datetime(2025, 1, 6, 7, 30)),
    # Friday evening waits for Monday morning.
    (datetime(2025, 1, 10, 19, 0), "Europe/Warsaw", 8, 20, WORKDAYS, datetime(2025, 1, 13, 7, 0)),
    # The weekend that ends summer time: Friday in CEST, Monday in CET.
    (datetime(2025, 10, 24, 18, 0), "Europe/Warsaw", 8, 20, WORKDAYS, datetime(2025, 10, 27, 7, 0)),
    # The weekend that starts it: Friday in CET, Monday in CEST.
    (datetime(2025, 3, 28, 19, 0), "Europe/Warsaw", 8, 20, WORKDAYS, datetime(2025, 3, 31, 6, 0)),
    (datetime(2025, 3, 29, 20, 0), "Europe/Vilnius", 8, 20, None, datetime(2025, 3, 30, 5, 0)),
    (datetime(2025, 10, 25, 20, 0), "Europe/Vilnius", 8, 20, None, datetime(2025, 10, 26, 6, 0)),
    # A window opening in the skipped hour opens when the clocks jump.
    (SPRING - timedelta(minutes=30), "Europe/Warsaw", 2.5, 5, None, SPRING),
    (SPRING - timedelta(hours=1), "Europe/Vilnius", 3.5, 6, None, SPRING),
    # A window lying wholly in the skipped hour does not exist that night.
    (SPRING - timedelta(hours=2), "Europe/Warsaw", 2, 2.5, None, datetime(2025, 3, 31, 0, 0)),
    # After 02:20 summer time the clocks fall back to 02:00: inside again.
    (AUTUMN - timedelta(minutes=40), "Europe/Warsaw", 1, 2 + 1 / 6, None, AUTUMN),
    # Sunday-only window, Monday start: a week minus a day away.
    (
        datetime(2025, 1, 6, 12, 0),
        "Europe/Warsaw",
        10,
        12,
        frozenset({6}),
        datetime(2025, 1, 12, 9, 0),
    ),
]

# (start, end, weekdays, reason)
BAD_WINDOWS = [
    (8, 8, None, "empty"),
    (20, 8, None, "empty"),
    (-1, 8, None, "out_of_range"),
    (8, 24.5, None, "out_of_range"),
    (float("nan"), 8, None, "out_of_range"),
    ("8", 20, None, "out_of_range"),
    (True, 20, None, "out_of_range"),
    (8, 20, frozenset(), "weekdays"),
    (8, 20, frozenset({7}), "weekdays"),
    (8, 20, frozenset({-1, 0}), "weekdays"),
]


@pytest.mark.parametrize(("text", "options", "expected"), OFFSETS)
def test_parse_offsets(text, options, expected):
    assert schedule.parse_offsets(text, **options) == expected


@pytest.mark.parametrize(("text", "options", "reason", "token"), BAD_OFFSETS)
def test_parse_offsets_refuses_with_reason_and_token(text, options, reason, token):
    with pytest.raises(InvalidOffsets) as caught:
        schedule.parse_offsets(text, **options)
    assert caught.value.reason == reason
    assert caught.value.token == token


def test_invalid_offsets_is_a_value_error_naming_the_piece():
    with pytest.raises(ValueError, match="'x'"):
        schedule.parse_offsets("21,x")


def test_format_offsets_reads_back_to_the_same_offsets():
    text = schedule.format_offsets(schedule.parse_offsets(" 7, 21 ,14,7"))
    assert text == "21,14,7"
    assert schedule.parse_offsets(text) == (21, 14, 7)


def test_format_offsets_keeps_negatives():
    assert schedule.format_offsets((3, 0, -3)) == "3,0,-3"


@pytest.mark.parametrize(("moment", "tz", "start", "end", "weekdays", "inside"), WINDOW_CASES)
def test_in_window(moment, tz, start, end, weekdays, inside):
    assert schedule.in_window(moment, tz, start, end, weekdays) is inside


@pytest.mark.parametrize(("moment", "tz", "start", "end", "weekdays", "expected"), NEXT_CASES)
def test_next_window_start(moment, tz, start, end, weekdays, expected):
    found = schedule.next_window_start(moment, tz, start, end, weekdays)
    assert found == expected
    assert schedule.in_window(found, tz, start, end, weekdays)


def test_next_window_start_is_the_moment_itself_when_inside():
    moment = datetime(2025, 1, 6, 12, 34, 56, 789)
    assert schedule.next_window_start(moment, "Europe/Warsaw", 8, 20) == moment


def test_aware_moments_are_read_as_the_instant_they_denote():
    warsaw_eight = datetime(2025, 1, 6, 8, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    assert schedule.in_window(warsaw_eight, "Europe/Warsaw", 8, 20)
    found = schedule.next_window_start(warsaw_eight, "Europe/Vilnius", 10, 20)
    # Naive UTC, as Odoo stores datetimes.
    assert found == datetime(2025, 1, 6, 8, 0)
    assert found.tzinfo is None


def _first_inside_by_scanning(moment, tz, start, end):
    """The answer found the slow way: minute by minute."""
    probe = moment
    while not schedule.in_window(probe, tz, start, end):
        probe += timedelta(minutes=1)
    return probe


@pytest.mark.parametrize("tz", ["Europe/Warsaw", "Europe/Vilnius"])
@pytest.mark.parametrize("night", [SPRING, AUTUMN], ids=["spring", "autumn"])
@pytest.mark.parametrize(("start", "end"), [(8, 20), (2.5, 5), (1, 2 + 1 / 6), (2, 2.5), (3, 3.5)])
def test_next_window_start_agrees_with_a_minute_scan_around_dst(tz, night, start, end):
    for step in range(0, 6 * 60, 20):
        moment = night - timedelta(hours=3) + timedelta(minutes=step)
        expected = _first_inside_by_scanning(moment, tz, start, end)
        assert schedule.next_window_start(moment, tz, start, end) == expected, moment


@pytest.mark.parametrize(("start", "end", "weekdays", "reason"), BAD_WINDOWS)
def test_window_refuses_bad_hours_and_days(start, end, weekdays, reason):
    moment = datetime(2025, 1, 6, 12, 0)
    for check in (schedule.in_window, schedule.next_window_start):
        with pytest.raises(InvalidWindow) as caught:
            check(moment, "Europe/Warsaw", start, end, weekdays)
        assert caught.value.reason == reason


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", None, "../../etc/passwd", "Europe/"])
def test_unknown_timezone_is_refused(tz):
    moment = datetime(2025, 1, 6, 12, 0)
    with pytest.raises(ValueError, match="unknown timezone"):
        schedule.in_window(moment, tz, 8, 20)
    with pytest.raises(ValueError, match="unknown timezone"):
        schedule.next_window_start(moment, tz, 8, 20)


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("Europe/Vilnius", "Europe/Warsaw"), "Europe/Vilnius"),
        ((None, "Europe/Vilnius", "UTC"), "Europe/Vilnius"),
        ((False, "", "Not/AZone", "Europe/Vilnius"), "Europe/Vilnius"),
        ((None, None, None), "Europe/Warsaw"),
        (("Not/AZone",), "Europe/Warsaw"),
        ((), "Europe/Warsaw"),
    ],
)
def test_resolve_timezone_takes_the_first_valid_name(candidates, expected):
    assert schedule.resolve_timezone(*candidates) == expected


def test_resolve_timezone_uses_the_given_default():
    assert schedule.resolve_timezone(None, "bogus", default="Europe/Vilnius") == "Europe/Vilnius"


def test_resolve_timezone_refuses_an_invalid_default():
    with pytest.raises(ValueError, match="unknown timezone"):
        schedule.resolve_timezone(None, default="Nowhere/Land")


class TestReminderTime:
    """Task reminders: at deadline minus lead time, but never at night."""

    TZ = "Europe/Warsaw"

    @staticmethod
    def utc(*args):
        return datetime(*args)

    def test_inside_the_window_it_is_deadline_minus_lead(self):
        # 10:00 Warsaw (UTC+1 in November) minus 2 hours -> 08:00 Warsaw.
        deadline = self.utc(2026, 11, 24, 9, 0)
        assert schedule.reminder_time(deadline, timedelta(hours=2), self.TZ, 8, 20) == self.utc(
            2026, 11, 24, 7, 0
        )

    def test_early_morning_waits_for_the_window_when_that_is_before_the_deadline(self):
        # Deadline 09:30 Warsaw, lead 3h -> 06:30, moved to 08:00 Warsaw.
        deadline = self.utc(2026, 11, 24, 8, 30)
        assert schedule.reminder_time(deadline, timedelta(hours=3), self.TZ, 8, 20) == self.utc(
            2026, 11, 24, 7, 0
        )

    def test_a_night_reminder_for_an_early_deadline_leaves_the_evening_before(self):
        # Deadline 07:00 Warsaw, lead 2h -> 05:00: 08:00 would be too late,
        # so 19:00 Warsaw the day before.
        deadline = self.utc(2026, 11, 24, 6, 0)
        assert schedule.reminder_time(deadline, timedelta(hours=2), self.TZ, 8, 20) == self.utc(
            2026, 11, 23, 18, 0
        )

    def test_a_late_evening_reminder_leaves_earlier_the_same_evening(self):
        # Deadline 07:00 Warsaw, lead 10h -> 21:00 the day before -> 19:00 then.
        deadline = self.utc(2026, 11, 24, 6, 0)
        assert schedule.reminder_time(deadline, timedelta(hours=10), self.TZ, 8, 20) == self.utc(
            2026, 11, 23, 18, 0
        )
