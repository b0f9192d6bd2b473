"""Chapter 04, violence and exploitation: recorded violence and the offences the police flag as domestic abuse,
knife crime, gun crime or homicide (the numbers of ``analysis.priority_table``), domestic abuse in each lockdown,
the plan's changes beside the data, the key points, tables and headline figures.

The shared numbers, sentences and tables of a priority chapter come from ``analysis.priority_table``,
``report.priority_words`` and ``report.priority_tables``; this module names those the notebook uses, so that the
notebook imports one chapter module.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis import plan_audit
from csp_evidence.analysis.priorities import Measure
from csp_evidence.analysis.priority_table import (
    CHANGE_FIGURES,
    counterfactual_panel_data,
    covid_figures,
    lockdown_periods,
    london_index,
    long_panel_data,
    measure_figures,
    priority_table,
)
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.report import plan_words
from csp_evidence.report import words as f
from csp_evidence.report.headlines import ViolenceHeadlines
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
    covid_point,
    london_point,
    measure_findings,
    method_sentence,
    not_charted_sentence,
    outside_sentence,
    panel_title,
    period_words,
    point,
)
from csp_evidence.report.tables import COUNT, PCT_CHANGE, TableSpec

__all__ = [
    "counterfactual_figure",
    "counterfactual_panels_chart",
    "findings_with_plan",
    "london_index_chart",
    "method_sentence",
    "not_charted_sentence",
    "special_intro",
    "counterfactual_panel_data",
    "covid_figures",
    "domestic_abuse_answer",
    "lockdown_periods",
    "lockdowns_spec",
    "london_index",
    "long_panel_data",
    "measure_findings",
    "outside_sentence",
    "panel_title",
    "plan_change_comparisons",
    "plan_change_sentences",
    "priority_table",
    "special_specs",
    "violence_headlines",
    "violence_key_points",
    "violence_specs",
]

SECTIONS = PRIORITY_SECTIONS | {
    "domestic_abuse": "Domestic abuse during the lockdowns",
    "special": "Domestic abuse, knife crime, gun crime and homicide",
}


def plan_change_comparisons(
    crime: pd.DataFrame, borough: str, measures: Sequence[Measure], plan: pd.DataFrame, threshold: int = 0
) -> pd.DataFrame:
    """Each change the borough's plan quotes for one of `measures`, beside the change recomputed from `crime`, as the
    plan audit reads and judges it (``analysis.plan_audit.change_comparisons``; `threshold` does not change it)."""
    return plan_audit.change_comparisons(crime, borough, measures, plan)


def plan_change_sentences(comparisons: pd.DataFrame) -> str:
    """A sentence per plan figure of `plan_change_comparisons`, with the audit's verdict (``plan_words``)."""
    return plan_words.change_sentences(comparisons)


def domestic_abuse_answer(
    periods: pd.DataFrame, table: pd.DataFrame, borough: str, measure: str = "Domestic abuse"
) -> str:
    """Did recorded domestic abuse rise during the lockdowns? Each lockdown period and the first pandemic year against
    the level expected from the five pre-pandemic years, the change on the year before, and London beside it."""
    rows = periods[(periods["area"] == borough) & (periods["measure"] == measure)].set_index("period")
    head = table.set_index("measure").loc[measure]
    if rows.empty:
        return f"{f.md(measure)} in {f.md(borough)} is not modelled: {head['note']}."
    year = head["year"]
    lockdowns = [p for p in ("First lockdown", "Second and third lockdowns") if p in rows.index]
    above = [p for p in lockdowns if rows.loc[p, "outside"] == "above"]
    below = [p for p in lockdowns if rows.loc[p, "outside"] == "below"]
    if above:
        verdict = (
            "Yes: recorded domestic abuse rose beyond what the pre-pandemic pattern predicts in the "
            + " and the ".join(p.lower() for p in above)
        )
    elif below:
        verdict = (
            "No: recorded domestic abuse did not rise beyond what the pre-pandemic pattern predicts, and fell below "
            "its expected range in the " + " and the ".join(p.lower() for p in below)
        )
    else:
        verdict = (
            "Not beyond what the pre-pandemic pattern predicts: recorded domestic abuse stayed within its expected "
            "range in the lockdowns"
        )
    parts = [f"in the {p.lower()} ({rows.loc[p, 'months']}), {period_words(rows.loc[p])}" for p in lockdowns]
    fy = rows.loc[f"Financial year {year}"]
    text = (
        f"**Did domestic abuse rise during the lockdowns?** {verdict}. In {f.md(borough)}, offences flagged as "
        f"domestic abuse: "
        + "; ".join(parts)
        + f". Over {year}, {period_words(fy)}; against {head['pandemic_previous']:,.0f} "
        f"the year before, {f.pct(head['pandemic_pct_change'])} "
        f"({'beyond' if head['pandemic_significant'] else 'within'} chance, {f.p_value(head['pandemic_p_value'])})."
    )
    if fy["outside"] == "within" and head["pandemic_significant"] and head["pandemic_pct_change"] > 0:
        text += " The rise on the year before was in line with the upward trend of the years before the pandemic."
    london = periods[(periods["area"] == "London") & (periods["measure"] == measure)].set_index("period")
    if not london.empty and "First lockdown" in london.index:
        text += f" London as a whole, first lockdown: {period_words(london.loc['First lockdown'])}."
    return (
        text + " These are offences recorded by the police: lockdowns also changed how and whether abuse was reported, "
        "so recorded counts are a floor on what happened, not a measure of it."
    )


