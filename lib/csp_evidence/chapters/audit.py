"""The plan audit page: a back-test of the figures a CSP plan quotes against the same figures recomputed from open data.

The figures are the rows of the borough's plan table in data/plan/ (``data.plan``); each names what it measures,
and ``analysis.plan_audit`` recomputes it for *any* borough from the locked sources and gives the verdict by its
one rule (matches, within revision, differs, cannot be checked; the rule is in that module's doc). A borough with
no plan table gets the reference plan's figures recomputed, with an empty plan column. Figures the open data cannot
reproduce name the data that is missing. The assumptions each reading makes are in the plan's assumptions log
beside its table (`assumptions_log`); the notes the audit shows come from there. This module composes the page:
the table, its display form, the findings and the key points.
"""

from __future__ import annotations

import pandas as pd

from csp_evidence.analysis import plan_audit
from csp_evidence.analysis.plan_audit import CANNOT, DIFFERS, MATCHES, VERDICTS, WITHIN_REVISION
from csp_evidence.core.paths import plan_dir
from csp_evidence.core.values import is_missing
from csp_evidence.data.plan import assumptions, assumptions_path
from csp_evidence.report import plan_words
from csp_evidence.report import words as f
from csp_evidence.report.key_points import KeyPoint, checked, section_id

COLUMNS = plan_words.ROW_COLUMNS


def audit_figure(borough: str, figure_id: str) -> dict:
    """One audit row for one figure, with the plan's value when the borough's plan quotes it."""
    return plan_words.row(plan_audit.compare(plan_audit.figure(borough, figure_id), borough))


def audit_table(borough: str) -> pd.DataFrame:
    """The plan audit for a borough: one row per figure of its plan table (or of the reference plan's, without
    plan values, when it has none), in the table's order. Columns: COLUMNS."""
    rows = [plan_words.row(c) for c in plan_audit.compare_plan(borough)]
    return pd.DataFrame(rows, columns=COLUMNS)


def assumptions_log(borough: str) -> str:
    """The assumptions and caveats log the borough's audit reads its notes from (the reference plan's for a
    borough with no plan table), as 'data/plan/<plan>-assumptions.md'; empty when the plan has none."""
    files = sorted({fig.plan_file for fig in plan_audit.figures(borough)})
    found = [assumptions_path(plan_dir() / name) for name in files if assumptions_path(plan_dir() / name).is_file()]
    return f"data/plan/{found[0].name}" if found else ""


def assumptions_table(borough: str) -> pd.DataFrame:
    """The entries of the assumptions log behind the borough's audit: id, assumption, figures, quality, impact and
    the note the audit shows. Empty when the plan has no log."""
    files = sorted({fig.plan_file for fig in plan_audit.figures(borough)})
    rows = [
        {
            "id": a.id,
            "assumption": a.title,
            "figures": ", ".join(a.figures),
            "quality": a.quality,
            "impact": a.impact,
            "note": a.note,
        }
        for name in files
        for a in assumptions(plan_dir() / name).values()
    ]
    return pd.DataFrame(rows, columns=["id", "assumption", "figures", "quality", "impact", "note"])


ASSUMPTION_LABELS = {
    "id": "Id",
    "assumption": "Assumption",
    "figures": "Figures",
    "quality": "Quality",
    "impact": "Impact",
    "note": "Note",
}


def assumptions_caption(borough: str) -> str:
    """The caption of the assumptions table: where the log is, and what its ratings mean."""
    return (
        f"The assumptions the audit's readings make, from the plan's assumptions and caveats log "
        f"({assumptions_log(borough)}): quality is how well founded a reading is, impact how much the verdict would "
        "change under the other reading (green, amber, red)."
    )


