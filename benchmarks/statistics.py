"""Intervals and verdicts for the claims suite, computed with scipy.stats (no hand-written resampling).

- Across seeds (accuracies, paired differences of two arms trained on the same seeds and evaluated on the
  same test set): the mean with a 95% Student-t interval over the seeds (`scipy.stats.ttest_1samp`). With
  one seed, or the same value on every seed, there is no interval, and no verdict but "inconclusive".
- Over the test examples of one evaluation (a checkpoint's accuracy): the proportion with its 95% Wilson
  score interval (`scipy.stats.binomtest`).
- Across test examples (rank correlations, statistics of hidden states): a 95% BCa bootstrap interval over
  the examples (`scipy.stats.bootstrap`, seeded so a rerun gives the same interval; the percentile interval
  where BCa is undefined because every resample gives the same value).

A verdict compares the interval with what the claim says:
- `higher`: supported when the whole interval is above 0, contradicted when it is below 0;
- `not_lower` (non-inferiority within `margin`): supported when the interval's low end is above -margin,
  contradicted when its high end is below -margin;
- otherwise inconclusive. A measurement that is exact (bytes saved for backward) has a zero-width interval.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from tasks.metric import Metric

CONFIDENCE = 0.95
RESAMPLES = 2000


@dataclass(frozen=True)
class Estimate:
    """A value with its 95% interval (NaN bounds when it has none) and the number of samples behind it."""

    value: float
    low: float
    high: float
    n: int

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def exact(value: float, n: int) -> Estimate:
    """A measured quantity without sampling noise (its interval is the value itself)."""
    return Estimate(float(value), float(value), float(value), n)


def proportion(successes: int, n: int) -> Estimate:
    """successes / n over n independent trials (test examples of one evaluation) with its 95% Wilson score
    interval (`scipy.stats.binomtest`), which stays inside [0, 1] and is not empty at 0 or n successes."""
    if n < 1:
        return Estimate(math.nan, math.nan, math.nan, 0)
    interval = stats.binomtest(int(successes), int(n)).proportion_ci(CONFIDENCE, method="wilson")
    return Estimate(successes / n, float(interval.low), float(interval.high), int(n))


NOT_INDEPENDENT = ("tokens",)  # proportions over these get no interval: one example's tokens are not independent


def over_examples(metric: Metric, values: Mapping[str, float]) -> Estimate | None:
    """A proportion's value with its 95% Wilson interval over the trials it counts (`metric.denominator`, read
    from `values`); None for another kind, a missing count, or a count of tokens (`NOT_INDEPENDENT`)."""
    if metric.kind != "proportion" or metric.name not in values or metric.denominator not in values:
        return None
    if metric.denominator in NOT_INDEPENDENT:
        return None
    count = int(values[metric.denominator])
    return proportion(round(values[metric.name] * count), count)


def across_seeds(values: Sequence[float]) -> Estimate:
    """The mean over seeds and its Student-t interval (none with fewer than two seeds, or no spread)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean()) if len(values) else math.nan
    if len(values) < 2:
        return Estimate(mean, math.nan, math.nan, len(values))
    if np.ptp(values) == 0:  # no spread over these seeds is no evidence of none: no interval
        return Estimate(mean, math.nan, math.nan, len(values))
    interval = stats.ttest_1samp(values, 0.0).confidence_interval(CONFIDENCE)
    return Estimate(mean, float(interval.low), float(interval.high), len(values))


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Estimate:
    """Mean of a - b over paired samples (the same seeds), with its Student-t interval."""
    return across_seeds(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))


def bootstrap(samples: Sequence[np.ndarray], statistic: Callable[..., float], *, seed: int = 0) -> Estimate:
    """`statistic(*samples)` with a BCa bootstrap interval over the examples (the samples are paired: one
    row per example in each). Too few examples, or a constant statistic, give no interval."""
    arrays = [np.asarray(sample) for sample in samples]
    value = float(statistic(*arrays))
    count = len(arrays[0])
    if count < 3 or not math.isfinite(value):
        return Estimate(value, math.nan, math.nan, count)
    for method in ("BCa", "percentile"):  # BCa is undefined when every resample agrees (a perfect correlation)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a degenerate resample gives a NaN bound, tried again or reported
            result = stats.bootstrap(tuple(arrays), statistic, paired=True, vectorized=False, n_resamples=RESAMPLES,
                                     confidence_level=CONFIDENCE, method=method, rng=np.random.default_rng(seed))
        interval = result.confidence_interval
        if math.isfinite(interval.low) and math.isfinite(interval.high):
            break
    return Estimate(value, float(interval.low), float(interval.high), count)


def rank_correlation(x: np.ndarray, y: np.ndarray) -> Estimate:
    """Spearman's rank correlation of x and y with its bootstrap interval over the examples."""
    def rho(a: np.ndarray, b: np.ndarray) -> float:
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            return math.nan  # undefined when either side is constant
        return float(stats.spearmanr(a, b).statistic)

    return bootstrap((np.asarray(x, dtype=float), np.asarray(y, dtype=float)), rho)


VERDICTS = ("supported", "contradicted", "inconclusive")


def verdict(estimate: Estimate, direction: str, margin: float = 0.0) -> str:
    """`supported`, `contradicted` or `inconclusive` by the rule in the module docstring."""
    if not estimate.has_interval:
        return "inconclusive"
    if direction == "higher":
        if estimate.low > 0:
            return "supported"
        return "contradicted" if estimate.high < 0 else "inconclusive"
    if direction == "not_lower":
        if estimate.low > -margin:
            return "supported"
        return "contradicted" if estimate.high < -margin else "inconclusive"
    raise ValueError(f"unknown claim direction {direction!r}; known: higher, not_lower")
