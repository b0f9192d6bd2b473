"""The plan-period chapter: did each priority move over the plan's years, and did the borough do better or worse
than London?

Recorded crime comes from one series only, chosen by the params (``latest_series``): the CONNECT-era extracts (to
December 2025, so the plan's last year and the year after are whole) or the CRIS-era ones the other chapters use (to
January 2024: the plan's change then ends at its last whole year). The two are never mixed in a table, chart or
change. Measures come from ``analysis.priorities`` (their CONNECT-era definitions where that series is used), and the
statistics from ``analysis.plan_period``; public confidence from the Public Attitude Survey, with the plan's target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from csp_evidence.analysis import plan_period as pp
from csp_evidence.analysis import priorities
from csp_evidence.analysis.stats.change import financial_year_totals, rank_of
from csp_evidence.analysis.summaries import complete_financial_years
from csp_evidence.analysis.survey import EFFECTIVE_SAMPLE, TargetProgress, borough_rows, target_progress
from csp_evidence.data import datasets, geo
from csp_evidence.data.plan import confidence_target
from csp_evidence.data.readers.mps_connect import UNKNOWN_BOROUGH
from csp_evidence.report import words as f
from csp_evidence.report.headlines import PlanPeriodHeadlines
from csp_evidence.report.key_points import KeyPoint, checked, section_id
from csp_evidence.report.plan_period_words import against_london, verdict_words
from csp_evidence.report.tables import COUNT, P_VALUE, PCT_CHANGE, RATIO, SIGNED_COUNT, TableSpec

OVERALL, NEIGHBOURHOOD, HATE, VIOLENCE, CONFIDENCE = (
    "All recorded crime",
    "Neighbourhood crime and ASB",
    "Hate crime and tensions",
    "Violence, VAWG and exploitation",
    "Public confidence and trust",
)
PRIORITY_MEASURES: tuple[tuple[str, tuple[priorities.Measure, ...]], ...] = (
    (OVERALL, (priorities.TOTAL,)),
    (NEIGHBOURHOOD, priorities.NEIGHBOURHOOD),
    (HATE, priorities.HATE),
    (VIOLENCE, priorities.VIOLENCE),
)
# What the plan's priorities cover that no open source holds for the plan's years, said on the page.
NOT_MEASURABLE = (
    (
        HATE,
        "Hate crime by strand (racist and religious, faith, homophobic and others)",
        "the MPS hate crime file held ends in May 2021",
    ),
    (VIOLENCE, "Domestic abuse, knife crime and gun crime", "the MPS special crime file held ends in May 2021"),
    ("Reoffending and the drivers of crime", "Proven reoffending", "no borough figures for the plan's years are held"),
)
SERIES = {
    "connect": ("CONNECT-era", datasets.CONNECT_CRIME_SOURCES),
    "cris": ("CRIS-era", datasets.MAIN_CRIME_SOURCES),
}
LONDON_SURVEY_SAMPLE = 32 * EFFECTIVE_SAMPLE  # London's effective sample: the 32 boroughs' together


@dataclass(frozen=True)
class Series:
    """The recorded-crime series the chapter uses: its key ('connect' or 'cris'), name, table and sources."""

    key: str
    name: str
    crime: pd.DataFrame
    source_ids: tuple[str, ...]

    @property
    def citation(self) -> str:
        return datasets.citation(*self.source_ids)

    @property
    def last_month(self) -> pd.Timestamp:
        return pd.Timestamp(self.crime["month"].max())


def crime_series(latest_series: str) -> Series:
    """The recorded-crime series the params choose ('connect' or 'cris'); an unknown key lists the valid ones."""
    if latest_series not in SERIES:
        raise ValueError(f"latest_series must be one of {', '.join(SERIES)}, got {latest_series!r}")
    name, ids = SERIES[latest_series]
    crime = datasets.recorded_crime_connect() if latest_series == "connect" else datasets.recorded_crime()
    return Series(latest_series, name, crime, tuple(ids))


def chapter_measures(series: Series) -> tuple[list[tuple[str, priorities.Measure]], pd.DataFrame]:
    """The priority measures the series can count (its own definitions), and a table of those it cannot, with why
    (columns priority, measure, why): measures only in the other crime series, and data not held for the plan."""
    other = "CRIS" if series.key == "connect" else "CONNECT"
    counted, missing = [], []
    for priority, measures in PRIORITY_MEASURES:
        for m in measures:
            here = priorities.in_series(m, series.key)
            if here is None:
                missing.append((priority, m.name, f"only in the {other}-era series, whose categories this one lacks"))
            else:
                counted.append((priority, here))
    missing += list(NOT_MEASURABLE)
    return counted, pd.DataFrame(missing, columns=["priority", "measure", "why"])


def total_by_year(series: Series, borough: str, years: Sequence[str]) -> pd.DataFrame:
    """Total recorded offences in the borough and London (32 boroughs) for each of `years` the series holds whole,
    with the borough's rank of 32 (1 = most) and the offences London's total leaves out (the airports and, in the
    CONNECT era, offences placed in no borough)."""
    borough = geo.check_borough(borough)
    held = [y for y in years if y in complete_financial_years(series.crime)]
    totals = financial_year_totals(series.crime, by=("borough",))
    rows = []
    for year in held:
        counts = totals[totals["financial_year"] == year].set_index("borough")["count"]
        boroughs = counts.reindex(geo.mps_boroughs(), fill_value=0)
        rows.append(
            {
                "financial_year": year,
                "count": int(boroughs[borough]),
                "rank": rank_of(boroughs, borough)[0],
                "london": int(boroughs.sum()),
                "not_in_a_borough": int(counts.sum() - boroughs.sum()),
            }
        )
    return pd.DataFrame(rows)


def revision_table(borough: str) -> pd.DataFrame:
    """How the later CONNECT-era extract revised the months the one before it also held, for the borough and London:
    month, earlier, latest, revision, pct_revision for each."""
    revised = datasets.connect_revisions()
    if revised.empty:
        return pd.DataFrame(columns=["month", "earlier", "latest", "revision", "pct_revision"])
    own = revised[revised["borough"] == geo.check_borough(borough)].groupby("month")[["earlier", "latest"]].sum()
    london = revised[revised["borough"].isin(geo.mps_boroughs())].groupby("month")[["earlier", "latest"]].sum()
    out = own.join(london, rsuffix="_london").reset_index()
    out["revision"] = out["latest"] - out["earlier"]
    out["pct_revision"] = 100 * out["revision"] / out["earlier"]
    out["revision_london"] = out["latest_london"] - out["earlier_london"]
    out["pct_revision_london"] = 100 * out["revision_london"] / out["earlier_london"]
    return out


def series_sentence(series: Series, borough: str, totals: pd.DataFrame, pre_pandemic: str) -> str:
    """Which series the chapter uses and how its figures differ from the CRIS-era ones of the other chapters, with
    the pre-pandemic year in both series when the CONNECT era is used."""
    text = (
        f"This chapter uses the Metropolitan Police's **{series.name}** recorded-crime series "
        f"({series.crime['month'].min():%B %Y} to {series.last_month:%B %Y}), on its own: never mixed with the other "
        "series in a table, chart or change. "
    )
    if series.key == "connect":
        rows = totals.set_index("financial_year")
        cris = financial_year_totals(datasets.recorded_crime(), by=("borough",))
        cris_pre = cris[(cris["financial_year"] == pre_pandemic) & (cris["borough"] == borough)]["count"]
        if pre_pandemic in rows.index and len(cris_pre):
            text += (
                f"Its counts differ from the CRIS-era series the other chapters use, for the same months: in "
                f"{pre_pandemic} it records {f.number(rows.loc[pre_pandemic, 'count'])} offences in {f.md(borough)}, "
                f"against {f.number(cris_pre.iloc[0])} in the CRIS-era series. That is a revision, not a change in "
                "crime: since its move to the CONNECT system the MPS places each offence in the borough where it "
                "happened, and has applied that back to 2010, where CRIS counted it in the borough that managed the "
                f"case; offences it cannot place are in an '{UNKNOWN_BOROUGH}' borough, left out of London's total "
                "and of ranks here, and categories are coarser. "
            )
    else:
        text += (
            f"The CRIS-era series ends in {series.last_month:%B %Y}, so the plan's last year and the year after "
            "are not whole in it: the change over the plan ends at the last whole year. "
        )
    return text


def display_table(table: pd.DataFrame, years: Sequence[str], prefix: str = "plan_") -> pd.DataFrame:
    """The measure table for the page: counts by year, the change and London's, the ratio against the rest of London
    with its p-value, and the verdict."""
    held = [y for y in years if y in table.columns]
    columns = [
        "priority",
        "measure",
        *held,
        f"{prefix}pct_change",
        f"{prefix}p_value",
        f"{prefix}london_pct_change",
        f"{prefix}ratio_of_ratios",
        f"{prefix}rel_p_value",
        f"{prefix}verdict",
    ]
    out = table[columns].copy()
    out[f"{prefix}verdict"] = out[f"{prefix}verdict"].map(verdict_words)
    return out


# --------------------------------------------------------------------------- public confidence


def _year_quarter(year: str) -> pd.Timestamp:
    """The quarter whose rolling 12 months are the financial year: 31 March of its end."""
    return pd.Timestamp(f"{int(year[:4]) + 1}-03-31")


def confidence_table(pas: pd.DataFrame, borough: str, years: pp.PlanYears) -> pd.DataFrame:
    """Each Public Attitude Survey measure in the 12 months to March of the baseline year and of the plan's last year
    (or the latest quarter, when the survey ends before it), beside London, with `plan_period.survey_change`.

    Columns: priority, measure, start_quarter, end_quarter, start, end, london_start, london_end, and
    survey_change's keys.
    """
    rows = borough_rows(pas, borough)
    start_q = _year_quarter(years.baseline)
    end_q = min(_year_quarter(years.end), rows["quarter_end"].max())
    out = []
    for measure, group in rows.groupby("measure", sort=True):
        by_q = group.set_index("quarter_end")
        if start_q not in by_q.index or end_q not in by_q.index:
            continue
        b0, b1 = by_q.at[start_q, "proportion"], by_q.at[end_q, "proportion"]
        l0, l1 = by_q.at[start_q, "london"], by_q.at[end_q, "london"]
        out.append(
            {
                "priority": CONFIDENCE,
                "measure": measure,
                "start_quarter": start_q,
                "end_quarter": end_q,
                "start": b0,
                "end": b1,
                "london_start": l0,
                "london_end": l1,
                **pp.survey_change(b0, b1, l0, l1, EFFECTIVE_SAMPLE, LONDON_SURVEY_SAMPLE),
            }
        )
    return pd.DataFrame(out)


def target_reading(pas: pd.DataFrame, borough: str) -> TargetProgress | None:
    """The plan's public confidence target read at its end quarter (or the latest the survey holds, when the end is
    later); None when the survey lacks the target's baseline quarter."""
    target = confidence_target(borough)
    rows = borough_rows(pas, borough)
    held = set(rows.loc[rows["measure"] == target.measure, "quarter_end"])
    if pd.Timestamp(target.baseline_quarter) not in held:
        return None
    end = pd.Timestamp(target.end_quarter)
    return target_progress(pas, borough, quarter=end if end in held else None)


