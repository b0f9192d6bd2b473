"""ASB incidents from the police.uk street files: the missing-source note, the fixture files, a planted doubling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csp_evidence.chapters.asb import (
    AsbSection,
    asb_section,
    asb_series,
    missing_source_note,
)
from csp_evidence.data.readers.policeuk import ASB, read_street_files
from csp_evidence.data.sources import source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "policeuk"
SRC = source("policeuk_street_asb")


def _tidy_asb(monthly: pd.Series, borough: str = "Tower Hamlets") -> pd.DataFrame:
    """A tidy police.uk table (month, borough, crime_type, count) holding one ASB series and some other crime."""
    asb = pd.DataFrame({"month": monthly.index, "borough": borough, "crime_type": ASB, "count": monthly.to_numpy()})
    other = asb.assign(crime_type="Burglary", count=7)
    return pd.concat([asb, other], ignore_index=True).astype({"count": "int64"})


def test_missing_source_note_names_the_official_file():
    text = missing_source_note(SRC)
    assert "no ASB source is in the data mirror" in text
    assert "data.police.uk" in text and SRC.page in text and f"data/raw/{SRC.file}" in text
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
