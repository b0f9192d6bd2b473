"""Recomputing any plan figure from the locked data: a plan row as a typed `Figure`, and one function per
recompute kind (`RECOMPUTE`: count, rank, change, survey share, rate, rate change, population, not open).

A kind reads the table of the row's `source` for the borough, in the period the row's `reading` names, and the
other readings its `alternative` allows; what is not in the mirror is `MissingData`, naming it. The verdict on a
recomputed figure is ``analysis.plan_audit``'s; the words about it are ``report.plan_words``'.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from csp_evidence.analysis.priorities import HATE, HATE_STRANDS, NEIGHBOURHOOD, SPECIAL, TOTAL, VIOLENCE, Measure
from csp_evidence.analysis.reoffending import reoffending_rates
from csp_evidence.analysis.stats.change import compare_counts
from csp_evidence.analysis.summaries import first_published, measure_table, totals_by_year
from csp_evidence.analysis.survey import value_at
from csp_evidence.core.periods import financial_year_months, previous_financial_year
from csp_evidence.core.values import is_missing
from csp_evidence.data import datasets, geo
from csp_evidence.data.plan import ALTERNATIVE, KINDS, PlanFileError
from csp_evidence.data.readers.policeuk import ASB
from csp_evidence.data.sources import (
    MOJ_PROVEN_REOFFENDING,
    MOPAC_PAS,
    MPS_BOROUGH_EXTRACT_2020_07,
    MPS_BOROUGH_HISTORICAL,
    MPS_BOROUGH_RECENT,
    MPS_HATE_SPECIAL,
    ONS_POPULATION,
    POLICEUK_STREET_ASB,
)

# The measures each source's table counts, by name (a plan row's `measure` names one of them).
SOURCE_MEASURES: dict[str, tuple[Measure, ...]] = {
    MPS_BOROUGH_HISTORICAL: (TOTAL, *NEIGHBOURHOOD, *VIOLENCE, *HATE),
    MPS_HATE_SPECIAL: (*HATE_STRANDS, *SPECIAL),
}


class MissingData(Exception):
    """The data a figure needs is not in the mirror; the message names it."""


# --------------------------------------------------------------------------- a plan row, typed


@dataclass(frozen=True)
class Figure:
    """One row of a plan table: what the plan quotes, and what it measures (see ``data.plan``)."""

    figure_id: str
    label: str
    kind: str
    measure: str
    reading: str
    alternatives: tuple[tuple[str, str], ...]  # (measure, financial year): other readings of the plan's words
    source: str
    definition: str = ""
    missing: str = ""  # non-empty: the data the plan's own measure needs is not in the default mirror
    proxy: bool = False  # the recomputed value is a related measure: the verdict is 'cannot be checked'
    note: str = ""  # the notes of the assumptions the reading makes (the plan's assumptions log)
    plan_value: float = math.nan
    period: str = ""  # the plan's words for the period
    plan_section: str = ""
    plan_quote: str = ""
    plan_file: str = ""

    @property
    def unit(self) -> str:
        """The unit the verdict is reached in, from the kind: offences, rank, per cent, per cent change, residents."""
        return KINDS[self.kind][0]

    @property
    def read_period(self) -> str:
        """The period the figure is read as, in words: '2019/20 on 2018/19', '12 months to March 2017',
        'mid-2020', 'cohort Apr 2020 to Mar 2021'."""
        if self.kind == "survey share":
            return f"12 months to {pd.Timestamp(f'{self.reading}-01'):%B %Y}"
        if self.kind == "population":
            return f"mid-{self.reading}"
        if self.kind == "rate":
            return f"cohort {self.reading}"
        if self.kind == "rate change":
            return f"cohort {self.reading} on the cohort before"
        if self.kind in ("change", "not open") and re.fullmatch(r"\d{4}/\d{2}", self.reading):
            return f"{self.reading} on {previous_financial_year(self.reading)}"
        return self.reading

    @property
    def stated(self) -> bool:
        """True when the plan itself states the period the figure is read as ('2020/21 on 2019/20')."""
        if self.kind not in ("change", "count", "rank"):
            return True
        before = previous_financial_year(self.reading) if self.kind == "change" else ""
        return bool(re.fullmatch(rf"\s*{re.escape(self.reading)}(?: on {re.escape(before)})?\s*", self.period))


def as_figure(figure_id: str, row: pd.Series) -> Figure:
    """A plan table row (``data.plan.plan_figures``) as a Figure; the optional columns may be absent."""

    def text(column: str) -> str:
        value = row.get(column, "")
        return "" if is_missing(value) else str(value)

    measure = text("measure")
    alternatives = []
    for part in text("alternative").split(";"):
        match = ALTERNATIVE.fullmatch(part.strip())
        if match:
            alternatives.append((match.group("measure") or measure, match.group("year")))
    return Figure(
        figure_id=str(figure_id),
        label=text("label") or text("description"),
        kind=text("kind"),
        measure=measure,
        reading=text("reading"),
        alternatives=tuple(alternatives),
        source=text("source"),
        definition=text("definition"),
        missing=text("missing"),
        proxy=text("proxy") == "yes",
        note=text("note"),
        plan_value=float(row["plan_value"]),
        period=text("period"),
        plan_section=text("plan_section"),
        plan_quote=text("plan_quote"),
        plan_file=text("plan_file"),
    )


# --------------------------------------------------------------------------- recomputing a figure


@dataclass(frozen=True)
class Reading:
    """The figure under another reading of the plan's words: a measure's change in another year."""

    measure: str
    year: str
    previous: int
    count: int
    pct_change: float


@dataclass(frozen=True)
class Recomputed:
    """A figure recomputed from the locked data, with where it came from and what the note says about it."""

    value: float
    period: str
    source_ids: tuple[str, ...]
    definition: str  # what was counted, in words: the definition the figure is read under
    first_published: float | None = None  # as in the July 2020 extract, where that covers the period
    first_extract: str = ""  # the name of that extract ('July 2020')
    counts: tuple[int, int] | None = None  # (previous, current) behind a percentage change
    p_value: float = math.nan
    significant: bool = False
    alternatives: tuple[Reading, ...] = ()
    facts: dict = field(default_factory=dict)  # what else the note states (kind-specific)


def _crime_sources(year: str) -> tuple[str, ...]:
    return (MPS_BOROUGH_HISTORICAL,) if year <= "2020/21" else (MPS_BOROUGH_HISTORICAL, MPS_BOROUGH_RECENT)


@functools.cache
def _table(source_id: str) -> pd.DataFrame:
    if source_id == MPS_BOROUGH_HISTORICAL:
        return datasets.recorded_crime()
    if source_id == MPS_HATE_SPECIAL:
        return datasets.hate_special_crime()
    raise ValueError(f"source {source_id!r} holds no offence counts by measure; sources: {', '.join(SOURCE_MEASURES)}")


def _measure(source_id: str, name: str) -> Measure:
    measures = SOURCE_MEASURES.get(source_id)
    if measures is None:
        raise ValueError(
            f"source {source_id!r} holds no offence counts by measure; sources: {', '.join(SOURCE_MEASURES)}"
        )
    for m in measures:
        if m.name == name:
            return m
    raise KeyError(f"no measure named {name!r} in {source_id}; measures: {', '.join(m.name for m in measures)}")


def _change_row(fig: Figure, borough: str, name: str, year: str, data: pd.DataFrame | None) -> dict:
    table = _table(fig.source) if data is None else data
    return measure_table(table, borough, year, [_measure(fig.source, name)]).iloc[0].to_dict()


def _change(fig: Figure, borough: str, data: pd.DataFrame | None) -> Recomputed:
    if fig.source == POLICEUK_STREET_ASB:
        return _asb_change(fig, borough)
    row = _change_row(fig, borough, fig.measure, fig.reading, data)
    alternatives = []
    for name, year in fig.alternatives:
        alt = _change_row(fig, borough, name, year, data)
        alternatives.append(Reading(name, year, int(alt["previous"]), int(alt["count"]), float(alt["pct_change"])))
    measure = _measure(fig.source, fig.measure)
    if fig.source == MPS_HATE_SPECIAL:
        sources: tuple[str, ...] = (MPS_HATE_SPECIAL,)
        definition = fig.definition or f"offences the MPS flags '{measure.categories[0]}'"
    else:
        sources, definition = _crime_sources(fig.reading), fig.definition or measure.name
    return Recomputed(
        float(row["pct_change"]),
        f"{fig.reading} on {previous_financial_year(fig.reading)}",
        sources,
        definition,
        counts=(int(row["previous"]), int(row["count"])),
        p_value=float(row["p_value"]),
        significant=bool(row["significant"]),
        alternatives=tuple(alternatives),
    )


def _asb_totals(tidy: pd.DataFrame, borough: str, fy: str) -> int:
    months = financial_year_months(fy)
    missing = months.difference(pd.DatetimeIndex(tidy["month"].unique()))
    if len(missing):
        raise MissingData(
            f"police.uk street files for {fy} (source {POLICEUK_STREET_ASB}): {len(missing)} month(s) not "
            f"provided, first {missing[0]:%Y-%m}"
        )
    rows = tidy[(tidy["borough"] == borough) & (tidy["crime_type"] == ASB) & tidy["month"].isin(months)]
    return int(rows["count"].sum())


def _asb_change(fig: Figure, borough: str) -> Recomputed:
    """Per cent change in ASB incidents recorded by the police (police.uk street files) in the reading's year on
    the year before; MissingData while the files are not provided or do not cover both years."""
    tidy = datasets.asb_incidents()
    if tidy is None:
        raise MissingData(fig.missing or f"police.uk street-level ASB (source {POLICEUK_STREET_ASB}) not provided")
    before = previous_financial_year(fig.reading)
    change = compare_counts(_asb_totals(tidy, borough, before), _asb_totals(tidy, borough, fig.reading))
    alternatives = []
    for name, year in fig.alternatives:
        try:
            alt = compare_counts(
                _asb_totals(tidy, borough, previous_financial_year(year)), _asb_totals(tidy, borough, year)
            )
        except MissingData:
            continue
        alternatives.append(Reading(name, year, int(alt.previous), int(alt.current), float(alt.pct_change)))
    return Recomputed(
        float(change.pct_change),
        f"{fig.reading} on {before}",
        (POLICEUK_STREET_ASB,),
        fig.definition or f"ASB incidents recorded by the police (police.uk crime type '{ASB}')",
        counts=(int(change.previous), int(change.current)),
        p_value=float(change.p_value),
        significant=bool(change.p_value < 0.05),
        alternatives=tuple(alternatives),
    )


def _total(fig: Figure, borough: str, data: pd.DataFrame | None) -> tuple[pd.Series, dict | None]:
    if fig.measure != TOTAL.name or fig.source != MPS_BOROUGH_HISTORICAL:
        raise ValueError(
            f"figure {fig.figure_id}: a {fig.kind} is of {TOTAL.name!r} from {MPS_BOROUGH_HISTORICAL}, not "
            f"{fig.measure!r} from {fig.source!r}"
        )
    table = _table(fig.source) if data is None else data
    return totals_by_year(table, borough, [fig.reading]).iloc[0], first_published(borough, fig.reading)


def _count(fig: Figure, borough: str, data: pd.DataFrame | None) -> Recomputed:
    row, first = _total(fig, borough, data)
    return Recomputed(
        float(row["count"]),
        fig.reading,
        (*_crime_sources(fig.reading), *([MPS_BOROUGH_EXTRACT_2020_07] if first else [])),
        fig.definition or "all recorded offences",
        first["count"] if first else None,
        first["extract"] if first else "",
    )


def _rank(fig: Figure, borough: str, data: pd.DataFrame | None) -> Recomputed:
    row, first = _total(fig, borough, data)
    return Recomputed(
        float(row["rank"]),
        fig.reading,
        (*_crime_sources(fig.reading), *([MPS_BOROUGH_EXTRACT_2020_07] if first else [])),
        fig.definition or f"rank of {row['ranked']} by all recorded offences",
        first["rank"] if first else None,
        first["extract"] if first else "",
    )


def _survey_share(fig: Figure, borough: str, data: pd.DataFrame | None) -> Recomputed:
    """A Public Attitude Survey measure (per cent agreeing) at the end of the quarter the reading's month ends."""
    quarter = pd.Timestamp(f"{fig.reading}-01") + pd.offsets.MonthEnd(0)
    table = datasets.public_attitudes() if data is None else data
    value = 100 * value_at(table, borough, fig.measure, quarter)
    return Recomputed(
        round(value, 6), f"12 months to {quarter:%B %Y}", (MOPAC_PAS,), fig.definition or f"PAS: {fig.measure}"
    )


