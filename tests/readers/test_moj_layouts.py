"""The MoJ reader accepts the layouts the MoJ has published and refuses any other, naming the columns it found:
the real data-tool CSV (snake_case names, a regional subset, in the mirror) checked against sums made here with
the csv module, and the Excel tool's `Data` sheet."""

from __future__ import annotations

import csv
from collections import defaultdict

import pandas as pd
import pytest
from conftest import MIRROR

from csp_evidence.data.readers.moj import MojFormatError, read_data_tool, read_proven_reoffending

REAL = MIRROR / "moj" / "NEW CRIME DATA GEOG.csv"


@pytest.mark.realdata
def test_the_real_snake_case_csv_summed_over_its_age_bands():
    if not REAL.is_file():
        pytest.skip(f"{REAL} is absent")
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    with REAL.open(encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            key = (r["region"], r["category"], r["adult_juv"], r["cohort"])
            for i, c in enumerate(("offenders", "reoffenders", "reoffences")):
                totals[key][i] += int(r[c])
    tidy = read_proven_reoffending(REAL)
    assert len(tidy) == len(totals) == 9 * 2 * 12  # nine regions, adult and juvenile, cohorts 2008/09 to 2019/20
    got = {
        (r.geography, r.category, r.age_group, r.cohort): [r.offenders, r.reoffenders, r.reoffences]
        for r in tidy.itertuples()
    }
    assert got == dict(totals)
    london = tidy[(tidy["geography"] == "London") & (tidy["age_group"] == "Adult")]
    assert london["cohort_start"].min() == pd.Timestamp("2008-04-01") and set(london["cohort_months"]) == {12}


def _csv(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_layout_is_refused_naming_the_columns_found(tmp_path):
    path = _csv(tmp_path, "area,cohort,offenders,reoffenders\nHackney,Apr 2018 to Mar 2019,10,2\n")
    with pytest.raises(MojFormatError) as exc:
        read_proven_reoffending(path)
    msg = str(exc.value)
    assert str(path) in msg and "found columns ['area', 'cohort', 'offenders', 'reoffenders']" in msg
    assert "adult_juv" in msg and "Adult / Juvenile" in msg  # the known layouts are named


def test_snake_case_bad_count_and_repeated_band_named_by_line(tmp_path):
    head = "adult_juv,cohort,region,category,subcat1,subcat2,offenders,reoffenders,reoffences\n"
    good = "Adult,Apr 2018 to Mar 2019,London,Age total,18 to 20,-,100,30,90\n"
    with pytest.raises(MojFormatError, match=r"line 3, column 'offenders'"):
        read_proven_reoffending(
            _csv(tmp_path, head + good + "Adult,Apr 2018 to Mar 2019,London,Age total,21 to 24,-,*,3,9\n")
        )
    with pytest.raises(MojFormatError, match=r"line 3.*is repeated"):
        read_proven_reoffending(_csv(tmp_path, head + good + good))
    tidy = read_proven_reoffending(
        _csv(tmp_path, head + good + good.replace("18 to 20", "21 to 24").replace("100,30,90", "50,10,20"))
    )
    assert tidy[["offenders", "reoffenders", "reoffences"]].iloc[0].tolist() == [150, 40, 110]


def test_the_excel_tools_data_sheet_and_a_sheet_of_other_columns(tmp_path):
    good = tmp_path / "Geographical_data_tool.xlsx"
    rows = [
        ["Proven reoffending geographical data tool", "", "", "", "", "", ""],
        ["Geography", "Category", "Adult / Juvenile", "Cohort", "offenders", "reoffenders", "reoffences"],
        ["Hackney", "UTLA total", "Adult", "Apr 2018 to Mar 2019", "1,300", "325", "1100"],
    ]
    pd.DataFrame(rows).to_excel(good, sheet_name="Data", header=False, index=False)
    tidy = read_data_tool(good)
    assert tidy.loc[0, "offenders"] == 1300 and tidy.loc[0, "geography"] == "Hackney"
    bad = tmp_path / "other.xlsx"
    rows[1] = ["Geography", "Cohort", "Number of offenders", "", "", "", ""]
    pd.DataFrame(rows).to_excel(bad, sheet_name="Data", header=False, index=False)
    with pytest.raises(
        MojFormatError, match=r"sheet 'Data'.*found columns \['Geography', 'Cohort', 'Number of offenders'"
    ):
        read_data_tool(bad)
