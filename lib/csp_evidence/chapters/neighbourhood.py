"""Chapter 01, anti-social behaviour and neighbourhood crime: its eight measures of recorded crime (the numbers of
``analysis.priority_table``), what the drug offences say about enforcement, the key points and headline figures.

The shared numbers, sentences and tables of a priority chapter come from ``analysis.priority_table``,
``report.priority_words`` and ``report.priority_tables``; this module names those the notebook uses, so that the
notebook imports one chapter module.
The ASB sections are ``chapters.asb``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis.priorities import Measure
from csp_evidence.analysis.priority_table import (
    CHANGE_FIGURES,
    counterfactual_panel_data,
    covid_figures,
    london_change,
    london_index,
    long_panel_data,
    measure_figures,
    priority_table,
)
from csp_evidence.data.plan import drug_operation
from csp_evidence.report import words as f
from csp_evidence.report.headlines import NeighbourhoodHeadlines
from csp_evidence.report.key_points import KeyPoint, checked
from csp_evidence.report.priority_tables import (
    change_spec,
    counterfactual_figure,
    counterfactual_panels_chart,
    covid_spec,
    london_index_chart,
    london_spec,
)
from csp_evidence.report.priority_words import (
    PRIORITY_SECTIONS,
    change_point,
    covid_point,
    london_point,
    measure_findings,
    method_sentence,
    outside_sentence,
    panel_title,
    point,
    verb_of,
)

__all__ = [
    "change_spec",
    "counterfactual_figure",
    "counterfactual_panels_chart",
    "london_index_chart",
    "method_sentence",
    "counterfactual_panel_data",
    "covid_figures",
    "covid_spec",
    "drug_enforcement_sentence",
    "london_index",
    "london_spec",
    "long_panel_data",
    "measure_findings",
    "neighbourhood_headlines",
    "neighbourhood_key_points",
    "outside_sentence",
    "panel_title",
    "priority_table",
]

SECTIONS = PRIORITY_SECTIONS | {"drugs": "Drug offences and police enforcement"}


def drug_enforcement_sentence(
    crime: pd.DataFrame, table: pd.DataFrame, borough: str, measures: Sequence[Measure], headline_year: str
) -> str:
    """What recorded drug trafficking and possession show about enforcement, set against London and the plan's operation.

    Names the drug operation of the borough's CSP plan (data/plan/*.yml) when there is one. Enforcement
    shows in the data as a rise beyond London's that also lies above the counterfactual interval.
    """
    year = table["year"].iloc[0]
    by_name = {m.name: m for m in measures}
    rows = table.set_index("measure")
    names = [n for n in ("Drug trafficking", "Possession of drugs") if n in rows.index and not rows.loc[n, "small"]]
    if not names:
        return ""
    parts, stepped_up, quiet_before = [], [], []
    for name in names:
        row, london = rows.loc[name], london_change(crime, by_name[name], year)
        change = row["pandemic_pct_change"]
        verb = verb_of(change)
        beyond = row["pandemic_significant"]
        parts.append(
            f"{f.md(name).lower()} {verb} {f.pct(abs(change), signed=False)} in {year} "
            f"({f.number(row['pandemic_previous'])} to {f.number(row['pandemic_count'])}, "
            f"{'beyond' if beyond else 'within'} chance) while London's {verb_of(london['pct_change'])} "
            f"{f.pct(abs(london['pct_change']), signed=False)}, ranking {f.ordinal(int(row['pandemic_rate_rank']))} of "
            f"{int(row['pandemic_ranked'])} boroughs per resident; the year was "
            + (f.interval_words(row["outside"]) if row.get("outside") in f.INTERVAL_SIDES else "not compared with")
            + " its counterfactual interval"
        )
        if change > london["pct_change"] and beyond and row.get("outside") == "above":
            stepped_up.append(f.md(name).lower())
        if not row["significant"] or row["change"] <= 0:
            quiet_before.append(f.md(name).lower())
    operation = drug_operation(borough)
    lead = (
        f"The CSP plan credits {operation} with police enforcement against drug dealing, which would show in "
        "recorded drug trafficking and possession. "
        if operation
        else ""
    )
    if stepped_up:
        verdict = (
            f"The rise in {' and '.join(stepped_up)} outran London's and the counterfactual, which is "
            "consistent with stepped-up local enforcement; lockdown policing raised recorded drug offences "
            "across London too, so the data cannot isolate one operation's effect."
        )
    else:
        verdict = (
            "Neither measure rose beyond both London's change and its counterfactual interval, so the data "
            "show no sign of enforcement above the London-wide pattern."
        )
    before = (
        f" In {headline_year} {' and '.join(quiet_before)} did not rise beyond chance."
        if quiet_before and len(quiet_before) == len(names)
        else ""
    )
    return (
        lead + "In the data, " + "; ".join(parts) + ". " + verdict + before + " Recorded drug offences count "
        "police activity (stop and search, proactive operations) at least as much as drug markets."
    )


def neighbourhood_key_points(
    crime: pd.DataFrame,
    table: pd.DataFrame,
    borough: str,
    measures: Sequence[Measure],
    headline_year: str,
    asb: KeyPoint | None = None,
) -> list[KeyPoint]:
    """Chapter 01's key points: London (its first chart), the change on the previous year, the pandemic, ASB
    (`asb`: ``chapters.asb.key_point``), and what the drug offences say about enforcement (the priority includes
    drugs). `table` is priority_table's."""
    points = [
        london_point(table, borough, headline_year, "neighbourhood crime measures"),
        change_point(table, headline_year, "neighbourhood crime measures"),
        covid_point(table, "neighbourhood crime measures"),
    ]
    if asb is not None:
        points.append(asb)
    rows = table.set_index("measure")
    if "Drug trafficking" in rows.index and not rows.loc["Drug trafficking", "small"]:
        row = rows.loc["Drug trafficking"]
        year = row["year"]
        london = london_change(crime, {m.name: m for m in measures}["Drug trafficking"], year)
        outran = row["pandemic_pct_change"] > london["pct_change"] and row.get("outside") == "above"
        meaning = (
            "consistent with stepped-up enforcement, as recorded drug crime reflects police activity"
            if outran
            else "no sign of enforcement beyond London's pattern"
        )
        points.append(
            point(
                f"For the priority: recorded drug trafficking {f.moved(row['pandemic_pct_change'])} in {year}, "
                f"against London's {f.pct(london['pct_change'])}: {meaning}.",
                SECTIONS["drugs"],
            )
        )
    return checked(points)