def _population(fig: Figure, borough: str, data: pd.DataFrame | None) -> Recomputed:
    """ONS mid-year population estimate of a borough (the revised, Census-2021-based series)."""
    pop = geo.population_by_year([geo.check_borough(borough)]).set_index("year")["population"]
    year = int(fig.reading)
    return Recomputed(
        float(pop[year]),
        f"mid-{year}",
        (ONS_POPULATION,),
        fig.definition or "ONS mid-year estimate",
        facts={
            "first_year": int(pop.index.min()),
            "last_year": int(pop.index.max()),
            "low": pop.min(),
            "high": pop.max(),
        },
    )


def _rates(fig: Figure, borough: str) -> pd.DataFrame:
    tidy = datasets.proven_reoffending()
    if tidy is None:
        raise MissingData(fig.missing or f"MoJ proven reoffending (source {MOJ_PROVEN_REOFFENDING}) not provided")
    try:
        rates = reoffending_rates(tidy, borough, fig.measure)
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


def _rate(fig: Figure, borough: str, data: pd.DataFrame | None) -> Recomputed:
    """Proven reoffending rate (per cent) of the reading's 12-month cohort, with its Wilson interval."""
    rates = _rates(fig, borough)
    r = _cohort_row(rates, fig.reading)
    others = [c for c in rates.index if c != fig.reading][-2:]
    return Recomputed(
        round(100 * float(r["rate"]), 6),
        f"cohort {fig.reading}",
        (MOJ_PROVEN_REOFFENDING,),
        fig.definition or "proven reoffending rate of the 12-month offender cohort (MoJ)",
        facts={
            "reoffenders": r["reoffenders"],
            "offenders": r["offenders"],
            "ci_low": r["ci_low"],
            "ci_high": r["ci_high"],
            "others": {c: float(rates.loc[c, "rate"]) for c in others},
        },
    )