def violence_key_points(
    table: pd.DataFrame,
    special_table: pd.DataFrame,
    periods: pd.DataFrame,
    borough: str,
    headline_year: str,
    special_year: str,
) -> list[KeyPoint]:
    """Chapter 04's key points: domestic abuse in the lockdowns (its first chart), the change in violence against
    the person, London, the pandemic, and knife crime. `periods` is lockdown_periods's table."""
    points = []
    da = periods[(periods["area"] == borough) & (periods["measure"] == "Domestic abuse")].set_index("period")
    lockdowns = [p for p in ("First lockdown", "Second and third lockdowns") if p in da.index]
    if lockdowns:
        above = [p for p in lockdowns if da.loc[p, "outside"] == "above"]
        shown = (above or lockdowns)[0]
        verdict = (
            f"rose above the level expected without the pandemic in the {' and the '.join(p.lower() for p in above)}"
            if above
            else "did not rise above the level expected without the pandemic in the lockdowns"
        )
        points.append(
            point(
                f"Recorded domestic abuse {verdict}: {f.number(da.loc[shown, 'observed'])} offences in the "
                f"{shown.lower()} against {f.number(da.loc[shown, 'expected'])} expected.",
                SECTIONS["domestic_abuse"],
            )
        )
    else:
        points.append(
            point(
                f"Recorded domestic abuse in {borough} is too small a count to set against its expected level.",
                SECTIONS["domestic_abuse"],
            )
        )
    vap = table.set_index("measure").loc["Violence against the person"]
    points.append(
        point(
            f"Violence against the person {f.moved(vap['pct_change'])} in {headline_year}, to "
            f"{f.number(vap['count'])} offences: {f.variation(bool(vap['significant']))}.",
            PRIORITY_SECTIONS["change"],
        )
    )
    points.append(london_point(table, borough, headline_year, "violence measures"))
    points.append(covid_point(table, "violence measures"))
    special = special_table.set_index("measure")
    if "Knife crime" in special.index and not special.loc["Knife crime", "small"]:
        knife = special.loc["Knife crime"]
        points.append(
            point(
                f"Knife crime {f.moved(knife['pct_change'])} in {special_year}, to {f.number(knife['count'])} "
                f"offences: {f.variation(bool(knife['significant']))}.",
                SECTIONS["special"],
            )
        )
    return checked(points)


def violence_small_note(threshold: int) -> str:
    """What the italic rows of chapter 04's tables mean."""
    return (
        f"Rows in italics are safeguarding measures with fewer than {threshold} offences in a "
        "year: their counts are shown, but they are not tested, modelled or charted."
    )


def lockdowns_spec(periods: pd.DataFrame, borough: str, source: str) -> TableSpec:
    """Domestic abuse in each Covid period against its expected level (``lockdown_periods``), as published."""
    return TableSpec(
        "04-domestic-abuse-lockdowns",
        periods,
        columns={
            "area": "Area",
            "measure": "Measure",
            "period": "Period",
            "months": "Months",
            "observed": "Observed",
            "expected": "Expected",
            "lower": "95% interval low",
            "upper": "95% interval high",
            "outside": "Against the interval",
            "pct_difference": "Difference (%)",
        },
        formats={"observed": COUNT, "expected": COUNT, "lower": COUNT, "upper": COUNT, "pct_difference": PCT_CHANGE},
        caption=(
            f"Offences flagged as domestic abuse in {borough} (and London as a whole) in each Covid-19 period, against "
            "the counts expected from a seasonal ARIMA fitted to the five pre-pandemic years, with the 95% prediction "
            "interval of each period's total."
        ),
        source=source,
        period="the Covid-19 periods from March 2020 and the first pandemic year",
    )


