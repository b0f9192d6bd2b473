"""Covid-era shifts for a priority's measures: observed against the counterfactual expected without the pandemic.

For each measure the borough's monthly series goes to ``stats.timeseries.covid_counterfactual`` (a seasonal
ARIMA fitted on the five pre-pandemic years, forecast from the pandemic's first month) and to
``interrupted_time_series`` (segmented negative-binomial regression); this module gathers the results into
one table per chapter and says in words what they show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from csp_evidence.analysis.priorities import Measure, measure_rows
from csp_evidence.analysis.stats import timeseries as ts
from csp_evidence.analysis.stats.change import Change, compare_counts
from csp_evidence.analysis.summaries import AIRPORT_UNITS, monthly_series
from csp_evidence.core import memo
from csp_evidence.core.periods import (
    COVID_PERIODS,
    LOCKDOWNS,
    covid_period,
    financial_year,
    financial_year_months,
    previous_financial_year,
)

MIN_MONTHLY_MEAN = 5.0  # below this a seasonal model of a borough series is mostly noise


def first_pandemic_year(covid_start: str) -> str:
    """The first financial year that starts after the pandemic began ('2020-03' -> '2020/21')."""
    return financial_year(pd.Timestamp(f"{covid_start}-01") + pd.offsets.MonthBegin(1))


def period_figures(row: pd.Series | Mapping) -> dict:
    """A counterfactual period's row (``Counterfactual.periods``) as plain figures: observed, expected, lower, upper
    (counts), outside ('above'/'below'/'within' the 95% interval) and pct_difference (observed against expected)."""
    return {
        "observed": int(row["observed"]),
        "expected": float(row["expected"]),
        "lower": float(row["lower"]),
        "upper": float(row["upper"]),
        "outside": row["outside"],
        "pct_difference": float(row["pct_difference"]),
    }


def covid_effects(
    crime: pd.DataFrame, borough: str, measures: Sequence[Measure], covid_start: str, its_end: str = "2022-02-01"
) -> tuple[pd.DataFrame, dict[str, ts.Counterfactual]]:
    """One row per measure: the first pandemic financial year and the first lockdown, observed against expected.

    Columns: measure, year, observed, expected, lower, upper, outside ('above'/'below'/'within'), pct_difference,
    lockdown_observed, lockdown_expected, lockdown_outside, its_level_ratio, its_low, its_high, model, note.
    Measures whose monthly mean before the pandemic is under MIN_MONTHLY_MEAN are not modelled (note says so).
    Expected counts, interval limits and rate ratios are to ``ts.SIGNIFICANT_FIGURES`` significant figures.
    Also returns the fitted counterfactuals by measure name, for charts.
    """
    start = pd.Timestamp(f"{covid_start}-01")
    year = first_pandemic_year(covid_start)
    rows, fits = [], {}
    for m in measures:
        series = monthly_series(measure_rows(crime, m), borough)
        pre = series[(series.index < start) & (series.index >= start - pd.DateOffset(years=5))]
        row: dict = {"measure": m.name, "year": year}
        if pre.mean() < MIN_MONTHLY_MEAN:
            rows.append(
                row | {"note": f"not modelled: fewer than {MIN_MONTHLY_MEAN:.0f} offences a month before the pandemic"}
            )
            continue
        cf = ts.covid_counterfactual(series, start=start, financial_years=[year])
        fits[m.name] = cf
        periods = cf.periods.set_index("period")
        fy = periods.loc[f"Financial year {year}"]
        lockdown = periods.loc["First lockdown"] if "First lockdown" in periods.index else None
        its = ts.interrupted_time_series(series, interruption=start, end=its_end)
        rows.append(
            row
            | {
                **period_figures(fy),
                "lockdown_observed": None if lockdown is None else int(lockdown["observed"]),
                "lockdown_expected": None if lockdown is None else float(lockdown["expected"]),
                "lockdown_outside": None if lockdown is None else lockdown["outside"],
                "its_level_ratio": ts.significant(its.level_change_ratio),
                "its_low": ts.significant(its.level_ci[0]),
                "its_high": ts.significant(its.level_ci[1]),
                "model": cf.model.split(",")[0],
                "note": "",
            }
        )
    return pd.DataFrame(rows), fits


@memo.by_table_identity(maxsize=16)
def london_counterfactual(crime: pd.DataFrame, measure: Measure, covid_start: str) -> ts.Counterfactual:
    """The counterfactual of a measure for London as a whole (the 32 boroughs, airports unit left out), fitted once
    per table and measure in a process (``memo``): every borough's chapter sets its own result beside it."""
    rows = measure_rows(crime, measure)
    series = monthly_series(rows[~rows["borough"].isin(AIRPORT_UNITS)], None)
    year = first_pandemic_year(covid_start)
    return ts.covid_counterfactual(series, start=pd.Timestamp(f"{covid_start}-01"), financial_years=[year])