def _rate_change(fig: Figure, borough: str, data: pd.DataFrame | None) -> Recomputed:
    """Per cent change in the reoffending rate of the reading's cohort on the cohort before it (a relative change),
    with the change in points and its test among the facts."""
    r = _cohort_row(_rates(fig, borough), fig.reading)
    if is_missing(r["previous_cohort"]):
        raise MissingData(f"MoJ proven reoffending: no 12-month adult cohort before {fig.reading} in the file")
    pct = 100 * (float(r["rate"]) / float(r["previous_rate"]) - 1)
    return Recomputed(
        round(pct, 6),
        f"cohort {fig.reading} on {r['previous_cohort']}",
        (MOJ_PROVEN_REOFFENDING,),
        fig.definition or "relative change in the proven reoffending rate between consecutive 12-month cohorts (MoJ)",
        p_value=float(r["p_value"]),
        facts={
            "previous_cohort": r["previous_cohort"],
            "previous_rate": r["previous_rate"],
            "rate": r["rate"],
            "change_pp": r["change_pp"],
        },
    )


def _not_open(fig: Figure, borough: str, data: pd.DataFrame | None) -> Recomputed:
    raise MissingData(fig.missing)


RECOMPUTE: dict[str, Callable[[Figure, str, pd.DataFrame | None], Recomputed]] = {
    "count": _count,
    "rank": _rank,
    "change": _change,
    "survey share": _survey_share,
    "rate": _rate,
    "rate change": _rate_change,
    "population": _population,
    "not open": _not_open,
}


def recompute(fig: Figure, borough: str, data: pd.DataFrame | None = None) -> Recomputed:
    """The figure recomputed for a borough from the locked data (`data`: the table to count from, when the caller
    holds it already); MissingData names what is not in the mirror. A row the data cannot be read under (an
    unknown measure, a year outside the data) is a PlanFileError naming the plan file and the figure."""
    try:
        return RECOMPUTE[fig.kind](fig, borough, data)
    except MissingData:
        raise
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else repr(exc)
        raise PlanFileError(f"{fig.plan_file or 'plan table'} ({fig.figure_id}): {message}") from None
