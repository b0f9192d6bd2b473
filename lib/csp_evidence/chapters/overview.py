"""Chapter 00, the overview: the key points, tables and headline figures of recorded crime in the borough (its
totals by financial year, the major categories, the London comparison and the first lockdown)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis.summaries import london_rates
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.report import words as f
from csp_evidence.report.headlines import OverviewHeadlines
from csp_evidence.report.key_points import KeyPoint, checked
from csp_evidence.report.priority_words import point
from csp_evidence.report.tables import (
    COUNT,
    P_VALUE,
    PCT_CHANGE,
    RATE_2DP,
    RATE_LABELS,
    SIGNED_COUNT,
    YEAR_CHANGE_LABELS,
    TableSpec,
    year_change_formats,
)

OVERVIEW_SECTIONS = {
    "totals": "Total recorded crime by financial year",
    "categories": "Change by major category",
    "london": "London comparison",
    "monthly": "Monthly recorded crime and the Covid-19 lockdowns",
}


def overview_key_points(
    crime: pd.DataFrame,
    totals: pd.DataFrame,
    categories: pd.DataFrame,
    borough: str,
    headline_year: str,
    lockdown: dict,
) -> list[KeyPoint]:
    """The overview's key points: the rate against London (its first chart), the change in total crime, the
    categories that changed beyond chance, and the first lockdown month. `totals` is summaries.totals_by_year,
    `categories` summaries.category_table, `lockdown` sentences.lockdown_summary."""
    rates = london_rates(crime, headline_year)
    position = int((rates["rate"] > rates.loc[borough, "rate"]).sum()) + 1
    head = totals.set_index("financial_year").loc[headline_year]
    points = [
        point(
            f"In {headline_year} {borough} recorded {head['rate']:.1f} offences per 1,000 residents against "
            f"{head['london_rate']:.1f} across London: the {f.ordinal(position)} highest rate of {len(rates)} boroughs.",
            OVERVIEW_SECTIONS["london"],
        )
    ]
    if pd.notna(head.get("previous")):
        points.append(
            point(
                f"Total recorded crime {f.moved(head['pct_change'])} on {previous_financial_year(headline_year)}, "
                f"to {f.number(head['count'])} offences: {f.variation(bool(head['significant']))}.",
                OVERVIEW_SECTIONS["totals"],
            )
        )
    signals = categories[categories["signal"]].sort_values("pct_change")
    if len(signals):
        named = [f"{str(r.category).lower()} ({f.pct(r.pct_change)})" for r in signals.itertuples()]
        text = f"Categories that changed by more than normal variation in {headline_year}: {f.listing(named)}."
    else:
        text = f"No major category of crime changed by more than normal year-to-year variation in {headline_year}."
    points.append(point(text, OVERVIEW_SECTIONS["categories"]))
    month = pd.Timestamp(f"{lockdown['month']}-01")
    points.append(
        point(
            f"In {month:%B %Y}, the first full lockdown month, {f.change_words(lockdown['pct_change'], 'offences')} "
            f"were recorded than in an average {month:%B} before the pandemic.",
            OVERVIEW_SECTIONS["monthly"],
        )
    )
    return checked(points)


def overview_headlines(
    points: Sequence[KeyPoint],
    totals: pd.DataFrame,
    borough: str,
    headline_year: str,
    revised: dict | None,
    lockdown: dict,
    population: pd.Series,
    source: str,
) -> OverviewHeadlines:
    """Chapter 00's figures: the headline year's row of `totals` (``summaries.totals_by_year``), the first published
    total (`revised`), the first lockdown (``sentences.lockdown_summary``) and the latest `population` row."""
    headline = totals.set_index("financial_year").loc[headline_year]
    return OverviewHeadlines(
        borough=borough,
        key_points=points,
        headline_year=headline_year,
        total_offences=headline["count"],
        rank=headline["rank"],
        ranked=headline["ranked"],
        rate_per_1000=headline["rate"],
        london_rate_per_1000=headline["london_rate"],
        change_pct=headline.get("pct_change"),
        first_published=revised,
        lockdown=lockdown,
        population=population["population"],
        population_year=population["year"],
        source=source,
    )


def totals_spec(totals: pd.DataFrame, borough: str, source: str) -> TableSpec:
    """Chapter 00's total recorded offences by financial year (``summaries.totals_by_year``) as published."""
    years = totals["financial_year"]
    return TableSpec(
        "00-total-by-year",
        totals,
        columns={"financial_year": "Financial year", "count": "Offences"}
        | YEAR_CHANGE_LABELS
        | {"rank": "Rank of 32"}
        | RATE_LABELS,
        formats=year_change_formats(),
        caption=f"Total recorded offences in {borough} by financial year.",
        source=source,
        period=f"{years.iloc[0]} to {years.iloc[-1]}",
    )


def categories_spec(categories: pd.DataFrame, borough: str, headline_year: str, source: str) -> TableSpec:
    """Chapter 00's major categories in the headline year against the year before (``summaries.category_table``)
    as published."""
    return TableSpec(
        "00-major-categories",
        categories,
        columns={
            "category": "Major category",
            "previous": previous_financial_year(headline_year),
            "count": headline_year,
            "change": "Change",
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "signal": "Signal (|Z| > 3)",
            "rate": "Per 1,000",
            "london_rate": "London per 1,000",
            "rank": "Rank of 32",
        },
        formats={
            "previous": COUNT,
            "count": COUNT,
            "change": SIGNED_COUNT,
            "pct_change": PCT_CHANGE,
            "p_value": P_VALUE,
            "rate": RATE_2DP,
            "london_rate": RATE_2DP,
        },
        caption=f"Recorded offences in {borough} by major category, {headline_year} against the previous year.",
        source=source,
        period=f"{previous_financial_year(headline_year)} to {headline_year}",
    )
