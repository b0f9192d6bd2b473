"""The MPS ward-level crime reader: on small files written here (each damage named), and on the real extracts against
hand counts of the files (shared/data/mps/SOURCES.md)."""

from pathlib import Path

import pandas as pd
import pytest
from conftest import MIRROR

from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.mps_ward import AVIATION_SECURITY, read_ward_file

HEADER = "MajorText,MinorText,WardName,WardCode,LookUp_BoroughName"


def _file(tmp_path: Path, rows: list[str], months=("202104", "202105", "202106"), name="w.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([f"{HEADER},{','.join(months)}", *rows]) + "\n", encoding="utf-8")
    return path


GOOD = [
    "Burglary,Domestic Burglary,Bow East,E05009318,Tower Hamlets,5,6,7",
    "Burglary,Domestic Burglary,Bow West,E05009319,Tower Hamlets,1,0,2",
    "Theft,Shoplifting,Bow East,E05009318,Tower Hamlets,10,11,12",
]


def test_tidy_long_table(tmp_path):
    tidy = read_ward_file(_file(tmp_path, GOOD), "cris")
    assert list(tidy.columns) == ["month", "borough", "ward_code", "ward", "major_category", "minor_category", "count"]
    assert len(tidy) == 9 and tidy["count"].sum() == 54
    east = tidy[tidy["ward_code"] == "E05009318"].groupby("month")["count"].sum()
    assert east.tolist() == [15, 17, 19]


@pytest.mark.parametrize(
    "rows, message",
    [
        (["Burglary,Domestic Burglary,Bow East,E05009318,Tower Hamlets,5,x,7"], "line 2, column '202105'"),
        (["Burglary,Domestic Burglary,Bow East,E0500931,Tower Hamlets,5,6,7"], "not an ONS ward code"),
        ([GOOD[0], "Theft,Shoplifting,Bow Eest,E05009318,Tower Hamlets,1,1,1"], "one name and one borough"),
        ([GOOD[0], "Theft,Shoplifting,Bow East,E05009318,Hackney,1,1,1"], "one name and one borough"),
        ([GOOD[0], GOOD[0]], "duplicated row"),
        (["Burglary,Domestic Burglary,Bow East,E05009318,Tower Hamlet,5,6,7"], "unknown borough 'Tower Hamlet'"),
    ],
)
def test_damage_is_named(tmp_path, rows, message):
    with pytest.raises(SourceFormatError, match=message) as err:
        read_ward_file(_file(tmp_path, rows), "cris", known_boroughs=["Tower Hamlets", "Hackney"])
    assert "w.csv" in str(err.value)


def test_missing_column_and_missing_borough(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("MajorText,MinorText,WardName,LookUp_BoroughName,202104\nA,B,C,Tower Hamlets,1\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="missing column.*WardCode"):
        read_ward_file(path, "cris")
    with pytest.raises(SourceFormatError, match="no rows for borough.*Hackney"):
        read_ward_file(_file(tmp_path, GOOD), "cris", required_boroughs=["Tower Hamlets", "Hackney"])


def test_the_eras_are_never_confused(tmp_path):
    with pytest.raises(SourceFormatError, match="CRIS-era ward file"):
        read_ward_file(_file(tmp_path, GOOD), "connect")
    upper = [r.replace("Burglary,Domestic Burglary", "BURGLARY,BURGLARY - RESIDENTIAL") for r in GOOD[:2]]
    with pytest.raises(SourceFormatError, match="CONNECT-era ward file"):
        read_ward_file(_file(tmp_path, upper), "cris")


def test_a_stub_first_month_is_dropped(tmp_path):
    rows = [
        "BURGLARY,BURGLARY - RESIDENTIAL,Bow East,E05009318,Tower Hamlets,0,60,70,65",
        "THEFT,SHOPLIFTING,Bow East,E05009318,Tower Hamlets,1,100,110,90",
    ]
    tidy = read_ward_file(_file(tmp_path, rows, months=("202403", "202404", "202405", "202406")), "connect")
    assert tidy["month"].min() == pd.Timestamp("2024-04-01")  # 1 offence against a median month of 160
    assert tidy["count"].sum() == 495


def test_the_airports_unit_shares_heathrow_villages(tmp_path):
    rows = [
        f"Theft,Other Theft,Heathrow Villages,E05013570,{AVIATION_SECURITY},9,9,9",
        "Theft,Other Theft,Heathrow Villages,E05013570,Hillingdon,1,1,1",
    ]
    tidy = read_ward_file(_file(tmp_path, rows), "cris", known_boroughs=["Hillingdon"])
    assert set(tidy["borough"]) == {AVIATION_SECURITY, "Hillingdon"}


MPS = MIRROR / "mps"


def _fy(tidy, borough, fy_start):
    months = pd.date_range(f"{fy_start}-04-01", f"{fy_start + 1}-03-01", freq="MS")
    rows = tidy[(tidy["borough"] == borough) & tidy["month"].isin(months)]
    return int(rows["count"].sum())


@pytest.mark.realdata
def test_real_cris_extracts_against_hand_counts():
    old = read_ward_file(MPS / "mps_ward_crime_recent_202009_202208.csv", "cris")
    assert old["ward_code"].nunique() == 632 and old["borough"].nunique() == 32
    th = old[old["borough"] == "Tower Hamlets"]
    assert th["ward_code"].nunique() == 20
    assert sorted(th["ward_code"].unique()) == [f"E050093{n}" for n in range(17, 37)]
    assert _fy(old, "Tower Hamlets", 2021) == 32_303  # SOURCES.md: FY2021/22 by wards (34,401 borough-level)
    new = read_ward_file(MPS / "mps_ward_crime_recent_202109_202308.csv", "cris")
    assert new["ward_code"].nunique() == 679 and AVIATION_SECURITY in set(new["borough"])
    assert set(new.loc[new["borough"] == "Tower Hamlets", "ward_code"]) == set(th["ward_code"])  # not redrawn


@pytest.mark.realdata
def test_real_connect_extracts_against_hand_counts():
    earlier = read_ward_file(MPS / "mps_ward_crime_recent_202304_202503.csv", "connect")
    latest = read_ward_file(MPS / "mps_ward_crime_recent_202403_202603.csv", "connect")
    assert latest["month"].min() == pd.Timestamp("2024-04-01")  # the 2024-03 stub (47 offences) is dropped
    assert latest["month"].max() == pd.Timestamp("2026-03-01") and latest["ward_code"].nunique() == 679

    def month(tidy, m, borough=None):
        rows = tidy[tidy["month"] == pd.Timestamp(m)]
        return int(rows[rows["borough"] == borough]["count"].sum() if borough else rows["count"].sum())

    # SOURCES.md: 2024-04 London-wide 71,530 in the later extract, 71,571 in the earlier; Tower Hamlets 2025-03
    # 2,882 and 2,912; 2026-03 2,953
    assert (month(latest, "2024-04-01"), month(earlier, "2024-04-01")) == (71_530, 71_571)
    assert month(latest, "2025-03-01", "Tower Hamlets") == 2_882
    assert month(earlier, "2025-03-01", "Tower Hamlets") == 2_912
    assert month(latest, "2026-03-01", "Tower Hamlets") == 2_953
