"""The ONS geography readers on the real lookups, and on damaged copies of their first lines made in tmp_path."""

from __future__ import annotations

import pytest
from conftest import MIRROR

from csp_evidence.data.readers import ons_geography as og

pytestmark = pytest.mark.realdata

GEO = MIRROR / "geo"
LU22 = GEO / "LSOA_(2021)_to_Ward_to_Local_Authority_District_(May_2022)_Best_Fit_Lookup_for_EW.csv"
LU23 = GEO / "LSOA_(2021)_to_Electoral_Ward_(2023)_to_LAD_(2023)_Best_Fit_Lookup_in_EW.csv"
CENSUS = GEO / "census2021-ts007a-lsoa.csv"


def _head(path, tmp_path, lines=6, edit=lambda text: text):
    out = tmp_path / path.name
    text = path.read_text(encoding="utf-8-sig").splitlines()[:lines]
    out.write_text(edit("\n".join(text) + "\n"), encoding="utf-8-sig")
    return out


def test_2022_lookup_reads_ltla22cd_and_lad22cd(tmp_path):
    real = og.read_lsoa21_ward22(LU22)
    assert len(real) == 35672 and real["lad"].nunique() == 331 and real["ward"].nunique() == 7625  # SOURCES.md 1a
    renamed = _head(LU22, tmp_path, edit=lambda t: t.replace("LTLA22CD", "LAD22CD").replace("LTLA22NM", "LAD22NM"))
    assert og.read_lsoa21_ward22(renamed)["lad"].tolist() == real["lad"].head(5).tolist()


def test_2022_lookup_without_an_authority_column_names_it(tmp_path):
    gone = _head(LU22, tmp_path, edit=lambda t: t.replace("LTLA22CD", "AUTH"))
    with pytest.raises(og.GeographyFormatError, match=r"missing column 'LTLA22CD' or 'LAD22CD'"):
        og.read_lsoa21_ward22(gone)


def test_a_bad_code_names_file_line_and_column(tmp_path):
    lines = LU23.read_text(encoding="utf-8-sig").splitlines()
    bad = tmp_path / LU23.name
    lines[4] = lines[4].replace("E06000001", "X06000001")
    bad.write_text("\n".join(lines[:8]) + "\n", encoding="utf-8-sig")
    with pytest.raises(og.GeographyFormatError, match=r"line 5, column 'LAD23CD': value 'X06000001'"):
        og.read_lsoa21_ward23(bad)


def test_2023_lookup_keeps_codes_not_garbled_names():
    lu = og.read_lsoa21_ward23(LU23)
    assert lu["lad"].nunique() == 318 and lu["ward"].nunique() == 7581  # SOURCES.md 1b
    assert lu["ward_name"].isna().all()


def test_census_population_refuses_a_non_count(tmp_path):
    assert og.read_census_lsoa_population(_head(CENSUS, tmp_path))["population"].tolist()[:2] == [1473, 1384]
    bad = _head(CENSUS, tmp_path, edit=lambda t: t.replace(",1473,", ",1.5e3,", 1))
    with pytest.raises(og.GeographyFormatError, match=r"line 2, column 'Age: Total'.*'1.5e3'"):
        og.read_census_lsoa_population(bad)


def test_csp_lookup_lists_merged_authorities_once_per_csp():
    csp = og.read_lad_csp_pfa(MIRROR / "other" / "ons_lookup_LAD23_CSP23_PFA23_December_2023.csv", 2023)
    assert (
        len(csp) == 332 and csp["lad"].nunique() == 318 and csp["csp"].nunique() == 314 and csp["pfa"].nunique() == 43
    )
    bucks = csp[csp["lad_name"] == "Buckinghamshire"]
    assert sorted(bucks["csp_name"]) == ["Aylesbury Vale", "Chiltern", "South Bucks", "Wycombe"]
