"""The published tables and charts of a priority chapter (01 and 04): each measure's change on the year before,
its rate against London and its Covid effect as table specs, and one measure's observed-against-expected chart,
from ``analysis.priority_table``'s table."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis import covid
from csp_evidence.analysis.priorities import Measure
from csp_evidence.analysis.priority_table import (
    change_columns,
    counterfactual_frame,
    counterfactual_panel_data,
    covid_columns,
    london_columns,
    london_index,
    long_panel_data,
)
from csp_evidence.analysis.stats import timeseries as ts
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.report import charts
from csp_evidence.report.priority_words import counterfactual_title, panel_title
from csp_evidence.report.tables import COUNT, P_VALUE, PCT_CHANGE, RATE_2DP, RATIO, TableSpec

TESTS = "exact Poisson test of the rate ratio; Poisson Z-score signal"


POPULATION_SOURCE = "ONS mid-year population estimates"


def _with_note(text: str, note: str) -> str:
    return f"{text} {note}" if note else text


def change_spec(
    table: pd.DataFrame, slug: str, what: str, borough: str, year: str, source: str, note: str = "", flag: bool = False
) -> TableSpec:
    """The year-on-year table (``change_columns``) as published: `what` names the measures ('Neighbourhood crime
    measures'), `year` is the headline year of `table`; `note` follows the caption's method; `flag` sets the small
    measures in italics."""
    pandemic_year = table["year"].iloc[0]
    return TableSpec(
        slug,
        change_columns(table),
        columns={
            "measure": "Measure",
            "previous": previous_financial_year(year),
            "count": year,
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "signal": "Signal (|Z| > 3)",
            "pandemic_count": pandemic_year,
            "pandemic_pct_change": "Change (%)",
            "pandemic_p_value": "p-value",
            "pandemic_signal": "Signal (|Z| > 3)",
        },
        formats={
            "previous": COUNT,
            "count": COUNT,
            "pct_change": PCT_CHANGE,
            "p_value": P_VALUE,
            "pandemic_count": COUNT,
            "pandemic_pct_change": PCT_CHANGE,
            "pandemic_p_value": P_VALUE,
        },
        caption=_with_note(
            f"{what} in {borough}: {year} and {pandemic_year}, each against the year before ({TESTS}).", note
        ),
        source=source,
        period=f"{previous_financial_year(year)} to {year}; {previous_financial_year(pandemic_year)} to {pandemic_year}",
        flag=table["small"] if flag else None,
    )


def london_spec(
    table: pd.DataFrame,
    slug: str,
    borough: str,
    year: str,
    source: str,
    rate_format: str = RATE_2DP,
    note: str = "",
    flag: bool = False,
    rank_format: str | None = None,
    caption: str = "",
) -> TableSpec:
    """The rates against London's with the rank of 32 (``london_columns``) as published, in `year` and the first
    pandemic year; the population estimates are cited beside `source`. `caption` replaces the standard one."""
    pandemic_year = table["year"].iloc[0]
    ranks = {} if rank_format is None else {"rank": rank_format, "pandemic_rank": rank_format}
    return TableSpec(
        slug,
        london_columns(table),
        columns={
            "measure": "Measure",
            "rate": f"Per 1,000 {year}",
            "london_rate": f"London {year}",
            "rank": f"Rank {year}",
            "pandemic_rate": f"Per 1,000 {pandemic_year}",
            "pandemic_london_rate": f"London {pandemic_year}",
            "pandemic_rank": f"Rank {pandemic_year}",
        },
        formats={c: rate_format for c in ("rate", "london_rate", "pandemic_rate", "pandemic_london_rate")} | ranks,
        caption=_with_note(
            caption
            or f"Rates per 1,000 residents in {borough} and London, and the borough's rank of 32 (1 = highest rate).",
            note,
        ),
        source=f"{source}; {POPULATION_SOURCE}",
        period=f"{year} and {pandemic_year}",
        flag=table["small"] if flag else None,
    )


def covid_spec(
    table: pd.DataFrame,
    slug: str,
    borough: str,
    covid_start: str,
    source: str,
    note: str = "",
    flag: bool = False,
    what: str = "Recorded offences",
    regression: str = "a segmented (interrupted time series) regression",
) -> TableSpec:
    """The first pandemic year and first lockdown against the counterfactual, with the ITS level change
    (``covid_columns``), as published: `what` the offences are, `regression` how the level change was fitted."""
    pandemic_year = table["year"].iloc[0]
    return TableSpec(
        slug,
        covid_columns(table),
        columns={
            "measure": "Measure",
            "observed": f"Observed {pandemic_year}",
            "expected": "Expected",
            "lower": "95% interval low",
            "upper": "95% interval high",
            "pct_difference": "Difference (%)",
            "outside": "Against the interval",
            "lockdown_observed": "Observed, first lockdown",
            "lockdown_expected": "Expected, first lockdown",
            "its_level_ratio": "Level change (ITS rate ratio)",
            "note": "Note",
        },
        formats={
            "observed": COUNT,
            "expected": COUNT,
            "lower": COUNT,
            "upper": COUNT,
            "pct_difference": PCT_CHANGE,
            "lockdown_observed": COUNT,
            "lockdown_expected": COUNT,
            "its_level_ratio": RATIO,
        },
        caption=_with_note(
            f"{what} in {borough} in {pandemic_year} and in the first lockdown "
            f"({covid.first_lockdown_label()}) against the counts expected from a seasonal ARIMA fitted to the five "
            "pre-pandemic years, with the 95% prediction interval of the year's total; and the level change at "
            f"{covid.month_label(covid_start)} from {regression}.",
            note,
        ),
        source=source,
        period=f"{pandemic_year}; first lockdown {covid.first_lockdown_label()}",
        flag=table["small"] if flag else None,
    )


def counterfactual_figure(
    crime: pd.DataFrame,
    borough: str,
    measures: Sequence[Measure],
    table: pd.DataFrame,
    fits: dict[str, ts.Counterfactual],
    name: str,
    source: str,
    since: str = "2017-04-01",
):
    """The observed-against-expected chart of one measure and its data, or (None, None) when it is not chartable."""
    rows = table.set_index("measure")
    if name not in rows.index or not rows.loc[name, "chartable"]:
        return None, None
    measure = {m.name: m for m in measures}[name]
    data = counterfactual_frame(crime, borough, measure, fits, since)
    fig = charts.monthly_chart(
        data,
        counterfactual_title(table, name),
        f"{name} in {borough} per month against the level expected from five pre-pandemic years (seasonal ARIMA)",
        "Offences per month",
        source,
        band=("lower", "upper"),
    )
    charts.move_legend(fig)
    return fig, data


def london_index_chart(table: pd.DataFrame, borough: str, year: str, what: str, source: str):
    """The borough's rate on each measure as a percentage of London's, each bar labelled with its rank; `what` names
    the measures ('violence measures'). Returns the figure and its data (``london_index``)."""
    index = london_index(table)
    above = int((index["index"] > 100).sum())
    fig = charts.index_chart(
        index["index"],
        f"{borough} was above the London rate on {above} of {len(index)} {what} in {year}",
        f"Rate per 1,000 residents as a percentage of London's (London = 100), {year}; labels: rank of 32 (1 = highest rate)",
        "Borough rate as % of London rate",
        f"{source}; {POPULATION_SOURCE}",
        labels=index["rank"].map(lambda r: f"rank {r}"),
    )
    return fig, index


def counterfactual_panels_chart(
    crime: pd.DataFrame,
    borough: str,
    measures: Sequence[Measure],
    table: pd.DataFrame,
    fits: dict[str, ts.Counterfactual],
    source: str,
    what: str = "Recorded offences",
):
    """Every chartable measure against its expected level, one panel each; `what` the offences are ('Flagged
    offences'). Returns the figure and its data as one long table (``long_panel_data``)."""
    panels = counterfactual_panel_data(crime, borough, measures, table, fits)
    fig = charts.counterfactual_panels(
        panels,
        panel_title(table),
        f"{what} per month (dark blue) against the level expected from the five pre-pandemic years (orange), "
        "shaded: 95% prediction interval",
        "Offences per month",
        source,
    )
    return fig, long_panel_data(panels)
