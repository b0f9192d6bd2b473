"""The MPS borough-crime reader: on the real mirrored files, and on small bad files made here."""

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.mps import (
    AIRPORTS,
    read_borough_crime,
    read_borough_file,
)

HIST = "mps/mps_borough_crime_historical_201004_202201.csv"
RECENT = "mps/mps_borough_crime_recent_202202_202401.csv"


def _independent_fy_total(path: Path, borough: str, months: list[str]) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(int(row[m]) for row in csv.DictReader(fh) if row["LookUp_BoroughName"] == borough for m in months)


@pytest.mark.realdata
def test_real_series_is_continuous_and_tidy(crime):
    assert crime["month"].min() == pd.Timestamp("2010-04-01")
    assert crime["month"].max() == pd.Timestamp("2024-01-01")
    assert crime["month"].nunique() == 166
    assert crime["borough"].nunique() == 33 and AIRPORTS in set(crime["borough"])
    assert (crime["count"] >= 0).all()
    assert not crime.duplicated(["month", "borough", "major_category", "minor_category"]).any()


@pytest.mark.realdata
def test_real_totals_match_an_independent_read(crime, fetched):
    months = [f"2019{m:02d}" for m in range(4, 13)] + [f"2020{m:02d}" for m in range(1, 4)]
    expected = _independent_fy_total(fetched / HIST, "Tower Hamlets", months)
    got = crime[(crime["borough"] == "Tower Hamlets") & crime["month"].between("2019-04-01", "2020-03-01")][
        "count"
    ].sum()
    assert got == expected
    months_recent = [f"2022{m:02d}" for m in range(4, 13)] + [f"2023{m:02d}" for m in range(1, 4)]
    expected = _independent_fy_total(fetched / RECENT, "Hackney", months_recent)
    got = crime[(crime["borough"] == "Hackney") & crime["month"].between("2022-04-01", "2023-03-01")]["count"].sum()
    assert got == expected


# --- bad input, in small files written here --------------------------------------------------------

HEADER = "MajorText,MinorText,LookUp_BoroughName,201904,201905,201906"
GOOD = [
    "Burglary,Domestic Burglary,Hackney,10,11,12",
    'Theft,"Theft from, a person",Hackney,5,6,7',
]


def _write(tmp_path, lines, name="mps.csv"):
    path = tmp_path / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_small_file_reads_to_long_table(tmp_path):
    tidy = read_borough_file(_write(tmp_path, [HEADER, *GOOD]), known_boroughs=["Hackney"])
    assert len(tidy) == 6 and tidy["count"].sum() == 51
    assert set(tidy["minor_category"]) == {"Domestic Burglary", "Theft from, a person"}


@pytest.mark.parametrize(
    "lines, match",
    [
        ([HEADER.replace("LookUp_BoroughName", "BoroughName"), *GOOD], r"LookUp_BoroughName.*missing"),
        ([HEADER, "Burglary,Domestic Burglary,Hackney,10,-1,12"], r"line 2, column '201905'.*non-negative"),
        ([HEADER, "Burglary,Domestic Burglary,Hackney,10,ten,12"], r"line 2, column '201905'.*'ten'"),
        ([HEADER, *GOOD, GOOD[0]], r"line 4: duplicated row: same categories and borough as line 2"),
        (
            ["MajorText,MinorText,LookUp_BoroughName,201904,201906", "Burglary,Domestic Burglary,Hackney,1,2"],
            r"month\(s\) missing from the columns: 201905",
        ),
        (
            [HEADER, "Burglary,Domestic Burglary,Gotham,1,2,3"],
            r"line 2, column 'LookUp_BoroughName': unknown borough 'Gotham'",
        ),
        ([HEADER, "Burglary,Domestic Burglary,Hackney,1,2"], r"line 2, column '201906'"),  # truncated last line
        ([HEADER], "no data rows"),
    ],
)
def test_bad_input_names_file_row_and_column(tmp_path, lines, match):
    path = _write(tmp_path, lines)
    with pytest.raises(SourceFormatError, match=match) as err:
        read_borough_file(path, known_boroughs=["Hackney"])
    assert str(path) in str(err.value)


