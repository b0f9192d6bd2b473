"""STL decomposition and the recent trend net of seasonality (see ``timeseries`` for the methods)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tsa.seasonal import STL

from csp_evidence.analysis.stats.series import _month_dummies, _span, check_monthly


def decompose(series: pd.Series, period: int = 12, robust: bool = True) -> pd.DataFrame:
    """STL decomposition of monthly counts; columns observed, trend, seasonal, resid (all in counts/month)."""
    y = check_monthly(series)
    if period < 2:
        raise ValueError(f"period must be at least 2 (months per seasonal cycle), got {period}")
    if len(y) < 2 * period:
        raise ValueError(
            f"series must have at least {2 * period} months (two seasonal cycles) for STL, "
            f"got {len(y)} ({_span(y.index)})"
        )
    fit = STL(y, period=period, robust=robust).fit()
    return pd.DataFrame(
        {"observed": y, "trend": fit.trend, "seasonal": fit.seasonal, "resid": fit.resid}, index=y.index
    )


@dataclass(frozen=True)
class Trend:
    """Linear trend over a recent window, net of seasonality; slope in counts per month, change in % per year."""

    start: pd.Timestamp
    end: pd.Timestamp
    months: int
    mean_level: float
    slope_per_month: float
    ci_low: float
    ci_high: float
    pct_change_per_year: float
    direction: str


def trend_direction(ci_low: float, ci_high: float) -> str:
    """'rising' or 'falling' only when the 95% CI of the slope excludes zero, else 'no clear change'."""
    if ci_low > 0:
        return "rising"
    if ci_high < 0:
        return "falling"
    return "no clear change"


def recent_trend(series: pd.Series, months: int = 24) -> Trend:
    """Trend over the last `months` months: OLS slope (counts/month) on time plus month dummies, % per year of mean."""
    y = check_monthly(series)
    if months < 24:
        raise ValueError(
            f"months must be at least 24 so each calendar month appears twice (needed to separate trend "
            f"from seasonality), got {months}"
        )
    if len(y) < months:
        raise ValueError(
            f"series must have at least {months} months for recent_trend(months={months}), "
            f"got {len(y)} ({_span(y.index)})"
        )
    window = y.iloc[-months:]
    design = pd.concat(
        [pd.Series(np.arange(months, dtype=float), index=window.index, name="time"), _month_dummies(window.index)],
        axis=1,
    )
    fit = sm.OLS(window, sm.add_constant(design)).fit()
    slope = float(fit.params["time"])
    low, high = (float(v) for v in fit.conf_int(alpha=0.05).loc["time"])
    mean = float(window.mean())
    pct = 100.0 * 12.0 * slope / mean if mean > 0 else float("nan")
    return Trend(
        start=window.index[0],
        end=window.index[-1],
        months=months,
        mean_level=mean,
        slope_per_month=slope,
        ci_low=low,
        ci_high=high,
        pct_change_per_year=pct,
        direction=trend_direction(low, high),
    )
