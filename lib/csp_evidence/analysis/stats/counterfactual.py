"""The Covid counterfactual: a pre-pandemic seasonal ARIMA forecast with 95% intervals for months and periods
(see ``timeseries`` for the method and references)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from csp_evidence.analysis.stats.forecast import _simulate_log_paths
from csp_evidence.analysis.stats.sarima import (
    DEFAULT_ORDERS,
    Order,
    SeasonalOrder,
    _check_orders,
    _sarima_label,
    _select_sarima,
)
from csp_evidence.analysis.stats.series import (
    SIGNIFICANT_FIGURES,
    _month,
    _month_start,
    _span,
    check_monthly,
    significant,
)
from csp_evidence.core.periods import COVID_PERIODS, Period, financial_year_months
from csp_evidence.core.periods import financial_years as _financial_year_labels

MAX_DEFAULT_HORIZON = 36
Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Counterfactual:
    """SARIMA forecast of what would have been expected without the pandemic; counts per month or per period.

    `expected` is the back-transformed forecast median per month (summed for periods); `lower`/`upper` are 95%
    prediction limits; `outside` says whether the observed count or total lies above, below or within them.
    Expected counts and limits are rounded to `figures` significant figures (None: unrounded), and
    `outside`, `ratio` and `pct_difference` are computed from the rounded values, so that every figure is
    the one a reader sees, and the same on any machine.
    """

    monthly: pd.DataFrame
    periods: pd.DataFrame
    model: str
    order: Order
    seasonal_order: SeasonalOrder
    fit_start: pd.Timestamp
    fit_end: pd.Timestamp
    candidates: pd.DataFrame
    simulated: pd.DataFrame  # forecast months x simulated paths, in counts; used for intervals of any span
    level: float = 0.95
    figures: int | None = SIGNIFICANT_FIGURES


def _outside(observed: float, lower: float, upper: float) -> str:
    if observed > upper:
        return "above"
    if observed < lower:
        return "below"
    return "within"


def _total_row(
    monthly: pd.DataFrame,
    simulated: pd.DataFrame,
    level: float,
    months: Iterable,
    label: str,
    figures: int | None = SIGNIFICANT_FIGURES,
) -> dict[str, object]:
    """Observed and expected totals over `months`: expected and its interval are the median and quantiles of the
    simulated totals, so the point sits inside its own interval (a sum of monthly medians of a log model would
    sit below the median of the sum); all three rounded to `figures` significant figures."""
    span = pd.DatetimeIndex(pd.to_datetime(list(months))).sort_values()
    if len(span) == 0:
        raise ValueError(f"months for {label!r} is empty; expected forecast months")
    outside_window = span.difference(monthly.index)
    if len(outside_window):
        raise ValueError(
            f"months for {label!r} must lie in the forecast window {_span(monthly.index)}; "
            f"not in it: {', '.join(_month(t) for t in outside_window[:5])}"
        )
    observed = float(monthly.loc[span, "observed"].sum())
    tail = (1 - level) / 2
    totals = simulated.loc[span].sum(axis=0)
    lower, expected, upper = (significant(v, figures) for v in np.quantile(totals, [tail, 0.5, 1 - tail]))
    return {
        "period": label,
        "start": span[0],
        "end": span[-1],
        "months": len(span),
        "observed": observed,
        "expected": expected,
        "lower": lower,
        "upper": upper,
        "outside": _outside(observed, lower, upper),
        "ratio": observed / expected if expected > 0 else np.nan,
        "pct_difference": 100.0 * (observed - expected) / expected if expected > 0 else np.nan,
    }


_PERIOD_COLUMNS = [
    "period",
    "start",
    "end",
    "months",
    "observed",
    "expected",
    "lower",
    "upper",
    "outside",
    "ratio",
    "pct_difference",
]


def counterfactual_for_months(cf: Counterfactual, months: Iterable, label: str) -> pd.Series:
    """Observed vs expected total (counts) over any set of forecast months, with the simulated 95% interval."""
    return pd.Series(_total_row(cf.monthly, cf.simulated, cf.level, months, label, cf.figures))


def period_summary(cf: Counterfactual, periods: Sequence[Period]) -> pd.DataFrame:
    """One row per Period (observed, expected, simulated 95% interval of the total, outside, % difference)."""
    return _period_table(cf.monthly, cf.simulated, cf.level, periods, cf.figures)


def _period_table(
    monthly: pd.DataFrame,
    simulated: pd.DataFrame,
    level: float,
    periods: Sequence[Period],
    figures: int | None = SIGNIFICANT_FIGURES,
) -> pd.DataFrame:
    rows = [
        _total_row(monthly, simulated, level, pd.date_range(p.start, p.end, freq="MS"), p.name, figures)
        for p in periods
    ]
    return pd.DataFrame(rows, columns=_PERIOD_COLUMNS)


def _periods_in_window(
    window: pd.DatetimeIndex, periods: Sequence[Period], fin_years: Sequence[str] | None
) -> list[Period]:
    """Periods wholly inside the forecast window, then the requested (or all complete) financial years."""
    chosen = [p for p in periods if p.start >= window[0] and p.end <= window[-1]]
    if fin_years is None:
        fin_years = [
            fy for fy in dict.fromkeys(_financial_year_labels(window)) if financial_year_months(fy).isin(window).all()
        ]
    for fy in fin_years:
        months = financial_year_months(fy)
        if not months.isin(window).all():
            raise ValueError(
                f"financial_years: {fy} ({_span(months)}) is not wholly inside the forecast window {_span(window)}"
            )
        chosen.append(Period(f"Financial year {fy}", months[0], months[-1]))
    return chosen


def _monthly_table(
    result, observed: pd.Series, simulated: pd.DataFrame | None, figures: int | None = SIGNIFICANT_FIGURES
) -> pd.DataFrame:
    """Monthly observed vs expected (back-transformed forecast median) and 95% interval, all in counts.

    Intervals are analytic (forecast mean +/- 1.96 sd on the log scale) unless `simulated` paths are given,
    in which case they are the 2.5% and 97.5% quantiles of the simulated counts. Expected counts and limits
    are rounded to `figures` significant figures.
    """
    forecast = result.get_forecast(steps=len(observed))
    mean = forecast.predicted_mean.to_numpy()
    expected = np.expm1(mean)
    if simulated is None:
        half = Z95 * np.sqrt(forecast.var_pred_mean.to_numpy())
        lower, upper = np.clip(np.expm1(mean - half), 0, None), np.expm1(mean + half)
    else:
        lower, upper = (simulated.quantile(q, axis=1).to_numpy() for q in (0.025, 0.975))
    expected, lower, upper = (
        np.array([significant(v, figures) for v in values]) for values in (expected, lower, upper)
    )
    obs = observed.to_numpy()
    return pd.DataFrame(
        {
            "observed": obs,
            "expected": expected,
            "lower": lower,
            "upper": upper,
            "outside": [_outside(o, lo, hi) for o, lo, hi in zip(obs, lower, upper, strict=False)],
            "ratio": np.divide(obs, expected, out=np.full(len(obs), np.nan), where=expected > 0),
        },
        index=pd.DatetimeIndex(observed.index, name="month"),
    )


def _fit_and_forecast_months(
    y: pd.Series, start: pd.Timestamp | str, end: pd.Timestamp | str | None, pre_years: int
) -> tuple[pd.Series, pd.DatetimeIndex]:
    """The series the model is fitted to (log(count+1) over the `pre_years` years before `start`) and the forecast
    months (`start` to `end`, by default at most MAX_DEFAULT_HORIZON months); errors name the argument."""
    start = _month_start(start, "start")
    n_pre = 12 * pre_years
    if pre_years < 2:
        raise ValueError(f"pre_years must be at least 2 (two seasonal cycles), got {pre_years}")
    available = y.index[y.index < start]
    if len(available) < n_pre:
        raise ValueError(
            f"series must have at least {n_pre} pre-period months before {_month(start)} (pre_years={pre_years}), "
            f"got {len(available)} ({_span(available)})"
        )
    if start > y.index[-1]:
        raise ValueError(f"start {_month(start)} is after the last month of series ({_month(y.index[-1])})")
    if end is None:
        end = min(y.index[-1], start + pd.DateOffset(months=MAX_DEFAULT_HORIZON - 1))
    end = _month_start(end, "end")
    if end < start or end > y.index[-1]:
        raise ValueError(
            f"end must lie between start ({_month(start)}) and the last month of series "
            f"({_month(y.index[-1])}), got {_month(end)}"
        )
    return np.log1p(y.loc[available[-n_pre:]]), pd.date_range(start, end, freq="MS")


def covid_counterfactual(
    series: pd.Series,
    start: pd.Timestamp | str = "2020-03-01",
    end: pd.Timestamp | str | None = None,
    pre_years: int = 5,
    orders: Sequence[tuple[Order, SeasonalOrder]] = DEFAULT_ORDERS,
    periods: Sequence[Period] = COVID_PERIODS,
    financial_years: Sequence[str] | None = None,
    n_sims: int = 2000,
    seed: int = 20200323,
    period: int = 12,
    parameter_uncertainty: bool = False,
    figures: int | None = SIGNIFICANT_FIGURES,
) -> Counterfactual:
    """Pre-pandemic SARIMA (log(count+1), AIC-chosen) forecast from `start` to `end`; 95% intervals in counts.

    Expected counts and interval limits are rounded to `figures` significant figures (None: unrounded).
    """
    y = check_monthly(series)
    train, window = _fit_and_forecast_months(y, start, end, pre_years)
    if n_sims < 100:
        raise ValueError(f"n_sims must be at least 100 for stable 95% interval quantiles, got {n_sims}")
    if figures is not None and (not isinstance(figures, int) or figures < 1):
        raise ValueError(f"figures must be a positive number of significant figures or None, got {figures!r}")
    orders = _check_orders(orders)

    result, candidates = _select_sarima(train, orders, period, cov_type="approx" if parameter_uncertainty else "none")

    rng = np.random.default_rng(seed)
    simulated = (
        pd.DataFrame(
            _simulate_log_paths(result, len(window), n_sims, rng, parameter_uncertainty),
            index=pd.DatetimeIndex(window, name="month"),
        )
        .pipe(np.expm1)
        .clip(lower=0)
    )
    monthly = _monthly_table(result, y.loc[window], simulated if parameter_uncertainty else None, figures)

    order, seasonal = tuple(result.model.order), tuple(result.model.seasonal_order[:3])
    drift = order[1] + seasonal[1] <= 1
    description = (
        f"{_sarima_label(order, seasonal, period, drift)} on log(count+1), fitted {_span(train.index)}, "
        f"chosen by AIC among {len(orders)} candidates; period-total intervals from {n_sims} simulated paths"
        + (" including parameter uncertainty" if parameter_uncertainty else "")
    )
    level = 0.95
    return Counterfactual(
        monthly=monthly,
        periods=_period_table(monthly, simulated, level, _periods_in_window(window, periods, financial_years), figures),
        model=description,
        order=order,
        seasonal_order=seasonal,
        fit_start=train.index[0],
        fit_end=train.index[-1],
        candidates=candidates,
        simulated=simulated,
        level=level,
        figures=figures,
    )