# The figures of each measure that chapter 01's headline JSON keeps.
NEIGHBOURHOOD_FIGURES = (
    *CHANGE_FIGURES,
    "rank",
    "pandemic_count",
    "pandemic_pct_change",
    "pandemic_p_value",
    "pandemic_significant",
)


def neighbourhood_headlines(
    table: pd.DataFrame,
    points: Sequence[KeyPoint],
    borough: str,
    headline_year: str,
    source: str,
    asb: dict,
    asb_source_id: str,
    force_asb: dict,
    london_calls: dict,
    context_source_ids: Sequence[str],
) -> NeighbourhoodHeadlines:
    """Chapter 01's figures from priority_table's `table` and the ASB sections' ``headline()`` figures (`asb`:
    the borough's incidents, `force_asb`: force-wide, `london_calls`: London-wide calls)."""
    return NeighbourhoodHeadlines(
        borough=borough,
        key_points=points,
        headline_year=headline_year,
        pandemic_year=table["year"].iloc[0],
        measures=measure_figures(table, NEIGHBOURHOOD_FIGURES),
        drug_trafficking_covid=covid_figures(table, "Drug trafficking"),
        theft_covid=covid_figures(table, "Theft"),
        asb_incidents=asb,
        asb_source_id=asb_source_id,
        force_asb_incidents=force_asb,
        london_asb_calls=london_calls,
        context_source_ids=list(context_source_ids),
        source=source,
    )
