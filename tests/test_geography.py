"""The area model and the LSOA geography, on the real ONS lookups and the real City of London police.uk files.

Expected figures come from shared/data/geo/SOURCES.md and shared/data/policeuk/SOURCES.md (counted there from the
files), or from the ONS lookups read independently here with the csv module."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import MIRROR

from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.policeuk import read_street_file

pytestmark = pytest.mark.realdata

POLICEUK = MIRROR / "policeuk"
CSP23 = MIRROR / "other" / "ons_lookup_LAD23_CSP23_PFA23_December_2023.csv"


def _city_files() -> list[Path]:
    return sorted(POLICEUK.glob("*/*-city-of-london-street.csv"))


def _rows(path: Path) -> pd.DataFrame:
    raw = read_street_file(path)
    return pd.DataFrame({"lsoa": raw["LSOA code"], "file": str(path), "line": raw.index + 2})


@pytest.fixture(scope="module")
def geography(fetched):
    from csp_evidence.data import datasets

    return datasets.lsoa_geography()


@pytest.fixture(scope="module")
def g(fetched):
    from csp_evidence.data import geography

    return geography


def _csp23_rows() -> list[dict]:
    with CSP23.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_every_lsoa_of_both_vintages_once(geography):
    counts = geography.groupby("vintage").size().to_dict()
    assert counts == {2011: 34753, 2021: 35672}  # SOURCES.md 1d/1e and 1a/1b
    assert not geography.duplicated(["lsoa", "vintage"]).any()
    tower_hamlets = geography[geography["lad_name"] == "Tower Hamlets"].groupby("vintage").size().to_dict()
    assert tower_hamlets == {2011: 144, 2021: 169}
    city = geography[(geography["lad_name"] == "City of London") & (geography["vintage"] == 2021)]
    assert len(city) == 6 and set(city["csp_name"]) == {"City of London"}
    welsh = geography[(geography["vintage"] == 2021) & (geography["country_name"] == "Wales")]
    assert len(welsh) == 1917 and set(welsh["region_name"]) == {"Wales"} and set(welsh["lsoa"].str[0]) == {"W"}


def test_codes_in_both_vintages_are_placed_alike(geography):
    wide = geography.pivot(index="lsoa", columns="vintage", values="csp").dropna()
    assert len(wide) > 30000
    assert (wide[2011] == wide[2021]).all()


def test_merged_authorities_placed_by_their_former_districts(geography):
    """Corby is a CSP inside North Northamptonshire: its 2011 LSOAs are those the 2019 lookup puts in the district
    of Corby (read here with the csv module), not all of the authority."""
    path = MIRROR / "geo" / "Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv"
    with path.open(newline="") as f:
        corby = {r["LSOA11CD"] for r in csv.DictReader(f) if r["LAD19NM"] == "Corby"}
    placed = geography[(geography["vintage"] == 2011) & (geography["csp_name"] == "Corby")]
    assert set(placed["lsoa"]) == corby
    assert set(placed["lad_name"]) == {"North Northamptonshire"}
    # only where no lookup held says which CSP: Bournemouth, Christchurch and Poole, and East Suffolk, as a whole
    undecided = geography[geography["csp"].isna()]
    assert set(undecided["lad_name"]) == {"Bournemouth, Christchurch and Poole", "East Suffolk"}
    assert (undecided["csp_method"] == "undecided").all()
    in_those = geography[geography["lad_name"].isin(set(undecided["lad_name"]))]
    assert len(in_those) == len(undecided)


def test_welsh_ward_names_are_not_garbled(geography):
    # SOURCES.md 1b: the 2023 LSOA lookup writes this Anglesey ward 'Canolbarth M├┤n'
    names = set(geography.loc[geography["ward"] == "W05001496", "ward_name"])
    assert names == {"Canolbarth Môn"}
    assert not geography["ward_name"].str.contains("├|┼").any()


def test_census_population(fetched, geography):
    from csp_evidence.data import datasets

    pop = datasets.lsoa_population()
    assert len(pop) == 35672 and int(pop["population"].sum()) == 59597611  # SOURCES.md 3a
    th = geography[(geography["vintage"] == 2021) & (geography["lad_name"] == "Tower Hamlets")]
    assert int(pop[pop["lsoa"].isin(th["lsoa"])]["population"].sum()) == 310303


def test_every_lsoa_of_the_city_of_london_files_placed(g):
    files = _city_files()
    assert len(files) == 40  # 2016-04..2017-03, 2019-01, 2023-10..2025-12
    seen = {2011: 0, 2021: 0}
    outside = set()
    for path in files:
        rows = _rows(path)
        vintage = 2011 if path.name < "2020" else 2021  # SOURCES.md quirk 5
        placed = g.place_lsoas(rows, vintage)
        # the codes alone give the same vintage, or are all codes of both sets, which place alike
        if g.lsoa_vintage(rows["lsoa"], path) != vintage:
            other = g.place_lsoas(rows, 2021)
            pd.testing.assert_series_equal(other["csp"], placed["csp"])
        located = placed["lsoa"].notna()
        assert placed.loc[located, "lad"].notna().all() and placed.loc[located, "csp"].notna().all()
        assert placed.loc[~located, "csp"].isna().all()  # 'No Location': no LSOA, no place
        seen[vintage] += int(located.sum())
        outside |= set(placed.loc[located & (placed["csp_name"] != "City of London"), "lad_name"])
    assert seen[2011] > 0 and seen[2021] > 0
    # SOURCES.md quirk 6: rows in Camden, Islington, Tower Hamlets, Newham, Barnet, Birmingham, Carmarthenshire
    assert {"Camden", "Islington", "Tower Hamlets", "Newham", "Barnet", "Birmingham", "Carmarthenshire"} <= outside


def test_a_real_2021_only_code_and_the_city_codes(g):
    rows = pd.DataFrame({"lsoa": ["E01032739", "E01035716", None], "file": "f.csv", "line": [2, 3, 4]})
    placed = g.place_lsoas(rows, 2021)
    assert placed["lad_name"].tolist()[:2] == ["City of London", "Westminster"]
    assert pd.isna(placed.at[2, "lad"])
    assert g.lsoa_vintage(["E01035716", "E01000001"], "f.csv") == 2021
    assert g.lsoa_vintage(["E01032739"], "f.csv") == 2021  # in both sets: placed alike either way
    with pytest.raises(KeyError, match="no column 'line'"):
        g.place_lsoas(rows.drop(columns="line"), 2021)


def test_unplaceable_code_names_file_line_and_code(g, tmp_path):
    source = POLICEUK / "2024-06" / "2024-06-city-of-london-street.csv"
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    lines = path.read_bytes().split(b"\r\n")
    located = next(i for i, line in enumerate(lines) if i > 10 and b",E01" in line)
    code = lines[located].split(b",")[7]
    lines[located] = lines[located].replace(code, b"E01999999")
    path.write_bytes(b"\r\n".join(lines))
    rows = _rows(path)
    with pytest.raises(g.UnplacedLsoaError) as err:
        g.place_lsoas(rows, g.lsoa_vintage(rows["lsoa"], path))
    message = str(err.value)
    assert str(path) in message and f"line {located + 1}" in message and "'E01999999'" in message
    assert isinstance(err.value, SourceFormatError) and err.value.row == located + 1
    # a 2021-only code read as a 2011 LSOA is in no lookup of its vintage
    with pytest.raises(g.UnplacedLsoaError, match="2011 LSOAs"):
        g.place_lsoas(pd.DataFrame({"lsoa": ["E01035716"], "file": "x.csv", "line": [7]}), 2011)


def test_a_file_mixing_vintages_is_refused(g, geography):
    by_vintage = geography.groupby("vintage")["lsoa"].agg(set)
    only11 = sorted(by_vintage[2011] - by_vintage[2021])
    with pytest.raises(SourceFormatError, match=r"mixed.csv.*mixes 2011 LSOA codes"):
        g.lsoa_vintage([only11[0], "E01035716"], "mixed.csv")


def test_dartford_and_gravesham_is_two_authorities(g):
    area = g.resolve_area("Dartford and Gravesham")
    lookup = [r for r in _csp23_rows() if r["CSP23NM"] == "Dartford and Gravesham"]
    assert len(lookup) == 2
    assert set(area.lad_codes) == {r["LAD23CD"] for r in lookup}
    assert [a.name for a in area.authorities] == ["Dartford", "Gravesham"]
    assert area.csp == lookup[0]["CSP23CD"] and area.force_name == "Kent" and area.region_name == "South East"
    assert area.borough is None and area.default_group == "force"
    kent = {r["CSP23CD"] for r in _csp23_rows() if r["PFA23NM"] == "Kent"}
    assert set(area.group("force").csps) == kent and area.csp in kent
    assert len(area.group("england_and_wales")) == 314
    assert g.resolve_area("dartford & gravesham") == area
    lsoas = g.area_lsoas(area, 2021)
    assert set(lsoas["lad"]) == set(area.lad_codes) and set(lsoas["csp_name"]) == {"Dartford and Gravesham"}
    assert area.shared_authorities == () and area.undecided_lsoas == 0


def test_welsh_csp_resolves_to_wales(g):
    area = g.resolve_area("Cwm Taf")
    assert area.country_name == "Wales" and area.region_name == "Wales" and area.region == "W92000004"
    assert {a.name for a in area.authorities} == {"Merthyr Tydfil", "Rhondda Cynon Taf"}
    wales = {r["CSP23CD"] for r in _csp23_rows() if r["CSP23CD"].startswith("W")}
    assert set(area.group("region").csps) == wales
    assert g.resolve_area(area.csp) == area  # by its ONS code (W14...)
    lsoas = g.area_lsoas(area, 2021)
    assert len(lsoas) > 0 and set(lsoas["country_name"]) == {"Wales"}


def test_london_boroughs_resolve_as_today(g, fetched):
    from csp_evidence.data import datasets, geo

    codes = datasets.borough_lookup().set_index("name")["code"]
    boroughs = geo.mps_boroughs()
    assert len(boroughs) == 32
    for name in boroughs:
        area = g.resolve_area(name)
        assert area.borough == name and area.lad_codes == (codes[name],)
        assert area.default_group == "london" and len(area.group()) == 32
        assert area.force_name == "Metropolitan Police" and area.region_name == "London"
    th = g.resolve_area("Tower Hamlets")
    assert th.csp == "E22000215" and th.force == "E23000001"  # SOURCES.md (other/): E22000215, E23000001
    assert len(g.area_lsoas(th, 2021)) == 169
    city = g.resolve_area("City of London")  # its own force: a group of one, so its region is the default
    assert city.borough is None and len(city.group("force")) == 1 and city.default_group == "region"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Tower Hamlet", "Closest: 'Tower Hamlets'"),
        ("Dartford", "local authority, not a CSP: name its CSP instead, 'Dartford and Gravesham'"),
        ("Gwent", "unknown area 'Gwent'"),
        ("E22999999", "unknown area 'E22999999'"),
    ],
)
def test_unknown_areas_refused_with_close_matches(g, name, expected):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(")):
        g.resolve_area(name)


def _lsoas_of(path: Path, column: str, name: str) -> set[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    code = next(c for c in rows[0] if c.startswith("LSOA") and c.endswith("CD"))
    return {r[code] for r in rows if r[column] == name}


def test_a_csp_inside_a_merged_authority(g):
    """The CSP lookup gives Buckinghamshire four CSPs: Aylesbury Vale's 2011 LSOAs are its former district's;
    Bournemouth's cannot be told from Poole's with the lookups held, and the area counts the LSOAs that leaves out."""
    geo = MIRROR / "geo"
    lu19 = geo / "Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv"
    lu23 = geo / "LSOA_(2021)_to_Electoral_Ward_(2023)_to_LAD_(2023)_Best_Fit_Lookup_in_EW.csv"
    aylesbury = g.resolve_area("Aylesbury Vale")
    assert [a.name for a in aylesbury.authorities] == ["Buckinghamshire"] and aylesbury.undecided_lsoas == 0
    assert aylesbury.shared_authorities == aylesbury.authorities
    assert set(g.area_lsoas(aylesbury, 2011)["lsoa"]) == _lsoas_of(lu19, "LAD19NM", "Aylesbury Vale")
    bcp = "Bournemouth, Christchurch and Poole"
    bournemouth = g.resolve_area("Bournemouth")
    assert [a.name for a in bournemouth.shared_authorities] == [bcp]
    assert bournemouth.undecided_lsoas == len(_lsoas_of(lu19, "LAD19NM", bcp)) + len(_lsoas_of(lu23, "LAD23NM", bcp))
    assert g.area_lsoas(bournemouth).empty
