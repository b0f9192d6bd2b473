"""The plan audit: a back-test of the figures a CSP plan quotes against the same figures recomputed from open data.

Each figure the audit knows is a `Figure` in `FIGURES`: an id (the `figure_id` of the committed plan table in
data/plan/), a definition (unit, period, what is counted) and a function that recomputes it for *any* borough
from the locked sources. The plan's values come only from `plan.plan_figures`; a borough with no plan table
gets the recomputed values and an empty plan column. Figures the open data cannot reproduce name the data
that is missing.

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

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from csp_evidence.analysis.priorities import HATE_STRANDS, SPECIAL, TOTAL, VIOLENCE, Measure
from csp_evidence.analysis.reoffending import reoffending_rates
from csp_evidence.analysis.stats.change import compare_counts
from csp_evidence.analysis.summaries import (
    first_published,
    measure_table,
    totals_by_year,
)
from csp_evidence.analysis.survey import value_at
from csp_evidence.core.periods import financial_year_months, previous_financial_year
from csp_evidence.data import datasets, geo
from csp_evidence.data.plan import plan_figures
from csp_evidence.data.readers.policeuk import ASB
from csp_evidence.data.sources import source
from csp_evidence.report import words as f
from csp_evidence.report.key_points import KeyPoint, checked, section_id

REVISION_SHARE = 0.01  # a count may be revised by this share of itself between extracts...
REVISION_MIN_OFFENCES = 10  # ...or by this many offences, whichever is larger
POINTS_TOLERANCE = 1.0  # percentage points, for survey percentages and the least for percentage changes
RANK_TOLERANCE = 1  # places
POPULATION_SHARE = 0.01  # of a population estimate
UNITS = ("offences", "residents", "rank", "per cent", "per cent change")

MATCHES, WITHIN_REVISION, DIFFERS, CANNOT = "matches", "within revision", "differs", "cannot be checked"
NO_PLAN_VALUE = "no plan value"

EXTRACT_2020 = "mps_borough_extract_2020_07"

MISSING = {
    "asb": (
        "MPS ASB calls by borough not in the mirror; police.uk street-level ASB (source policeuk_street_asb) "
        "not provided"
    ),
    "victims_u24": (
        "knife crime injury victims under 24: no open file in the mirror counts victims by age and borough"
    ),
    "modern_slavery": "modern slavery offences: no such category in the MPS borough recorded-crime files",
    "moj": "MoJ proven reoffending by local authority (source moj_proven_reoffending) not provided",
}


class MissingData(Exception):
    """The data a figure needs is not in the mirror; the message names it."""


@dataclass(frozen=True)
class Recomputed:
    """A figure recomputed from the locked data, with where it came from."""

    value: float
    period: str
    source_ids: tuple[str, ...]
    measure: str  # what was counted, in words: the definition the figure is read under
    first_published: float | None = None  # as in the July 2020 extract, where that covers the period
    note: str = ""
    proxy: bool = False  # a related measure, not the plan's: the verdict is 'cannot be checked'
    counts: tuple[int, int] | None = None  # (previous, current) behind a percentage change


@dataclass(frozen=True)
class Figure:
    """A figure the audit can set beside the plan: its id, label, unit, period and how to recompute it."""

    figure_id: str
    label: str
    unit: str
    period: str
    recompute: Callable[[str], Recomputed] = field(repr=False)
    missing: str = ""  # non-empty: the data it needs is not in the default mirror (optional, or not open at all)


# --------------------------------------------------------------------------- verdict rule


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
    if value is None or _isnan(value):
        return f"{CANNOT}: no recomputed value"
    if plan_value is None or _isnan(plan_value):
        return NO_PLAN_VALUE
    if _matches(plan_value, value, unit):
        return MATCHES
    allowed = tolerance(plan_value, unit, counts) + 1e-9
    if abs(value - plan_value) <= allowed:
        return WITHIN_REVISION
    if (
        first_published is not None
        and not _isnan(first_published)
        and (_matches(plan_value, first_published, unit) or abs(first_published - plan_value) <= allowed)
    ):
        return WITHIN_REVISION
    return DIFFERS


def _isnan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


# --------------------------------------------------------------------------- recompute functions


@functools.cache
def _crime() -> pd.DataFrame:
    return datasets.recorded_crime()


def _measure(name: str) -> Measure:
    for m in (TOTAL, *VIOLENCE):
        if m.name == name:
            return m
    raise KeyError(f"no priority measure named {name!r}")


def _change(borough: str, measure: Measure, year: str) -> dict:
    return measure_table(_crime(), borough, year, [measure]).iloc[0].to_dict()


def _crime_sources(year: str) -> tuple[str, ...]:
    return ("mps_borough_historical",) if year <= "2020/21" else ("mps_borough_historical", "mps_borough_recent")


def change_on_previous_year(
    measure_name: str, year: str, other_year: str | None = None, proxy: bool = False, note: str = ""
) -> Callable[[str], Recomputed]:
    """A recompute function: per cent change of a measure in `year` on the year before, for any borough.

    With `other_year`, the note also gives the change in that year (another reading of an undated plan figure).
    """
    measure = _measure(measure_name)

    def recompute(borough: str) -> Recomputed:
        row = _change(borough, measure, year)
        text = (
            f"{f.number(row['count'])} offences in {year} against {f.number(row['previous'])} in "
            f"{previous_financial_year(year)}."
        )
        if other_year:
            alt = _change(borough, measure, other_year)
            text += f" Read as {other_year} on {previous_financial_year(other_year)}: {f.pct(alt['pct_change'])}."
        return Recomputed(
            float(row["pct_change"]),
            f"{year} on {previous_financial_year(year)}",
            _crime_sources(year),
            measure.name,
            note=" ".join(p for p in (note, text) if p),
            proxy=proxy,
            counts=(int(row["previous"]), int(row["count"])),
        )

    return recompute


SPECIAL_SOURCE = "mps_hate_special"


@functools.cache
def _special() -> pd.DataFrame:
    return datasets.hate_special_crime()


def _special_measure(name: str) -> Measure:
    for m in (*HATE_STRANDS, *SPECIAL):
        if m.name == name:
            return m
    raise KeyError(f"no hate or special crime measure named {name!r}")


def _special_change(borough: str, name: str, year: str) -> dict:
    return measure_table(_special(), borough, year, [_special_measure(name)]).iloc[0].to_dict()


def special_change(
    measure_name: str,
    year: str,
    others: tuple[tuple[str, str], ...] = (),
    definition: str = "",
    proxy: bool = False,
    note: str = "",
) -> Callable[[str], Recomputed]:
    """A recompute function: per cent change in `year` on the year before of a measure of the MPS hate crime or special
    crime file (`priorities.HATE_STRANDS`, `priorities.SPECIAL`), for any borough.

    `others` are (measure, year) pairs whose change the note also gives: other readings of the plan's words.
    `definition` says what is counted (default: the MPS flag).
    """
    measure = _special_measure(measure_name)

    def recompute(borough: str) -> Recomputed:
        row = _special_change(borough, measure.name, year)
        text = (
            f"{f.number(row['count'])} offences in {year} against {f.number(row['previous'])} in "
            f"{previous_financial_year(year)}."
        )
        for other, other_year in others:
            alt = _special_change(borough, other, other_year)
            text += (
                f" Read as {other.lower()} in {other_year} on {previous_financial_year(other_year)}: "
                f"{f.number(alt['previous'])} to {f.number(alt['count'])}, {f.pct(alt['pct_change'])}."
            )
        return Recomputed(
            float(row["pct_change"]),
            f"{year} on {previous_financial_year(year)}",
            (SPECIAL_SOURCE,),
            definition or f"offences the MPS flags '{measure.categories[0]}'",
            note=" ".join(p for p in (note, text) if p),
            proxy=proxy,
            counts=(int(row["previous"]), int(row["count"])),
        )

    return recompute


HATE_TOTAL_DEFINITION = (
    "Read as racist and religious hate crime, the MPS strand taken for the plan's hate crime total. No total is "
    "formed across strands: an offence can carry several strand flags, so adding strands would count it more "
    "than once, and the file holds no de-duplicated total. Racist and religious hate crime is by far the broadest "
    "strand and includes religiously motivated offences, and the plan sets homophobic hate crime apart from the "
    "total ('Total hate crime has reduced but there was a notable 35 per cent increase homophobic hate')."
)


def total_offences(year: str) -> Callable[[str], Recomputed]:
    """A recompute function: a borough's total recorded offences in a financial year, and as first published."""

    def recompute(borough: str) -> Recomputed:
        row = totals_by_year(_crime(), borough, [year]).iloc[0]
        first = first_published(borough, year)
        note = f"As first published in the {first['extract']} extract: {f.number(first['count'])}." if first else ""
        return Recomputed(
            float(row["count"]),
            year,
            (*_crime_sources(year), *([EXTRACT_2020] if first else [])),
            "all recorded offences",
            first["count"] if first else None,
            note,
        )

    return recompute


