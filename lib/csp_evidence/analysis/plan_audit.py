"""The plan comparator: any figure a CSP plan quotes, recomputed from the locked data, and one rule for its verdict.

A plan figure is a row of a plan table in data/plan/ (``data.plan``), which names what it measures: the recompute
`kind` (count, rank, change, survey share, rate, rate change, population, not open), the pack's `measure`, the
period `reading` and its `alternative`, the `source`. `recompute` turns any row into a value for any borough, and
`verdict` is the one rule every page applies to the plan's value and the recomputed one, so a figure reads the same
in the plan audit and in the chapter that quotes it (`compare`). The plan's words and the assumptions behind each
reading stay in the plan's files; the recompute kinds are in ``analysis.plan_recompute``, and the sentences about a
comparison are written in ``report.plan_words``.

The verdict rule (`verdict`), applied to the plan's value and the recomputed value:

* **matches**: the recomputed value, rounded as the plan rounds it, equals the plan's value. The plan's
  precision is read from the value it quotes: a whole number (``-3``) is matched by anything that rounds to
  it (``-2.7``), ``-0.13`` by anything within 0.005. Counts and ranks must be equal.
* **within revision**: not a match, but the difference is no larger than the revision tolerance
  (`tolerance`), or the value as first published (the July 2020 extract, the one nearest the plan) matches
  or is within it. MPS counts are revised with every monthly extract as crime records are reclassified or
  cancelled. Between the July 2020 extract and the 2022 extract, Tower Hamlets' 2019/20 counts moved by up
  to about 1% in categories of more than 1,000 offences and by up to about 10 offences in smaller ones
  (34,661 to 34,693 in total; knife or blade possession 122 to 130). So a count may differ by
  `revision_allowance` = max(1% of the count, 10 offences); a percentage change by max(1 percentage point,
  the points that allowance moves it: 100 x allowance(current count) / previous count); a rank by 1 place;
  a survey percentage by 1 point; a population by 1%. Differences of that size are expected and are not
  errors in the plan.
* **differs**: outside the tolerance. The note says what the data shows for other readings of the period.
* **cannot be checked: <data>**: the open data in the mirror does not hold the measure (the text names the
  missing file). A proxy may still be shown in the recomputed column; the note says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from csp_evidence.analysis.plan_recompute import (
    RECOMPUTE,
    SOURCE_MEASURES,
    Figure,
    MissingData,
    Reading,
    Recomputed,
    as_figure,
    recompute,
)
from csp_evidence.analysis.priorities import Measure
from csp_evidence.core.values import is_missing
from csp_evidence.data.plan import plan_definitions

# Recomputing a figure is plan_recompute's; its types and functions are part of the comparator's vocabulary, so
# callers import them from here.
__all__ = [
    "CANNOT",
    "DIFFERS",
    "MATCHES",
    "NO_PLAN_VALUE",
    "POINTS_TOLERANCE",
    "POPULATION_SHARE",
    "RANK_TOLERANCE",
    "RECOMPUTE",
    "REVISION_MIN_OFFENCES",
    "REVISION_SHARE",
    "SOURCE_MEASURES",
    "UNITS",
    "VERDICTS",
    "WITHIN_REVISION",
    "CHANGE_COLUMNS",
    "Comparison",
    "change_comparisons",
    "Figure",
    "MissingData",
    "Reading",
    "Recomputed",
    "as_figure",
    "compare",
    "compare_plan",
    "comparisons",
    "figure",
    "figures",
    "quoted_decimals",
    "recompute",
    "revision_allowance",
    "tolerance",
    "verdict",
    "verdict_kind",
]

REVISION_SHARE = 0.01  # a count may be revised by this share of itself between extracts...
REVISION_MIN_OFFENCES = 10  # ...or by this many offences, whichever is larger
POINTS_TOLERANCE = 1.0  # percentage points, for survey percentages and the least for percentage changes
RANK_TOLERANCE = 1  # places
POPULATION_SHARE = 0.01  # of a population estimate
UNITS = ("offences", "residents", "rank", "per cent", "per cent change")

MATCHES, WITHIN_REVISION, DIFFERS, CANNOT = "matches", "within revision", "differs", "cannot be checked"
NO_PLAN_VALUE = "no plan value"
VERDICTS = (MATCHES, WITHIN_REVISION, DIFFERS, CANNOT, NO_PLAN_VALUE)


# --------------------------------------------------------------------------- the verdict rule


def quoted_decimals(value: float) -> int:
    """Decimal places of a quoted value as the plan wrote it: -3 -> 0, -1.4 -> 1, -0.13 -> 2."""
    text = f"{float(value):.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def revision_allowance(count: float) -> float:
    """How far a count of offences may move between MPS extracts: max(1% of it, 10 offences)."""
    return max(REVISION_SHARE * abs(count), REVISION_MIN_OFFENCES)


def tolerance(plan_value: float, unit: str, counts: tuple[int, int] | None = None) -> float:
    """The revision tolerance for a figure, in its unit; `counts` = (previous, current) for a percentage change."""
    if unit == "offences":
        return revision_allowance(plan_value)
    if unit == "residents":
        return POPULATION_SHARE * abs(plan_value)
    if unit == "rank":
        return RANK_TOLERANCE
    if unit == "per cent":
        return POINTS_TOLERANCE
    if unit == "per cent change":
        if counts and counts[0] > 0:
            return max(POINTS_TOLERANCE, 100 * revision_allowance(counts[1]) / counts[0])
        return POINTS_TOLERANCE
    raise ValueError(f"unit {unit!r} has no revision tolerance; units: {', '.join(UNITS)}")


def _matches(plan_value: float, value: float, unit: str) -> bool:
    if unit in ("offences", "residents", "rank"):
        return round(value) == round(plan_value)
    half = 0.5 * 10 ** -quoted_decimals(plan_value)
    return abs(value - plan_value) <= half + 1e-9


def verdict(
    plan_value: float | None,
    value: float | None,
    unit: str,
    first_published: float | None = None,
    missing: str = "",
    counts: tuple[int, int] | None = None,
) -> str:
    """'matches', 'within revision', 'differs', 'cannot be checked: <data>' or 'no plan value' (rule: module doc).

    `counts` is (previous, current) behind a percentage change, for its tolerance.
    """
    if unit not in UNITS:
        raise ValueError(f"unit {unit!r} has no revision tolerance; units: {', '.join(UNITS)}")
    if missing:
        return f"{CANNOT}: {missing}"
    if is_missing(value):
        return f"{CANNOT}: no recomputed value"
    if is_missing(plan_value):
        return NO_PLAN_VALUE
    assert plan_value is not None and value is not None
    if _matches(plan_value, value, unit):
        return MATCHES
    allowed = tolerance(plan_value, unit, counts) + 1e-9
    if abs(value - plan_value) <= allowed:
        return WITHIN_REVISION
    if not is_missing(first_published) and (
        _matches(plan_value, float(first_published), unit) or abs(float(first_published) - plan_value) <= allowed  # type: ignore[arg-type]
    ):
        return WITHIN_REVISION
    return DIFFERS


def verdict_kind(text: str) -> str:
    """The verdict without its reason: 'cannot be checked: MoJ file' -> 'cannot be checked'."""
    return text.split(":")[0]


# --------------------------------------------------------------------------- the figures of a borough's plan


def figures(borough: str) -> tuple[Figure, ...]:
    """The figures audited for a borough: its own plan's rows, else the reference plan's without plan values."""
    return tuple(as_figure(i, row) for i, row in plan_definitions(borough).iterrows())


def figure(borough: str, figure_id: str) -> Figure:
    """One figure audited for a borough; the error lists the ids there are."""
    known = {fig.figure_id: fig for fig in figures(borough)}
    try:
        return known[figure_id]
    except KeyError:
        raise KeyError(f"the plan audit has no figure {figure_id!r}; figures: {', '.join(known)}") from None


# --------------------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class Comparison:
    """A plan figure beside its recomputed value, and the verdict of the one rule."""

    figure: Figure
    recomputed: Recomputed | None  # None when the data is missing (`missing` says which)
    missing: str  # why the figure cannot be checked ('' when it can)
    verdict: str

    @property
    def value(self) -> float:
        return self.recomputed.value if self.recomputed else math.nan

    @property
    def difference(self) -> float:
        return self.value - self.figure.plan_value

    @property
    def tolerance(self) -> float:
        if self.recomputed is None or is_missing(self.figure.plan_value):
            return math.nan
        return tolerance(self.figure.plan_value, self.figure.unit, self.recomputed.counts)

    @property
    def period(self) -> str:
        return self.recomputed.period if self.recomputed else self.figure.read_period


def compare(fig: Figure, borough: str, data: pd.DataFrame | None = None) -> Comparison:
    """The figure recomputed for a borough and judged against the plan's value by `verdict`."""
    try:
        rec: Recomputed | None = recompute(fig, borough, data)
    except MissingData as exc:
        rec, missing = None, str(exc)
    else:
        missing = fig.missing if fig.proxy else ""
    if is_missing(fig.plan_value) and missing:
        decision = f"{CANNOT}: {missing}"
    else:
        decision = verdict(
            fig.plan_value,
            rec.value if rec else None,
            fig.unit,
            rec.first_published if rec else None,
            missing,
            rec.counts if rec else None,
        )
    return Comparison(fig, rec, missing, decision)