def target_sentence(pas: pd.DataFrame, borough: str) -> str:
    """The plan's public confidence target against the latest survey value."""
    target = confidence_target(borough)
    base_q, end_q = pd.Timestamp(target.baseline_quarter), pd.Timestamp(target.end_quarter)
    reading = target_reading(pas, borough)
    if reading is None:
        return f"The survey holds no value for the target's baseline quarter ({base_q:%B %Y})."
    at = reading.latest_quarter
    when = f"in the 12 months to {at:%B %Y}" + (
        "" if at == end_q else f", the latest the survey holds (the target's end, {end_q:%B %Y}, is after it)"
    )
    return (
        f"**The plan's target**{_whose_target(target.borough, borough)}: {target.uplift_points:g} points above the "
        f"{base_q:%B %Y} value of '{f.md(target.measure)}', {reading.baseline:.0%}, so {reading.target:.0%}. "
        f"{when[0].upper()}{when[1:]} it was {reading.latest:.0%}: the target was "
        f"{'met' if reading.status == 'met' else 'not met'}."
    )


def _whose_target(plan_borough: str, borough: str) -> str:
    return (
        ""
        if plan_borough == borough
        else f" (the target of {f.md(plan_borough)}'s plan, as no plan of its own is held)"
    )


def headline(table: pd.DataFrame, priority_verdicts: pd.DataFrame, series: Series, years: pp.PlanYears) -> dict:
    """The chapter's figures for the headline JSON and the London index."""
    return {
        "series": series.name,
        "source_ids": list(series.source_ids),
        "last_month": f"{series.last_month:%Y-%m}",
        "baseline": years.baseline,
        "end": table["end"].iloc[0] if len(table) else None,
        "priorities": {r.priority: r.verdict for r in priority_verdicts.itertuples()},
        "measures": {
            r["measure"]: {
                "priority": r["priority"],
                "start": r["plan_count_start"],
                "end": r["plan_count_end"],
                "pct_change": r["plan_pct_change"],
                "p_value": r["plan_p_value"],
                "london_pct_change": r["plan_london_pct_change"],
                "ratio_of_ratios": r["plan_ratio_of_ratios"],
                "rel_p_value": r["plan_rel_p_value"],
                "verdict": r["plan_verdict"],
                "pre_pandemic_verdict": r.get("pre_verdict"),
            }
            for _, r in table.iterrows()
        },
    }