def violence_specs(
    table: pd.DataFrame, borough: str, headline_year: str, covid_start: str, threshold: int, source: str
):
    """Chapter 04's three tables of recorded violence (change, London, Covid), as published, in page order."""
    note = violence_small_note(threshold)
    return (
        change_spec(
            table,
            "04-change-on-previous-year",
            "Violence and exploitation measures",
            borough,
            headline_year,
            source,
            note=note,
            flag=True,
        ),
        london_spec(
            table, "04-london-rates", borough, headline_year, source, rate_format="{:.3f}", note=note, flag=True
        ),
        covid_spec(table, "04-covid-counterfactual", borough, covid_start, source, note=note, flag=True),
    )


def special_specs(special_table: pd.DataFrame, borough: str, year: str, covid_start: str, threshold: int, source: str):
    """Chapter 04's three tables of flagged offences (change, London, Covid), as published, in page order."""
    return (
        change_spec(
            special_table,
            "04-special-change-on-previous-year",
            "Domestic abuse, knife crime, gun crime and homicide offences",
            borough,
            year,
            source,
            note=violence_small_note(threshold) + " Homicide and domestic abuse homicide are always counts only.",
            flag=True,
        ),
        london_spec(
            special_table,
            "04-special-london-rates",
            borough,
            year,
            source,
            rate_format="{:.3f}",
            flag=True,
            rank_format="{:.0f}",
            caption=(
                f"Rates per 1,000 residents in {borough} and London, and the borough's rank of 32 by rate (1 = highest); "
                "counts-only rows have no rate or rank."
            ),
        ),
        covid_spec(
            special_table,
            "04-special-covid-counterfactual",
            borough,
            covid_start,
            source,
            flag=True,
            what="Flagged offences",
            regression="a segmented regression fitted to the months to May 2021",
        ),
    )


VIOLENCE_FIGURES = (
    "small",
    *CHANGE_FIGURES,
    "rank",
    "pandemic_count",
    "pandemic_pct_change",
    "pandemic_significant",
)


SPECIAL_FIGURES = (
    "counts_only",
    "small",
    *CHANGE_FIGURES,
    "rate_rank",
    "ranked",
    "pandemic_previous",
    "pandemic_count",
    "pandemic_pct_change",
    "pandemic_significant",
)


PLAN_COMPARISON_FIGURES = ["figure_id", "measure", "year", "plan_pct", "pct_change", "p_value"]


def violence_headlines(
    points: Sequence[KeyPoint],
    table: pd.DataFrame,
    special_table: pd.DataFrame,
    periods: pd.DataFrame,
    plan_changes: pd.DataFrame,
    special_plan: pd.DataFrame,
    borough: str,
    headline_year: str,
    special_year: str,
    threshold: int,
    sources: tuple[str, str],
) -> ViolenceHeadlines:
    """Chapter 04's figures: `table` and `special_table` (priority_table's for recorded crime and the flagged
    offences), domestic abuse by Covid period (`periods`), the plan's changes beside the data
    (``plan_change_comparisons``), and `sources` (recorded crime's citation, the flagged offences')."""
    vap = table.set_index("measure").loc["Violence against the person"]
    return ViolenceHeadlines(
        borough=borough,
        key_points=tuple(points),
        headline_year=headline_year,
        pandemic_year=table["year"].iloc[0],
        violence_against_the_person_change={
            "from_year": previous_financial_year(headline_year),
            "to_year": headline_year,
        }
        | {k: vap[k] for k in ("previous", "count", "pct_change", "p_value", "significant")},
        plan_comparisons=plan_changes[PLAN_COMPARISON_FIGURES].to_dict("records"),
        measures=measure_figures(table, VIOLENCE_FIGURES),
        small_number_threshold=threshold,
        flagged_small=table.loc[table["small"], "measure"].tolist(),
        violence_covid=covid_figures(table, "Violence against the person"),
        special_year=special_year,
        special_measures=measure_figures(special_table, SPECIAL_FIGURES),
        domestic_abuse_lockdowns=periods.to_dict("records"),
        special_plan_comparisons=special_plan[PLAN_COMPARISON_FIGURES].to_dict("records"),
        special_source=sources[1],
        source=sources[0],
    )


def findings_with_plan(comparisons: pd.DataFrame, table: pd.DataFrame, borough: str, year: str) -> str:
    """The detail of a change section: the plan's figures beside the data (``plan_change_comparisons``), then each
    measure's findings."""
    texts = (plan_change_sentences(comparisons), measure_findings(table, borough, year))
    return "\n\n".join(text for text in texts if text)


def special_intro(special_year: str, headline_year: str) -> str:
    """What the flagged offences are, where they come from, and the year they describe."""
    return (
        "Offences the Metropolitan Police flag as domestic abuse, knife crime, gun crime or homicide (one offence can "
        "carry several flags, so these are never added up), from the MPS hate crime or special crime dashboard data, "
        "which ends in May 2021. "
        + (
            ""
            if special_year == headline_year
            else f"The headline year {headline_year} lies past this file, so its figures describe {special_year}. "
        )
        + "\n\n"
    )
