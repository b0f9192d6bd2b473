"""Public confidence and trust: a borough's MOPAC Public Attitude Survey measures against London and the plan target.

Every function takes the tidy PAS table (quarter_end, borough, measure, proportion, london; proportions 0-1, see
``readers.mopac``) and returns plain data. PAS values are rolling 12-month figures (about 400 interviews per
borough in any 12 months), so consecutive quarters share about three quarters of their respondents: changes are
only ever computed between quarters four apart (``LAG_QUARTERS``), whose samples do not overlap.

Significance uses an ASSUMED effective sample of ``EFFECTIVE_SAMPLE`` = 400 respondents per borough per 12 months
(the survey's design size). The survey is weighted, so its effective sample is smaller than the number of
interviews and these intervals and p-values are an approximation (somewhat too narrow and too small).
Intervals are Wilson score intervals; the interval of a change is Newcombe's hybrid score interval (method 10
of Newcombe 1998) built from the two Wilson intervals; the p-value is the pooled two-proportion z-test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from csp_evidence.analysis import plan_audit
from csp_evidence.analysis.stats.proportions import two_proportion_test, wilson_interval
from csp_evidence.analysis.survey import (
    EFFECTIVE_SAMPLE,
    LAG_QUARTERS,
    TargetProgress,
    borough_rows,
    change_interval,
    parse_quarter,
    successes,
    value_at,  # noqa: F401  (chapter 05 reads the survey value through this module)
)
from csp_evidence.core.values import is_missing
from csp_evidence.data.plan import confidence_target
from csp_evidence.report.headlines import ConfidenceHeadlines
from csp_evidence.report.key_points import KeyPoint, checked, section_id
from csp_evidence.report.tables import P_VALUE, TableSpec
from csp_evidence.report.words import listing, md, p_value

KEY_MEASURES: tuple[str, ...] = ("Treat everyone fairly", "Relied on to be there", "Trust MPS", '"Good Job" local')

# The wording of each PAS measure as the survey asks it, for chart titles and tables.
MEASURE_WORDING: dict[str, str] = {
    '"Good Job" local': "the police do a good job in the local area",
    "Contact ward officer": "know how to contact their ward officer",
    "Informed local": "feel well informed about local police activities",
    "Listen to concerns": "the police listen to the concerns of local people",
    "Relied on to be there": "the police can be relied on to be there when needed",
    "Treat everyone fairly": "the police treat everyone fairly regardless of who they are",
    "Trust MPS": "trust the Metropolitan Police",
    "Understand issues": "the police understand the issues that affect the community",
}


def quarter_before(quarter: pd.Timestamp, quarters: int = LAG_QUARTERS) -> pd.Timestamp:
    """The quarter end `quarters` quarters before `quarter` (31/12/2023 -> 31/12/2022 for 4)."""
    return pd.Timestamp(quarter) - pd.offsets.QuarterEnd(quarters)


def measure_trends(pas: pd.DataFrame, borough: str, measures: tuple[str, ...] | None = None) -> pd.DataFrame:
    """A borough's series beside London: quarter_end, measure, borough and London proportions, gap in points."""
    rows = borough_rows(pas, borough)
    if measures is not None:
        unknown = sorted(set(measures) - set(pas["measure"]))
        if unknown:
            raise ValueError(f"unknown PAS measure(s) {unknown}; valid: {', '.join(sorted(pas['measure'].unique()))}")
        rows = rows[rows["measure"].isin(measures)]
    out = rows[["quarter_end", "measure", "proportion", "london"]].rename(columns={"proportion": "borough"})
    out = out.sort_values(["measure", "quarter_end"], ignore_index=True)
    out["gap_pp"] = ((out["borough"] - out["london"]) * 100).round(6)
    return out


