"""The words about a plan figure set beside the data (``analysis.plan_audit.Comparison``): its note, its row in a
table, its value as the plan writes it and the sentence a chapter says about the verdict. Every page that quotes
a plan figure writes it with these, so it reads the same in the audit and in the chapter."""

from __future__ import annotations

import math

import pandas as pd

from csp_evidence.analysis.plan_audit import (
    CANNOT,
    DIFFERS,
    MATCHES,
    NO_PLAN_VALUE,
    WITHIN_REVISION,
    Comparison,
    Recomputed,
    verdict_kind,
)
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.core.values import is_missing
from csp_evidence.data.sources import MPS_HATE_SPECIAL, source
from csp_evidence.report import words as f

ROW_COLUMNS = [
    "figure_id",
    "figure",
    "unit",
    "period",
    "definition",
    "plan_value",
    "plan_section",
    "recomputed",
    "difference",
    "tolerance",
    "first_published",
    "source",
    "verdict",
    "note",
]


def _data_note(c: Comparison) -> str:
    """What the data behind a recomputed figure shows, in words: its counts, and its value under other readings."""
    rec, fig = c.recomputed, c.figure
    assert rec is not None
    kind = fig.kind
    if kind in ("count", "rank"):
        if rec.first_published is None:
            return ""
        first = f"rank {rec.first_published}" if kind == "rank" else f.number(rec.first_published)
        return f"As first published in the {rec.first_extract} extract: {first}."
    if kind == "change" and rec.counts is not None:
        year = fig.reading
        what = "ASB incidents" if fig.measure == "Anti-social behaviour" else "offences"
        test = f" ({f.p_value(rec.p_value)})" if what == "ASB incidents" else ""
        text = (
            f"{f.number(rec.counts[1])} {what} in {year} against {f.number(rec.counts[0])} in "
            f"{previous_financial_year(year)}{test}."
        )
        for alt in rec.alternatives:
            before = previous_financial_year(alt.year)
            if fig.source == MPS_HATE_SPECIAL:
                text += (
                    f" Read as {alt.measure.lower()} in {alt.year} on {before}: {f.number(alt.previous)} to "
                    f"{f.number(alt.count)}, {f.pct(alt.pct_change)}."
                )
            else:
                text += f" Read as {alt.year} on {before}: {f.pct(alt.pct_change)}."
        return text
    if kind == "population":
        x = rec.facts
        return (
            f"ONS's revised series (consistent with Census 2021); mid-{x['first_year']} to mid-{x['last_year']} "
            f"range {f.number(x['low'])} to {f.number(x['high'])}."
        )
    if kind == "rate":
        x = rec.facts
        return (
            f"{f.number(x['reoffenders'])} of {f.number(x['offenders'])} {fig.measure.lower()} offenders in the {fig.reading} cohort "
            f"(95% Wilson interval {100 * x['ci_low']:.1f}% to {100 * x['ci_high']:.1f}%)."
            + "".join(f" Cohort {cohort}: {100 * rate:.1f}%." for cohort, rate in x["others"].items())
        )
    if kind == "rate change":
        x = rec.facts
        return (
            f"{100 * x['previous_rate']:.1f}% in the {x['previous_cohort']} cohort to {100 * x['rate']:.1f}% in "
            f"{fig.reading}: {x['change_pp']:+.1f} percentage points ({f.p_value(rec.p_value)}, two-proportion test)."
        )
    return ""


def note(c: Comparison) -> str:
    """The note beside a figure: the assumptions its reading makes (the plan's assumptions log), then what the data
    shows, under that reading and the others (empty when the figure was not recomputed)."""
    if c.recomputed is None:
        return ""
    return " ".join(p for p in (c.figure.note, _data_note(c)) if p)


def source_text(rec: Recomputed) -> str:
    """'MPS_Borough_Level_Crime_Historical.csv (2010-04 to 2021-12); ...': each file and the period it covers."""

    def file(sid: str) -> str:
        src = source(sid)
        return src.month_file("YYYY-MM") if src.monthly else src.file

    return "; ".join(f"{file(s)} ({source(s).period})" for s in rec.source_ids)


