"""The statistics, from maintained libraries: Wilson intervals and the two-proportion z-test
(statsmodels), the sample-ratio-mismatch chi-square and Mann-Whitney U (scipy)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from scipy.stats import chisquare, mannwhitneyu
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

Alternative = Literal["two-sided", "larger", "smaller"]
SRM_ALPHA = 0.001  # the usual SRM threshold: a real mismatch, not noise, before blocking verdicts


class Rate(BaseModel):
    successes: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


def wilson(successes: int, n: int, alpha: float = 0.05) -> Rate:
    if n == 0:
        return Rate(successes=0, n=0, rate=None, low=None, high=None)
    low, high = proportion_confint(successes, n, alpha=alpha, method="wilson")
    return Rate(successes=successes, n=n, rate=successes / n, low=float(low), high=float(high))


def two_proportions(a: Rate, b: Rate, alternative: Alternative = "two-sided") -> float | None:
    """p-value of the z-test that a's rate differs from b's ("larger": a > b). None when undefined
    (an empty arm, or both arms all successes or all failures)."""
    if a.n == 0 or b.n == 0:
        return None
    pooled = (a.successes + b.successes) / (a.n + b.n)
    if pooled in (0.0, 1.0):
        return None
    _, p = proportions_ztest([a.successes, b.successes], [a.n, b.n], alternative=alternative)
    return float(p)


def sample_ratio_p(observed: list[int], weights: list[float]) -> float | None:
    """Chi-square p-value of the observed counts against the planned split (None before any)."""
    total = sum(observed)
    if total == 0:
        return None
    expected = [total * w / sum(weights) for w in weights]
    return float(chisquare(observed, expected).pvalue)


def rank_test(a: list[float], b: list[float], alternative: Alternative = "two-sided") -> float | None:
    """Mann-Whitney U p-value ("greater": a tends to be larger than b); None with an empty side."""
    if not a or not b:
        return None
    scipy_alt = {"larger": "greater", "smaller": "less"}.get(alternative, alternative)
    return float(mannwhitneyu(a, b, alternative=scipy_alt).pvalue)