def total_rank(year: str) -> Callable[[str], Recomputed]:
    """A recompute function: a borough's rank of 32 by total recorded offences (1 = most), and as first published."""

    def recompute(borough: str) -> Recomputed:
        row = totals_by_year(_crime(), borough, [year]).iloc[0]
        first = first_published(borough, year)
        note = f"As first published in the {first['extract']} extract: rank {first['rank']}." if first else ""
        return Recomputed(
            float(row["rank"]),
            year,
            (*_crime_sources(year), *([EXTRACT_2020] if first else [])),
            f"rank of {row['ranked']} by all recorded offences",
            first["rank"] if first else None,
            note,
        )

    return recompute


def pas_value(measure: str, quarter: str) -> Callable[[str], Recomputed]:
    """A recompute function: a Public Attitude Survey measure (per cent agreeing) at a quarter end."""

    def recompute(borough: str) -> Recomputed:
        value = 100 * value_at(datasets.public_attitudes(), borough, measure, quarter)
        q = pd.Timestamp(quarter)
        return Recomputed(round(value, 6), f"12 months to {q:%B %Y}", ("mopac_pas",), f"PAS: {measure}")

    return recompute


def population(year: int) -> Callable[[str], Recomputed]:
    """A recompute function: ONS mid-year population estimate of a borough (the revised, Census-2021-based series)."""

    def recompute(borough: str) -> Recomputed:
        pop = geo.population_by_year([geo.check_borough(borough)]).set_index("year")["population"]
        note = (
            f"ONS's revised series (consistent with Census 2021); mid-{pop.index.min()} to mid-{pop.index.max()} "
            f"range {f.number(pop.min())} to {f.number(pop.max())}. The pre-Census-2021 estimates that were "
            "current when the plan was written were higher for many inner London boroughs; the plan does not "
            "name its source (possibly a GLA projection)."
        )
        return Recomputed(float(pop[year]), f"mid-{year}", ("ons_population",), "ONS mid-year estimate", note=note)

    return recompute


