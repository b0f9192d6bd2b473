"""Change between periods for counts: financial-year totals, year-on-year change and its significance, ranks.

Recorded crime counts are treated as Poisson. Whether a change is beyond chance is the exact conditional
test of two Poisson counts with equal exposure (given the total, the current count is binomial with
p = 1/2 under no change), with an exact (Clopper-Pearson-based) interval for the rate ratio. Beside it
sits the Poisson Z-score 2(sqrt(current) - sqrt(previous)), with |Z| > 3 read as a signal: robust for
small counts. Police counts are usually over-dispersed, so the test flags some changes that a model with
extra variation would not: the methods page says so. Whether a borough's change differs from the rest of
London's is the ratio of the two rate ratios (``relative_change``: the interaction of a saturated Poisson
log-linear model of the four counts, with its Wald interval and test).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import test_poisson_2indep

from csp_evidence.core.memo import by_table_identity
from csp_evidence.core.periods import financial_years, next_financial_year

SIGNAL_Z = 3.0


@dataclass(frozen=True)
class Change:
    """Change from a previous count to a current one (same length of period)."""

    previous: int
    current: int
    change: int
    pct_change: float  # per cent of the previous count; NaN when the previous is zero
    rate_ratio: float  # current / previous
    ratio_low: float  # 95% interval of the rate ratio
    ratio_high: float
    p_value: float  # exact conditional Poisson test, two-sided
    z_score: float  # 2(sqrt(current) - sqrt(previous))
    significant: bool  # p < 0.05
    signal: bool  # |Z| > 3

    def as_dict(self) -> dict:
        return asdict(self)


def _check_count(name: str, value: float) -> int:
    if value is None or not np.isfinite(value) or value < 0 or value != int(value):
        raise ValueError(f"{name} must be a non-negative whole count, got {value!r}")
    return int(value)


def compare_counts(previous: float, current: float, alpha: float = 0.05) -> Change:
    """Compare two counts over periods of equal length: change, per cent, rate ratio with CI, p-value, Z-score."""
    prev, cur = _check_count("previous", previous), _check_count("current", current)
    if prev + cur == 0:
        p_value, low, high, ratio = 1.0, 0.0, np.inf, np.nan
    else:
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero count makes the point ratio infinite
            p_value = float(test_poisson_2indep(cur, 1, prev, 1, method="exact-cond").pvalue)
        # Given the total, current ~ Binomial(total, r/(1+r)); map the exact interval of p to r = p/(1-p).
        p_low, p_high = proportion_confint(cur, cur + prev, alpha=alpha, method="beta")
        low = p_low / (1 - p_low)
        high = p_high / (1 - p_high) if p_high < 1 else np.inf
        ratio = cur / prev if prev else np.inf
    z = 2.0 * (np.sqrt(cur) - np.sqrt(prev))
    return Change(
        previous=prev,
        current=cur,
        change=cur - prev,
        pct_change=100.0 * (cur - prev) / prev if prev else np.nan,
        rate_ratio=float(ratio),
        ratio_low=float(low),
        ratio_high=float(high),
        p_value=p_value,
        z_score=float(z),
        significant=bool(p_value < alpha),
        signal=bool(abs(z) > SIGNAL_Z),
    )


@by_table_identity()
def financial_year_totals(tidy: pd.DataFrame, by: Sequence[str] = ("borough",)) -> pd.DataFrame:
    """Sum monthly counts into financial years (April-March); only years with all 12 months are kept.

    Returns the `by` columns, financial_year and count. Remembered per table (``memo``): the same London-wide
    totals serve every borough.
    """
    missing = [c for c in (*by, "month", "count") if c not in tidy.columns]
    if missing:
        raise ValueError(f"table lacks column(s) {missing}; has {list(tidy.columns)}")
    frame = tidy[[*by, "month", "count"]].copy()
    frame["financial_year"] = financial_years(frame["month"]).to_numpy()
    months = frame.groupby("financial_year")["month"].nunique()
    complete = months[months == 12].index
    totals = (
        frame[frame["financial_year"].isin(complete)]
        .groupby([*by, "financial_year"], as_index=False, observed=True)["count"]
        .sum()
    )
    return totals


def year_on_year(totals: pd.DataFrame, by: Sequence[str] = ("borough",)) -> pd.DataFrame:
    """Add each year's change on the previous financial year to a table of financial-year totals.

    Adds previous, change, pct_change, rate_ratio, ratio_low, ratio_high, p_value, z_score, significant, signal.
    A year is compared with the financial year just before it, never with an earlier one across a gap: a year
    whose previous year is not in the table (the first of each group, or one after a missing year) is dropped.
    """
    frame = totals.sort_values([*by, "financial_year"]).copy()
    keys = [*by, "financial_year"]
    before = frame[keys + ["count"]].rename(columns={"count": "previous"})
    before["financial_year"] = before["financial_year"].map(next_financial_year)
    frame = frame.merge(before, on=keys, how="inner", validate="one_to_one")
    rows = [compare_counts(p, c).as_dict() for p, c in zip(frame["previous"], frame["count"], strict=True)]
    stats = pd.DataFrame(rows, index=frame.index).drop(columns=["current"])
    return pd.concat([frame.drop(columns=["previous"]), stats], axis=1).reset_index(drop=True)


def rank_of(values: pd.Series, name: str, exclude: Sequence[str] = ()) -> tuple[int, int]:
    """Rank of `name` among the values (1 = highest; ties share the best rank) and the number ranked."""
    kept = values.drop(index=[e for e in exclude if e in values.index])
    if name not in kept.index:
        raise KeyError(f"{name!r} is not among the ranked names: {', '.join(map(str, kept.index))}")
    ranks = kept.rank(ascending=False, method="min")
    return int(ranks[name]), int(len(kept))


@dataclass(frozen=True)
class Relative:
    """The borough's rate ratio against the rest of London's between two years of equal length."""

    borough_ratio: float  # end / start, the borough
    rest_ratio: float  # end / start, the rest of London
    ratio_of_ratios: float  # borough_ratio / rest_ratio: below 1 the borough fell further (or rose less)
    low: float  # 95% interval of the ratio of ratios
    high: float
    z: float
    p_value: float  # two-sided Wald test of the Poisson model's interaction term
    significant: bool

    def as_dict(self) -> dict:
        return asdict(self)


def relative_change(
    borough_start: int, borough_end: int, rest_start: int, rest_end: int, alpha: float = 0.05
) -> Relative | None:
    """Whether the borough's change differs from the rest of London's: the ratio of the two rate ratios with its Wald
    interval and p-value (the interaction of a saturated Poisson log-linear model). None when a count is zero (the
    ratio is then undefined)."""
    counts = [borough_start, borough_end, rest_start, rest_end]
    for name, value in zip(("borough_start", "borough_end", "rest_start", "rest_end"), counts, strict=True):
        if value is None or not np.isfinite(value) or value < 0 or value != int(value):
            raise ValueError(f"{name} must be a non-negative whole count, got {value!r}")
    if min(counts) == 0:
        return None
    b0, b1, r0, r1 = (float(c) for c in counts)
    log_ror = math.log(b1 / b0) - math.log(r1 / r0)
    se = math.sqrt(1 / b0 + 1 / b1 + 1 / r0 + 1 / r1)
    z = log_ror / se
    p = float(2 * stats.norm.sf(abs(z)))
    q = stats.norm.ppf(1 - alpha / 2)
    return Relative(
        borough_ratio=b1 / b0,
        rest_ratio=r1 / r0,
        ratio_of_ratios=math.exp(log_ror),
        low=math.exp(log_ror - q * se),
        high=math.exp(log_ror + q * se),
        z=z,
        p_value=p,
        significant=p < alpha,
    )