def year_on_year(
    pas: pd.DataFrame, borough: str, quarter: str | pd.Timestamp | None = None, n: int = EFFECTIVE_SAMPLE
) -> pd.DataFrame:
    """Each measure at `quarter` (default: the latest) against four quarters before, with the gap to London.

    Columns: measure, quarter_end, value, ci_low, ci_high (Wilson, n assumed), year_before_quarter, year_before,
    change_pp, change_low_pp, change_high_pp (Newcombe), p_value (two-proportion z-test), significant (p < 0.05),
    london, gap_pp (borough minus London, points), london_change_pp. Proportions 0-1; changes and gaps in points.
    """
    rows = borough_rows(pas, borough)
    q = rows["quarter_end"].max() if quarter is None else parse_quarter(quarter, "quarter")
    before = quarter_before(q)
    now = rows[rows["quarter_end"] == q].set_index("measure")
    if now.empty:
        raise ValueError(f"no PAS values for {borough!r} at {q:%d/%m/%Y}")
    then = rows[rows["quarter_end"] == before].set_index("measure")
    out = pd.DataFrame({"measure": now.index, "quarter_end": q, "value": now["proportion"].to_numpy()})
    low, high = wilson_interval(successes(out["value"], n), np.full(len(out), n))
    out["ci_low"], out["ci_high"] = low, high
    out["year_before_quarter"] = before
    out["year_before"] = then["proportion"].reindex(out["measure"]).to_numpy()
    out["change_pp"] = (out["value"] - out["year_before"]) * 100
    out["change_low_pp"] = np.nan
    out["change_high_pp"] = np.nan
    out["p_value"] = np.nan
    has = out["year_before"].notna()
    for i in out.index[has]:
        lo, hi = change_interval(out.at[i, "value"], out.at[i, "year_before"], n, n)
        out.at[i, "change_low_pp"], out.at[i, "change_high_pp"] = 100 * lo, 100 * hi
        out.at[i, "p_value"] = two_proportion_test(
            successes(out.at[i, "value"], n), n, successes(out.at[i, "year_before"], n), n
        )
    out["significant"] = out["p_value"] < 0.05
    out["london"] = now["london"].to_numpy()
    out["gap_pp"] = (out["value"] - out["london"]) * 100
    out["london_change_pp"] = (out["london"] - then["london"].reindex(out["measure"]).to_numpy()) * 100
    return out.round({"change_pp": 6, "gap_pp": 6, "london_change_pp": 6})


def target_series(pas: pd.DataFrame, progress: TargetProgress, n: int = EFFECTIVE_SAMPLE) -> pd.DataFrame:
    """Chart data for the target measure, indexed by quarter_end: borough, London, Wilson interval, target line."""
    rows = measure_trends(pas, progress.borough, (progress.measure,)).set_index("quarter_end")
    low, high = wilson_interval(successes(rows["borough"], n), np.full(len(rows), n))
    return pd.DataFrame(
        {
            progress.borough: rows["borough"],
            "London (MPS)": rows["london"],
            "ci_low": low,
            "ci_high": high,
            f"Target (baseline + {100 * (progress.target - progress.baseline):.0f} points)": progress.target,
        },
        index=rows.index,
    )


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def _points(pp: float) -> str:
    return f"{abs(pp):.0f} point{'s' if round(abs(pp)) != 1 else ''}"


def target_title(progress: TargetProgress) -> str:
    """A chart title stating the finding: 'Hackney is behind the path to its fair-treatment target'."""
    return {
        "met": f"{progress.borough} has met the target for fair treatment",
        "on track": f"{progress.borough} is on track for the fair-treatment target",
        "behind": f"{progress.borough} is behind the path to the fair-treatment target",
        "below baseline": f"Fair treatment in {progress.borough} is below where the plan started",
    }[progress.status]