ASB_SOURCE = "policeuk_street_asb"


def asb_change(year: str, other_year: str | None = None) -> Callable[[str], Recomputed]:
    """A recompute function: per cent change in ASB incidents recorded by the police (police.uk street files) in
    `year` on the year before; MissingData while the files are not provided or do not cover both years."""

    def totals(tidy: pd.DataFrame, borough: str, fy: str) -> int:
        months = financial_year_months(fy)
        missing = months.difference(pd.DatetimeIndex(tidy["month"].unique()))
        if len(missing):
            raise MissingData(
                f"police.uk street files for {fy} (source {ASB_SOURCE}): {len(missing)} month(s) not provided, "
                f"first {missing[0]:%Y-%m}"
            )
        rows = tidy[(tidy["borough"] == borough) & (tidy["crime_type"] == ASB) & tidy["month"].isin(months)]
        return int(rows["count"].sum())

    def recompute(borough: str) -> Recomputed:
        tidy = datasets.asb_incidents()
        if tidy is None:
            raise MissingData(MISSING["asb"])
        before = previous_financial_year(year)
        change = compare_counts(totals(tidy, borough, before), totals(tidy, borough, year))
        note = (
            f"{f.number(change.current)} ASB incidents in {year} against {f.number(change.previous)} in {before} "
            f"({f.p_value(change.p_value)}). Where the plan names no period, read as {year}."
        )
        if other_year:
            try:
                alt = compare_counts(
                    totals(tidy, borough, previous_financial_year(other_year)), totals(tidy, borough, other_year)
                )
                note += f" Read as {other_year} on {previous_financial_year(other_year)}: {f.pct(alt.pct_change)}."
            except MissingData:
                pass
        return Recomputed(
            float(change.pct_change),
            f"{year} on {before}",
            (ASB_SOURCE,),
            "ASB incidents recorded by the police (police.uk street-level data, crime type 'Anti-social behaviour')",
            note=note,
            counts=(change.previous, change.current),
        )

    return recompute


