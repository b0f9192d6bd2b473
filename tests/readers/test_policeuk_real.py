"""The police.uk reader on the real City of London Police files of the mirror: both line endings, unlocated rows,
ASB rows without a Crime ID, 2011 and 2021 LSOA codes, rows placed far outside the force's own area. Every expected
count is counted here from the files with the csv module, never by the code under test."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from conftest import MIRROR

from csp_evidence.data.readers import policeuk
from csp_evidence.data.readers.errors import SourceFormatError

pytestmark = pytest.mark.realdata

POLICEUK = MIRROR / "policeuk"
GEO = MIRROR / "geo"
LSOA21 = GEO / "LSOA_(2021)_to_Electoral_Ward_(2023)_to_LAD_(2023)_Best_Fit_Lookup_in_EW.csv"
LSOA11 = GEO / "Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv"
LF_FILE = POLICEUK / "2016-04" / "2016-04-city-of-london-street.csv"
CRLF_FILE = POLICEUK / "2025-12" / "2025-12-city-of-london-street.csv"


def _geography():
    from csp_evidence.data import datasets

    return datasets.lsoa_geography()


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _street_files() -> list[Path]:
    return sorted(POLICEUK.glob("*/*-city-of-london-street.csv"))


def _lsoas_in(path: Path, lad_column: str, name: str) -> set[str]:
    rows = _rows(path)
    code = next(c for c in rows[0] if c.startswith("LSOA") and c.endswith("CD"))
    return {r[code] for r in rows if r[lad_column] == name}


def test_both_line_endings_read_alike():
    assert b"\r\n" not in LF_FILE.read_bytes() and CRLF_FILE.read_bytes().count(b"\r\n") > 100
    for path in (LF_FILE, CRLF_FILE):
        reduced = policeuk.reduce_street_file(path)
        by_hand = Counter((r["LSOA code"], r["Crime type"]) for r in _rows(path))
        got = reduced.groupby(["lsoa", "crime_type"])["count"].sum()
        assert got.to_dict() == dict(by_hand)
        assert not any(c.endswith("\r") for c in reduced["crime_type"])  # no CR left on the last column read


@pytest.mark.parametrize("path", _street_files(), ids=lambda p: p.parent.name)
def test_every_real_month_counted_as_by_hand(path):
    rows = _rows(path)
    reduced = policeuk.reduce_street_file(path)
    assert int(reduced["count"].sum()) == len(rows)
    assert set(reduced["month"]) == {path.parent.name} and set(reduced["force"]) == {"city-of-london"}
    # unlocated rows ('No Location', empty LSOA code) counted for the force, never dropped
    unlocated = sum(1 for r in rows if r["LSOA code"] == "")
    assert unlocated == sum(1 for r in rows if r["Location"] == "No Location") > 0
    assert int(reduced.loc[reduced["lsoa"] == "", "count"].sum()) == unlocated
    # ASB rows: no Crime ID and no outcome
    asb = [r for r in rows if r["Crime type"] == "Anti-social behaviour"]
    assert all(r["Crime ID"] == "" for r in asb)
    sel = reduced[reduced["crime_type"] == "Anti-social behaviour"]
    assert int(sel["count"].sum()) == len(asb) and int(sel["charged"].sum() + sel["no_suspect"].sum()) == 0
    assert all(r["Last outcome category"] == "" for r in asb)
    no_suspect = sum(1 for r in rows if r["Last outcome category"] == "Investigation complete; no suspect identified")
    assert int(reduced["no_suspect"].sum()) == no_suspect
    court = ("Offender sent to prison", "Awaiting court outcome", "Court result unavailable", "Offender fined")
    caution = ("Offender given a caution", "Local resolution", "Unable to prosecute suspect", "Under investigation")
    sent = sum(1 for r in rows if r["Last outcome category"] in court)
    not_charged = sum(1 for r in rows if r["Last outcome category"] in (*caution, ""))
    assert sent <= int(reduced["charged"].sum()) <= len(rows) - not_charged - no_suspect


def test_2011_and_2021_codes_placed_by_their_own_lookup(fetched):
    city11 = _lsoas_in(LSOA11, "LAD19NM", "City of London")
    city21 = _lsoas_in(LSOA21, "LAD23NM", "City of London")
    all11 = {r["LSOA11CD"] for r in _rows(LSOA11)}
    later = {r["LSOA code"] for p in _street_files() if p.parent.name >= "2023" for r in _rows(p)}
    assert "E01035716" in later and "E01035716" not in all11  # a 2021-only code the 2023+ files use (SOURCES.md)
    for path, city in ((LF_FILE, city11), (CRLF_FILE, city21)):
        placed = policeuk.place_reduced(policeuk.reduce_street_file(path), _geography())
        rows = _rows(path)
        in_city = sum(1 for r in rows if r["LSOA code"] in city)
        assert int(placed.loc[placed["lad_name"] == "City of London", "count"].sum()) == in_city
        assert set(placed["vintage"]) == {2021}  # the City's own codes are in both sets: placed alike by either
    # a file with 2011-only codes (LSOAs split or merged in 2021) is placed through the 2011 lookup, and vice versa
    all21 = {r["LSOA21CD"] for r in _rows(LSOA21)}
    for path in _street_files():
        codes = {r["LSOA code"] for r in _rows(path)} - {""}
        placed = policeuk.place_reduced(policeuk.reduce_street_file(path), _geography())
        want = 2011 if codes - all21 else 2021
        assert set(placed["vintage"]) == {want}, path
        assert (placed["lad"] != "").sum() == (placed["lsoa"] != "").sum()  # every code placed
    early = [p for p in _street_files() if p.parent.name < "2020"]
    assert any({r["LSOA code"] for r in _rows(p)} - {""} - all21 for p in early)


def test_rows_outside_the_force_area_placed_where_they_are(fetched):
    """The City of London Police's rows in Carmarthenshire (W01...) and Tower Hamlets count there, by LSOA code."""
    files = {p.parent.name: p for p in _street_files()}
    table = policeuk.read_street_months(files, ["City of London"], _geography())
    welsh = Counter()
    for path in files.values():
        welsh.update(r["LSOA code"] for r in _rows(path) if r["LSOA code"].startswith("W01"))
    carmarthen = _lsoas_in(LSOA21, "LAD23NM", "Carmarthenshire") | _lsoas_in(LSOA11, "LAD19NM", "Carmarthenshire")
    assert int(table.loc[table["area"] == "Carmarthenshire", "count"].sum()) == sum(
        n for c, n in welsh.items() if c in carmarthen
    )
    assert int(table.loc[table["area"] == "Carmarthenshire", "count"].sum()) >= 1
    th = _lsoas_in(LSOA21, "LAD23NM", "Tower Hamlets") | _lsoas_in(LSOA11, "LAD19NM", "Tower Hamlets")
    by_hand = sum(1 for p in files.values() for r in _rows(p) if r["LSOA code"] in th)
    assert int(table.loc[table["area"] == "Tower Hamlets", "count"].sum()) == by_hand > 0
    assert not table.loc[table["area"] != "City of London", "placed"].any()
    total = sum(len(_rows(p)) for p in files.values())
    assert int(table["count"].sum()) == total  # every row kept: in the City, elsewhere, or with no LSOA