def compare_plan(borough: str) -> list[Comparison]:
    """Every figure audited for a borough (`figures`), compared, in the plan table's order."""
    return [compare(fig, borough) for fig in figures(borough)]


def comparisons(
    borough: str, kind: str, source_ids: tuple[str, ...], measures: tuple[str, ...] = (), data=None
) -> list[Comparison]:
    """The comparisons of a borough's own plan rows of one kind from given sources (and measures, when given),
    proxies left out: what a chapter sets beside its own figures. Empty when the borough has no plan table."""
    wanted = [
        fig
        for fig in figures(borough)
        if not is_missing(fig.plan_value)
        and fig.kind == kind
        and fig.source in source_ids
        and not fig.proxy
        and (not measures or fig.measure in measures)
    ]
    return [compare(fig, borough, data) for fig in wanted]


# --------------------------------------------------------------------------- a chapter's changes beside the plan

CHANGE_COLUMNS = [
    "figure_id",
    "measure",
    "year",
    "stated",
    "plan_pct",
    "previous",
    "count",
    "pct_change",
    "p_value",
    "significant",
    "verdict",
    "alternative",
    "alternative_pct",
    "alternative_verdict",
    "plan_section",
    "plan_quote",
]


def change_comparisons(
    data: pd.DataFrame, borough: str, measures: Sequence[Measure], plan: pd.DataFrame
) -> pd.DataFrame:
    """Each change a borough's plan quotes for one of `measures`, beside the change recomputed from `data` (the table
    of the source that counts those measures), in the year the plan row reads it as, with the one verdict: what a
    chapter sets beside its own table of changes.

    `plan` is ``plan.plan_figures(borough)``; its rows of kind 'change' from the source counting `measures`, whose
    measure is one of them, are compared (proxies left out). Columns: CHANGE_COLUMNS: figure_id, measure, year,
    stated (the plan states the year), plan_pct, previous, count, pct_change, p_value, significant, verdict,
    alternative (the first other reading of the plan's words, a financial year, or empty), alternative_pct and
    alternative_verdict (its change and its verdict by the same rule), plan_section, plan_quote (no rows when the
    plan quotes none).
    """
    names = {m.name for m in measures}
    sources = [sid for sid, known in SOURCE_MEASURES.items() if names <= {m.name for m in known}]
    rows = []
    for figure_id, quoted in plan.iterrows():
        fig = as_figure(str(figure_id), quoted)
        if fig.kind != "change" or fig.proxy or fig.measure not in names or fig.source not in sources:
            continue
        c = compare(fig, borough, data)
        rec = c.recomputed
        assert rec is not None and rec.counts is not None
        alt = next((a for a in rec.alternatives if a.measure == fig.measure), None)
        alt_verdict = verdict(fig.plan_value, alt.pct_change, fig.unit, counts=(alt.previous, alt.count)) if alt else ""
        rows.append(
            {
                "figure_id": fig.figure_id,
                "measure": fig.measure,
                "year": fig.reading,
                "stated": fig.stated,
                "plan_pct": fig.plan_value,
                "previous": rec.counts[0],
                "count": rec.counts[1],
                "pct_change": rec.value,
                "p_value": rec.p_value,
                "significant": rec.significant,
                "verdict": c.verdict,
                "alternative": alt.year if alt else "",
                "alternative_pct": alt.pct_change if alt else float("nan"),
                "alternative_verdict": alt_verdict,
                "plan_section": fig.plan_section,
                "plan_quote": fig.plan_quote,
            }
        )
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)