PLAN_COHORT = "Apr 2020 to Mar 2021"  # the plan's '2020/21', read as the 12-month cohort of that financial year


def _adult_rates(borough: str) -> pd.DataFrame:
    tidy = datasets.proven_reoffending()
    if tidy is None:
        raise MissingData(MISSING["moj"])
    try:
        rates = reoffending_rates(tidy, borough, "Adult")
    except ValueError as exc:
        raise MissingData(f"MoJ proven reoffending: {exc}") from None
    return rates[rates["cohort_months"] == 12].set_index("cohort")


def _cohort_row(rates: pd.DataFrame, cohort: str) -> pd.Series:
    if cohort not in rates.index:
        raise MissingData(
            f"MoJ proven reoffending: no 12-month adult cohort {cohort!r} in the file (cohorts: "
            f"{', '.join(rates.index[-4:])})"
        )
    return rates.loc[cohort]


def reoffending_rate(borough: str) -> Recomputed:
    """Adult proven reoffending rate (per cent) of the cohort PLAN_COHORT, with its Wilson interval; MissingData
    while the MoJ file is not provided."""
    rates = _adult_rates(borough)
    r = _cohort_row(rates, PLAN_COHORT)
    others = [c for c in rates.index if c != PLAN_COHORT][-2:]
    note = (
        f"{f.number(r['reoffenders'])} of {f.number(r['offenders'])} adult offenders in the {PLAN_COHORT} cohort "
        f"(95% Wilson interval {100 * r['ci_low']:.1f}% to {100 * r['ci_high']:.1f}%). The plan does not name its "
        "cohort; read as the 12-month cohort of 2020/21."
        + "".join(f" Cohort {c}: {100 * rates.loc[c, 'rate']:.1f}%." for c in others)
    )
    return Recomputed(
        round(100 * float(r["rate"]), 6),
        f"cohort {PLAN_COHORT}",
        ("moj_proven_reoffending",),
        "adults with a proven reoffence within 12 months, of the 12-month offender cohort (MoJ)",
        note=note,
    )


