"""Randomized control groups and template variants, and how to read their results.

A rule may keep a share of its occurrences as a control group (recorded, never
sent) and split the rest between two templates. Both choices come from a
stable hash of the occurrence's unit key (sender, document; not the offset nor
the day), so a record stays in its group on every re-plan and every offset of
one reminder series lands in the same group.

The statistics are the classical ones a broker can check by hand: the Wilson
score interval of a proportion, and Newcombe's hybrid score interval of a
difference of two proportions (Newcombe 1998, method 10), which behaves well
for small groups and proportions near 0 or 1 where the normal approximation
does not. No dependency beyond the standard library.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

CONTROL = "control"
SENT = "sent"
VARIANT_A = "a"
VARIANT_B = "b"

# Below this many clients in a group, or this many conversions / non-conversions
# in one, an interval says nothing a broker should act on.
MIN_GROUP = 30
MIN_EVENTS = 5

# 95 % two-sided.
Z95 = 1.959963984540054


def bucket(unit_key: str, salt: str = "") -> float:
    """A number in [0, 1) fixed by ``unit_key`` (and ``salt``), uniform over keys."""
    digest = hashlib.sha256(f"{salt}:{unit_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_control(unit_key: str, control_percent: float) -> bool:
    """Whether this occurrence belongs to the control group of a rule keeping
    ``control_percent`` % (0..100) of its occurrences unsent."""
    return control_percent > 0 and bucket(unit_key, CONTROL) * 100 < control_percent


def variant(unit_key: str, variant_b_percent: float) -> str:
    """``"a"`` or ``"b"``: the template this occurrence is sent with. Drawn
    independently of the control group (another salt), so each variant's
    control is the same control group."""
    if variant_b_percent > 0 and bucket(unit_key, "variant") * 100 < variant_b_percent:
        return VARIANT_B
    return VARIANT_A


def wilson_interval(successes: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of the proportion ``successes / total``."""
    if total <= 0:
        return 0.0, 1.0
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Uplift:
    """Conversion of the treated group minus the control group's, with its interval."""

    treated: int  # clients (units) reminded
    treated_converted: int
    control: int  # clients (units) in the control group
    control_converted: int
    rate_treated: float | None
    rate_control: float | None
    uplift: float | None  # rate_treated - rate_control
    low: float | None  # 95 % interval of the uplift
    high: float | None
    too_small: bool  # the groups are too small to say anything

    @property
    def significant(self) -> bool:
        """The interval excludes zero (and the groups are large enough)."""
        return not self.too_small and self.low is not None and (self.low > 0 or self.high < 0)


def uplift(
    treated: int, treated_converted: int, control: int, control_converted: int, z: float = Z95
) -> Uplift:
    """The uplift of a reminder: its conversion rate minus the control
    group's, with Newcombe's hybrid Wilson interval of the difference."""
    for value in (treated, treated_converted, control, control_converted):
        if value < 0:
            raise ValueError("counts cannot be negative")
    if treated_converted > treated or control_converted > control:
        raise ValueError("more conversions than members")
    rate_t = treated_converted / treated if treated else None
    rate_c = control_converted / control if control else None
    too_small = (
        min(treated, control) < MIN_GROUP
        or min(
            treated_converted,
            treated - treated_converted,
            control_converted,
            control - control_converted,
        )
        < MIN_EVENTS
    )
    if rate_t is None or rate_c is None:
        return Uplift(
            treated, treated_converted, control, control_converted,
            rate_t, rate_c, None, None, None, True,
        )  # fmt: skip
    low_t, high_t = wilson_interval(treated_converted, treated, z)
    low_c, high_c = wilson_interval(control_converted, control, z)
    difference = rate_t - rate_c
    low = difference - math.sqrt((rate_t - low_t) ** 2 + (high_c - rate_c) ** 2)
    high = difference + math.sqrt((high_t - rate_t) ** 2 + (rate_c - low_c) ** 2)
    return Uplift(
        treated, treated_converted, control, control_converted,
        rate_t, rate_c, difference, max(-1.0, low), min(1.0, high), too_small,
    )  # fmt: skip


def median(values):
    """The median of ``values`` (None when empty)."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
