"""The ONS police force area ASB tables (P7 incidents, P8 categories): on the real workbook, and on damaged copies."""

from __future__ import annotations

import re

import openpyxl
import pandas as pd
import pytest
from conftest import MIRROR

from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.ons import (
    PFA_ASB_CATEGORY_SHEET,
    PFA_ASB_SHEET,
    area_name,
    read_pfa_asb_categories,
    read_pfa_asb_incidents,
)

PFA_2019 = "ons/policeforceareatablesyeendingmarch2019.xlsx"
PFA_2018 = MIRROR / "ons" / "policeforceareatablesyearendingmarch2018v2.xlsx"  # not registered: a cross-check only
MET_ROW = 52  # spreadsheet row of the Metropolitan Police in Table P7 of the 2019 edition
LAST_YEAR = "X"  # its column of incidents in 2018/19


def _met(tidy: pd.DataFrame) -> pd.Series:
    return tidy[tidy["area"] == "Metropolitan Police"].set_index("financial_year")["incidents"]


@pytest.mark.realdata
def test_real_p7_met_and_london(fetched):
    tidy = read_pfa_asb_incidents(fetched / PFA_2019)
    years = [f"{y}/{(y + 1) % 100:02d}" for y in range(2007, 2019)]
    assert sorted(tidy["financial_year"].unique()) == years
    met = _met(tidy)
    # the figures in shared/data/ons/SOURCES.md, read there from the workbook by hand
    assert met[["2015/16", "2016/17", "2017/18", "2018/19"]].tolist() == [244246, 274836, 249118, 251120]
    london = tidy[(tidy["area"] == "London") & (tidy["area_type"] == "region")].set_index("financial_year")
    assert london.at["2018/19", "incidents"] == 252469
    city = tidy[tidy["area"] == "City of London"].set_index("financial_year")
    assert (city["area_type"] == "force").all() and city.at["2018/19", "incidents"] == 1349
    assert pd.isna(city.at["2007/08", "rate_per_1000"])  # '+': suppressed, not zero
    assert (london["incidents"] == met + city["incidents"]).all()  # the region is the two forces
    assert tidy[tidy["area"] == "Metropolitan Police"]["rate_per_1000"].round(2).iloc[-1] == 28.48


@pytest.mark.realdata
def test_real_p7_not_available_is_absent_and_west_midlands_is_both(fetched):
    tidy = read_pfa_asb_incidents(fetched / PFA_2019)
    btp = tidy[tidy["area"] == "British Transport Police"]
    assert btp["financial_year"].min() == "2012/13"  # '..' before: no rows, never zero
    assert set(tidy.loc[tidy["area"] == "West Midlands", "area_type"]) == {"region", "force"}
    assert tidy.groupby("area_type")["area"].nunique().to_dict() == {
        "England and Wales": 2,
        "country": 2,
        "force": 44,
        "region": 9,
    }


@pytest.mark.realdata
def test_real_p8_met_split(fetched):
    cats = read_pfa_asb_categories(fetched / PFA_2019)
    met = cats[cats["area"] == "Metropolitan Police"].set_index("category")["percent"].round(1)
    assert met.to_dict() == {"Personal": 11.5, "Nuisance": 85.5, "Environmental": 3.0}
    assert set(cats["financial_year"]) == {"2018/19"}
    assert (cats.groupby(["area", "area_type"])["percent"].sum().sub(100).abs() < 0.5).all()


@pytest.mark.skipif(not PFA_2018.is_file(), reason=f"{PFA_2018} is absent")
def test_the_2018_edition_reads_alike_and_agrees_on_the_met(fetched):
    old = read_pfa_asb_incidents(PFA_2018)  # same layout plus an Area Code column; sheet 'Table P7'
    new = read_pfa_asb_incidents(fetched / PFA_2019)
    assert old["financial_year"].max() == "2017/18"
    assert _met(old)["2017/18"] == _met(new)["2017/18"] == 249118
    cats = read_pfa_asb_categories(PFA_2018)
    assert set(cats["financial_year"]) == {"2017/18"}


def test_area_names_lose_their_footnote_marks():
    assert area_name("London 10") == "London"
    assert area_name("City of London10") == "City of London"
    assert area_name("ENGLAND AND WALES (inc. BTP)9") == "ENGLAND AND WALES (inc. BTP)"
    assert area_name("  North West ") == "North West"


# --- damaged copies of the real workbook ----------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(fetched):
    return fetched / PFA_2019