def reoffending_change(borough: str) -> Recomputed:
    """Per cent change in the adult proven reoffending rate of PLAN_COHORT on the cohort before it (the plan's
    'increased by 11 per cent' read as a relative change), with the change in points and its test in the note."""
    r = _cohort_row(_adult_rates(borough), PLAN_COHORT)
    if r["previous_cohort"] != r["previous_cohort"]:
        raise MissingData(f"MoJ proven reoffending: no 12-month adult cohort before {PLAN_COHORT} in the file")
    pct = 100 * (float(r["rate"]) / float(r["previous_rate"]) - 1)
    note = (
        f"{100 * r['previous_rate']:.1f}% in the {r['previous_cohort']} cohort to {100 * r['rate']:.1f}% in "
        f"{PLAN_COHORT}: {r['change_pp']:+.1f} percentage points ({f.p_value(r['p_value'])}, two-proportion test). "
        "The plan's per cent read as the relative change of the rate."
    )
    return Recomputed(
        round(pct, 6),
        f"cohort {PLAN_COHORT} on {r['previous_cohort']}",
        ("moj_proven_reoffending",),
        "relative change in the adult proven reoffending rate between consecutive 12-month cohorts (MoJ)",
        note=note,
    )


def _cannot(key: str) -> Callable[[str], Recomputed]:
    def recompute(borough: str) -> Recomputed:
        raise MissingData(MISSING[key])

    return recompute


FIGURES: tuple[Figure, ...] = (
    Figure("total_offences_2019_20", "Total recorded offences", "offences", "2019/20", total_offences("2019/20")),
    Figure(
        "rank_2019_20",
        "Rank of 32 London boroughs by total offences (1 = most)",
        "rank",
        "2019/20",
        total_rank("2019/20"),
    ),
    Figure(
        "total_crime_change",
        "Change in total recorded crime on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        change_on_previous_year(
            "All recorded crime",
            "2019/20",
            "2020/21",
            note="Where the plan names no period, read as 2019/20, the year of its total.",
        ),
    ),
    Figure(
        "violence_change",
        "Change in violence against the person on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        change_on_previous_year(
            "Violence against the person", "2019/20", "2020/21", note="Where the plan names no period, read as 2019/20."
        ),
    ),
    Figure(
        "relied_on_2017_03",
        "PAS: police can be relied on to be there when needed",
        "per cent",
        "March 2017",
        pas_value("Relied on to be there", "2017-03-31"),
    ),
    Figure(
        "relied_on_2020_09",
        "PAS: police can be relied on to be there when needed",
        "per cent",
        "September 2020",
        pas_value("Relied on to be there", "2020-09-30"),
    ),
    Figure(
        "hate_crime_change",
        "Change in hate crime on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        special_change(
            "Racist and religious hate crime",
            "2019/20",
            definition="racist and religious hate crime (MPS strand 'Racist and Religious Hate Crime')",
            note=HATE_TOTAL_DEFINITION,
        ),
    ),
    Figure(
        "faith_hate_change",
        "Change in faith hate crime on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        special_change(
            "Faith hate crime",
            "2019/20",
            others=(("Faith hate crime", "2018/19"), ("Faith hate crime", "2020/21")),
            note="Where the plan names no period, read as 2019/20 (an achievement of the 2017-20 plan).",
        ),
    ),
    Figure(
        "homophobic_hate_change",
        "Change in homophobic hate crime on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        special_change("Homophobic hate crime", "2019/20"),
    ),
    Figure(
        "asb_reports_change",
        "Change in reports of ASB to police on the previous year",
        "per cent change",
        "previous year",
        asb_change("2019/20", "2020/21"),
        missing=MISSING["asb"],
    ),
    Figure(
        "sexual_offences_change",
        "Change in sexual offences on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        change_on_previous_year(
            "Sexual offences", "2019/20", "2020/21", note="Where the plan names no period, read as 2019/20."
        ),
    ),
    Figure(
        "sexual_offences_change_2020_21",
        "Change in sexual offences on the previous year",
        "per cent change",
        "2020/21 on 2019/20",
        change_on_previous_year("Sexual offences", "2020/21", "2019/20"),
    ),
    Figure(
        "rape_change_2020_21",
        "Change in rape offences on the previous year",
        "per cent change",
        "2020/21 on 2019/20",
        change_on_previous_year("Rape", "2020/21", "2019/20"),
    ),
    Figure(
        "domestic_abuse_change_2020_21",
        "Change in domestic abuse offences on the previous year",
        "per cent change",
        "2020/21 on 2019/20",
        special_change("Domestic abuse", "2020/21", others=(("Domestic abuse violence with injury", "2020/21"),)),
    ),
    Figure(
        "modern_slavery_change_2020_21",
        "Change in modern slavery offences on the previous year",
        "per cent change",
        "2020/21 on 2019/20",
        _cannot("modern_slavery"),
        missing=MISSING["modern_slavery"],
    ),
    Figure(
        "knife_possession_change_2020_21",
        "Change in knife or blade possession offences on the previous year",
        "per cent change",
        "2020/21 on 2019/20",
        change_on_previous_year("Knife and blade possession", "2020/21", "2019/20"),
    ),
    Figure(
        "knife_crime_change",
        "Change in knife crime offences on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        special_change(
            "Knife crime",
            "2019/20",
            others=(("Knife crime", "2020/21"),),
            note="Where the plan names no period, read as 2019/20 (an achievement of the 2017-20 plan).",
        ),
    ),
    Figure(
        "gun_crime_change",
        "Change in gun crime offences on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        special_change(
            "Gun crime", "2019/20", note="The plan's 'period relating to 2019/20' read as 2019/20 on 2018/19."
        ),
    ),
    Figure(
        "knife_injury_change_2020_21",
        "Change in knife injuries on the previous year",
        "per cent change",
        "2020/21 on 2019/20",
        special_change("Knife crime with injury", "2020/21"),
    ),
    Figure(
        "knife_injury_u24_change",
        "Change in knife crime injury victims under 24 on the previous year",
        "per cent change",
        "2019/20 on 2018/19",
        special_change(
            "Knife crime with injury",
            "2019/20",
            proxy=True,
            note="Proxy only: knife crime with injury offences, victims of every age; not the plan's measure.",
        ),
        missing=MISSING["victims_u24"],
    ),
    Figure(
        "adult_reoffending_rate",
        "Adult proven reoffending rate",
        "per cent",
        "2020/21",
        reoffending_rate,
        missing=MISSING["moj"],
    ),
    Figure(
        "adult_reoffending_change",
        "Change in the adult proven reoffending rate",
        "per cent change",
        "2020/21",
        reoffending_change,
        missing=MISSING["moj"],
    ),
    Figure("population", "Estimated population", "residents", "mid-2020", population(2020)),
)
_BY_ID = {fig.figure_id: fig for fig in FIGURES}

