import math

import pytest

from notify_engine import experiment


def test_bucket_is_stable_and_in_range():
    assert experiment.bucket("7-insurance.policy-42") == experiment.bucket("7-insurance.policy-42")
    assert 0 <= experiment.bucket("x") < 1
    # The salt draws another, independent number.
    assert experiment.bucket("x", "control") != experiment.bucket("x", "variant")


def test_control_share_within_its_statistical_bounds_on_10000_occurrences():
    n, percent = 10_000, 20
    control = sum(experiment.is_control(f"3-insurance.policy-{i}", percent) for i in range(n))
    # Binomial(10000, 0.2): sd = 40; four sigmas either side.
    assert abs(control - n * percent / 100) < 4 * math.sqrt(n * 0.2 * 0.8)


def test_a_record_never_changes_group():
    keys = [f"5-insurance.policy.installment-{i}" for i in range(2_000)]
    first = [experiment.is_control(key, 30) for key in keys]
    for _replan in range(3):
        assert [experiment.is_control(key, 30) for key in keys] == first


def test_no_control_at_zero_percent_and_a_larger_share_keeps_the_smaller_one():
    keys = [f"1-res.partner-{i}" for i in range(1_000)]
    assert not any(experiment.is_control(key, 0) for key in keys)
    # Raising the share only moves records into the control group, never out.
    ten = {key for key in keys if experiment.is_control(key, 10)}
    twenty = {key for key in keys if experiment.is_control(key, 20)}
    assert ten <= twenty


def test_variants_split_independently_of_the_control_group():
    keys = [f"9-insurance.policy-{i}" for i in range(10_000)]
    assert {experiment.variant(key, 0) for key in keys} == {"a"}
    control = [key for key in keys if experiment.is_control(key, 50)]
    share_b = sum(experiment.variant(key, 50) == "b" for key in control) / len(control)
    assert 0.45 < share_b < 0.55


def test_wilson_interval_matches_the_textbook():
    # Newcombe (1998), table I: 81/263 -> 0.2553 to 0.3662.
    low, high = experiment.wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4)
    assert high == pytest.approx(0.3662, abs=1e-4)
    assert experiment.wilson_interval(0, 10)[0] == 0
    assert experiment.wilson_interval(0, 0) == (0.0, 1.0)


def test_uplift_matches_newcombe_s_example():
    # Newcombe (1998), table II, example (a): 56/70 - 48/80 = 0.2000,
    # method 10 interval 0.0524 to 0.3339.
    result = experiment.uplift(70, 56, 80, 48)
    assert result.uplift == pytest.approx(0.2)
    assert result.low == pytest.approx(0.0524, abs=1e-4)
    assert result.high == pytest.approx(0.3339, abs=1e-4)
    assert not result.too_small
    assert result.significant


def test_small_groups_are_flagged():
    result = experiment.uplift(20, 10, 5, 1)
    assert result.too_small
    assert not result.significant
    empty = experiment.uplift(100, 40, 0, 0)
    assert empty.uplift is None and empty.too_small


def test_bad_counts_are_refused():
    with pytest.raises(ValueError):
        experiment.uplift(10, 11, 10, 1)
    with pytest.raises(ValueError):
        experiment.uplift(-1, 0, 10, 1)


def test_median():
    assert experiment.median([]) is None
    assert experiment.median([3, 1, 2]) == 2
    assert experiment.median([4, 1, 2, 3]) == 2.5