def target_sentence(progress: TargetProgress) -> str:
    """Whether the borough is on track to the +5 point target, in words, from the numbers."""
    pr = progress
    head = (
        f"In the 12 months to {pr.baseline_quarter:%B %Y}, {_pct(pr.baseline)} of {md(pr.borough)} residents "
        f"agreed that {MEASURE_WORDING.get(pr.measure, md(pr.measure))}; a rise of {_points(100 * (pr.target - pr.baseline))} "
        f"sets the target at {_pct(pr.target)} by {pr.end_quarter:%B %Y}. "
    )
    if pr.change_pp == 0:
        move = f"In the 12 months to {pr.latest_quarter:%B %Y} it was unchanged at {_pct(pr.latest)}"
    else:
        move = (
            f"In the 12 months to {pr.latest_quarter:%B %Y} it was {_pct(pr.latest)}, "
            f"{_points(pr.change_pp)} {'above' if pr.change_pp > 0 else 'below'} the baseline "
            f"(95% interval of the change {pr.change_low_pp:+.0f} to {pr.change_high_pp:+.0f} points"
        )
        move += f"; {p_value(pr.p_value)})" if not is_missing(pr.p_value) else ")"
    verdict = {
        "met": "The target has been met.",
        "on track": (
            f"That is on track: at or above the straight path from baseline to target, which stood at "
            f"{100 * pr.path_value:.1f}% by then."
        ),
        "behind": (
            f"That is behind the straight path from baseline to target ({100 * pr.path_value:.1f}% by then), "
            f"{_points(100 * (pr.target - pr.latest))} short of the target."
        ),
        "below baseline": (
            f"The borough is not on track: the measure is below its baseline, "
            f"{_points(100 * (pr.target - pr.latest))} short of the target."
        ),
    }[pr.status]
    return head + move + ". " + verdict


def change_findings(table: pd.DataFrame, borough: str) -> str:
    """Sentences naming the measures that changed beyond chance on a year before, and those furthest from London."""
    q, before = table["quarter_end"].iloc[0], table["year_before_quarter"].iloc[0]

    def listing(rows: pd.DataFrame) -> str:
        return ", ".join(
            f"'{md(r.measure)}' ({r.change_pp:+.0f} points, {_pct(r.year_before)} to {_pct(r.value)})"
            for r in rows.itertuples()
        )

    up = table[table["significant"] & (table["change_pp"] > 0)]
    down = table[table["significant"] & (table["change_pp"] < 0)]
    parts = []
    if len(up):
        parts.append(f"rose beyond chance on {listing(up)}")
    if len(down):
        parts.append(f"fell beyond chance on {listing(down)}")
    span = f"the 12 months to {q:%B %Y} against the 12 months to {before:%B %Y}"
    unmatched = table[table["year_before"].isna()]
    if len(unmatched) == len(table):
        text = f"No measure in {md(borough)} has a value for the 12 months to {before:%B %Y}, so none is compared."
    else:
        text = (
            f"Comparing {span}, the share of {md(borough)} residents agreeing " + "; and it ".join(parts) + "."
            if parts
            else f"Comparing {span}, no measure in {md(borough)} changed by more than chance would explain "
            "(with the assumed sample of 400 a year)."
        )
        if len(unmatched):
            text += (
                " Not compared, having no value for the year before: "
                + ", ".join(f"'{md(m)}'" for m in unmatched["measure"])
                + "."
            )
    below = table[table["gap_pp"] <= -5].sort_values("gap_pp")
    above = table[table["gap_pp"] >= 5].sort_values("gap_pp", ascending=False)
    gaps = []
    if len(below):
        gaps.append(
            "below London by 5 points or more on "
            + ", ".join(f"'{md(r.measure)}' ({r.gap_pp:+.0f})" for r in below.itertuples())
        )
    if len(above):
        gaps.append(
            "above London by 5 points or more on "
            + ", ".join(f"'{md(r.measure)}' ({r.gap_pp:+.0f})" for r in above.itertuples())
        )
    text += (
        f" In {q:%B %Y} the borough was " + "; and ".join(gaps) + "."
        if gaps
        else f" In {q:%B %Y} every measure was within 5 points of the London value."
    )
    return text


def plan_quotes(pas: pd.DataFrame, borough: str, figures: pd.DataFrame) -> pd.DataFrame:
    """PAS figures the CSP plan quotes (its rows of kind 'survey share') beside the survey value for the quarter
    the row reads them as, judged by the plan audit's rule (``analysis.plan_audit``).

    `figures` is `plan.plan_figures(borough)`. Columns: figure_id, measure, period, quarter_end, plan_value, data_value
    (both in per cent), plan_section, verdict. Empty when the plan quotes none.
    """
    rows = []
    for figure_id, quoted in figures.iterrows():
        fig = plan_audit.as_figure(str(figure_id), quoted)
        if fig.kind != "survey share":  # a figure of another kind (crime, population): not a survey measure
            continue
        c = plan_audit.compare(fig, borough, pas)
        rows.append(
            {
                "figure_id": fig.figure_id,
                "measure": fig.measure,
                "period": fig.period,
                "quarter_end": pd.Timestamp(f"{fig.reading}-01") + pd.offsets.MonthEnd(0),
                "plan_value": fig.plan_value,
                "data_value": c.value,
                "plan_section": fig.plan_section,
                "verdict": c.verdict,
            }
        )
    cols = ["figure_id", "measure", "period", "quarter_end", "plan_value", "data_value", "plan_section", "verdict"]
    return pd.DataFrame(rows, columns=cols).sort_values("quarter_end", ignore_index=True)