def method_text(borough: str) -> str:
    """How the verdicts are reached: where the plan's values and the recomputed ones come from, the rule and its
    tolerances (from ``analysis.plan_audit``), and the assumptions log the readings are recorded in."""
    files = sorted({fig.plan_file for fig in plan_audit.figures(borough) if not is_missing(fig.plan_value)})
    log = assumptions_log(borough)
    return (
        "Each figure is recomputed by the library's plan comparator (`csp_evidence.analysis.plan_audit`) from the "
        "locked official files, for any borough, as the plan table's row says: what kind of figure it is, the "
        "measure, the period it is read as and the source; the plan's values come only from the committed, reviewed "
        "plan table "
        + (f"(`data/plan/{files[0]}`), " if files else "(`data/plan/`; none is held for this borough), ")
        + "each row citing the plan's section and words. Every chapter that quotes one of these figures uses the "
        "same comparator, so it reads the same there. **Matches**: the recomputed value rounds to the plan's value "
        "at the precision the plan quotes (counts and ranks exactly). **Within revision**: the difference is no "
        "larger than the revisions seen between MPS extracts: a count by "
        f"max({plan_audit.REVISION_SHARE:.0%}, {plan_audit.REVISION_MIN_OFFENCES} offences), a percentage change by "
        f"max({plan_audit.POINTS_TOLERANCE:.0f} point, the points such a count revision moves it), a rank by "
        f"{plan_audit.RANK_TOLERANCE} place, a survey percentage by {plan_audit.POINTS_TOLERANCE:.0f} point, a "
        f"population by {plan_audit.POPULATION_SHARE:.0%}; or the value as first published (the July 2020 extract, "
        "nearest the plan) is. **Differs**: beyond that. **Cannot be checked**: the data is not open or not in the "
        "mirror (named). Where the plan names no period, the audit reads the figure as the financial year it sits "
        "beside, and the note gives the other reading."
        + (
            f" Each such reading is an assumption, recorded, rated and reviewed in the plan's assumptions and caveats "
            f"log (`{log}`), listed below; the notes in the CSV come from it."
            if log
            else ""
        )
    )


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many rows have each verdict ('cannot be checked: ...' counted together)."""
    kinds = table["verdict"].str.split(":").str[0]
    return {k: int((kinds == k).sum()) for k in VERDICTS}


def audit_findings(table: pd.DataFrame, borough: str) -> str:
    """Sentences summarising the audit: how many plan figures match, are within revision, differ or cannot be checked."""
    quoted = table[table["plan_value"].notna()]
    if quoted.empty:
        checked = int(table["recomputed"].notna().sum())
        return (
            f"No CSP plan table is held for {f.md(borough)}, so this page shows the {checked} figures recomputed "
            "from open data for the borough, ready to set beside its own plan's figures."
        )
    counts = verdict_counts(quoted)
    text = (
        f"The CSP plan for {f.md(borough)} quotes {len(quoted)} figures the audit knows: {counts[MATCHES]} match the "
        f"open data, {counts[WITHIN_REVISION]} are within the revisions expected between extracts, "
        f"{counts[DIFFERS]} differ and {counts[CANNOT]} cannot be checked because the data is not open or not in "
        "the mirror."
    )
    differ = quoted[quoted["verdict"] == DIFFERS]
    if len(differ):
        text += (
            " Those that differ: "
            + "; ".join(
                f"{f.md(r.figure).lower()} ({f.md(r.period)}: plan {plan_words.value_text(r.plan_value, r.unit)}, data "
                f"{plan_words.value_text(r.recomputed, r.unit)})"
                for r in differ.itertuples()
            )
            + "."
        )
    return text


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The audit as readers see it: figure, period, plan, recomputed, difference and verdict as formatted text."""

    def value(v, unit):
        return "" if is_missing(v) else plan_words.value_text(v, unit)

    return pd.DataFrame(
        {
            "Figure": table["figure"],
            "Period": table["period"],
            "Definition": table["definition"],
            "Plan": [value(v, u) for v, u in zip(table["plan_value"], table["unit"], strict=False)],
            "Open data": [value(v, u) for v, u in zip(table["recomputed"], table["unit"], strict=False)],
            "Difference": [
                plan_words.difference_text(v, u) for v, u in zip(table["difference"], table["unit"], strict=False)
            ],
            "Verdict": table["verdict"],
        }
    )


# --------------------------------------------------------------------------- key points (the top of the page)

SECTION = "The audit"


def key_points(table: pd.DataFrame, borough: str) -> list[KeyPoint]:
    """The audit page's key points: how many of the plan's figures match, are within revision, differ or cannot be
    checked, naming those that differ; for a borough with no plan table, what was recomputed."""
    anchor = section_id(SECTION)
    quoted = table[table["plan_value"].notna()]
    if quoted.empty:
        done = int(table["recomputed"].notna().sum())
        return checked(
            [
                KeyPoint(f"No CSP plan table is held for {borough}, so no plan figure is checked here.", anchor),
                KeyPoint(
                    f"{done} of the {len(table)} figures the audit knows are recomputed from open data for {borough}, "
                    "ready to set beside its own plan.",
                    anchor,
                ),
                KeyPoint(
                    f"{len(table) - done} cannot be recomputed from open data; each row names its source and period.",
                    anchor,
                ),
            ]
        )
    counts = verdict_counts(quoted)
    checkable = len(quoted) - counts[CANNOT]
    points = [
        KeyPoint(
            f"Of the {len(quoted)} figures the CSP plan quotes, the open data can check {checkable}: {counts[MATCHES]} "
            f"{f.agree(counts[MATCHES], 'matches', 'match')} and {counts[WITHIN_REVISION]} "
            f"{f.agree(counts[WITHIN_REVISION], 'is', 'are')} within the revisions between data extracts.",
            anchor,
        )
    ]
    differ = quoted[quoted["verdict"] == DIFFERS]
    if len(differ):
        named = [f"the {str(r.figure)[:1].lower()}{str(r.figure)[1:]}" for r in differ.itertuples()]
        which = f", among them {' and '.join(named[:2])}" if len(named) > 2 else f": {' and '.join(named)}"
        text = f"{len(differ)} of the plan's figures {f.agree(len(differ), 'differs', 'differ')} from the open data{which}."
    else:
        text = "None differs from the open data by more than the revisions between extracts."
    points.append(KeyPoint(text, anchor))
    cannot = counts[CANNOT]
    points.append(
        KeyPoint(
            f"{cannot} {f.agree(cannot, 'figure', 'figures')} cannot be checked, because the data behind "
            f"{f.agree(cannot, 'it', 'them')} is not published as open data."
            if cannot
            else "Every figure the plan quotes can be checked against open data.",
            anchor,
        )
    )
    return checked(points)