# The chapter's sections, as its headings say (key points link to them).
SECTIONS = {
    "plan": "Each priority over the plan, against London",
    "pre": "Against the year before the pandemic",
    "target": "Public confidence and the plan's target",
}


def _overall(table: pd.DataFrame, prefix: str) -> str | None:
    """'rose 20% (London 24%), a smaller rise than London's' for all recorded crime, or None when not tested."""
    rows = table[table["measure"] == priorities.TOTAL.name]
    if rows.empty or rows.iloc[0][f"{prefix}verdict"] not in (pp.IMPROVED, pp.WORSENED, pp.NO_CLEAR):
        return None
    r = rows.iloc[0]
    pct, london = r[f"{prefix}pct_change"], r[f"{prefix}london_pct_change"]
    moved = f"{'rose' if pct > 0 else 'fell'} {abs(pct):.0f}%" if round(pct) else "was unchanged"
    return f"{moved} (London {london:+.0f}%), {against_london(pct, london, r[f'{prefix}verdict'])}"


def key_points(
    table: pd.DataFrame,
    plan_verdicts: pd.DataFrame,
    pre_verdicts: pd.DataFrame,
    years: pp.PlanYears,
    reading: TargetProgress | None,
    borough: str,
) -> list[KeyPoint]:
    """Chapter 06's key points: all recorded crime over the plan and from before the pandemic against London (its
    first chart's measure), each priority's verdict relative to London over the plan and from before the pandemic,
    and the confidence target."""
    end = table["end"].iloc[0]
    points = []
    plan, before = _overall(table, "plan_"), _overall(table, "pre_")
    if plan:
        text = f"From {years.baseline} to {end} recorded crime in {borough} {plan}"
        text += f"; from {years.pre_pandemic}, before the pandemic, it {before}." if before else "."
        points.append(KeyPoint(text, section_id(SECTIONS["plan"])))
    for verdicts, section, when in (
        (plan_verdicts, "plan", f"{years.baseline} to {end}"),
        (pre_verdicts, "pre", f"{years.pre_pandemic} to {end}"),
    ):
        said = [
            f"{r.priority[0].lower()}{r.priority[1:]} {_SHORT[r.verdict]}"
            for r in verdicts.itertuples()
            if r.priority != OVERALL and r.verdict in _SHORT
        ]
        if said:
            points.append(KeyPoint(f"Against London, {when}: {'; '.join(said)}.", section_id(SECTIONS[section])))
    if reading is not None:
        plan_borough = confidence_target(borough).borough
        whose = "the plan's target" if plan_borough == borough else f"the target in {plan_borough}'s plan"
        points.append(
            KeyPoint(
                f"{reading.latest:.0%} of residents said '{reading.measure}' in the 12 months to "
                f"{reading.latest_quarter:%B %Y}, against {whose} of {reading.target:.0%}: the target was "
                f"{'met' if reading.status == 'met' else 'not met'}.",
                section_id(SECTIONS["target"]),
            )
        )
    return checked(points)


