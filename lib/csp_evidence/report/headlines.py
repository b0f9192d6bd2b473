"""Headline figures of a chapter, written as JSON beside the executed notebook for the index page and checks.

A chapter module declares its figures as a ``Headlines`` dataclass and the notebook writes it in one call
(``chapter.<name>_headlines(...).write(output_dir)``); the website reads a whole pack once with
``PackHeadlines.load(run_dir)``. ``write_headlines``/``read_headlines`` are the dict forms underneath.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import ClassVar, Self, TypeVar

import numpy as np

from csp_evidence.core.files import atomic_write_text
from csp_evidence.report.key_points import KeyPoint, key_points_data


def _plain(value):
    if isinstance(value, KeyPoint):
        return value.as_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_headlines(output_dir: str | Path, chapter: str, figures: dict) -> None:
    """Write `<output_dir>/notebooks/<chapter>.json` atomically; values must be plain numbers, text or lists.

    Returns nothing, so that a notebook cell ending with this call shows no output (a path would reach the page).
    """
    path = Path(output_dir) / "notebooks" / f"{chapter}.json"
    atomic_write_text(path, json.dumps(_plain(figures), indent=2, ensure_ascii=False) + "\n")


def read_headlines(output_dir: str | Path, chapter: str) -> dict:
    """Read a chapter's headline JSON back (an empty dict when the chapter did not write one)."""
    path = Path(output_dir) / "notebooks" / f"{chapter}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


class HeadlinesError(ValueError):
    """A chapter's headline JSON that cannot be read: the message names the file."""


@dataclass(frozen=True)
class Headlines:
    """A chapter's headline figures as a typed object: the base of one dataclass per chapter, in its chapter module.

    A subclass sets ``CHAPTER`` (the notebook's stem, '01_asb_neighbourhood') and declares its figures as fields;
    the fields, in order, are the keys of the JSON it writes, so the JSON of a pack reads the same as the class.
    Key points (``KeyPoint``) are written as {'text', 'anchor'}; numpy numbers as plain numbers, NaN as null.
    """

    CHAPTER: ClassVar[str] = ""

    def as_dict(self) -> dict:
        """The figures in field order, as plain JSON values."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            # key points keep their rule (three to five, short, no method words) in what is saved too
            out[f.name] = key_points_data(value) if f.name == "key_points" else _plain(value)
        return out

    def write(self, output_dir: str | Path) -> None:
        """Write `<output_dir>/notebooks/<CHAPTER>.json` atomically. Returns nothing (a notebook cell shows nothing)."""
        if not self.CHAPTER:
            raise HeadlinesError(f"{type(self).__name__} names no CHAPTER: set it to the notebook's stem")
        write_headlines(output_dir, self.CHAPTER, self.as_dict())

    @classmethod
    def from_dict(cls, figures: Mapping) -> Self | None:
        """The chapter's figures as read back from its JSON; None when a field is missing (an older pack)."""
        names = [f.name for f in fields(cls)]
        if not all(name in figures for name in names):
            return None
        values = {name: figures[name] for name in names}
        if "key_points" in values:
            values["key_points"] = tuple(KeyPoint(p["text"], p.get("anchor", "")) for p in values["key_points"] or [])
        return cls(**values)


@dataclass(frozen=True)
class PackHeadlines:
    """Every chapter's headline figures of one pack, read once (``load``): chapter stem -> figures, in stem order.

    The website reads the pack through this object rather than each page reading each chapter's file.
    """

    chapters: Mapping[str, Mapping]

    @classmethod
    def load(cls, run_dir: str | Path) -> PackHeadlines:
        """Read `<run_dir>/notebooks/*.json`; a file that is not JSON is a HeadlinesError naming it."""
        chapters = {}
        for path in sorted((Path(run_dir) / "notebooks").glob("*.json")):
            try:
                chapters[path.stem] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise HeadlinesError(f"cannot read the headline figures {path} ({exc})") from None
        return cls(chapters)

    def __getitem__(self, chapter: str) -> Mapping:
        """A chapter's figures as written (an empty mapping when the chapter wrote none)."""
        return self.chapters.get(chapter, {})

    def typed(self, kind: type[H]) -> H | None:
        """A chapter's figures as its Headlines class (None when the chapter did not write them all)."""
        return kind.from_dict(self[kind.CHAPTER])

    def key_points(self, chapter: str) -> list[dict[str, str]]:
        """A chapter's key points as it saved them ({'text', 'anchor'} each); empty when it saved none."""
        points = self[chapter].get("key_points") or []
        return [p for p in points if isinstance(p, dict) and p.get("text")]


H = TypeVar("H", bound=Headlines)


# --------------------------------------------------------------------------- the chapters' figures
# Each chapter module builds its class (chapters.overview.overview_headlines, ...) and the website reads them back;
# they live here, below both, so that reading a pack does not load the chapters' statistics.


@dataclass(frozen=True)
class OverviewHeadlines(Headlines):
    """Chapter 00's headline figures: the borough's total, rank and rate in the headline year (the home page's lead)."""

    CHAPTER: ClassVar[str] = "00_overview"

    borough: str
    key_points: Sequence[KeyPoint]
    headline_year: str
    total_offences: int
    rank: int
    ranked: int
    rate_per_1000: float
    london_rate_per_1000: float
    change_pct: float | None
    first_published: dict | None
    lockdown: dict
    population: int
    population_year: int
    source: str


