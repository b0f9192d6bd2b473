"""ASB incidents from the police.uk street files: the missing-source note, the fixture files, a planted doubling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csp_evidence.analysis.asb import asb_series, force_asb_table
from csp_evidence.chapters.asb import (
    AsbSection,
    asb_section,
    force_asb_section,
    force_of,
    lockdown_table,
    london_calls_section,
)
from csp_evidence.data.readers.policeuk import ASB, read_street_files
from csp_evidence.data.sources import source
from csp_evidence.report.asb_words import coverage_sentence, missing_source_note, month_runs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "policeuk"
SRC = source("policeuk_street_asb")


def _tidy_asb(monthly: pd.Series, borough: str = "Tower Hamlets") -> pd.DataFrame:
    """A tidy police.uk table (month, borough, crime_type, count) holding one ASB series and some other crime."""
    asb = pd.DataFrame({"month": monthly.index, "borough": borough, "crime_type": ASB, "count": monthly.to_numpy()})
    other = asb.assign(crime_type="Burglary", count=7)
    return pd.concat([asb, other], ignore_index=True).astype({"count": "int64"})


def test_missing_source_note_names_the_official_file():
    text = missing_source_note(SRC)
    assert "no borough-level ASB source is in the data mirror" in text
    assert "force-wide and London-wide ASB figures below are context, not the borough's own" in text
    assert (
        "data.police.uk" in text
        and SRC.page in text
        and f"data/raw/{SRC.month_file('YYYY-MM')}" in text
        and "csp fetch --source policeuk" in text
    )
    assert "Anti-social behaviour" in text  # the crime type to take, from the registered notes
    assert "Halford, Dixon & Farrell (2022" in text and "more than double" in text


def test_section_without_data_says_so_and_has_no_chart():
    section = asb_section(None, "Hackney", "2020-03", SRC)
    assert not section.available and section.chart is None and section.effect == {}
    assert section.text == missing_source_note(SRC)
    assert section.headline() == {"available": False, "months": None, "first_pandemic_year": None}


def test_section_on_the_fixture_files_shows_the_series_without_a_counterfactual():
    tidy = read_street_files(sorted(FIXTURES.glob("*.csv")))
    section = asb_section(tidy, "Tower Hamlets", "2020-03", SRC)
    assert section.available and section.effect == {}
    assert section.chart["Observed"].tolist() == [6, 3]  # planted in the fixtures
    assert list(section.chart.columns) == ["Observed"]
    assert "9 ASB incidents" in section.text and "April 2020 to May 2020" in section.text
    assert "No expected level is estimated" in section.text and "0 month(s) before" in section.text
    assert section.headline()["months"] == ["2020-04", "2020-05"]


def test_section_recovers_a_planted_doubling():
    months = pd.date_range("2014-04-01", "2021-12-01", freq="MS")
    rng = np.random.default_rng(7)
    season = 1 + 0.15 * np.sin(2 * np.pi * (months.month - 1) / 12)
    level = 200 * season * np.where(months >= "2020-03-01", 2.0, 1.0)
    series = pd.Series(rng.poisson(level), index=months)
    section = asb_section(_tidy_asb(series), "Tower Hamlets", "2020-03", SRC)
    effect = section.effect
    assert effect["year"] == "2020/21" and effect["outside"] == "above"
    assert effect["observed"] == int(series["2020-04-01":"2021-03-01"].sum())
    assert 1.7 < effect["observed"] / effect["expected"] < 2.3
    assert {"Observed", "Expected without the pandemic", "lower", "upper"} <= set(section.chart.columns)
    assert section.chart.index.min() == pd.Timestamp("2017-04-01")
    assert "rose above" in section.title and "above the 95% interval" in section.text


def test_series_with_a_missing_month_names_it():
    months = pd.date_range("2019-01-01", "2019-06-01", freq="MS").delete(2)
    tidy = _tidy_asb(pd.Series(10, index=months))
    # asb_monthly keeps only months some file covered: a gap is unknown, not zero, so it is an error here
    with pytest.raises(ValueError, match="2019-03"):
        asb_series(tidy, "Tower Hamlets")


def test_section_is_a_plain_dataclass():
    assert AsbSection(False, "x").headline()["available"] is False


# --------------------------------------------------------------------------- force-wide (ONS) and London-wide (GLA)

FORCE_SRC = source("ons_pfa_asb")
CALLS_SRC = source("gla_sol_asb_calls")


def _pfa(counts: dict[str, int], force: str = "Metropolitan Police") -> pd.DataFrame:
    """A tidy PFA table (the ONS reader's columns) for one force, London and England and Wales."""
    rows = [(force, "force", fy, n, n / 8000.0) for fy, n in counts.items()]
    rows += [("London", "region", fy, n + 10, float("nan")) for fy, n in counts.items()]
    rows += [("City of London", "force", fy, 10, float("nan")) for fy in counts if force != "City of London"]
    rows += [("ENGLAND AND WALES (exc. BTP)", "England and Wales", fy, 10 * n, 24.0) for fy, n in counts.items()]
    return pd.DataFrame(rows, columns=["area", "area_type", "financial_year", "incidents", "rate_per_1000"])


FORCE_COUNTS = {"2009/10": 500, "2010/11": 600, "2011/12": 900, "2012/13": 800, "2013/14": 400, "2014/15": 440}


def test_force_table_changes_by_hand_and_none_across_the_recording_break():
    table = force_asb_table(_pfa(FORCE_COUNTS)).set_index("financial_year")
    assert table["incidents"].tolist() == list(FORCE_COUNTS.values())
    assert table.at["2013/14", "change"] == -400 and table.at["2013/14", "pct_change"] == pytest.approx(-50.0)
    assert table.at["2014/15", "pct_change"] == pytest.approx(10.0)
    assert table.at["2010/11", "pct_change"] == pytest.approx(20.0)  # before the break: comparable with 2009/10
    # 2011/12 is recorded on a new basis: no change on 2010/11, and the first year has none either
    assert table.at["2011/12", "change"] is None and not table.at["2011/12", "comparable"]
    assert table.at["2009/10", "change"] is None
    with pytest.raises(
        ValueError, match="no ASB incidents for force 'Kent'; forces: City of London, Metropolitan Police"
    ):
        force_asb_table(_pfa(FORCE_COUNTS), "Kent")


def test_force_section_says_force_wide_and_states_the_trend():
    cats = pd.DataFrame(
        {
            "area": "Metropolitan Police",
            "area_type": "force",
            "financial_year": "2014/15",
            "category": ["Personal", "Nuisance", "Environmental"],
            "percent": [10.0, 87.5, 2.5],
        }
    )
    section = force_asb_section(_pfa(FORCE_COUNTS), cats, "Hackney", FORCE_SRC)
    text = section.text
    assert text.startswith("**Force-wide figures, not figures for Hackney.**")
    assert "the 32 London boroughs together" in text and "no borough breakdown" in text
    assert "rose by 10.0% from 400 in 2013/14 to 440 in 2014/15" in text
    # 2011/12 (900) to 2014/15 (440): -51.1%; the lowest year since the break is 2013/14
    assert "fell from 900 to 440 (-51.1%); the lowest year was 2013/14 (400)" in text
    assert "0.1 incidents per 1,000 residents, against 24.0 for England and Wales" in text
    assert "87.5% were nuisance, 10.0% personal" in text
    assert "With the City of London Police's 10, London as a whole recorded 450 in 2014/15." in text
    assert section.title == "ASB incidents recorded by the Metropolitan Police fell by 51% from 2011/12 to 2014/15"
    assert section.chart.iloc[:, 0].tolist() == list(FORCE_COUNTS.values())
    assert section.headline()["incidents"]["2012/13"] == 800


def test_the_city_of_london_has_its_own_force():
    assert force_of("City of London") == "City of London" and force_of("Hackney") == "Metropolitan Police"
    later = {fy: n for fy, n in FORCE_COUNTS.items() if fy >= "2012/13"}  # a force whose series starts later
    section = force_asb_section(_pfa(later, "City of London"), None, "City of London", FORCE_SRC)
    assert "the City of London Police, which polices the City of London alone" in section.text
    assert "Since 2012/13, the first year recorded on the current basis" in section.text
    assert "London as a whole" not in section.text


def test_london_calls_section_recovers_a_planted_surge_and_labels_it():
    months = pd.date_range("2019-01-01", "2022-03-01", freq="MS")
    calls = pd.Series(20000, index=months)
    calls[pd.Timestamp("2020-04-01")] = 60000  # a tripling in the first full lockdown month
    calls[pd.Timestamp("2021-01-01")] = 30000
    section = london_calls_section(
        pd.DataFrame({"month": months, "calls": calls.to_numpy()}), "Hackney", "2020-03", CALLS_SRC
    )
    text = section.text
    assert text.startswith("**London-wide calls, not incidents, and not figures for Hackney.**")
    assert "a secondary source compiled by the GLA from the MOPAC" in text
    # 2019/20: 12 x 20,000; 2020/21: 10 x 20,000 + 60,000 + 30,000; the nine lockdown months: 7 x 20,000 + 60,000
    # + 30,000 against 9 x 20,000
    assert "rose from 240,000 in 2019/20 to 290,000 in 2020/21 (+20.8%" in text
    assert "(March to June 2020 and November 2020 to March 2021)" in text
    assert "there were 230,000 calls against 180,000 in the same months of 2019 (+27.8%)" in text
    assert "in April 2020 60,000 calls, 3.0 times the 20,000 of April 2019" in text
    assert "By 2021/22 calls were 240,000, 0.0% more than in 2019/20" in text
    assert section.title == "London's ASB calls to the police rose by 21% in 2020/21, peaking in April 2020"
    assert section.years.to_dict() == {"2019/20": 240000, "2020/21": 290000, "2021/22": 240000}
    shown = lockdown_table(section.surge).set_index("month")
    assert shown.loc["April 2020", ["count", "baseline_month", "baseline"]].tolist() == [60000, "April 2019", 20000]


def test_month_runs_in_words():
    months = pd.DatetimeIndex(["2020-03-01", "2020-04-01", "2020-11-01", "2020-12-01", "2021-01-01", "2022-05-01"])
    assert month_runs(months) == "March to April 2020, November 2020 to January 2021 and May 2022"


def test_coverage_sentence_names_outside_areas_whose_names_hold_commas():
    coverage = pd.DataFrame(
        {
            "month": pd.to_datetime(["2020-04-01", "2020-05-01"]),
            "rows": [100, 90],
            "placed": [90, 84],
            "no_lsoa": [2, 1],
            "outside": [8, 5],
            "outside_areas": [{"Bristol, City of": 5, "Epping Forest": 3}, {"Epping Forest": 4, "Bristol, City of": 1}],
        }
    )
    text = coverage_sentence(coverage)
    assert "3 had no LSOA" in text and "13 were in LSOAs outside the 32 boroughs" in text
    assert "(most in Epping Forest (7), Bristol, City of (6))" in text
