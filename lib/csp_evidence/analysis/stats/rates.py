"""Rates per 1,000 residents with confidence intervals as public-health analysts compute them.

Intervals for a count: exact Poisson (chi-squared) below 10, Byar's approximation from 10 upwards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

BYAR_FROM = 10


def count_interval(count: float, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a Poisson count: exact below 10, Byar's method from 10."""
    if count < 0 or not np.isfinite(count):
        raise ValueError(f"count must be a non-negative number, got {count!r}")
    z = stats.norm.ppf(0.5 + level / 2)
    a = 1 - level
    if count < BYAR_FROM:
        low = 0.0 if count == 0 else stats.chi2.ppf(a / 2, 2 * count) / 2
        high = stats.chi2.ppf(1 - a / 2, 2 * (count + 1)) / 2
        return float(low), float(high)
    o = float(count)
    low = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
    high = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    return float(low), float(high)


def rate_per_1000(count: float | pd.Series, population: float | pd.Series) -> float | pd.Series:
    """Events per 1,000 residents."""
    if np.any(np.asarray(population) <= 0):
        raise ValueError("population must be positive")
    return 1000.0 * count / population
