"""The claims' statistics: intervals from scipy.stats and the verdict rule stated in the report."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from benchmarks.statistics import (
    Estimate,
    across_seeds,
    bootstrap,
    exact,
    paired_difference,
    rank_correlation,
    verdict,
)
from benchmarks.suites.claims import participation_ratio


def test_across_seeds_is_the_student_t_interval_of_the_mean():
    values = [0.20, 0.26, 0.19]
    estimate = across_seeds(values)
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / math.sqrt(3)
    assert estimate.value == pytest.approx(np.mean(values))
    assert (estimate.low, estimate.high) == pytest.approx((np.mean(values) - half, np.mean(values) + half))
    assert estimate.n == 3


@pytest.mark.parametrize("values", [[0.3], [0.2, 0.2, 0.2], []])
def test_one_seed_or_no_spread_gives_no_interval_and_no_verdict(values):
    estimate = across_seeds(values)
    assert not estimate.has_interval
    assert verdict(estimate, "higher") == "inconclusive"


def test_a_paired_difference_pairs_by_position():
    estimate = paired_difference([0.5, 0.6, 0.7], [0.4, 0.49, 0.61])
    assert estimate.value == pytest.approx(0.1)
    expected = across_seeds([0.1, 0.11, 0.09])
    assert estimate.low > 0 and (estimate.low, estimate.high) == pytest.approx((expected.low, expected.high))


@pytest.mark.parametrize(("interval", "direction", "margin", "expected"), [
    ((0.01, 0.2), "higher", 0.0, "supported"),
    ((-0.2, -0.01), "higher", 0.0, "contradicted"),
    ((-0.1, 0.1), "higher", 0.0, "inconclusive"),
    ((-0.04, 0.1), "not_lower", 0.05, "supported"),
    ((-0.2, -0.06), "not_lower", 0.05, "contradicted"),
    ((-0.1, 0.02), "not_lower", 0.05, "inconclusive"),
])
def test_the_verdict_rule(interval, direction, margin, expected):
    estimate = Estimate(sum(interval) / 2, *interval, 3)
    assert verdict(estimate, direction, margin) == expected


def test_an_unknown_direction_is_an_error():
    with pytest.raises(ValueError, match="unknown claim direction"):
        verdict(exact(1.0, 2), "sideways")


def test_bootstrap_is_seeded_and_covers_the_statistic():
    data = np.random.default_rng(1).normal(1.0, 1.0, 200)
    first, again = bootstrap((data,), np.mean), bootstrap((data,), np.mean)
    assert first == again and first.low < data.mean() < first.high and first.low > 0.5
    assert not bootstrap((data[:2],), np.mean).has_interval  # too few examples


def test_rank_correlation_sees_a_monotone_relation_and_none_in_constants():
    x = np.arange(50.0)
    assert rank_correlation(x, x ** 3).value == pytest.approx(1.0)
    assert rank_correlation(x, -x).high < 0
    assert math.isnan(rank_correlation(x, np.ones(50)).value)


def test_participation_ratio_counts_the_directions_the_states_use():
    rng = np.random.default_rng(0)
    isotropic = rng.normal(size=(20000, 8))
    assert participation_ratio(isotropic) == pytest.approx(8, rel=0.02)
    one_direction = np.outer(rng.normal(size=5000), rng.normal(size=8))
    assert participation_ratio(one_direction) == pytest.approx(1.0)
