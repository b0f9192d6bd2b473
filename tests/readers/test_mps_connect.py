"""The CONNECT-era MPS reader and the join of its extracts: on small files written here, and on the real files."""

import csv
from pathlib import Path

import pandas as pd
import pytest

from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.mps_connect import (
    UNKNOWN_BOROUGH,
    join_extracts,
    latest_holder,
    read_connect_crime,
    read_connect_file,
    revisions,
)

HEADER = "MajorText,MinorText,BoroughName"


def _extract(tmp_path: Path, name: str, months: list[str], counts: dict[str, list[int]]) -> Path:
    """A CONNECT-era file: one BURGLARY row per borough with the given monthly counts."""
    lines = [f"{HEADER},{','.join(months)}"]
    lines += [f"BURGLARY,BURGLARY IN A DWELLING,{b},{','.join(map(str, c))}" for b, c in counts.items()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _three(tmp_path):
    """Three overlapping extracts: 2023-01..03, 2023-03..05 (revises March), 2023-04..06 (revises April and May)."""
    a = _extract(tmp_path, "a.csv", ["202301", "202302", "202303"], {"Hackney": [10, 11, 12], "Unknown": [1, 1, 1]})
    b = _extract(tmp_path, "b.csv", ["202303", "202304", "202305"], {"Hackney": [15, 20, 21], "Unknown": [2, 2, 2]})
    c = _extract(tmp_path, "c.csv", ["202304", "202305", "202306"], {"Hackney": [22, 25, 30], "Unknown": [3, 3, 3]})
    return [a, b, c]


def test_latest_extract_wins_each_month_once_and_no_gap(tmp_path):
    tidy, revised, holder = read_connect_crime(_three(tmp_path))
    hackney = tidy[tidy["borough"] == "Hackney"].set_index("month")["count"]
    # Jan, Feb from a; March from b (15, not a's 12); April-June from c (22, 25, not b's 20, 21)
    assert hackney.tolist() == [10, 11, 15, 22, 25, 30]
    assert list(hackney.index) == list(pd.date_range("2023-01-01", "2023-06-01", freq="MS"))
    assert not tidy.duplicated(["month", "borough", "major_category", "minor_category"]).any()
    assert holder.tolist() == ["a.csv", "a.csv", "b.csv", "c.csv", "c.csv", "c.csv"]
    assert UNKNOWN_BOROUGH in set(tidy["borough"])


def test_revisions_of_months_held_twice(tmp_path):
    _, revised, _ = read_connect_crime(_three(tmp_path))
    hackney = revised[revised["borough"] == "Hackney"].set_index(["month", "earlier_extract"])
    assert len(hackney) == 3  # March (a against b), April and May (b against c)
    march = hackney.loc[(pd.Timestamp("2023-03-01"), "a.csv")]
    assert (march["earlier"], march["latest"], march["revision"], march["latest_extract"]) == (12, 15, 3, "b.csv")
    may = hackney.loc[(pd.Timestamp("2023-05-01"), "b.csv")]
    assert (may["earlier"], may["latest"], may["revision"]) == (21, 25, 4)


def test_a_gap_between_extracts_is_refused_naming_them(tmp_path):
    a = _extract(tmp_path, "a.csv", ["202301", "202302"], {"Hackney": [1, 2]})
    c = _extract(tmp_path, "c.csv", ["202304", "202305"], {"Hackney": [3, 4]})
    with pytest.raises(SourceFormatError, match=r"c\.csv: no extract holds 2023-03: a\.csv ends before it"):
        read_connect_crime([a, c])


def test_no_overlap_means_no_revisions(tmp_path):
    a = _extract(tmp_path, "a.csv", ["202301"], {"Hackney": [1]})
    b = _extract(tmp_path, "b.csv", ["202302"], {"Hackney": [2]})
    parts = [read_connect_file(a), read_connect_file(b)]
    assert revisions(parts, ["a", "b"]).empty
    assert join_extracts(parts, ["a", "b"])["count"].tolist() == [1, 2]
    assert latest_holder(parts, ["a", "b"]).tolist() == ["a", "b"]


def test_a_cris_era_file_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "cris.csv"
    path.write_text("MajorText,MinorText,LookUp_BoroughName,202301\nBurglary,Burglary,Hackney,1\n", encoding="utf-8")
    with pytest.raises(
        SourceFormatError, match=r"cris\.csv, column 'BoroughName': missing column\(s\) \['BoroughName'\].*CRIS-era"
    ):
        read_connect_file(path)


def test_bad_rows_are_named(tmp_path):
    dup = _extract(tmp_path, "dup.csv", ["202301"], {"Hackney": [1]})
    dup.write_text(dup.read_text() + "BURGLARY,BURGLARY IN A DWELLING,Hackney,2\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"dup\.csv, line 3: duplicated row: Hackney"):
        read_connect_file(dup)
    odd = _extract(tmp_path, "odd.csv", ["202301"], {"Hackny": [1]})
    with pytest.raises(SourceFormatError, match=r"odd\.csv, line 2, column 'BoroughName': unknown borough 'Hackny'"):
        read_connect_file(odd, known_boroughs=["Hackney"])
    bad = _extract(tmp_path, "bad.csv", ["202301"], {"Hackney": [1]})
    bad.write_text(bad.read_text().replace(",1\n", ",1.5\n"), encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"bad\.csv, line 2, column '202301': count '1\.5'"):
        read_connect_file(bad)
    with pytest.raises(SourceFormatError, match=r"no rows for borough\(s\) Camden"):
        read_connect_file(odd, required_boroughs=["Camden"])


# --- the real extracts -------------------------------------------------------------------------------


def _independent_total(path: Path, borough: str, months: list[str]) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(int(row[m]) for row in csv.DictReader(fh) if row["BoroughName"] == borough for m in months)


@pytest.mark.realdata
def test_real_connect_series_joins_without_gap_or_repeat(fetched):
    from csp_evidence.data import datasets

    crime = datasets.recorded_crime_connect()
    months = pd.DatetimeIndex(sorted(crime["month"].unique()))
    assert months[0] == pd.Timestamp("2010-04-01") and months[-1] == pd.Timestamp("2025-12-01")
    assert list(months) == list(pd.date_range("2010-04-01", "2025-12-01", freq="MS"))
    assert not crime.duplicated(["month", "borough", "major_category", "minor_category"]).any()
    vintages = datasets.connect_vintages().set_index("month")["source_id"]
    assert vintages["2023-12-01"] == "mps_borough_connect_recent_2025_02"
    assert vintages["2024-01-01"] == "mps_borough_connect_recent_2025_12"  # the later extract wins the overlap
    assert vintages["2023-02-01"] == "mps_borough_connect_historical"
    # January 2024 comes from the latest file, read here without the library
    latest = fetched / "mps" / "mps_borough_crime_recent_202401_202512_connect.csv"
    jan = crime[(crime["borough"] == "Tower Hamlets") & (crime["month"] == "2024-01-01")]["count"].sum()
    assert jan == _independent_total(latest, "Tower Hamlets", ["202401"])
    # the MPS's own check figure for 2019/20 (SOURCES.md: 33,054 CONNECT era against 34,693 CRIS era)
    fy = [f"2019{m:02d}" for m in range(4, 13)] + [f"2020{m:02d}" for m in range(1, 4)]
    historical = fetched / "mps" / "mps_borough_crime_historical_201004_202302_connect.csv"
    assert _independent_total(historical, "Tower Hamlets", fy) == 33054
    got = crime[(crime["borough"] == "Tower Hamlets") & crime["month"].between("2019-04-01", "2020-03-01")]
    assert got["count"].sum() == 33054


@pytest.mark.realdata
def test_real_revisions_cover_the_overlap_only(fetched):
    from csp_evidence.data import datasets

    revised = datasets.connect_revisions()
    months = pd.DatetimeIndex(sorted(revised["month"].unique()))
    assert list(months) == list(pd.date_range("2024-01-01", "2025-02-01", freq="MS"))
    assert set(revised["earlier_extract"]) == {"mps_borough_crime_recent_202303_202502_connect.csv"}
    th = revised[(revised["borough"] == "Tower Hamlets") & (revised["month"] == "2024-03-01")].iloc[0]
    earlier = fetched / "mps" / "mps_borough_crime_recent_202303_202502_connect.csv"
    assert th["earlier"] == _independent_total(earlier, "Tower Hamlets", ["202403"])
    assert th["revision"] == th["latest"] - th["earlier"]
