"""The tables of the evidence pack: a borough's counts by financial year with change, rank and rate.

Each function takes the tidy recorded-crime table (month, borough, major_category, minor_category, count)
and returns a plain DataFrame; the notebooks show them and write them out.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis.priorities import measure_rows, select
from csp_evidence.analysis.stats.change import (
    compare_counts,
    financial_year_totals,
    rank_of,
)
from csp_evidence.analysis.stats.rates import count_interval, rate_per_1000
from csp_evidence.core import memo
from csp_evidence.core.periods import financial_years, previous_financial_year
from csp_evidence.data import datasets, geo
from csp_evidence.data.readers.mps import AIRPORTS
from csp_evidence.data.readers.mps_hate_special import AVIATION_SECURITY
from csp_evidence.data.sources import MPS_BOROUGH_EXTRACT_2020_07

AIRPORT_UNITS = (AIRPORTS, AVIATION_SECURITY)  # the MPS airports unit, as each family of files names it


def london_total(counts_by_borough: pd.Series) -> int:
    """London's count: the 32 boroughs, without the MPS airports unit (which is not a borough)."""
    return int(counts_by_borough.drop(index=list(AIRPORT_UNITS), errors="ignore").sum())


@memo.by_table_identity()
def complete_financial_years(tidy: pd.DataFrame) -> tuple[str, ...]:
    """The financial years with all twelve months in a tidy table (month column), in order."""
    months = pd.Series(pd.DatetimeIndex(tidy["month"].unique()).sort_values())
    years = financial_years(months).value_counts()
    return tuple(sorted(years[years == 12].index))


def check_years_in_data(tidy: pd.DataFrame, years: Sequence[str]) -> None:
    """Refuse financial years not wholly inside a tidy table's months: a year past the data is unknown, not zero."""
    outside = [fy for fy in dict.fromkeys(years) if fy not in complete_financial_years(tidy)]
    if outside:
        raise ValueError(
            f"financial year(s) {', '.join(outside)} not wholly in the data, which covers "
            f"{tidy['month'].min():%Y-%m} to {tidy['month'].max():%Y-%m}: a year past the data is unknown, not zero"
        )


def monthly_series(
    crime: pd.DataFrame, borough: str | None, categories: Sequence[str] | None = None, level: str = "major_category"
) -> pd.Series:
    """Monthly counts for a borough (or London, the 32 boroughs and the airports, when None) as a month-start series."""
    rows = select(crime, categories, level)
    if borough is not None:
        rows = rows[rows["borough"] == geo.check_borough(borough)]
    series = rows.groupby("month")["count"].sum()
    full = pd.date_range(crime["month"].min(), crime["month"].max(), freq="MS")
    series = series.reindex(full, fill_value=0).astype("int64")
    series.index.name = "month"
    series.name = "count"
    return series


def _fy_borough_totals(crime: pd.DataFrame, categories, level) -> pd.DataFrame:
    return financial_year_totals(select(crime, categories, level), by=("borough",))


def year_in_data(tidy: pd.DataFrame, year: str) -> str:
    """`year` when a tidy table holds it and the year before whole; else the latest financial year it so holds."""
    held = complete_financial_years(tidy)
    usable = [fy for fy in held if previous_financial_year(fy) in held]
    if not usable:
        raise ValueError(
            f"the data ({tidy['month'].min():%Y-%m} to {tidy['month'].max():%Y-%m}) hold no two whole financial years"
        )
    return year if year in usable else usable[-1]


def totals_by_year(
    crime: pd.DataFrame,
    borough: str,
    years: Sequence[str],
    categories: Sequence[str] | None = None,
    level: str = "major_category",
) -> pd.DataFrame:
    """A borough's count per financial year with change on the previous year, rank of 32, rate per 1,000 and London's rate.

    Columns: financial_year, count, previous, change, pct_change, p_value, significant, z_score, signal, rank,
    ranked, rate, rate_low, rate_high, london_rate, population_basis.
    """
    borough = geo.check_borough(borough)
    wanted = sorted(years)
    check_years_in_data(crime, wanted)
    totals = _fy_borough_totals(crime, categories, level)
    rows = []
    for fy in wanted:
        year = totals[totals["financial_year"] == fy].set_index("borough")["count"]
        if year.empty:
            raise ValueError(f"financial year {fy} is not complete in the data")
        count = int(year.get(borough, 0))
        rank, ranked = rank_of(year.reindex(geo.mps_boroughs(), fill_value=0), borough)
        pop = geo.population_for_financial_year(fy)
        pop_b = int(pop.loc[pop["borough"] == borough, "population"].iloc[0])
        low, high = count_interval(count)
        london_count = london_total(year)
        row = {
            "financial_year": fy,
            "count": count,
            "rank": rank,
            "ranked": ranked,
            "population": pop_b,
            "rate": rate_per_1000(count, pop_b),
            "rate_low": rate_per_1000(low, pop_b),
            "rate_high": rate_per_1000(high, pop_b),
            "london_rate": rate_per_1000(london_count, int(pop["population"].sum())),
            "population_basis": pop["basis"].iloc[0],
        }
        prev = totals[(totals["financial_year"] == previous_financial_year(fy)) & (totals["borough"] == borough)][
            "count"
        ]
        if not prev.empty:
            change = compare_counts(int(prev.iloc[0]), count)
            row.update(
                previous=change.previous,
                change=change.change,
                pct_change=change.pct_change,
                p_value=change.p_value,
                significant=change.significant,
                z_score=change.z_score,
                signal=change.signal,
            )
        rows.append(row)
    return pd.DataFrame(rows)