COLUMNS = [
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


def figure(figure_id: str) -> Figure:
    """The audit's definition of a figure; the error lists the ids it knows."""
    try:
        return _BY_ID[figure_id]
    except KeyError:
        raise KeyError(f"the audit has no figure {figure_id!r}; figures: {', '.join(_BY_ID)}") from None


def _source_text(source_ids: tuple[str, ...]) -> str:
    def file(sid: str) -> str:
        src = source(sid)
        return src.month_file("YYYY-MM") if src.monthly else src.file

    return "; ".join(f"{file(s)} ({source(s).period})" for s in source_ids)


def audit_row(borough: str, fig: Figure, plan_row: pd.Series | None = None) -> dict:
    """One row of the audit: the plan's value (if quoted), the recomputed value, difference, source and verdict."""
    plan_value = float(plan_row["plan_value"]) if plan_row is not None else math.nan
    try:
        rec = fig.recompute(borough)
    except MissingData as exc:
        rec, missing = None, str(exc)
    else:
        missing = fig.missing if rec is not None and rec.proxy else ""
    value = rec.value if rec else math.nan
    if plan_row is None and missing:
        decision = f"{CANNOT}: {missing}"
    else:
        decision = verdict(
            None if plan_row is None else plan_value,
            None if rec is None else value,
            fig.unit,
            rec.first_published if rec else None,
            missing,
            rec.counts if rec else None,
        )
    return {
        "figure_id": fig.figure_id,
        "figure": fig.label,
        "unit": fig.unit,
        "period": rec.period if rec else fig.period,
        "definition": rec.measure if rec else "",
        "plan_value": plan_value,
        "plan_section": plan_row["plan_section"] if plan_row is not None else "",
        "recomputed": value,
        "difference": value - plan_value if not (math.isnan(value) or math.isnan(plan_value)) else math.nan,
        "first_published": rec.first_published if rec and rec.first_published is not None else math.nan,
        "tolerance": tolerance(plan_value, fig.unit, rec.counts) if rec and plan_row is not None else math.nan,
        "source": _source_text(rec.source_ids) if rec else "",
        "verdict": decision,
        "note": rec.note if rec else "",
    }


def audit_figure(borough: str, figure_id: str) -> dict:
    """One audit row for one figure, with the plan's value when the borough's plan quotes it."""
    plan = plan_figures(borough)
    return audit_row(borough, figure(figure_id), plan.loc[figure_id] if figure_id in plan.index else None)


def audit_table(borough: str, plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """The plan audit for a borough: one row per figure the audit knows, plan values where the plan quotes them.

    `plan` is `plan.plan_figures(borough)` (read when None). Plan figures the audit has no definition for are
    listed at the end with the verdict 'cannot be checked: no recompute function'. Columns: COLUMNS.
    """
    plan = plan_figures(borough) if plan is None else plan
    rows = [
        audit_row(borough, fig, plan.loc[fig.figure_id] if fig.figure_id in plan.index else None) for fig in FIGURES
    ]
    for figure_id, plan_row in plan.iterrows():
        if figure_id not in _BY_ID:
            rows.append(
                {
                    "figure_id": figure_id,
                    "figure": plan_row["description"],
                    "unit": plan_row["unit"],
                    "period": plan_row["period"],
                    "definition": "",
                    "plan_value": float(plan_row["plan_value"]),
                    "plan_section": plan_row["plan_section"],
                    "recomputed": math.nan,
                    "difference": math.nan,
                    "tolerance": math.nan,
                    "first_published": math.nan,
                    "source": "",
                    "verdict": f"{CANNOT}: no recompute function in audit.py",
                    "note": "",
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many rows have each verdict ('cannot be checked: ...' counted together)."""
    kinds = table["verdict"].str.split(":").str[0]
    return {k: int((kinds == k).sum()) for k in (MATCHES, WITHIN_REVISION, DIFFERS, CANNOT, NO_PLAN_VALUE)}


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
                f"{f.md(r.figure).lower()} ({f.md(r.period)}: plan {_fmt(r.plan_value, r.unit)}, data "
                f"{_fmt(r.recomputed, r.unit)})"
                for r in differ.itertuples()
            )
            + "."
        )
    return text


def _fmt(value: float, unit: str) -> str:
    if unit == "per cent change":
        return f.pct(value)
    if unit == "per cent":
        return f"{value:.0f}%"
    return f.number(value)


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The audit as readers see it: figure, period, plan, recomputed, difference and verdict as formatted text."""

    def value(v, unit):
        return "" if _isnan(v) else _fmt(v, unit)

    def difference(v, unit):
        if _isnan(v):
            return ""
        return f"{v:+.1f} points" if unit in ("per cent change", "per cent") else f"{v:+,.0f}"

    return pd.DataFrame(
        {
            "Figure": table["figure"],
            "Period": table["period"],
            "Definition": table["definition"],
            "Plan": [value(v, u) for v, u in zip(table["plan_value"], table["unit"], strict=False)],
            "Open data": [value(v, u) for v, u in zip(table["recomputed"], table["unit"], strict=False)],
            "Difference": [difference(v, u) for v, u in zip(table["difference"], table["unit"], strict=False)],
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