def row(c: Comparison) -> dict:
    """The comparison as a table row (columns ROW_COLUMNS): plan value, recomputed value, difference, tolerance,
    source, verdict and note."""
    fig, rec = c.figure, c.recomputed
    return {
        "figure_id": fig.figure_id,
        "figure": fig.label,
        "unit": fig.unit,
        "period": c.period,
        "definition": rec.definition if rec else "",
        "plan_value": fig.plan_value,
        "plan_section": fig.plan_section,
        "recomputed": c.value,
        "difference": c.difference,
        "tolerance": c.tolerance,
        "first_published": math.nan if rec is None or is_missing(rec.first_published) else rec.first_published,
        "source": source_text(rec) if rec else "",
        "verdict": c.verdict,
        "note": note(c),
    }


def value_text(value: float, unit: str) -> str:
    """A figure's value in its unit: '-2.7%' for a change, '83%' for a percentage, '34,693' otherwise."""
    if unit == "per cent change":
        return f.pct(value)
    if unit == "per cent":
        return f"{value:.0f}%"
    return f.number(value)


def difference_text(value: float, unit: str) -> str:
    """'+0.3 points' for percentages and changes, '+36' for counts; empty when there is none."""
    if is_missing(value):
        return ""
    return f"{value:+.1f} points" if unit in ("per cent change", "per cent") else f"{value:+,.0f}"


def verdict_clause(verdict: str) -> str:
    """What the verdict means, as a clause after the data's value: 'the same at the plan's precision', 'a
    difference within the revisions of the source data between extracts, not an error', 'a difference larger
    than the revisions between extracts' or 'cannot be checked: ...' (the plan audit's rule, in words)."""
    kind = verdict_kind(verdict)
    if kind == MATCHES:
        return "the same at the precision the plan quotes"
    if kind == WITHIN_REVISION:
        return "a difference within the revisions of the source data between extracts, not an error"
    if kind == DIFFERS:
        return "a difference larger than the revisions between extracts"
    if kind == CANNOT:
        return verdict
    return NO_PLAN_VALUE


def sentence(r: dict) -> str:
    """A Markdown bullet setting one plan figure (a `row`) beside the data with the plan audit's verdict: '- **Adult
    proven reoffending rate**: the CSP plan (section) quotes 26% for 2020/21; the data give 27% for cohort Apr 2020
    to Mar 2021: the same at the precision the plan quotes.'"""
    quoted = f"the CSP plan ({f.md(r['plan_section'])}) quotes {value_text(r['plan_value'], r['unit'])}"
    if is_missing(r["recomputed"]):
        data = f"it {f.md(r['verdict'])}"
    else:
        data = (
            f"the data give {value_text(r['recomputed'], r['unit'])} for {f.md(r['period'])}: "
            f"{verdict_clause(r['verdict'])}"
        )
    note = f" {f.md(r['note'])}" if r["note"] else ""
    return f"- **{f.md(r['figure'])}**: {quoted}; {data}.{note}"


def change_sentences(comparisons: pd.DataFrame) -> str:
    """'The plan reports a decrease of 3 per cent in violence ...; the data give 8,799 to 8,560, -2.7%, the same at
    the precision the plan quotes (...)' per figure, with the plan audit's verdict."""
    out = []
    for r in comparisons.itertuples():
        plan_dir = "a decrease" if r.plan_pct < 0 else "an increase"
        when = (
            f"in {r.year} on the year before"
            if r.stated
            else f"on the previous year (the plan does not say which; read here as {r.year})"
        )
        text = (
            f"The CSP plan ({f.md(r.plan_section)}) reports {plan_dir} of {abs(r.plan_pct):g} per cent in "
            f"{f.md(r.measure).lower()} {when}; the data give {f.number(r.previous)} in "
            f"{previous_financial_year(r.year)} and {f.number(r.count)} in {r.year}, {f.pct(r.pct_change)} (a change "
            f"{'beyond' if r.significant else 'within'} chance, {f.p_value(r.p_value)}): "
            f"{verdict_clause(r.verdict)}."
        )
        if verdict_kind(r.verdict) == DIFFERS and verdict_kind(r.alternative_verdict) in (MATCHES, WITHIN_REVISION):
            text += (
                f" Read as {r.alternative} on {previous_financial_year(r.alternative)}, the data give "
                f"{f.pct(r.alternative_pct)} ({verdict_clause(r.alternative_verdict)}), so the plan's "
                "figure may describe that year."
            )
        out.append(text)
    if out:
        out.append("The plan's figures came from an earlier extract of the data, which later extracts revise.")
    return " ".join(out)