def plan_quote_sentence(quotes: pd.DataFrame) -> str:
    """'The CSP plan quotes 83% (March 2017) and 65% (September 2020) for ...; the survey file gives 83% and 65%.'

    Whether they are the same is the plan audit's verdict (`plan_quotes`' verdict column)."""
    if quotes.empty:
        return ""
    parts = []
    for measure, group in quotes.groupby("measure", sort=False):
        plan = " and ".join(f"{r.plan_value:.0f}% ({r.period})" for r in group.itertuples())
        data = " and ".join(f"{r.data_value:.0f}%" for r in group.itertuples())
        kinds = {plan_audit.verdict_kind(v) for v in group["verdict"]}
        if kinds == {plan_audit.MATCHES}:
            verdict = ", the same figures."
        elif plan_audit.DIFFERS not in kinds:
            verdict = ", within the plan audit's tolerance of a point of the plan's figures."
        else:
            verdict = ", which differ from the plan's figures (a revision or a different cut of the survey)."
        parts.append(f"for '{md(measure)}' the CSP plan quotes {plan}; the survey file gives {data}{verdict}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


# --------------------------------------------------------------------------- key points (the top of the page)

SECTIONS = {
    "london": "The eight measures against London",
    "target": "Fair treatment and the plan's target",
    "change": "The latest year against the year before",
}


def key_points(latest: pd.DataFrame, progress: TargetProgress, borough: str) -> list[KeyPoint]:
    """Chapter 05's key points: the measures against London (its first chart), fair treatment against the plan's
    target, and the measures that changed beyond chance on the year before (`latest` is year_on_year's)."""
    q = latest["quarter_end"].iloc[0]
    below = latest[latest["gap_pp"] < 0]
    text = (
        f"In the 12 months to {q:%B %Y} {borough} was below London on {len(below)} of {len(latest)} confidence measures"
    )
    if len(below):
        low = below.sort_values("gap_pp").iloc[0]
        text += f", furthest on '{low['measure']}' ({low['gap_pp']:+.0f} points)"
    points = [KeyPoint(text + ".", section_id(SECTIONS["london"]))]
    status = {
        "met": "the target is met",
        "on track": "on track for the target",
        "behind": "behind the path to the target",
        "below baseline": "below where the plan started",
    }[progress.status]
    change = f"{'up' if progress.change_pp > 0 else 'down'} {abs(progress.change_pp):.0f} points"
    if not math.isnan(progress.p_value):
        change += f", {'beyond' if progress.p_value < 0.05 else 'within'} normal survey variation"
    plan_borough = confidence_target(borough).borough
    whose = "the plan's target" if plan_borough == borough else f"the target in {plan_borough}'s plan"
    points.append(
        KeyPoint(
            f"{_pct(progress.latest)} of residents agree '{progress.measure}', against {_pct(progress.baseline)} in "
            f"{progress.baseline_quarter:%B %Y} ({change}) and {whose} of {_pct(progress.target)}: {status}.",
            section_id(SECTIONS["target"]),
        )
    )
    changed = latest[latest["significant"].fillna(False).astype(bool)]
    if len(changed):
        named = [
            f"'{r.measure}' {'rose' if r.change_pp > 0 else 'fell'} {abs(r.change_pp):.0f} points"
            for r in changed.itertuples()
        ]
        text = f"Against a year earlier, {listing(named)}; the other measures moved within normal survey variation."
    else:
        text = "No measure changed on a year earlier by more than the normal variation of a survey sample."
    points.append(KeyPoint(text, section_id(SECTIONS["change"])))
    return checked(points)


# --------------------------------------------------------------------------- the chapter's tables and headline figures


def reading_note(trends: pd.DataFrame, quarter: pd.Timestamp) -> str:
    """How to read the survey figures: rolling 12 months, changes four quarters apart, the assumed sample."""
    return (
        f"Each value is the share of residents agreeing with a statement over the 12 months to the quarter shown "
        f"(MOPAC's rolling 12-month figures, about {EFFECTIVE_SAMPLE} interviews per borough a year). "
        "Neighbouring quarters share most of their interviews, so changes here are always measured against the "
        f"value {LAG_QUARTERS} quarters earlier, whose interviews do not overlap. Confidence intervals and "
        f"tests assume an effective sample of {EFFECTIVE_SAMPLE} respondents per 12 months: this is an "
        "approximation, as the survey is weighted and its effective sample is smaller, so the true uncertainty is "
        f"somewhat wider. The survey data run from {trends['quarter_end'].min():%B %Y} to {quarter:%B %Y}."
    )


SHARE = "{:.0%}"  # a proportion (0-1) as a whole percentage
SHARE_1DP = "{:.1%}"
POINTS = "{:+.0f}"  # a change in percentage points
POINTS_1DP = "{:+.1f}"


def latest_spec(latest: pd.DataFrame, borough: str, source: str) -> TableSpec:
    """The latest 12 months of each measure against the 12 months a year before and London (``year_on_year``)."""
    quarter = latest["quarter_end"].iloc[0]
    before = latest["year_before_quarter"].iloc[0]
    return TableSpec(
        slug="05-latest-vs-year-before",
        data=latest,
        columns={
            "measure": "Measure",
            "value": f"12 months to {quarter:%b %Y}",
            "ci_low": "95% CI low",
            "ci_high": "95% CI high",
            "year_before": f"12 months to {before:%b %Y}",
            "change_pp": "Change (points)",
            "change_low_pp": "Change CI low",
            "change_high_pp": "Change CI high",
            "p_value": "p-value",
            "london": "London",
            "gap_pp": "Gap to London (points)",
        },
        formats={
            "value": SHARE,
            "ci_low": SHARE_1DP,
            "ci_high": SHARE_1DP,
            "year_before": SHARE,
            "change_pp": POINTS,
            "change_low_pp": POINTS_1DP,
            "change_high_pp": POINTS_1DP,
            "p_value": P_VALUE,
            "london": SHARE,
            "gap_pp": POINTS,
        },
        caption=(
            f"Public Attitude Survey measures for {borough}: the latest 12 months against the 12 months a year "
            f"before. Intervals (Wilson; Newcombe for the change) and p-values (two-proportion z-test) assume "
            f"{EFFECTIVE_SAMPLE} respondents per 12 months, an approximation for a weighted survey."
        ),
        source=source,
        period=f"12 months to {quarter:%B %Y} against 12 months to {before:%B %Y}",
    )


def confidence_headlines(
    points: Sequence[KeyPoint],
    pas: pd.DataFrame,
    latest: pd.DataFrame,
    progress: TargetProgress,
    borough: str,
    source: str,
) -> ConfidenceHeadlines:
    """Chapter 05's headline figures: the fair-treatment target, each measure's latest value, the year before and
    the gap to London, the measures changed beyond chance and the sample the tests assume."""
    relied = "Relied on to be there"
    return ConfidenceHeadlines(
        borough=borough,
        key_points=tuple(points),
        latest_quarter=f"{latest['quarter_end'].iloc[0]:%Y-%m-%d}",
        treat_fairly=progress.as_dict(),
        relied_on_2017_03=value_at(pas, borough, relied, "2017-03-31"),
        relied_on_2020_09=value_at(pas, borough, relied, "2020-09-30"),
        latest={r.measure: r.value for r in latest.itertuples()},
        year_before={r.measure: r.year_before for r in latest.itertuples()},
        gap_to_london_pp={r.measure: r.gap_pp for r in latest.itertuples()},
        significant_changes=latest.loc[latest["significant"], "measure"].tolist(),
        measures_below_london=int((latest["gap_pp"] < 0).sum()),
        effective_sample_assumed=EFFECTIVE_SAMPLE,
        source=source,
    )
