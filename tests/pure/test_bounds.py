from datetime import date

import pytest

from notify_engine import bounds

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1234.5, None),
        (0, None),
        (None, None),
        (False, None),
        ("1234.50", None),
        (1e12, None),
        (1e23, "too_large"),
        (1e308, "too_large"),
        (float("inf"), "not_a_number"),
        (float("-inf"), "not_a_number"),
        (float("nan"), "not_a_number"),
        ("nan", "not_a_number"),
        ("abc", "not_a_number"),
        (-5, "negative"),
        (10**400, "not_a_number"),  # an int too large for a float
    ],
)
def test_amount_problem(value, reason):
    assert bounds.amount_problem(value) == reason


def test_length_problem():
    assert bounds.length_problem("PL/2026/1") is None
    assert bounds.length_problem("x" * 64) is None
    assert bounds.length_problem("x" * 10_000) == "too_long"
    assert bounds.length_problem(False) is None


@pytest.mark.parametrize(
    ("value", "future", "reason"),
    [
        (date(2027, 11, 22), True, None),
        (date(2126, 11, 23), True, None),
        (date(2126, 11, 24), True, "too_late"),
        (date(9999, 12, 31), True, "too_late"),
        (date(1899, 12, 31), True, "too_early"),
        (date(1980, 5, 1), False, None),
        (TODAY, False, None),
        (date(2090, 1, 1), False, "in_future"),
        (date(1850, 1, 1), False, "too_early"),
        (None, False, None),
    ],
)
def test_date_problem(value, future, reason):
    assert bounds.date_problem(value, TODAY, future=future) == reason


def test_latest_date_of_a_leap_day():
    assert bounds.latest_date(date(2028, 2, 29)) == date(2128, 2, 29)
    assert bounds.latest_date(date(2028, 2, 29), years=1) == date(2029, 2, 28)