_SHORT = {
    pp.IMPROVED: "improved",
    pp.WORSENED: "worsened",
    pp.NO_CLEAR: "no clear change",
    "mixed": "mixed",
}


# --------------------------------------------------------------------------- the chapter's tables and headline figures


def totals_spec(totals: pd.DataFrame, borough: str, series: Series) -> TableSpec:
    """Total recorded offences by financial year in one crime series (``total_by_year``)."""
    return TableSpec(
        slug="06-total-by-year",
        data=totals,
        columns={
            "financial_year": "Financial year",
            "count": "Offences",
            "rank": "Rank of 32",
            "london": "London (32 boroughs)",
            "not_in_a_borough": "Not in a borough (airports, unknown)",
        },
        formats={"count": COUNT, "london": COUNT, "not_in_a_borough": COUNT},
        caption=f"Total recorded offences in {borough} by financial year, {series.name} series only.",
        source=series.citation,
        period=f"financial years {totals['financial_year'].iloc[0]} to {totals['financial_year'].iloc[-1]}",
    )


_REVISION_COLUMNS = {
    "month": ("Month", "{:%B %Y}"),
    "earlier": ("Earlier extract", COUNT),
    "latest": ("Latest extract", COUNT),
    "revision": ("Revision", SIGNED_COUNT),
    "pct_revision": ("Revision (%)", PCT_CHANGE),
    "earlier_london": ("London, earlier", COUNT),
    "latest_london": ("London, latest", COUNT),
    "revision_london": ("London revision", SIGNED_COUNT),
    "pct_revision_london": ("London revision (%)", PCT_CHANGE),
}


