"""Hate crime for the chapter on plan priority 2: what the open recorded-crime data shows, and what it cannot.

The MPS borough recorded-crime files hold one hate-related category: the CRIS minor category 'Racially or
Religiously Aggravated Public Fear, Alarm or Distress' (`priorities.HATE`). Hate crime by strand (racist,
faith, antisemitic, islamophobic, homophobic, disability, transgender) is published only in the MPS
Monthly Crime Dashboard's 'Other Crime Data', which is not in the data mirror: the chapter says so and names
the file that would fill the gap.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis.priorities import HATE
from csp_evidence.analysis.summaries import london_rates, totals_by_year
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.report import words as f

MEASURE = HATE[0]
STRANDS = ("racist", "faith", "antisemitic", "islamophobic", "homophobic", "disability", "transgender")
DASHBOARD_PAGE = "https://data.london.gov.uk/dataset/mps-monthly-crime-dahboard-data"
DASHBOARD_FILES = (
    "MPS_MonthlyCrimeDashboard_OtherCrimeData.csv",
    "M1045_MonthlyCrimeDashboard_OtherCrimeData.csv",
    "MPS_BoroughSNT_OtherCrimeDatafyYY-YY.csv",
)


def by_year(crime: pd.DataFrame, borough: str, years: Sequence[str]) -> pd.DataFrame:
    """Racially or religiously aggravated public fear offences per financial year: count, change, rank, rate (summaries.totals_by_year)."""
    return totals_by_year(crime, borough, years, categories=MEASURE.categories, level="minor_category")


def london(crime: pd.DataFrame, year: str) -> pd.DataFrame:
    """Each borough's racially or religiously aggravated public fear offences and rate per 1,000 in a financial year."""
    return london_rates(crime, year, categories=MEASURE.categories, level="minor_category")


def missing_strands_note() -> str:
    """Markdown: hate crime by strand is not in the mirror, and which official file would fill the gap."""
    return (
        "**Hate crime by strand is not shown: its source is not in the data mirror.** The MPS publishes "
        f"hate crime by strand ({', '.join(STRANDS)}) by borough and month only in the *MPS Monthly Crime "
        "Dashboard Data* on the London Datastore, in its 'Other Crime Data' file "
        f"(`{DASHBOARD_FILES[0]}`; later `{DASHBOARD_FILES[1]}`; older yearly files "
        f"`{DASHBOARD_FILES[2]}`), Open Government Licence v3.0, <{DASHBOARD_PAGE}>. No copy of it was found "
        "for the mirror. Until it is added, this chapter uses the one hate-related category in the MPS "
        f"recorded-crime files, *{f.md(MEASURE.name.lower())}* (CRIS minor category "
        f"'{f.md(MEASURE.categories[0])}…', cut at 50 characters by the publisher). It is a proxy: it counts "
        "public order offences with racial or religious aggravation, not all hate crime (it leaves out, for "
        "example, racially aggravated assault and criminal damage, and every homophobic, disability and "
        "transgender hate crime), so its level and trend can differ from the plan's hate crime figures."
    )


def year_sentence(table: pd.DataFrame, borough: str, year: str) -> str:
    """The headline year's count against the year before (with significance), its rate and rank in London."""
    r = table.set_index("financial_year").loc[year]
    text = ""
    if "previous" in r and r["previous"] == r["previous"]:
        text = (
            f.change_sentence(
                f"In {borough}, {MEASURE.name.lower()}",
                int(r["count"]),
                int(r["previous"]),
                r["pct_change"],
                bool(r["significant"]),
                r["p_value"],
                year,
                previous_financial_year(year),
            )
            + " "
        )
    return text + (
        f"That is {r['rate']:.2f} offences per 1,000 residents against {r['london_rate']:.2f} for London; "
        f"by count, the {f.ordinal(int(r['rank']))} highest of {int(r['ranked'])} boroughs."
    )


def trend_sentence(table: pd.DataFrame) -> str:
    """First against last year of the table, and the years whose change on the year before was a signal (|Z| > 3)."""
    first, last = table.iloc[0], table.iloc[-1]
    change = 100 * (last["count"] / first["count"] - 1) if first["count"] else float("nan")
    text = (
        f"From {first['financial_year']} to {last['financial_year']} the count went from "
        f"{f.number(first['count'])} to {f.number(last['count'])} ({f.pct(change)})."
    )
    signals = table[table.get("signal", pd.Series(False, index=table.index)).fillna(False).astype(bool)]
    if len(signals):
        text += (
            " Changes on the year before beyond what chance alone would produce (Poisson |Z| > 3): "
            + ", ".join(f"{r.financial_year} ({f.pct(r.pct_change)})" for r in signals.itertuples())
            + "."
        )
    else:
        text += " No change on the year before was beyond chance (Poisson |Z| > 3)."
    return text


def plan_sentence(audit_row: dict) -> str:
    """The plan's hate crime change beside the proxy's, from a row of `audit.audit_table` (empty if no plan value)."""
    if audit_row["plan_value"] != audit_row["plan_value"]:
        return ""
    proxy = (
        f"; the proxy here changed by {f.pct(audit_row['recomputed'])} over {f.md(audit_row['period'])}"
        if audit_row["recomputed"] == audit_row["recomputed"]
        else ""
    )
    verb = "fell" if audit_row["plan_value"] < 0 else "rose"
    return (
        f"The CSP plan ({f.md(audit_row['plan_section'])}) reports that hate crime {verb} by "
        f"{abs(audit_row['plan_value']):.1f}% on the previous year{proxy}. The two are different measures, so the "
        "plan's figure cannot be checked against open data until the strand file is added (see the plan audit)."
    )
