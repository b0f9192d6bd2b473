"""Tests for the data.police.uk street-level reader, on two small synthetic month files in the official layout."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from csp_evidence.data.readers.policeuk import (
    EXPECTED_COLUMNS,
    PoliceUkFormatError,
    asb_monthly,
    read_street_files,
    read_street_months,
    street_coverage,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "policeuk"
APRIL = FIXTURES / "2020-04-metropolitan-street.csv"
MAY = FIXTURES / "2020-05-metropolitan-street.csv"

# What was planted in the fixtures (one extra April row has no location and must be left out).
PLANTED = {
    ("2020-04-01", "Tower Hamlets"): {
        "Anti-social behaviour": 6,
        "Violence and sexual offences": 5,
        "Burglary": 2,
        "Vehicle crime": 2,
        "Drugs": 1,
    },
    ("2020-04-01", "Hackney"): {
        "Anti-social behaviour": 4,
        "Violence and sexual offences": 3,
        "Other theft": 2,
        "Robbery": 1,
        "Shoplifting": 1,
    },
    ("2020-05-01", "Tower Hamlets"): {"Anti-social behaviour": 3, "Violence and sexual offences": 2},
    ("2020-05-01", "Hackney"): {"Burglary": 2},
}


def _rewrite(src: Path, dst: Path, edit) -> Path:
    """Copy a fixture through csv, applying `edit(header, rows)`, and return the new path."""
    with src.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    header, rows = edit(header, rows)
    with dst.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])
    return dst


def _geography():
    from csp_evidence.data import datasets

    return datasets.lsoa_geography()


def test_fixture_has_exact_official_layout():
    for path in (APRIL, MAY):
        with path.open(newline="") as f:
            header = next(csv.reader(f))
        assert tuple(header) == EXPECTED_COLUMNS


def test_aggregated_counts_match_planted():
    tidy = read_street_files([APRIL, MAY])
    assert list(tidy.columns) == ["month", "borough", "crime_type", "count"]
    got = {(m.strftime("%Y-%m-%d"), b, c): n for m, b, c, n in tidy.itertuples(index=False, name=None)}
    want = {(m, b, c): n for (m, b), d in PLANTED.items() for c, n in d.items()}
    assert got == want
    assert tidy["count"].sum() == 34  # 35 rows in the files, minus the one with no location
    assert pd.api.types.is_datetime64_any_dtype(tidy["month"])
    assert (tidy["month"].dt.day == 1).all()
    assert tidy["count"].dtype == "int64"


def test_single_path_accepted():
    tidy = read_street_files(APRIL)
    assert set(tidy["month"]) == {pd.Timestamp("2020-04-01")}


def test_asb_rows_have_empty_crime_id_in_fixture():
    raw = pd.read_csv(APRIL, dtype=str, keep_default_na=False)
    asb = raw[raw["Crime type"] == "Anti-social behaviour"]
    assert len(asb) == 10 and (asb["Crime ID"] == "").all()
    assert (raw.loc[raw["Crime type"] != "Anti-social behaviour", "Crime ID"].str.len() == 64).all()


def test_asb_monthly():
    tidy = read_street_files([APRIL, MAY])
    th = asb_monthly(tidy, "Tower Hamlets")
    assert isinstance(th.index, pd.DatetimeIndex)
    assert list(th.index) == [pd.Timestamp("2020-04-01"), pd.Timestamp("2020-05-01")]
    assert th.tolist() == [6, 3]
    hk = asb_monthly(tidy, "Hackney")
    assert hk.tolist() == [4, 0]  # no Hackney ASB planted in May: zero, not missing


def test_asb_monthly_unknown_borough():
    tidy = read_street_files([APRIL])
    with pytest.raises(ValueError, match="Islington"):
        asb_monthly(tidy, "Islington")


def test_missing_column_names_file_and_column(tmp_path):
    def drop_lsoa_name(header, rows):
        i = header.index("LSOA name")
        return header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows]

    bad = _rewrite(APRIL, tmp_path / "2020-04-metropolitan-street.csv", drop_lsoa_name)
    with pytest.raises(PoliceUkFormatError) as exc:
        read_street_files([bad])
    assert str(bad) in str(exc.value) and "LSOA name" in str(exc.value)


def test_bad_month_names_file_line_and_column(tmp_path):
    def bad_month(header, rows):
        rows[4][header.index("Month")] = "April 2020"
        return header, rows

    bad = _rewrite(APRIL, tmp_path / "bad.csv", bad_month)
    with pytest.raises(PoliceUkFormatError) as exc:
        read_street_files([bad])
    msg = str(exc.value)
    assert str(bad) in msg and "line 6" in msg and "'Month'" in msg and "April 2020" in msg


def test_unknown_crime_type(tmp_path):
    def bad_type(header, rows):
        rows[0][header.index("Crime type")] = "Littering"
        return header, rows

    bad = _rewrite(APRIL, tmp_path / "bad.csv", bad_type)
    with pytest.raises(PoliceUkFormatError) as exc:
        read_street_files([bad])
    msg = str(exc.value)
    assert "line 2" in msg and "'Crime type'" in msg and "Littering" in msg


def test_missing_crime_id_on_a_crime_is_an_error(tmp_path):
    def blank_id(header, rows):
        i = next(k for k, r in enumerate(rows) if r[header.index("Crime type")] == "Burglary")
        rows[i][0] = ""
        return header, rows

    bad = _rewrite(APRIL, tmp_path / "bad.csv", blank_id)
    with pytest.raises(PoliceUkFormatError, match="Crime ID.*Burglary"):
        read_street_files([bad])


def test_error_is_the_shared_reader_error(tmp_path):
    from csp_evidence.data.readers.errors import SourceFormatError

    assert issubclass(PoliceUkFormatError, SourceFormatError) and issubclass(PoliceUkFormatError, ValueError)
    bad = tmp_path / "empty.csv"
    bad.write_text("Month\n2020-04\n")
    with pytest.raises(SourceFormatError) as exc:
        read_street_files([bad])
    assert exc.value.path == bad


def test_a_name_without_a_code_is_named_never_read_as_no_lsoa(tmp_path, fetched):
    def no_code(header, rows):
        i = next(k for k, r in enumerate(rows) if r[header.index("LSOA name")])
        rows[i][header.index("LSOA code")] = ""  # the code is missing: not 'police.uk could not place it'
        return header, rows

    bad = _rewrite(APRIL, tmp_path / "2020-04-metropolitan-street.csv", no_code)
    with pytest.raises(PoliceUkFormatError) as exc:
        read_street_months({"2020-04": bad}, ["Tower Hamlets", "Hackney"], _geography())
    msg = str(exc.value)
    assert str(bad) in msg and "'LSOA code'" in msg and "Hackney" in msg and "line " in msg


def test_coverage_counts_rows_outside_the_boroughs_by_area_as_data(tmp_path, fetched):
    def to_bristol(header, rows):
        i = next(k for k, r in enumerate(rows) if r[header.index("LSOA name")].startswith("Hackney"))
        # placed by its code (a Bristol LSOA, ONS name with a comma in it), whatever its name says
        rows[i][header.index("LSOA code")] = "E01014521"
        return header, rows

    april = _rewrite(APRIL, tmp_path / "2020-04-metropolitan-street.csv", to_bristol)
    table = read_street_months({"2020-04": april, "2020-05": MAY}, ["Tower Hamlets"], _geography())
    coverage = street_coverage(table).set_index(table["month"].drop_duplicates().dt.strftime("%Y-%m").to_numpy())
    assert coverage.at["2020-04", "outside_areas"] == {"Hackney": 10, "Bristol, City of": 1}
    assert coverage.at["2020-05", "outside_areas"] == {"Hackney": 2}
    assert coverage.at["2020-04", "no_lsoa"] == 1
    assert (coverage["outside"] == coverage["outside_areas"].map(lambda a: sum(a.values()))).all()