def revisions_spec(revisions: pd.DataFrame | None, borough: str, series: Series) -> TableSpec | None:
    """How the later CONNECT-era extract revised the months both hold (``revision_table``); None outside CONNECT."""
    if revisions is None:
        return None
    shown = {c: _REVISION_COLUMNS[c] for c in revisions.columns}  # in the table's own order
    months = pd.to_datetime(revisions["month"])
    return TableSpec(
        slug="06-revisions",
        data=revisions,
        columns={c: label for c, (label, _) in shown.items()},
        formats={c: fmt for c, (_, fmt) in shown.items()},
        caption=(
            f"Recorded offences in {borough} and London in the months two CONNECT-era extracts hold: the extract to "
            "February 2025 against the later one to December 2025, which the series uses."
        ),
        source=series.citation,
        period=f"{months.min():%B %Y} to {months.max():%B %Y}" if len(months) else "no month held by both extracts",
    )


def plan_spec(table: pd.DataFrame, years: pp.PlanYears, borough: str, series: Series) -> TableSpec:
    """Each measure by financial year and its change over the plan against London's (``measure_table``); the CSV
    is the whole measure table."""
    shown = display_table(table, years.all, "plan_")
    held = [y for y in years.all if y in shown.columns]
    end = table["end"].iloc[0]
    return TableSpec(
        slug="06-plan-period",
        data=shown,
        columns={"priority": "Priority", "measure": "Measure"}
        | {y: y for y in held}
        | {
            "plan_pct_change": f"Change {years.baseline} to {end}",
            "plan_p_value": "p-value",
            "plan_london_pct_change": "London change",
            "plan_ratio_of_ratios": "Against the rest of London (ratio)",
            "plan_rel_p_value": "p-value against London",
            "plan_verdict": "Verdict",
        },
        formats={y: COUNT for y in held}
        | {
            "plan_pct_change": PCT_CHANGE,
            "plan_p_value": P_VALUE,
            "plan_london_pct_change": PCT_CHANGE,
            "plan_ratio_of_ratios": RATIO,
            "plan_rel_p_value": P_VALUE,
        },
        caption=(
            f"Recorded offences in {borough} by financial year, and the change from {years.baseline} to {end} against "
            "London's (exact Poisson test; ratio of the borough's rate ratio to the rest of London's, Wald test of a "
            f"Poisson interaction). The CSV adds London's counts and the same from {years.pre_pandemic}."
        ),
        source=series.citation,
        period=f"financial years {years.baseline} to {end}",
        download=table,
    )