def counterfactual_chart_data(cf: ts.Counterfactual, series: pd.Series, since: str = "2017-04-01") -> pd.DataFrame:
    """Observed counts from `since` with the expected counts and their 95% interval over the forecast months."""
    frame = pd.DataFrame({"Observed": series.loc[since:]})
    frame = frame.join(
        cf.monthly[["expected", "lower", "upper"]].rename(columns={"expected": "Expected without the pandemic"})
    )
    return frame.loc[: cf.monthly.index.max()]


def month_label(month: str) -> str:
    """'2020-03' -> 'March 2020'."""
    return f"{pd.Timestamp(f'{month}-01'):%B %Y}"


def first_lockdown_label() -> str:
    """The months of the first lockdown period as words: 'March to June 2020'."""
    first = COVID_PERIODS[0]
    return f"{first.start:%B} to {first.end:%B %Y}"


# --------------------------------------------------------------------------- lockdown surge of a monthly count


def lockdown_months() -> pd.DatetimeIndex:
    """The month starts touched by a national lockdown (``periods.LOCKDOWNS``): March to June 2020 and November
    2020 to March 2021."""
    months = [pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS") for _, start, end in LOCKDOWNS]
    return pd.DatetimeIndex(sorted({m for span in months for m in span}))


@dataclass(frozen=True)
class LockdownSurge:
    """A monthly count in the lockdowns against the year before the pandemic.

    `year_change` compares the financial year `year` with `baseline_year` (exact Poisson test of the rate ratio);
    `months` has one row per lockdown month: month, period (the restriction period it falls in), count,
    baseline_month (the same calendar month of `baseline_calendar_year`), baseline, change, pct_change,
    rate_ratio, p_value; `lockdown_total` and `lockdown_baseline` sum the lockdown months and their baselines.
    """

    year: str
    baseline_year: str
    year_change: Change
    baseline_calendar_year: int
    months: pd.DataFrame
    lockdown_total: int
    lockdown_baseline: int

    @property
    def lockdown_pct_change(self) -> float:
        return 100.0 * (self.lockdown_total - self.lockdown_baseline) / self.lockdown_baseline

    @property
    def peak(self) -> pd.Series:
        """The lockdown month with the largest ratio to its baseline month."""
        return self.months.loc[self.months["rate_ratio"].idxmax()]

    def headline(self) -> dict:
        """Plain figures for a chapter's headline JSON."""
        peak = self.peak
        return {
            "year": self.year,
            "count": self.year_change.current,
            "baseline_year": self.baseline_year,
            "baseline": self.year_change.previous,
            "pct_change": self.year_change.pct_change,
            "p_value": self.year_change.p_value,
            "lockdown_months": self.lockdown_total,
            "lockdown_months_baseline": self.lockdown_baseline,
            "lockdown_pct_change": self.lockdown_pct_change,
            "peak_month": f"{peak['month']:%Y-%m}",
            "peak_count": int(peak["count"]),
            "peak_baseline": int(peak["baseline"]),
            "peak_ratio": float(peak["rate_ratio"]),
        }


def _year_total(series: pd.Series, year: str) -> int:
    months = financial_year_months(year)
    missing = months.difference(series.index)
    if len(missing):
        raise ValueError(
            f"the series lacks {len(missing)} month(s) of {year}, first {missing[0]:%Y-%m}: a financial year "
            f"needs all twelve; the series covers {series.index.min():%Y-%m} to {series.index.max():%Y-%m}"
        )
    return int(series[months].sum())


def lockdown_surge(
    series: pd.Series, covid_start: str = "2020-03", baseline_calendar_year: int = 2019
) -> LockdownSurge:
    """A monthly count (indexed by month start) in the first pandemic financial year against the year before,
    and in each lockdown month against the same month of `baseline_calendar_year`.

    Counts are compared as Poisson (``stats.change.compare_counts``). Every month needed must be in the series:
    a missing month is unknown, never zero.
    """
    series = series.sort_index()
    year = first_pandemic_year(covid_start)
    baseline_year = previous_financial_year(year)
    year_change = compare_counts(_year_total(series, baseline_year), _year_total(series, year))
    rows = []
    for month in lockdown_months():
        base = month.replace(year=baseline_calendar_year)
        missing = [m for m in (month, base) if m not in series.index]
        if missing:
            raise ValueError(
                f"the series lacks {', '.join(f'{m:%Y-%m}' for m in missing)}, needed to compare the lockdown "
                f"month {month:%Y-%m} with {base:%Y-%m}"
            )
        change = compare_counts(series[base], series[month])
        rows.append(
            {
                "month": month,
                "period": covid_period(month),
                "count": change.current,
                "baseline_month": base,
                "baseline": change.previous,
                "change": change.change,
                "pct_change": change.pct_change,
                "rate_ratio": change.rate_ratio,
                "p_value": change.p_value,
            }
        )
    months = pd.DataFrame(rows)
    return LockdownSurge(
        year=year,
        baseline_year=baseline_year,
        year_change=year_change,
        baseline_calendar_year=baseline_calendar_year,
        months=months,
        lockdown_total=int(months["count"].sum()),
        lockdown_baseline=int(months["baseline"].sum()),
    )


# --------------------------------------------------------------------------- the Covid-era shift of any monthly count

MIN_SARIMA_YEARS = 3  # below this many pre-pandemic years, the same months of earlier years are the baseline


@dataclass(frozen=True)
class CovidShift:
    """A monthly count from the pandemic's start against the level expected without it, by one of two methods.

    `method` says which: a seasonal ARIMA fitted to the pre-pandemic years (``stats.timeseries.covid_counterfactual``,
    as for recorded crime), or, with fewer than MIN_SARIMA_YEARS, the mean of the same calendar months of the
    earlier years with a quasi-Poisson prediction interval. `monthly` (indexed by month: observed, expected, lower,
    upper, ratio) covers the forecast months; `periods` (period, months, observed, expected, lower, upper, outside,
    ratio, pct_difference, excess) the first pandemic financial year `year` and the restriction periods inside
    the data; `fy` is the financial year's row as a dict.
    """

    method: str
    year: str
    pre_months: int
    monthly: pd.DataFrame
    periods: pd.DataFrame

    @property
    def fy(self) -> dict:
        return self.periods.set_index("period").loc[f"Financial year {self.year}"].to_dict()

    def headline(self) -> dict:
        """Plain figures for a chapter's headline JSON."""
        return {"method": self.method, "year": self.year, **period_figures(self.fy)}


def _same_months_baseline(
    series: pd.Series, start: pd.Timestamp, window: pd.DatetimeIndex
) -> tuple[pd.DataFrame, float, pd.Series]:
    """Expected count of each month of `window`: the mean of the same calendar month in the years before `start`.

    Returns the monthly table, the dispersion phi (pooled variance / mean across years of each calendar month, at
    least 1) and the number of earlier years behind each month's mean.
    """
    pre = series[series.index < start]
    by_month = pre.groupby(pre.index.month)
    means, counts = by_month.mean(), by_month.count()
    spread = by_month.var(ddof=1)
    usable = (counts >= 2) & (means > 0)
    dof = float((counts[usable] - 1).sum())
    phi = float(((spread[usable] / means[usable]) * (counts[usable] - 1)).sum() / dof) if dof else 1.0
    phi = max(phi, 1.0)
    cal = window.month
    missing = sorted(set(cal) - set(means.index))
    if missing:
        raise ValueError(
            f"no month before {start:%B %Y} to set against calendar month(s) {missing}: the series starts "
            f"{series.index.min():%Y-%m}"
        )
    expected = means.reindex(cal).to_numpy()
    k = counts.reindex(cal).to_numpy()
    half = 1.959963984540054 * np.sqrt(phi * expected * (1 + 1 / k))
    observed = series.reindex(window).to_numpy()
    monthly = pd.DataFrame(
        {
            "observed": observed,
            "expected": expected,
            "lower": np.clip(expected - half, 0, None),
            "upper": expected + half,
            "ratio": np.divide(observed, expected, out=np.full(len(window), np.nan), where=expected > 0),
        },
        index=pd.DatetimeIndex(window, name="month"),
    )
    return monthly, phi, pd.Series(k, index=window)


def _baseline_period(monthly: pd.DataFrame, phi: float, k: pd.Series, name: str, months: pd.DatetimeIndex) -> dict:
    sel = monthly.loc[months]
    observed, expected = float(sel["observed"].sum()), float(sel["expected"].sum())
    half = 1.959963984540054 * np.sqrt(phi * float((sel["expected"] * (1 + 1 / k.loc[months])).sum()))
    lower, upper = max(expected - half, 0.0), expected + half
    return {
        "period": name,
        "months": len(months),
        "observed": observed,
        "expected": expected,
        "lower": lower,
        "upper": upper,
        "outside": "above" if observed > upper else "below" if observed < lower else "within",
        "ratio": observed / expected if expected else np.nan,
        "pct_difference": 100 * (observed - expected) / expected if expected else np.nan,
    }


def covid_shift(series: pd.Series, covid_start: str, max_pre_years: int = 5) -> CovidShift:
    """The Covid-era shift of a monthly count (indexed by month start, no gaps): the first pandemic financial year
    and each restriction period inside the data, observed against expected (see `CovidShift`).

    With at least MIN_SARIMA_YEARS whole pre-pandemic years the seasonal ARIMA uses up to `max_pre_years` of them;
    with fewer (at least one of each calendar month), the same months of the earlier years. The first pandemic
    financial year must be wholly in the series.
    """
    series = series.sort_index()
    start = pd.Timestamp(f"{covid_start}-01")
    year = first_pandemic_year(covid_start)
    fy_months = financial_year_months(year)
    if not fy_months.isin(series.index).all():
        raise ValueError(
            f"the series ({series.index.min():%Y-%m} to {series.index.max():%Y-%m}) does not hold the whole of "
            f"{year}, the first pandemic financial year"
        )
    pre_months = int((series.index < start).sum())
    end = fy_months[-1]
    window = pd.date_range(start, end, freq="MS")
    periods = [p for p in COVID_PERIODS if p.start >= start and p.end <= end]
    if pre_months >= 12 * MIN_SARIMA_YEARS:
        pre_years = min(max_pre_years, pre_months // 12)
        cf = ts.covid_counterfactual(series, start=start, end=end, pre_years=pre_years, financial_years=[year])
        monthly = cf.monthly[["observed", "expected", "lower", "upper", "ratio"]]
        table = cf.periods.drop(columns=["start", "end"])
        method = (
            f"a seasonal ARIMA fitted to the {pre_years} years before {start:%B %Y} "
            f"({cf.model.split(',')[0]}), with 95% prediction intervals from simulated paths"
        )
    else:
        monthly, phi, k = _same_months_baseline(series, start, window)
        rows = [_baseline_period(monthly, phi, k, p.name, pd.date_range(p.start, p.end, freq="MS")) for p in periods]
        rows.append(_baseline_period(monthly, phi, k, f"Financial year {year}", fy_months))
        table = pd.DataFrame(rows)
        years = int(k.min()) if int(k.min()) == int(k.max()) else f"{int(k.min())} or {int(k.max())}"
        method = (
            f"the mean of the same calendar months in the {years} year(s) before {start:%B %Y} (fewer than "
            f"{MIN_SARIMA_YEARS} pre-pandemic years are in the data, too few for a seasonal model), with a 95% "
            f"quasi-Poisson prediction interval (dispersion {phi:.1f}, from the spread between those years)"
        )
    table = table.copy()
    table["excess"] = table["observed"] - table["expected"]
    return CovidShift(method, year, pre_months, monthly, table.reset_index(drop=True))