def test_borough_missing_from_an_extract_is_named(tmp_path):
    # A borough left out of one extract must not read as a borough with no crime.
    path = _write(tmp_path, [HEADER, *GOOD])
    with pytest.raises(
        SourceFormatError, match=r"column 'LookUp_BoroughName': no rows for borough\(s\) Camden, Sutton"
    ):
        read_borough_crime(
            [path], known_boroughs=["Camden", "Hackney", "Sutton"], required_boroughs=["Camden", "Hackney", "Sutton"]
        )
    assert read_borough_file(path, known_boroughs=["Hackney"], required_boroughs=["Hackney"])["count"].sum() == 51


@pytest.mark.realdata
def test_every_real_extract_has_every_mps_borough(fetched):
    from csp_evidence.data.datasets import _mps_borough_names

    names, policed = _mps_borough_names()
    assert len(policed) == 32 and "City of London" not in policed
    for name in (HIST, RECENT, "mps/mps_borough_crime_recent_201807_202006_extract202007.csv"):
        tidy = read_borough_file(fetched / name, names, policed)
        assert set(policed) <= set(tidy["borough"])


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(SourceFormatError, match="empty"):
        read_borough_file(path)


def test_extracts_must_join_without_gap_or_overlap(tmp_path):
    first = _write(tmp_path, [HEADER, *GOOD], "a.csv")
    overlap = _write(
        tmp_path,
        ["MajorText,MinorText,LookUp_BoroughName,201906,201907", "Burglary,Domestic Burglary,Hackney,1,2"],
        "b.csv",
    )
    with pytest.raises(SourceFormatError, match=r"b\.csv.*starts at 2019-06 but a\.csv ends at 2019-06"):
        read_borough_crime([first, overlap])
    follow = _write(
        tmp_path, ["MajorText,MinorText,LookUp_BoroughName,201907", "Burglary,Domestic Burglary,Hackney,4"], "c.csv"
    )
    assert read_borough_crime([first, follow])["month"].nunique() == 4


@pytest.mark.parametrize(
    "value", ["9223372036854775808", "99999999999999999999999", "1e308", "1e3", "5.0", "+5", "0x10"]
)
def test_a_count_out_of_range_or_not_a_plain_whole_number_is_refused_with_line_and_column(tmp_path, value):
    # read as a float or wrapped round int64 (9223372036854775808 became -9223372036854775808), never again
    path = _write(tmp_path, [HEADER, GOOD[0], f"Theft,Other theft,Hackney,5,{value},7"])
    with pytest.raises(
        SourceFormatError,
        match=rf"line 3, column '201905': count '{re.escape(value)}' is not a non-negative whole number",
    ) as err:
        read_borough_file(path, known_boroughs=["Hackney"])
    assert str(path) in str(err.value) and "(Hackney, Other theft)" in str(err.value)


def test_the_largest_count_is_read_exactly_and_one_more_is_refused(tmp_path):
    path = _write(tmp_path, [HEADER, "Theft,Other theft,Hackney,5,1000000000,007"])
    assert read_borough_file(path, known_boroughs=["Hackney"])["count"].tolist() == [5, 1_000_000_000, 7]
    # 9223372036854775807 was read: one such count and any other made a sum that wrapped round to a negative total
    for value in ("1000000001", "9223372036854775807", "0009223372036854775807"):
        path = _write(tmp_path, [HEADER, f"Theft,Other theft,Hackney,5,{value},7"])
        with pytest.raises(SourceFormatError, match=r"is not a non-negative whole number up to 1,000,000,000"):
            read_borough_file(path, known_boroughs=["Hackney"])
