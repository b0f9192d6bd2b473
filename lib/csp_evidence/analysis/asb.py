"""The numbers of the ASB sections (chapter 01) from the data.police.uk street files: the borough's monthly series,
its financial years against London, the Covid-era shift of the borough and of London with the borough's change
against the rest of London's, and ASB beside the rest of street-level crime; and a force's ASB incidents by
financial year from the ONS police force area tables. The sentences are ``report.asb_words``'."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from csp_evidence.analysis import summaries
from csp_evidence.analysis.covid import CovidShift, covid_shift, first_pandemic_year
from csp_evidence.analysis.stats.change import Relative, relative_change, year_on_year
from csp_evidence.core.periods import financial_year_months, previous_financial_year
from csp_evidence.data.readers.ons import MET, PFA_ASB_COMPARABLE_FROM
from csp_evidence.data.readers.policeuk import ASB, asb_monthly

PRE_YEARS = 5  # the years of months before the pandemic an expected level is fitted to
SIDE_BY_SIDE = ("Anti-social behaviour", "All other crime (police.uk)")


def asb_series(tidy: pd.DataFrame, borough: str) -> pd.Series:
    """Monthly ASB incidents for a borough from the tidy police.uk table; months must be contiguous."""
    series = asb_monthly(tidy, borough)
    full = pd.date_range(series.index.min(), series.index.max(), freq="MS")
    missing = full.difference(series.index)
    if len(missing):
        raise ValueError(
            f"police.uk street data for {borough} lack {len(missing)} month(s), first "
            f"{missing[0]:%Y-%m}: add those monthly files (a missing month is unknown, not zero)"
        )
    return series


def london_series(tidy: pd.DataFrame, crime_type: str = ASB) -> pd.Series:
    """London's (every row of the table) monthly count of one crime type, a month with none counted as zero."""
    rows = tidy[tidy["crime_type"] == crime_type]
    months = pd.DatetimeIndex(sorted(tidy["month"].unique()), name="month")
    return rows.groupby("month")["count"].sum().reindex(months, fill_value=0).astype("int64")


def as_crime_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """The police.uk table in the recorded-crime layout the summaries take (crime type as the category)."""
    return tidy.rename(columns={"crime_type": "major_category"}).assign(minor_category=lambda d: d["major_category"])


def fy_total(series: pd.Series, year: str) -> int | None:
    """A monthly series' total over a financial year; None when the series lacks any of its months."""
    months = financial_year_months(year)
    return int(series[months].sum()) if months.isin(series.index).all() else None


@dataclass(frozen=True)
class BoroughAsbFigures:
    """The borough's ASB in numbers: `series` (monthly), `table` (``summaries.totals_by_year`` for ASB over the
    years wholly in the files), `year` (the first pandemic financial year) and `before` (the year before it),
    `shift` and `london_shift` (``covid.covid_shift``; None without the whole pandemic year), `relative` (the
    borough's change into `year` against the rest of London's), `periods` (each restriction period, the borough's
    beside London's per cent difference), `chart` (monthly observed from `since`, with the expected level and its
    interval when fitted) and `side` (ASB and all other street-level crime as percentages of their pre-pandemic
    means; empty without 12 months before the pandemic)."""

    series: pd.Series
    table: pd.DataFrame
    year: str
    before: str
    shift: CovidShift | None
    london_shift: CovidShift | None
    relative: Relative | None
    periods: pd.DataFrame
    chart: pd.DataFrame
    side: pd.DataFrame


def borough_asb_figures(
    tidy: pd.DataFrame, borough: str, covid_start: str, years: list[str] | tuple[str, ...], since: str = "2017-04-01"
) -> BoroughAsbFigures:
    """The borough's ASB figures from the police.uk street table (``datasets.asb_incidents``).

    A month missing inside the files' span is an error naming it (never read as zero). The Covid-era figures need
    the whole first pandemic financial year; the counterfactual method follows the pre-pandemic months available.
    """
    series = asb_series(tidy, borough)
    london = london_series(tidy)
    crime = as_crime_table(tidy)
    complete = summaries.complete_financial_years(crime)
    in_files = [fy for fy in years if fy in complete]
    table = summaries.totals_by_year(crime, borough, in_files, categories=[ASB]) if in_files else pd.DataFrame()
    year = first_pandemic_year(covid_start)
    has_year = financial_year_months(year).isin(series.index).all()
    shift = covid_shift(series, covid_start) if has_year else None
    london_shift = covid_shift(london, covid_start) if has_year else None
    before = previous_financial_year(year)
    counts = [fy_total(s, y) for s in (series, london - series) for y in (before, year)]
    relative = relative_change(*counts) if None not in counts else None  # type: ignore[arg-type]
    chart = pd.DataFrame({"Observed": series.loc[since:].astype(float)})
    periods = pd.DataFrame()
    if shift is not None and london_shift is not None:
        london_pct = london_shift.periods[["period", "pct_difference"]]
        periods = shift.periods.merge(
            london_pct.rename(columns={"pct_difference": "london_pct_difference"}), on="period", how="left"
        )
        expected = shift.monthly[["expected", "lower", "upper"]]
        chart = chart.join(expected.rename(columns={"expected": "Expected without the pandemic"}))
    side = side_by_side(tidy, borough, series, covid_start, since)
    return BoroughAsbFigures(series, table, year, before, shift, london_shift, relative, periods, chart, side)


def side_by_side(
    tidy: pd.DataFrame, borough: str, series: pd.Series, covid_start: str, since: str = "2017-04-01"
) -> pd.DataFrame:
    """ASB (`series`) and the rest of the borough's street-level crime, each as a percentage of its mean in the 12
    months before the pandemic, from `since`; empty when the files hold fewer than 12 months before it."""
    start = pd.Timestamp(f"{covid_start}-01")
    other = tidy[(tidy["borough"] == borough) & (tidy["crime_type"] != ASB)].groupby("month")["count"].sum()
    other = other.reindex(series.index, fill_value=0)
    base = series.index[(series.index < start)][-12:]
    if len(base) < 12:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            SIDE_BY_SIDE[0]: 100 * series / series[base].mean(),
            SIDE_BY_SIDE[1]: 100 * other / other[base].mean(),
        }
    ).loc[since:]


def force_asb_table(pfa: pd.DataFrame, force: str = MET) -> pd.DataFrame:
    """One force's ASB incidents by financial year with the change on the year before (exact Poisson test); a
    change across the recording change of PFA_ASB_COMPARABLE_FROM is left out (comparable False)."""
    rows = pfa[(pfa["area"] == force) & (pfa["area_type"] == "force")]
    if rows.empty:
        forces = sorted(pfa.loc[pfa["area_type"] == "force", "area"].unique())
        raise ValueError(f"no ASB incidents for force {force!r}; forces: {', '.join(forces)}")
    totals = rows.rename(columns={"incidents": "count"})[["area", "financial_year", "count"]]
    changes = year_on_year(totals, by=("area",)).drop(columns=["area", "count"])
    table = (
        rows[["financial_year", "incidents", "rate_per_1000"]]
        .merge(changes, on="financial_year", how="left")
        .sort_values("financial_year", ignore_index=True)
    )
    table["comparable"] = table["financial_year"] != PFA_ASB_COMPARABLE_FROM
    stats = [c for c in changes.columns if c != "financial_year"]
    table[stats] = table[stats].astype(object).where(table["comparable"] & table["previous"].notna(), None)
    return table