def confidence_spec(confidence: pd.DataFrame, borough: str, source: str) -> TableSpec:
    """Each survey measure over the plan against London (``confidence_table``), its verdict in words."""
    start, end = confidence["start_quarter"].iloc[0], confidence["end_quarter"].iloc[0]
    return TableSpec(
        slug="06-confidence",
        data=confidence.assign(verdict=confidence["verdict"].map(verdict_words)),
        columns={
            "measure": "Measure",
            "start": f"12 months to {start:%b %Y}",
            "end": f"12 months to {end:%b %Y}",
            "change_pp": "Change (points)",
            "p_value": "p-value",
            "london_change_pp": "London change (points)",
            "gap_change_pp": "Borough minus London (points)",
            "rel_p_value": "p-value against London",
            "verdict": "Verdict",
        },
        formats={
            "start": "{:.0%}",
            "end": "{:.0%}",
            "change_pp": "{:+.0f}",
            "p_value": P_VALUE,
            "london_change_pp": "{:+.0f}",
            "gap_change_pp": "{:+.0f}",
            "rel_p_value": P_VALUE,
        },
        caption=(
            f"Public Attitude Survey measures for {borough} over the plan, against London; tests assume an effective "
            "sample of 400 residents a year per borough."
        ),
        source=source,
        period=f"12 months to {start:%B %Y} against 12 months to {end:%B %Y}",
    )


def plan_period_headlines(
    points: Sequence[KeyPoint],
    table: pd.DataFrame,
    verdicts: pd.DataFrame,
    pre_verdicts: pd.DataFrame,
    totals: pd.DataFrame,
    confidence: pd.DataFrame,
    series: Series,
    years: pp.PlanYears,
    borough: str,
) -> PlanPeriodHeadlines:
    """Chapter 06's headline figures: ``headline``'s, then the totals by year, the verdicts from the year before the
    pandemic and each survey measure's verdict."""
    return PlanPeriodHeadlines(
        **headline(table, verdicts, series, years),
        borough=borough,
        key_points=tuple(points),
        totals={r.financial_year: r.count for r in totals.itertuples()},
        pre_pandemic_priorities={r.priority: r.verdict for r in pre_verdicts.itertuples()},
        confidence={r.measure: r.verdict for r in confidence.itertuples()},
    )
