"""The sentences of chapter 03, reducing reoffending and the drivers of crime: the drivers' trends and years, the
borough's proven reoffending by cohort and through the Covid years, and the note naming the Ministry of Justice
file when it is not provided. The numbers are ``analysis.reoffending``'s and ``chapters.reoffending``'s tables."""

from __future__ import annotations

import pandas as pd

from csp_evidence.core.periods import previous_financial_year
from csp_evidence.core.values import is_missing
from csp_evidence.data.sources import Source
from csp_evidence.report.words import change_sentence, md, number, ordinal, p_value


def trend_sentence(row: pd.Series | dict, borough: str) -> str:
    """'Over the 24 months to January 2024, drug offences in X were falling by 12.3% a year (net of seasonality) ...'"""
    r = dict(row)
    label = str(r["group"]).lower()
    label = label if label.endswith("offences") else label.removesuffix(" crime") + " offences"
    what = f"the number of {md(label)} recorded in {md(borough)}"
    span = f"Over the {r['months']} months to {pd.Timestamp(r['end']):%B %Y}"
    level = f"an average of {r['mean_level']:,.0f} a month"
    if r["direction"] == "no clear change":
        return (
            f"{span}, {what} showed no clear trend once the seasons are allowed for "
            f"({level}; the 95% interval of the slope, {r['ci_low']:+.1f} to {r['ci_high']:+.1f} offences a month, "
            "includes zero)."
        )
    return (
        f"{span}, {what} was {r['direction']} by about {abs(r['pct_change_per_year']):.0f}% a year "
        f"net of seasonality ({level}; slope {r['slope_per_month']:+.1f} offences a month, 95% interval "
        f"{r['ci_low']:+.1f} to {r['ci_high']:+.1f})."
    )


def trend_title(row: pd.Series | dict, borough: str) -> str:
    """A chart title stating the recent trend: 'Drug offences in Hackney have been falling over the last 24 months'."""
    r = dict(row)
    plural = str(r["group"]).lower().endswith("offences")
    has, shows = ("have", "show") if plural else ("has", "shows")
    state = {"rising": f"{has} been rising", "falling": f"{has} been falling"}.get(
        r["direction"], f"{shows} no clear trend"
    )
    return f"{r['group']} in {borough} {state} over the last {r['months']} months"


def year_sentence(table: pd.DataFrame, group: str, year: str) -> str:
    """A group's count in a financial year against the previous year, its rate, rank and London's rate."""
    rows = table[(table["group"] == group) & (table["financial_year"] == year)]
    if rows.empty:
        raise ValueError(
            f"no row for group {group!r} in {year}; years present: {sorted(table['financial_year'].unique())}"
        )
    r = rows.iloc[0]
    text = ""
    if "previous" in r and not is_missing(r["previous"]):
        text = (
            change_sentence(
                group,
                r["count"],
                r["previous"],
                r["pct_change"],
                bool(r["significant"]),
                r["p_value"],
                year,
                previous_financial_year(year),
            )
            + " "
        )
    return text + (
        f"That is {r['rate']:.2f} per 1,000 residents against {r['london_rate']:.2f} for London, "
        f"and by count the {ordinal(int(r['rank']))} highest of {int(r['ranked'])} boroughs ({number(r['count'])} offences)."
    )


def missing_file_note(src: Source) -> str:
    """Markdown telling the reader which file to add, where it comes from, and where to put it."""
    return (
        f"**Proven reoffending is not shown: its source file is not in the data mirror.** To add it, run "
        f"`csp fetch --source moj_reoffending`, which downloads *{md(src.title)}* ({md(src.publisher)}, "
        f"{md(src.licence)}) from the release page <{src.url}> (collection: <{src.page}>). {src.notes} The file "
        f"is kept as `data/raw/{src.file}` (period: {md(src.period)}). The rest of this chapter does not depend on it."
    )


def reoffending_findings(table: pd.DataFrame, borough: str) -> str:
    """For each age group: the latest cohort's rate with its Wilson interval, and the change on the previous cohort."""
    parts = []
    for group, rows in table.groupby("age_group", sort=True):
        r = rows.sort_values("cohort_start").iloc[-1]
        text = (
            f"In {md(borough)}, of the {number(r['offenders'])} {group.lower()} offenders in the {md(r['cohort'])} cohort, "
            f"{number(r['reoffenders'])} ({100 * r['rate']:.1f}%, 95% interval {100 * r['ci_low']:.1f}% to "
            f"{100 * r['ci_high']:.1f}%) committed a proven reoffence"
        )
        if not is_missing(r["previous_cohort"]) and not is_missing(r["p_value"]):
            beyond = "beyond" if r["p_value"] < 0.05 else "within"
            if r["change_pp"] == 0:
                text += f", unchanged on the {md(r['previous_cohort'])} cohort"
            else:
                text += (
                    f", {abs(r['change_pp']):.1f} points {'higher' if r['change_pp'] > 0 else 'lower'} than the "
                    f"{md(r['previous_cohort'])} cohort ({100 * r['previous_rate']:.1f}%), a change {beyond} what "
                    f"chance alone would produce ({p_value(r['p_value'])})"
                )
        parts.append(text + ".")
    return " ".join(parts)


def covid_cohort_findings(table: pd.DataFrame, borough: str) -> str:
    """The latest cohort against the last pre-pandemic one, for the borough's adults and juveniles, beside London's
    and England's change where held."""
    if table.empty:
        return ""
    parts = []
    for group, rows in table[table["geography"] == borough].groupby("age_group", sort=True):
        r = rows.iloc[-1]
        beyond = "beyond" if r["p_value"] < 0.05 else "within"
        text = (
            f"Through the Covid years, the {group.lower()} reoffending rate in {md(borough)} went from "
            f"{100 * r['base_rate']:.1f}% ({md(r['base_cohort'])} cohort) to {100 * r['rate']:.1f}% ({md(r['cohort'])}), "
            f"{r['change_pp']:+.1f} points, a change {beyond} what chance alone would produce ({p_value(r['p_value'])})"
        )
        others = table[
            (table["geography"] != borough) & (table["age_group"] == group) & (table["cohort"] == r["cohort"])
        ]
        if len(others):
            text += "; " + ", ".join(
                f"{md(o['geography'])} {100 * o['base_rate']:.1f}% to {100 * o['rate']:.1f}% ({o['change_pp']:+.1f} points)"
                for _, o in others.iterrows()
            )
        parts.append(text + ".")
    return " ".join(parts)


def per_reoffender_sentence(table: pd.DataFrame, borough: str) -> str:
    """Reoffences per reoffender in the latest cohort of each age group."""
    parts = []
    for group, rows in table.groupby("age_group", sort=True):
        r = rows.sort_values("cohort_start").iloc[-1]
        if not is_missing(r["per_reoffender"]):
            parts.append(f"{r['per_reoffender']:.2f} proven reoffences each ({group.lower()}s)")
    if not parts:
        return ""
    return f"In the latest cohort in {md(borough)}, reoffenders committed on average " + " and ".join(parts) + "."


def proven_findings(rates: pd.DataFrame | None, cohorts: pd.DataFrame | None, borough: str, src: Source) -> str:
    """The proven reoffending section's text: the findings, or which file to add when it is not provided."""
    if rates is None:
        return missing_file_note(src)
    parts = (
        reoffending_findings(rates, borough),
        per_reoffender_sentence(rates, borough),
        covid_cohort_findings(cohorts, borough),
    )
    return " ".join(t for t in parts if t)
