"""Key findings for the pack's home page, in words, from the headline JSON each chapter writes.

Each sentence is built from numbers a chapter computed and saved; a chapter that did not run, or a figure
it could not compute (too few offences to model, a source not provided), simply gives no sentence.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csp_evidence.report import words as f
from csp_evidence.report.headlines import read_headlines


def _month(quarter_end: str) -> str:
    """'2023-12-31' -> 'December 2023'."""
    return f"{pd.Timestamp(quarter_end):%B %Y}"


def _covid(name: str, c: dict | None) -> str | None:
    if not c or c.get("observed") is None or c.get("expected") is None:
        return None
    where = {
        "above": "above the range expected without the pandemic",
        "below": "below the range expected without the pandemic",
        "within": "within the range expected without the pandemic",
    }[c["outside"]]
    return (
        f"{name} in {c['year']}: {f.number(c['observed'])} recorded against {f.number(c['expected'])} expected "
        f"({f.number(c['lower'])} to {f.number(c['upper'])}), {where}."
    )


def key_findings(run_dir: Path | str) -> list[tuple[str, str]]:
    """(chapter page, sentence) pairs for the home page, in chapter order."""
    out: list[tuple[str, str]] = []
    ch1 = read_headlines(run_dir, "01_asb_neighbourhood")
    for key, name in (("drug_trafficking_covid", "Drug trafficking"), ("theft_covid", "Theft")):
        sentence = _covid(name, ch1.get(key))
        if sentence:
            out.append(("01_asb_neighbourhood.html", sentence))
    ch2 = read_headlines(run_dir, "02_hate_crime")
    if {"count", "previous", "headline_year", "change_pct"} <= ch2.keys():
        out.append(
            (
                "02_hate_crime.html",
                f"Racially or religiously aggravated public order offences: {f.number(ch2['count'])} in "
                f"{ch2['headline_year']} against {f.number(ch2['previous'])} the year before ({f.pct(ch2['change_pct'])})"
                + (
                    "."
                    if ch2.get("significant") is None
                    else f", {'beyond' if ch2['significant'] else 'within'} what chance alone would produce."
                ),
            )
        )
    ch4 = read_headlines(run_dir, "04_violence_exploitation")
    vap = ch4.get("violence_against_the_person_change")
    if vap and vap.get("pct_change") is not None:
        out.append(
            (
                "04_violence_exploitation.html",
                f"Violence against the person: {f.number(vap['count'])} offences in {vap['to_year']} against "
                f"{f.number(vap['previous'])} in {vap['from_year']} ({f.pct(vap['pct_change'])}), "
                f"{'beyond' if vap['significant'] else 'within'} what chance alone would produce.",
            )
        )
    ch5 = read_headlines(run_dir, "05_confidence").get("treat_fairly")
    if ch5 and ch5.get("latest") is not None:
        out.append(
            (
                "05_confidence.html",
                f"Residents who say the police treat everyone fairly: {100 * ch5['latest']:.0f}% in the year to "
                f"{_month(ch5['latest_quarter'])}, against {100 * ch5['baseline']:.0f}% in the year to "
                f"{_month(ch5['baseline_quarter'])} and the plan's target of {100 * ch5['target']:.0f}% ({ch5['status']}).",
            )
        )
    audit = read_headlines(run_dir, "99_plan_audit")
    verdicts = audit.get("verdicts") or {}
    if audit.get("plan_figures_quoted"):
        out.append(
            (
                "99_plan_audit.html",
                f"Of the {audit['plan_figures_quoted']} figures the CSP plan quotes, {verdicts.get('matches', 0)} "
                f"match the open data, {verdicts.get('within revision', 0)} are within the revisions between "
                f"extracts, {verdicts.get('differs', 0)} differ and {verdicts.get('cannot be checked', 0)} cannot "
                "be checked from open data.",
            )
        )
    return out
