"""How recent the data are: each chapter's data-through table, and the home page that gathers them."""

import pandas as pd
import pytest

from csp_evidence.data.sources import read_lock
from csp_evidence.report import freshness
from csp_evidence.website.render import index_page


def _write(run_dir, number, rows):
    (run_dir / "tables").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=freshness.COLUMNS).to_csv(run_dir / "tables" / f"{number}-data-through.csv", index=False)


def test_home_page_shows_each_datasets_last_period_and_retrieval_dates(tmp_path):
    lock = read_lock()
    crime = ["crime_connect", "MPS recorded crime, CONNECT-era series", "2025-12", "December 2025"]
    _write(tmp_path, "06", [[*crime, "mps_borough_connect_historical;mps_borough_connect_recent_2025_12"]])
    _write(
        tmp_path,
        "05",
        [["attitudes", "MOPAC Public Attitude Survey", "2023-12", "the 12 months to December 2023", "mopac_pas"]],
    )
    page = index_page(tmp_path, "Hackney", [])
    assert "## How recent the data are" in page
    line = next(x for x in page.splitlines() if x.startswith("| MPS recorded crime, CONNECT-era"))
    assert "December 2025" in line
    assert f"CONNECT-era re-extract ({lock['mps_borough_connect_historical'].retrieved})" in line
    assert f"({lock['mps_borough_connect_recent_2025_12'].retrieved})" in line
    assert "the 12 months to December 2023" in page
    assert freshness.read_data_through(tmp_path)["dataset"].tolist() == ["attitudes", "crime_connect"]


def test_no_data_through_tables_means_no_section(tmp_path):
    assert "How recent" not in index_page(tmp_path, "Hackney", [])


def test_unknown_dataset_is_named():
    with pytest.raises(KeyError, match=r"unknown dataset\(s\) \['crime'\]; known: crime_cris"):
        freshness.data_through_table("crime")


@pytest.mark.realdata
def test_last_months_come_from_the_tables(fetched):
    table = freshness.data_through_table("crime_cris", "crime_connect", "attitudes", "population").set_index("dataset")
    assert table.loc["crime_cris", "last_month"] == "2024-01"
    assert table.loc["crime_connect", "last_month"] == "2025-12"
    assert table.loc["attitudes", "last_period"] == "the 12 months to December 2023"
    assert table.loc["population", "last_period"] == "mid-2023" and table.loc["population", "last_month"] == ""
