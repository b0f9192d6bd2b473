"""Key findings for the pack's home page, in words, from the headline JSON each chapter writes.

Each sentence is built from numbers a chapter computed and saved; a chapter that did not run, or a figure
it could not compute (too few offences to model, a source not provided), simply gives no sentence.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csp_evidence.core.periods import previous_financial_year
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


def _change(name: str, m: dict, year: str, previous_year: str) -> str:
    return (
        f"{name}: {f.number(m['count'])} offences in {year} against {f.number(m['previous'])} in {previous_year} "
        f"({f.pct(m['pct_change'])}), {'beyond' if m['significant'] else 'within'} what chance alone would produce."
    )


def _hate(ch2: dict) -> list[str]:
    """The racist and religious strand's change, the strands that changed beyond chance, and summer 2020."""
    strands, year = ch2.get("strands") or {}, ch2.get("strand_year")
    out = []
    rr = strands.get("Racist and religious hate crime")
    if rr and year and not rr.get("small") and rr.get("pct_change") is not None:
        out.append(
            f"Racist and religious hate crime: {f.number(rr['count'])} offences in {year} against "
            f"{f.number(rr['previous'])} the year before ({f.pct(rr['pct_change'])}), "
            f"{'beyond' if rr['significant'] else 'within'} what chance alone would produce; "
            f"{rr['rate']:.2f} per 1,000 residents against London's {rr['london_rate']:.2f}."
        )
    beyond = [(n, m) for n, m in strands.items() if not m.get("small") and m.get("significant")]
    if beyond:
        out.append(
            f"Hate crime strands that changed beyond chance in {year}: "
            + ", ".join(f"{n.removesuffix(' hate crime').lower()} ({f.pct(m['pct_change'])})" for n, m in beyond)
            + "."
        )
    summer = (ch2.get("racist_and_religious_covid") or {}).get("summer_2020")
    if summer:
        where = {"above": "above", "below": "below", "within": "within"}[summer["outside"]]
        out.append(
            f"Racist and religious hate crime in summer 2020 (June to August): {f.number(summer['observed'])} recorded "
            f"against {f.number(summer['expected'])} expected ({f.number(summer['lower'])} to "
            f"{f.number(summer['upper'])}), {where} the range expected without the pandemic."
        )
    return out


def _special(ch4: dict) -> list[str]:
    """Domestic abuse in the lockdowns against its expected level, and the change in knife crime."""
    out = []
    borough = ch4.get("borough")
    lockdowns = [
        r
        for r in ch4.get("domestic_abuse_lockdowns") or []
        if r["area"] == borough
        and r["measure"] == "Domestic abuse"
        and r["period"] in ("First lockdown", "Second and third lockdowns")
    ]
    if lockdowns:
        out.append(
            "Domestic abuse in the lockdowns: "
            + "; ".join(
                f"{f.number(r['observed'])} offences in the {r['period'].lower()} ({r['months']}) against "
                f"{f.number(r['expected'])} expected, {r['outside']} the range expected without the pandemic"
                for r in lockdowns
            )
            + "."
        )
    knife, year = (ch4.get("special_measures") or {}).get("Knife crime"), ch4.get("special_year")
    if knife and year and not knife.get("small") and knife.get("pct_change") is not None:
        out.append(_change("Knife crime", knife, year, previous_financial_year(year)))
    return out


def key_findings(run_dir: Path | str) -> list[tuple[str, str]]:
    """(chapter page, sentence) pairs for the home page, in chapter order."""
    out: list[tuple[str, str]] = []
    ch1 = read_headlines(run_dir, "01_asb_neighbourhood")
    for key, name in (("drug_trafficking_covid", "Drug trafficking"), ("theft_covid", "Theft")):
        sentence = _covid(name, ch1.get(key))
        if sentence:
            out.append(("01_asb_neighbourhood.html", sentence))
    ch2 = read_headlines(run_dir, "02_hate_crime")
    out.extend(("02_hate_crime.html", sentence) for sentence in _hate(ch2))
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
    out.extend(("04_violence_exploitation.html", sentence) for sentence in _special(ch4))
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