def _damaged(workbook, tmp_path, change) -> str:
    book = openpyxl.load_workbook(workbook)
    change(book)
    out = tmp_path / "damaged.xlsx"
    book.save(out)
    return str(out)


@pytest.mark.realdata
def test_missing_sheet_names_file_and_sheet(workbook, tmp_path):
    def rename(book):
        book[PFA_ASB_SHEET].title = "Table P7 old"

    path = _damaged(workbook, tmp_path, rename)
    with pytest.raises(SourceFormatError, match=re.escape(f"{path}, sheet 'Table P7 ': sheet not found")) as err:
        read_pfa_asb_incidents(path)
    assert "Table P7 old" in str(err.value)  # the sheets there are listed


@pytest.mark.realdata
def test_renamed_column_names_sheet_and_column(workbook, tmp_path):
    def rename(book):
        book[PFA_ASB_SHEET][f"{LAST_YEAR}5"] = "Incidents"

    path = _damaged(workbook, tmp_path, rename)
    with pytest.raises(SourceFormatError) as err:
        read_pfa_asb_incidents(path)
    text = str(err.value)
    assert text.startswith(f"{path}, sheet 'Table P7 ', row 5, column \"X (Apr '18 to Mar '19)\"")
    assert "expected 'Number of Incidents'" in text and "'Incidents'" in text


@pytest.mark.realdata
def test_non_numeric_value_names_sheet_row_column_and_area(workbook, tmp_path):
    def spoil(book):
        book[PFA_ASB_SHEET][f"{LAST_YEAR}{MET_ROW}"] = "n/a"

    path = _damaged(workbook, tmp_path, spoil)
    with pytest.raises(SourceFormatError) as err:
        read_pfa_asb_incidents(path)
    text = str(err.value)
    assert text.startswith(
        f"{path}, sheet 'Table P7 ', row {MET_ROW}, column \"X (Apr '18 to Mar '19, Number of Incidents)\""
    )
    assert "value 'n/a' for Metropolitan Police is not a number" in text


@pytest.mark.realdata
def test_fractional_count_is_refused(workbook, tmp_path):
    path = _damaged(workbook, tmp_path, lambda book: book[PFA_ASB_SHEET].__setitem__(f"B{MET_ROW}", 12.5))
    with pytest.raises(SourceFormatError, match=rf"row {MET_ROW}, .*12\.5 for Metropolitan Police is not a whole"):
        read_pfa_asb_incidents(path)


@pytest.mark.realdata
def test_missing_met_row_is_named(workbook, tmp_path):
    path = _damaged(workbook, tmp_path, lambda book: book[PFA_ASB_SHEET].__setitem__(f"A{MET_ROW}", "Met"))
    with pytest.raises(SourceFormatError, match=r"sheet 'Table P7 ', column 'A': no row for 'Metropolitan Police'"):
        read_pfa_asb_incidents(path)


@pytest.mark.realdata
def test_p8_renamed_category_names_sheet_and_column(workbook, tmp_path):
    def rename(book):
        sheet = book[PFA_ASB_CATEGORY_SHEET]
        for row in sheet.iter_rows(min_row=1, max_row=10):
            for cell in row:
                if cell.value == "Nuisance5":
                    cell.value = "Noise"

    path = _damaged(workbook, tmp_path, rename)
    with pytest.raises(SourceFormatError) as err:
        read_pfa_asb_categories(path)
    text = str(err.value)
    assert text.startswith(f"{path}, sheet 'Table P8 ', row 5, column 'Nuisance'") and "missing" in text


@pytest.mark.realdata
def test_p8_non_numeric_share_is_named(workbook, tmp_path):
    def spoil(book):
        sheet = book[PFA_ASB_CATEGORY_SHEET]
        row = next(r for r in sheet.iter_rows() if r[0].value == "Metropolitan Police")
        row[2].value = "high"

    path = _damaged(workbook, tmp_path, spoil)
    with pytest.raises(
        SourceFormatError, match=r"sheet 'Table P8 ', row \d+, column 'C \(Nuisance\)'.*'high' for Metropolitan"
    ):
        read_pfa_asb_categories(path)


def test_not_a_workbook_names_the_file(tmp_path):
    path = tmp_path / "pfa.xlsx"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SourceFormatError, match=rf"{re.escape(str(path))}: not a readable Excel workbook"):
        read_pfa_asb_incidents(path)
