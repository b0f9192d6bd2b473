"""Proportions: Wilson score intervals and the two-proportion z-test, with argument checks that name the argument.

Both functions wrap statsmodels (``proportion_confint(method='wilson')`` and ``proportions_ztest``) so the
numbers match what a reviewer gets from the standard library; the wrappers add vectorisation over arrays and
pandas Series, and refuse impossible inputs (negative counts, successes above trials, zero trials) with a
``ValueError`` that names the offending argument instead of silently returning NaN.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

ArrayLike: TypeAlias = float | int | np.ndarray | pd.Series | list


def _as_counts(value: ArrayLike, name: str) -> np.ndarray:
    """Convert a count argument to a float array, rejecting NaN, negatives and non-integers (error names `name`)."""
    arr = np.asarray(value, dtype=float)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains missing values (NaN); counts must be whole numbers >= 0")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0; got {arr[arr < 0].tolist()[:5]}")
    if (arr != np.round(arr)).any():
        raise ValueError(f"{name} must be whole numbers; got {arr[arr != np.round(arr)].tolist()[:5]}")
    return arr


def _check_pair(successes: np.ndarray, trials: np.ndarray, s_name: str, t_name: str) -> None:
    """Check that trials > 0 and successes <= trials, naming the arguments in the error."""
    if (trials == 0).any():
        raise ValueError(f"{t_name} must be > 0 (a proportion of zero cases is undefined); got 0")
    if (successes > trials).any():
        bad = np.broadcast_to(successes > trials, np.broadcast(successes, trials).shape)
        s = np.broadcast_to(successes, bad.shape)[bad].tolist()[:5]
        t = np.broadcast_to(trials, bad.shape)[bad].tolist()[:5]
        raise ValueError(f"{s_name} must be <= {t_name}; got {s_name}={s} with {t_name}={t}")


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, level: float = 0.95
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray] | tuple[pd.Series, pd.Series]:
    """Wilson score interval (low, high) for successes/trials; vectorised, Series in gives Series out."""
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1; got {level!r}")
    x = _as_counts(successes, "successes")
    n = _as_counts(trials, "trials")
    _check_pair(x, n, "successes", "trials")
    low, high = proportion_confint(x, n, alpha=1 - level, method="wilson")
    low = np.clip(np.asarray(low, dtype=float), 0.0, 1.0)
    high = np.clip(np.asarray(high, dtype=float), 0.0, 1.0)
    index = next((a.index for a in (successes, trials) if isinstance(a, pd.Series)), None)
    if index is not None:
        return pd.Series(low, index=index, name="ci_low"), pd.Series(high, index=index, name="ci_high")
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def _one_test(x1: float, n1: float, x2: float, n2: float) -> float:
    """Two-sided pooled z-test p-value for one pair; 1.0 when both proportions are 0 or both are 1."""
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0
    _, p = proportions_ztest(np.array([x1, x2]), np.array([n1, n2]), alternative="two-sided")
    return float(p)


def two_proportion_test(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike) -> float | np.ndarray | pd.Series:
    """Two-sided p-value of the pooled two-proportion z-test of x1/n1 against x2/n2 (statsmodels); vectorised."""
    a1, b1 = _as_counts(x1, "x1"), _as_counts(n1, "n1")
    a2, b2 = _as_counts(x2, "x2"), _as_counts(n2, "n2")
    _check_pair(a1, b1, "x1", "n1")
    _check_pair(a2, b2, "x2", "n2")
    a1, b1, a2, b2 = np.broadcast_arrays(a1, b1, a2, b2)
    p = np.array(
        [_one_test(*vals) for vals in zip(a1.ravel(), b1.ravel(), a2.ravel(), b2.ravel(), strict=False)], dtype=float
    )
    p = p.reshape(a1.shape)
    index = next((a.index for a in (x1, n1, x2, n2) if isinstance(a, pd.Series)), None)
    if index is not None:
        return pd.Series(p, index=index, name="p_value")
    if p.ndim == 0:
        return float(p)
    return p