def rate_rank(counts: pd.Series, year: str, borough: str) -> int:
    """Rank of a borough among the 32 by rate per 1,000 residents in a financial year (1 = highest rate)."""
    pop = geo.population_for_financial_year(year).set_index("borough")["population"]
    rates = counts.reindex(pop.index, fill_value=0) / pop
    return rank_of(rates, borough)[0]


def _comparison_row(totals: pd.DataFrame, borough: str, year: str, pop_b: int, london_pop: int) -> dict:
    """Year against previous year for one borough from (borough, financial_year, count) totals, with rate and ranks.

    `rank` is by count, `rate_rank` by rate per 1,000 residents (1 = highest of the 32 boroughs).
    """
    cur_all = totals[totals["financial_year"] == year].set_index("borough")["count"]
    prev_all = totals[totals["financial_year"] == previous_financial_year(year)].set_index("borough")["count"]
    current, previous = int(cur_all.get(borough, 0)), int(prev_all.get(borough, 0))
    change = compare_counts(previous, current)
    rank, ranked = rank_of(cur_all.reindex(geo.mps_boroughs(), fill_value=0), borough)
    return {
        "previous": previous,
        "count": current,
        "change": change.change,
        "pct_change": change.pct_change,
        "p_value": change.p_value,
        "significant": change.significant,
        "z_score": change.z_score,
        "signal": change.signal,
        "rate": rate_per_1000(current, pop_b),
        "london_rate": rate_per_1000(london_total(cur_all), london_pop),
        "rank": rank,
        "rate_rank": rate_rank(cur_all, year, borough),
        "ranked": ranked,
    }


def _populations(borough: str, year: str) -> tuple[int, int]:
    pop = geo.population_for_financial_year(year)
    return int(pop.loc[pop["borough"] == borough, "population"].iloc[0]), int(pop["population"].sum())


def category_table(
    crime: pd.DataFrame, borough: str, year: str, level: str = "major_category", categories: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per category: the year's count, change on the previous year with significance, rate and rank.

    Columns: category, previous, count, change, pct_change, p_value, significant, z_score, signal, rate,
    london_rate, rank (by count), rate_rank (by rate), ranked.
    """
    borough = geo.check_borough(borough)
    totals = financial_year_totals(select(crime, categories, level), by=("borough", level))
    pop_b, london_pop = _populations(borough, year)
    out = []
    for cat, group in totals.groupby(level):
        row = _comparison_row(group, borough, year, pop_b, london_pop)
        if row["count"] or row["previous"]:
            out.append({"category": cat, **row})
    return pd.DataFrame(out).sort_values("count", ascending=False, ignore_index=True)


def measure_table(crime: pd.DataFrame, borough: str, year: str, measures, threshold: int = 0) -> pd.DataFrame:
    """One row per measure of a priority: the year against the previous one, rate, London rate and rank.

    Columns: measure, previous, count, change, pct_change, p_value, significant, z_score, signal, rate,
    london_rate, rank (by count), rate_rank (by rate), ranked, small (count or previous below `threshold`, for safeguarding
    measures; always for counts-only measures). Years not wholly in the table are refused (check_years_in_data).
    """
    borough = geo.check_borough(borough)
    check_years_in_data(crime, [previous_financial_year(year), year])
    pop_b, london_pop = _populations(borough, year)
    out = []
    for m in measures:
        totals = financial_year_totals(measure_rows(crime, m), by=("borough",))
        row = _comparison_row(totals, borough, year, pop_b, london_pop)
        small = bool(m.counts_only or (m.safeguarding and min(row["count"], row["previous"]) < threshold))
        out.append({"measure": m.name, **row, "small": small})
    return pd.DataFrame(out)


def london_rates(
    crime: pd.DataFrame, year: str, categories: Sequence[str] | None = None, level: str = "major_category"
) -> pd.DataFrame:
    """Count, population and rate per 1,000 for each of the 32 boroughs in a financial year, indexed by borough."""
    totals = _fy_borough_totals(crime, categories, level)
    year_totals = totals[totals["financial_year"] == year].set_index("borough")["count"]
    pop = geo.population_for_financial_year(year).set_index("borough")["population"]
    table = pd.DataFrame({"count": year_totals.reindex(pop.index, fill_value=0), "population": pop})
    table["rate"] = rate_per_1000(table["count"], table["population"])
    table.index.name = "borough"
    return table.sort_values("rate", ascending=False)


def first_published(borough: str, year: str) -> dict | None:
    """A year's total and rank as first published (the July 2020 extract), or None if it does not cover the year."""
    extract = datasets.recorded_crime_extract_2020()
    totals = financial_year_totals(extract, by=("borough",))
    year_totals = totals[totals["financial_year"] == year].set_index("borough")["count"]
    if year_totals.empty:
        return None
    rank, ranked = rank_of(year_totals.reindex(geo.mps_boroughs(), fill_value=0), borough)
    return {
        "extract": "July 2020",
        "source_id": MPS_BOROUGH_EXTRACT_2020_07,
        "count": int(year_totals.get(borough, 0)),
        "rank": rank,
        "ranked": ranked,
    }


def monthly_with_trend(series: pd.Series) -> pd.DataFrame:
    """A monthly series with its centred 12-month rolling mean, as columns 'Offences' and '12-month average'."""
    return pd.DataFrame({"Offences": series, "12-month average": series.rolling(12, center=True).mean()})
