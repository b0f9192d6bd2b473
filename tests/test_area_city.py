"""The City of London's police.uk chapter from the real files of the mirror: every category and ASB, the 12 months
to December 2025 against the 12 months before, outcomes, the comparison chosen, and the City of London Police's
rows placed in other authorities counted there. Expected figures are counted here with the csv module."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from conftest import MIRROR
from synthetic_sources import mirrored_project

from csp_evidence.analysis import area_crime
from csp_evidence.chapters import area as chapter
from csp_evidence.core.params import load_params
from csp_evidence.data import datasets, geography, policeuk_forces

pytestmark = pytest.mark.realdata
ROOT = Path(__file__).resolve().parents[1]
POLICEUK = MIRROR / "policeuk"
LSOA21 = MIRROR / "geo" / "LSOA_(2021)_to_Electoral_Ward_(2023)_to_LAD_(2023)_Best_Fit_Lookup_in_EW.csv"
CENSUS = MIRROR / "geo" / "census2021-ts007a-lsoa.csv"
CACHES = (
    datasets.lsoa_geography,
    datasets.lsoa_population,
    datasets.area_street,
    datasets.csp_lookup,
    datasets.ward_lookup,
    datasets.borough_lookup,
    geography._csp_places,
    geography._borough_csps,
    geography._area,
    geography._codes,
)


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    with mirrored_project(tmp_path_factory, MIRROR, ROOT, CACHES):
        months = policeuk_forces.months_for_area("12 months to 2025-12")
        policeuk_forces.fetch_forces(months, ["city-of-london"], from_path=POLICEUK)
        yield chapter.area_section(load_params(ROOT / "params" / "city-of-london.yml"))


def _months(first: str, last: str) -> list[str]:
    return [f"{m:%Y-%m}" for m in pd.date_range(f"{first}-01", f"{last}-01", freq="MS")]


def test_every_category_and_asb_against_the_12_months_before(section):
    city = {r["LSOA21CD"] for r in _rows(LSOA21) if r["LAD23NM"] == "City of London"}

    def counted(months):
        return Counter(
            r["Crime type"]
            for m in months
            for r in _rows(POLICEUK / m / f"{m}-city-of-london-street.csv")
            if r["LSOA code"] in city
        )

    now, before = counted(_months("2025-01", "2025-12")), counted(_months("2024-01", "2024-12"))
    table = section.changes.set_index("measure")
    for measure, categories in area_crime.MEASURES.items():
        assert table.at[measure, "current"] == sum(now[c] for c in categories), measure
        assert table.at[measure, "previous"] == sum(before[c] for c in categories), measure
    crimes = sum(n for c, n in now.items() if c != "Anti-social behaviour")
    assert table.at[area_crime.ALL_CRIME, "current"] == crimes
    assert section.group.kind == "region" and section.group.name == "London"


def test_outcomes_from_last_outcome_category(section):
    city = {r["LSOA21CD"] for r in _rows(LSOA21) if r["LAD23NM"] == "City of London"}
    rows = [
        r
        for m in _months("2025-01", "2025-12")
        for r in _rows(POLICEUK / m / f"{m}-city-of-london-street.csv")
        if r["LSOA code"] in city and r["Crime type"] == "Theft from the person"
    ]
    no_suspect = sum(r["Last outcome category"] == "Investigation complete; no suspect identified" for r in rows)
    got = section.changes.set_index("measure").loc["Theft from the person"]
    assert got["share_no_suspect"] == pytest.approx(100 * no_suspect / len(rows))
    assert pd.isna(section.changes.set_index("measure").at["Anti-social behaviour", "share_charged"])


def test_rows_of_the_city_police_elsewhere_are_counted_there_and_said(section):
    city = {r["LSOA21CD"] for r in _rows(LSOA21) if r["LAD23NM"] == "City of London"}
    rows = [r for m in _months("2025-01", "2025-12") for r in _rows(POLICEUK / m / f"{m}-city-of-london-street.csv")]
    outside = [r for r in rows if r["LSOA code"] not in city]
    assert int(section.elsewhere["rows"].sum()) == len(outside)
    no_lsoa = sum(1 for r in outside if r["LSOA code"] == "")
    assert section.elsewhere.set_index("authority").at["no LSOA", "rows"] == no_lsoa
    text = chapter.coverage_text(section)
    assert f"{len(outside):,} rows of the files of the City of London Police in the 12 months to December 2025" in text
    points = chapter.key_points(section)
    assert any(f"{len(outside):,} rows in the files of the City of London Police" in p.text for p in points)


def test_rates_with_a_plain_caveat_and_no_rank_of_rates(section):
    city = {r["LSOA21CD"] for r in _rows(LSOA21) if r["LAD23NM"] == "City of London"}
    census = _rows(CENSUS)
    residents = sum(int(r["Age: Total"]) for r in census if r["geography code"] in city)
    assert section.residents == residents and 8000 < residents < 9500
    assert "not compared with other areas' rates or ranked" in section.rate_caveat
    asb = section.changes.set_index("measure").at["Anti-social behaviour", "current"]
    assert section.rates["Anti-social behaviour"] == pytest.approx(1000 * asb / residents)
    assert chapter.group_table(section) is None  # the Met's files are not held: no group table at all


def test_without_the_other_forces_the_comparison_says_so(section):
    points = " ".join(p.text for p in chapter.key_points(section))
    # the mirror holds the City of London Police's files only: its rows in Tower Hamlets are not London's crime
    assert (
        "No comparison with London (region, the comparison chosen): the police.uk files of metropolitan are not held"
        in points
    )
    assert section.against_group is None and section.group_forces_missing == ("metropolitan",)
    assert section.forces["2025-06"] == ["city-of-london"]
    chapter.changes_table(section)  # the table spec checks against its data