@dataclass(frozen=True)
class NeighbourhoodHeadlines(Headlines):
    """Chapter 01's headline figures: each neighbourhood measure, the two charted Covid effects and the three ASB
    views (the borough's incidents, force-wide incidents, London-wide calls), with their sources."""

    CHAPTER: ClassVar[str] = "01_asb_neighbourhood"

    borough: str
    key_points: Sequence[KeyPoint]
    headline_year: str
    pandemic_year: str
    measures: dict[str, dict]
    drug_trafficking_covid: dict
    theft_covid: dict
    asb_incidents: dict
    asb_source_id: str
    force_asb_incidents: dict
    london_asb_calls: dict
    context_source_ids: list[str]
    source: str


@dataclass(frozen=True)
class ReoffendingHeadlines(Headlines):
    """Chapter 03's headline figures: drug offences and acquisitive crime by year and their trends, the drug offences
    of the first lockdown month, the latest cohorts' proven reoffending (None without the Ministry of Justice file)
    and London's rate by year (a secondary source, named by its source id)."""

    CHAPTER: ClassVar[str] = "03_reoffending"

    borough: str
    key_points: Sequence[KeyPoint]
    headline_year: str
    drug_offences: dict
    acquisitive_crime: dict
    trends: dict[str, dict]
    drug_offences_lockdown: dict
    proven_reoffending_available: bool
    london_proven_reoffending: dict
    london_proven_reoffending_source_id: str
    adult_reoffending: dict | None
    juvenile_reoffending: dict | None
    source: str


@dataclass(frozen=True)
class ConfidenceHeadlines(Headlines):
    """Chapter 05's headline figures: progress to the plan's fair-treatment target, each survey measure's latest
    value (0-1), the value a year before and the gap to London (points), and the effective sample assumed."""

    CHAPTER: ClassVar[str] = "05_confidence"

    borough: str
    key_points: Sequence[KeyPoint]
    latest_quarter: str
    treat_fairly: dict
    relied_on_2017_03: float
    relied_on_2020_09: float
    latest: dict[str, float]
    year_before: dict[str, float]
    gap_to_london_pp: dict[str, float]
    significant_changes: list[str]
    measures_below_london: int
    effective_sample_assumed: int
    source: str


@dataclass(frozen=True)
class PlanPeriodHeadlines(Headlines):
    """Chapter 06's headline figures: the crime series used, the plan's years, each priority's and measure's verdict
    against London over the plan (and from the year before the pandemic), the totals and the survey verdicts."""

    CHAPTER: ClassVar[str] = "06_plan_period"

    series: str
    source_ids: list[str]
    last_month: str
    baseline: str
    end: str | None
    priorities: dict[str, str]
    measures: dict[str, dict]
    borough: str
    key_points: Sequence[KeyPoint]
    totals: dict[str, int]
    pre_pandemic_priorities: dict[str, str]
    confidence: dict[str, str]


@dataclass(frozen=True)
class HateHeadlines(Headlines):
    """Chapter 02's headline figures: the year the strands describe, the months the file covers, each strand's
    count, change, rate and rank, racist and religious hate crime in the pandemic, and the plan's figures."""

    CHAPTER: ClassVar[str] = "02_hate_crime"

    borough: str
    key_points: Sequence[KeyPoint]
    headline_year: str
    strand_year: str
    data_months: list[str]
    strands: dict[str, dict]
    racist_and_religious_covid: dict
    plan: dict[str, dict]
    small_number_threshold: int
    source: str


@dataclass(frozen=True)
class ViolenceHeadlines(Headlines):
    """Chapter 04's headline figures: violence against the person's change, each measure of recorded violence and
    of the flagged offences (domestic abuse, knife and gun crime, homicide) with its Covid effect, domestic abuse
    in each Covid period, and the plan's changes beside the data."""

    CHAPTER: ClassVar[str] = "04_violence_exploitation"

    borough: str
    key_points: Sequence[KeyPoint]
    headline_year: str
    pandemic_year: str
    violence_against_the_person_change: dict
    plan_comparisons: list[dict]
    measures: dict[str, dict]
    small_number_threshold: int
    flagged_small: list[str]
    violence_covid: dict
    special_year: str
    special_measures: dict[str, dict]
    domestic_abuse_lockdowns: list[dict]
    special_plan_comparisons: list[dict]
    special_source: str
    source: str


@dataclass(frozen=True)
class WhereHeadlines(Headlines):
    """The "Where: areas of focus" chapter's headline figures: the latest ward year, the top wards and their share,
    concentration, the wards in the top five every year, the wards beyond chance, and how the map was drawn."""

    CHAPTER: ClassVar[str] = "00_where"

    borough: str
    key_points: Sequence[KeyPoint]
    ward_year: str
    wards: int
    top_wards: list[dict]  # code, name, count, share (per cent of the offences placed in a ward)
    top5_share: float
    top10pct_share: float | None
    top20pct_share: float | None
    top_five_every_year: list[str]
    persistence_years: list[str]
    above_borough_rate: list[str] | None  # None: no ward populations
    hotspots: list[dict]  # ward, measure, year, since, change_pct
    wards_redrawn: bool
    map: str  # 'published', 'lsoa' (approximate) or 'none'
    source: str
