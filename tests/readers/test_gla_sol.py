"""The GLA State of London databases (London ASB calls, London proven reoffending): real files and damaged copies."""

from __future__ import annotations

import re
import shutil
import sqlite3

import pandas as pd
import pytest

from csp_evidence.core.files import sha256_of
from csp_evidence.core.periods import financial_years
from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.gla import read_sol_asb_calls, read_sol_london_reoffending

SOL_V4 = "gla/gla_state_of_london_sol_v4_20240529.db"
SOL_DASH = "gla/gla_state_of_london_sol_dash_20250618.db"


@pytest.mark.realdata
def test_real_asb_calls(fetched):
    before = sha256_of(fetched / SOL_V4)
    calls = read_sol_asb_calls(fetched / SOL_V4)
    assert sha256_of(fetched / SOL_V4) == before  # opened read-only
    assert len(calls) == 63 and list(calls.columns) == ["month", "calls"]
    assert calls["month"].min() == pd.Timestamp("2019-01-01") and calls["month"].max() == pd.Timestamp("2024-03-01")
    by_year = calls.groupby(financial_years(calls["month"]).to_numpy())["calls"].sum()
    # the sums in shared/data/gla/SOURCES.md
    assert by_year[["2019/20", "2020/21", "2021/22", "2022/23", "2023/24"]].tolist() == [
        271516,
        510901,
        288017,
        234749,
        251433,
    ]
    assert calls.set_index("month").at[pd.Timestamp("2020-04-01"), "calls"] == 69151


@pytest.mark.realdata
def test_real_london_reoffending(fetched):
    rates = read_sol_london_reoffending(fetched / SOL_DASH)
    assert rates["year"].tolist() == list(range(2013, 2024))
    assert set(rates["area"]) == {"London"}
    got = rates.set_index("year")["rate"]
    assert got[2013] == 0.3107 and got[2020] == 0.2679 and got[2021] == 0.2347 and got[2023] == 0.2242


# --- damaged copies --------------------------------------------------------------------------------------


def _damaged(fetched, tmp_path, name, *sql):
    path = tmp_path / "damaged.db"
    shutil.copyfile(fetched / name, path)
    con = sqlite3.connect(path)
    for statement in sql:
        con.execute(statement)
    con.commit()
    con.close()
    return path


def _starts(err, path, where: str) -> None:
    assert str(err.value).startswith(f"{path}, {where}"), str(err.value)


@pytest.mark.realdata
def test_missing_table_names_file_and_table(fetched, tmp_path):
    path = _damaged(fetched, tmp_path, SOL_V4, "DROP TABLE ind_dat")
    with pytest.raises(SourceFormatError, match="table not found") as err:
        read_sol_asb_calls(path)
    _starts(err, path, "table 'ind_dat': table not found; the database has ['mtd', 'updates']")


@pytest.mark.realdata
def test_renamed_column_names_table_and_column(fetched, tmp_path):
    path = _damaged(fetched, tmp_path, SOL_V4, "ALTER TABLE ind_dat RENAME COLUMN yval TO value")
    with pytest.raises(SourceFormatError, match="column missing") as err:
        read_sol_asb_calls(path)
    _starts(err, path, "table 'ind_dat', column 'yval': column missing")


@pytest.mark.realdata
def test_non_numeric_calls_name_table_column_and_month(fetched, tmp_path):
    path = _damaged(
        fetched,
        tmp_path,
        SOL_V4,
        "UPDATE ind_dat SET yval = 'many' WHERE dataset = 'sol_asb' AND xvardt = '2020-04-01'",
    )
    with pytest.raises(SourceFormatError) as err:
        read_sol_asb_calls(path)
    _starts(err, path, "table 'ind_dat', column 'yval': value 'many' for xvardt '2020-04-01' is not a whole")


@pytest.mark.realdata
def test_missing_month_is_an_error_not_zero(fetched, tmp_path):
    path = _damaged(
        fetched, tmp_path, SOL_V4, "DELETE FROM ind_dat WHERE dataset = 'sol_asb' AND xvardt = '2020-05-01'"
    )
    with pytest.raises(SourceFormatError, match=r"no value for 2020-05.*not zero") as err:
        read_sol_asb_calls(path)
    _starts(err, path, "table 'ind_dat', column 'xvardt'")


@pytest.mark.realdata
def test_missing_dataset_and_wrong_unit_are_named(fetched, tmp_path):
    path = _damaged(fetched, tmp_path, SOL_V4, "DELETE FROM ind_dat WHERE dataset = 'sol_asb'")
    with pytest.raises(
        SourceFormatError, match=re.escape("table 'ind_dat', column 'dataset': no rows for dataset 'sol_asb'")
    ):
        read_sol_asb_calls(path)
    path = _damaged(fetched, tmp_path, SOL_V4, "UPDATE ind_dat SET yvllb = 'ASB Incidents' WHERE dataset = 'sol_asb'")
    with pytest.raises(
        SourceFormatError, match=re.escape("column 'yvllb': dataset 'sol_asb' is labelled ['ASB Incidents']")
    ):
        read_sol_asb_calls(path)


@pytest.mark.realdata
def test_reoffending_damage_is_named(fetched, tmp_path):
    path = _damaged(
        fetched,
        tmp_path,
        SOL_DASH,
        "UPDATE chart_data SET y = 'high' WHERE dataset = 'proven_reoffending' AND xd = '2020-06-01'",
    )
    with pytest.raises(SourceFormatError) as err:
        read_sol_london_reoffending(path)
    _starts(err, path, "table 'chart_data', column 'y': value 'high' for xd '2020-06-01' is not a number")
    path = _damaged(
        fetched,
        tmp_path,
        SOL_DASH,
        "UPDATE chart_data SET y = 31.07 WHERE dataset = 'proven_reoffending' AND xd = '2013-06-01'",
    )
    with pytest.raises(SourceFormatError, match=r"table 'chart_data': failed validation: column 'y': value 31\.07"):
        read_sol_london_reoffending(path)  # a percentage where a proportion belongs
    path = _damaged(fetched, tmp_path, SOL_DASH, "ALTER TABLE chart_data RENAME COLUMN b TO area")
    with pytest.raises(SourceFormatError, match=re.escape("table 'chart_data', column 'b': column missing")):
        read_sol_london_reoffending(path)


def test_not_a_database_names_the_file(tmp_path):
    path = tmp_path / "sol.db"
    path.write_text("not a database\n" * 100)
    with pytest.raises(
        SourceFormatError, match=rf"^{re.escape(str(path))}.*cannot be (opened|read) as an SQLite database"
    ):
        read_sol_asb_calls(path)
    with pytest.raises(SourceFormatError, match=r"file is missing or empty"):
        read_sol_asb_calls(tmp_path / "absent.db")


@pytest.mark.realdata
@pytest.mark.parametrize("big", ["9223372036854775807", "1000000001"])
def test_calls_too_large_for_a_sum_are_refused(fetched, tmp_path, big):
    # the largest int64 was read as a count of calls: any sum with it wrapped round to a negative total
    path = _damaged(
        fetched,
        tmp_path,
        SOL_V4,
        f"UPDATE ind_dat SET yval = {big} WHERE dataset = 'sol_asb' AND xvardt = '2020-04-01'",
    )
    with pytest.raises(SourceFormatError) as err:
        read_sol_asb_calls(path)
    _starts(err, path, f"table 'ind_dat', column 'yval': value {big} for xvardt '2020-04-01' is not a whole")
    assert "up to 1,000,000,000" in str(err.value)
