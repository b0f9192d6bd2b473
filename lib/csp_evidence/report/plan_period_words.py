"""The sentences of chapter 06, the plan period: each measure's change over the plan beside London's with its
verdict, each priority's verdict, the survey measures over the plan, the extract revisions and what the chapter
cannot measure. The numbers are ``analysis.plan_period``'s."""

from __future__ import annotations

import pandas as pd

from csp_evidence.analysis import plan_period as pp
from csp_evidence.report import words as f


def revision_sentence(revisions: pd.DataFrame, borough: str) -> str:
    """How much the latest extract revised the months two CONNECT-era extracts hold."""
    if revisions.empty:
        return ""
    first, last = revisions["month"].min(), revisions["month"].max()
    return (
        "Each month comes from the latest extract that holds it. Two extracts hold "
        f"{first:%B %Y} to {last:%B %Y}; the later one revised {f.md(borough)}'s monthly totals by "
        f"{f.number(revisions['revision'].min())} to {f.number(revisions['revision'].max())} offences "
        f"({f.pct(revisions['pct_revision'].min())} to {f.pct(revisions['pct_revision'].max())}), and London's by "
        f"{f.pct(revisions['pct_revision_london'].min())} to {f.pct(revisions['pct_revision_london'].max())}: "
        "recent months grow as more offences are recorded. The later extract also moves stalking and harassment out "
        "of violence without injury; the measures count them where the earlier extracts did."
    )


_WORDS = {
    pp.IMPROVED: "improved relative to London",
    pp.WORSENED: "worsened relative to London",
    pp.NO_CLEAR: "no clear change relative to London",
    pp.NOT_TESTED: "not tested (too few offences)",
    pp.NOT_JUDGED: "not judged (found mostly by police activity)",
    "mixed": "mixed relative to London",
}


def verdict_words(verdict: str) -> str:
    """A verdict as the page says it: 'improved relative to London', 'no clear change relative to London'..."""
    return _WORDS[verdict]


def measure_sentence(row: pd.Series, borough: str, prefix: str = "plan_") -> str:
    """One measure's change from the start to the end year beside London's, and the verdict relative to London."""
    start, end = row[f"{prefix}start"], row[f"{prefix}end"]
    name = f.md(row["measure"])
    if row[f"{prefix}verdict"] == pp.NOT_TESTED:
        return (
            f"**{name}**: {f.number(row[f'{prefix}count_start'])} in {start} and "
            f"{f.number(row[f'{prefix}count_end'])} in {end}; too few offences to test."
        )
    own = "beyond chance" if row[f"{prefix}significant"] else "within chance"
    relative = (
        f"{'lower' if row[f'{prefix}ratio_of_ratios'] < 1 else 'higher'} than the rest of London's by "
        f"{f.pct(abs(100 * (row[f'{prefix}ratio_of_ratios'] - 1)), signed=False)} "
        f"({'beyond' if row[f'{prefix}rel_significant'] else 'within'} chance, {f.p_value(row[f'{prefix}rel_p_value'])})"
    )
    if row[f"{prefix}verdict"] == pp.NOT_JUDGED:
        return (
            f"**{name}**: {f.number(row[f'{prefix}count_start'])} in {start}, {f.number(row[f'{prefix}count_end'])} "
            f"in {end} ({f.pct(row[f'{prefix}pct_change'])}, {own}); London {f.pct(row[f'{prefix}london_pct_change'])}. "
            f"{f.md(borough)}'s rate ratio was {relative}. These offences are found mostly by police activity, so the "
            "change measures enforcement as much as crime: not judged better or worse."
        )
    return (
        f"**{name}**: {verdict_words(row[f'{prefix}verdict'])}. {f.number(row[f'{prefix}count_start'])} in {start}, "
        f"{f.number(row[f'{prefix}count_end'])} in {end} ({f.pct(row[f'{prefix}pct_change'])}, {own}); London "
        f"{f.pct(row[f'{prefix}london_pct_change'])}. {f.md(borough)}'s rate ratio was {relative}."
    )


def findings(table: pd.DataFrame, priorities_table: pd.DataFrame, borough: str, prefix: str = "plan_") -> str:
    """Markdown: each priority's verdict, then a bullet per measure."""
    out = []
    for row in priorities_table.to_dict("records"):
        others = [
            f"{row[key]} {words}"
            for key, words in (
                (pp.NOT_TESTED, "too few to test"),
                (pp.NOT_JUDGED, "found by police activity, not judged"),
            )
            if row.get(key)
        ]
        out.append(
            f"**{f.md(row['priority'])}: {verdict_words(row['verdict'])}** ({row[pp.IMPROVED]} of {row['measures']} "
            f"measures improved and {row[pp.WORSENED]} worsened relative to London; {row[pp.NO_CLEAR]} showed no "
            f"clear change{''.join(f'; {o}' for o in others)})."
        )
        for _, m in table[table["priority"] == row["priority"]].iterrows():
            out.append(f"- {measure_sentence(m, borough, prefix)}")
        out.append("")
    return "\n".join(out)


def not_measured_sentence(missing: pd.DataFrame) -> str:
    """What the chapter cannot measure for the plan's years, and why."""
    items = [f"{f.md(r.measure)} ({f.md(r.priority)}): {f.md(r.why)}" for r in missing.itertuples()]
    return "Not measured here: " + "; ".join(items) + "." if items else ""


def confidence_findings(table: pd.DataFrame, borough: str) -> str:
    """A bullet per survey measure: its change over the plan, London's, and the verdict relative to London."""
    out = []
    for r in table.itertuples():
        out.append(
            f"- **{f.md(r.measure)}**: {verdict_words(r.verdict)}. {r.start:.0%} in the 12 "
            f"months to {r.start_quarter:%B %Y}, {r.end:.0%} to {r.end_quarter:%B %Y} "
            f"({r.change_pp:+.0f} points, {'beyond' if r.significant else 'within'} chance); London "
            f"{r.london_change_pp:+.0f} points; the difference, {r.gap_change_pp:+.0f} points, is "
            f"{'beyond' if r.rel_significant else 'within'} chance ({f.p_value(r.rel_p_value)})."
        )
    return "\n".join(out)


def against_london(pct: float, london_pct: float, verdict: str) -> str:
    """How a borough's change compares with London's, in words that say which way each moved: 'a smaller rise than
    London's', 'a larger fall than London's', 'a fall while London rose', 'no clearer change than London's'...
    `verdict` is the test of the borough against the rest of London (improved, worsened or no clear change)."""
    if verdict not in (pp.IMPROVED, pp.WORSENED):
        return "no clear difference from London's"
    better = verdict == pp.IMPROVED
    if pct >= 0 and london_pct >= 0:
        return "a smaller rise than London's" if better else "a larger rise than London's"
    if pct < 0 and london_pct < 0:
        return "a larger fall than London's" if better else "a smaller fall than London's"
    if pct < 0:
        return "a fall while London rose" if better else "a worse change than London's"
    return "a rise while London fell" if not better else "a better change than London's"