def test_twelve_months_to_december_2025_in_the_city(fetched):
    """A hand-counted year: the City's ASB and crimes in the 12 months to December 2025, by its 2021 LSOAs."""
    city21 = _lsoas_in(LSOA21, "LAD23NM", "City of London")
    months = [f"{m:%Y-%m}" for m in pd.date_range("2025-01-01", "2025-12-01", freq="MS")]
    files = {m: POLICEUK / m / f"{m}-city-of-london-street.csv" for m in months}
    table = policeuk.read_street_months(files, ["City of London"], _geography())
    rows = [r for m in months for r in _rows(files[m]) if r["LSOA code"] in city21]
    by_type = Counter(r["Crime type"] for r in rows)
    got = table[table["placed"]].groupby("crime_type")["count"].sum()
    assert got.to_dict() == dict(by_type)


def test_an_lsoa_code_in_no_lookup_is_named_with_file_and_line(fetched, tmp_path):
    lines = CRLF_FILE.read_bytes().split(b"\r\n")
    target = next(i for i, line in enumerate(lines) if b",E01" in line and i > 5)
    lines[target] = lines[target].replace(b",E01", b",E01999", 1)
    bad = tmp_path / "2025-12-city-of-london-street.csv"
    bad.write_bytes(b"\r\n".join(lines))
    with pytest.raises(SourceFormatError, match=rf"{bad.name}, line {target + 1}, column 'LSOA code'.*E01999"):
        policeuk.read_street_months({"2025-12": bad}, ["City of London"], _geography())
