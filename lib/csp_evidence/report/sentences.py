"""Sentences about recorded crime that more than one chapter writes: signals by category, the first lockdown
month, and a year's total against the figure the CSP plan quotes. Written from the numbers, never typed."""

from __future__ import annotations

import pandas as pd

from csp_evidence.analysis import plan_audit
from csp_evidence.analysis.plan_audit import DIFFERS, MATCHES, WITHIN_REVISION, verdict_kind
from csp_evidence.analysis.priorities import TOTAL
from csp_evidence.core.periods import LOCKDOWN_BASELINE_YEARS
from csp_evidence.data.sources import MPS_BOROUGH_HISTORICAL
from csp_evidence.report import words as f


def category_findings(table: pd.DataFrame, year: str) -> str:
    """Sentences naming the categories whose change on the previous year is a signal (|Z| > 3)."""

    up = table[table["signal"] & (table["change"] > 0)]
    down = table[table["signal"] & (table["change"] < 0)]

    def listing(rows: pd.DataFrame) -> str:
        return ", ".join(f"{f.md(r.category).lower()} ({f.pct(r.pct_change)})" for r in rows.itertuples())

    parts = []
    if len(up):
        parts.append(f"rose beyond chance in {listing(up)}")
    if len(down):
        parts.append(f"fell beyond chance in {listing(down)}")
    if not parts:
        return f"No major category changed in {year} by more than chance would explain (Poisson |Z| > 3)."
    return (
        f"In {year}, recorded crime " + "; and it ".join(parts) + " (a Poisson Z-score above 3 in size marks a signal)."
    )


def lockdown_summary(series: pd.Series, covid_start: str, baseline_years: int = LOCKDOWN_BASELINE_YEARS) -> dict:
    """The first full lockdown month (the month after `covid_start`) against the same month's average over prior years.

    Returns month, observed, baseline (mean of the same month in the `baseline_years` years before), pct_change,
    and a sentence and a chart title stating the finding.
    """
    month = pd.Timestamp(f"{covid_start}-01") + pd.offsets.MonthBegin(1)
    earlier = [month - pd.DateOffset(years=k) for k in range(1, baseline_years + 1)]
    missing = [m for m in [month, *earlier] if m not in series.index]
    if missing:
        raise ValueError(
            f"the series lacks month(s) {', '.join(f'{m:%Y-%m}' for m in missing)} needed for the lockdown comparison"
        )
    observed = int(series[month])
    baseline = float(series[earlier].mean())
    change = 100 * (observed / baseline - 1)
    direction = "fell" if change < 0 else "rose"
    size = "sharply " if abs(change) >= 20 else ""
    first, last = min(earlier), max(earlier)
    return {
        "month": f"{month:%Y-%m}",
        "observed": observed,
        "baseline": baseline,
        "pct_change": change,
        "title": f"Recorded crime {direction} {size}in the first lockdown",
        "sentence": (
            f"In {month:%B %Y}, the first full month of the first national lockdown, {f.number(observed)} offences "
            f"were recorded, {f.change_words(change, 'than')} the average {month:%B} of {first:%Y} to {last:%Y} "
            f"({f.number(baseline)})."
        ),
    }


def plan_comparison(borough: str, year: str, count: int, rank: int) -> str:
    """A sentence setting a year's total offences (and rank) against the borough's CSP plan, when it quotes them,
    as the plan audit reads and judges them (``analysis.plan_audit``). `count` and `rank` are the chapter's own
    figures, which must be the audit's: a mismatch is an error, not a second reading."""
    found = {}
    for kind in ("count", "rank"):
        for c in plan_audit.comparisons(borough, kind, (MPS_BOROUGH_HISTORICAL,), (TOTAL.name,)):
            if c.figure.reading == year:
                found[kind] = c
    if "count" not in found:
        return ""
    total = found["count"]
    if total.value != count:
        raise ValueError(
            f"the total {count} for {borough} in {year} is not the plan audit's {total.value:.0f}: one figure, two readings"
        )
    rank_text = f" and rank {int(found['rank'].figure.plan_value)}" if "rank" in found else ""
    difference = f"the difference of {f.number(total.difference)} offences"
    judged = {
        MATCHES: "the data give the same total.",
        WITHIN_REVISION: f"{difference} is a revision of the source data between extracts, not an error.",
        DIFFERS: f"{difference} is larger than the revisions between extracts (the plan audit's rule), so the "
        "figures differ.",
    }
    return (
        f" The CSP plan ({total.figure.plan_section}) quotes {f.number(total.figure.plan_value)}{rank_text} for "
        f"{year}; {judged.get(verdict_kind(total.verdict), total.verdict + '.')}"
    )


def covid_sentence(row: pd.Series) -> str:
    """'Drug trafficking: 473 offences in 2020/21 against 162 expected (95% interval 135 to 233), above ...'."""
    if row.get("note"):
        return f"{f.md(row['measure'])}: {row['note']}."
    verdict = f.interval_words(row["outside"], "predicts")
    return (
        f"{f.md(row['measure'])}: {f.number(row['observed'])} offences recorded in {row['year']} against "
        f"{f.number(row['expected'])} expected (95% interval {f.number(row['lower'])} to "
        f"{f.number(row['upper'])}), {f.pct(row['pct_difference'])}, {verdict}."
    )
