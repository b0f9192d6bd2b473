"""The borough's ASB from police.uk files fetched through a loopback HTTP server: a planted lockdown surge in one
borough is recovered, against London, with rows outside London and with no LSOA counted, never dropped silently."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import MIRROR, ROOT
from synthetic_sources import (
    BOROUGHS,
    LONDON_SURGE,
    NO_LOCATION_ROWS,
    OUTSIDE_ROWS,
    SURGE,
    SURGE_BOROUGH,
    Server,
    mirrored_project,
    months,
    police_archive,
)

from csp_evidence.analysis import covid
from csp_evidence.analysis.asb import SIDE_BY_SIDE
from csp_evidence.analysis.covid import covid_shift
from csp_evidence.analysis.stats.change import relative_change
from csp_evidence.chapters import asb, audit
from csp_evidence.data import datasets
from csp_evidence.data.fetch import fetch_source
from csp_evidence.data.sources import source
from csp_evidence.report.asb_words import coverage_sentence

MONTHS = months("2017-04", "2022-03")
YEARS = ["2018/19", "2019/20", "2020/21", "2021/22"]


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    """A project holding the mirror's locked files and police.uk months 2017-04 to 2022-03 fetched over HTTP."""
    with mirrored_project(tmp_path_factory, MIRROR, ROOT, (datasets._street_table,)) as root:
        files = {f"/archive/{a}.zip": police_archive(a, MONTHS) for a in ("2022-03", "2019-03")}
        with Server(files) as server:
            fetch_source("policeuk", months=MONTHS, url=f"{server.url}/archive")
        yield root, datasets.asb_incidents(), datasets.street_coverage()


def test_the_lock_names_each_month_and_the_tables_cover_them(street):
    root, tidy, coverage = street
    lock = json.loads((root / "data" / "sources.lock").read_text())["sources"]
    assert [k for k in lock if k.startswith("policeuk_street_asb/")] == [f"policeuk_street_asb/{m}" for m in MONTHS]
    assert sorted(tidy["borough"].unique()) == sorted(BOROUGHS)
    assert len(coverage) == len(MONTHS)
    assert (coverage["no_lsoa"] == NO_LOCATION_ROWS).all() and (coverage["outside"] == OUTSIDE_ROWS).all()
    assert (coverage["rows"] == coverage["placed"] + coverage["no_lsoa"] + coverage["outside"]).all()
    text = coverage_sentence(coverage)
    assert "60 months, April 2017 to March 2022" in text
    assert "180 had no LSOA" in text and "120 were in LSOAs outside the 32 boroughs" in text
    assert "City of London (60)" in text and "Epping Forest (60)" in text


def test_the_planted_lockdown_surge_is_recovered_in_its_borough(street):
    _, tidy, coverage = street
    section = asb.borough_asb_section(tidy, coverage, SURGE_BOROUGH, "2020-03", YEARS)
    shift = section.shift
    assert shift is not None and "same calendar months" in shift.method  # 35 pre-pandemic months: under 3 years
    fy = shift.fy
    assert fy["outside"] == "above"
    lockdown = shift.periods.set_index("period").loc["First lockdown"]
    assert SURGE * 0.8 < lockdown["ratio"] < SURGE * 1.2 and lockdown["outside"] == "above"
    # London's shift is the milder one planted elsewhere; the borough's is larger, beyond chance
    london = section.london_shift.periods.set_index("period").loc["First lockdown"]
    assert london["ratio"] < lockdown["ratio"]
    # eight of 2020/21's months were in lockdowns, and one (March 2020) of 2019/20's
    planted = ((8 * SURGE + 4) / (11 + SURGE)) / ((8 * LONDON_SURGE + 4) / (11 + LONDON_SURGE))
    assert section.relative.ratio_of_ratios == pytest.approx(planted, rel=0.15)
    assert section.relative.p_value < 0.001
    assert "rose above the expected level in 2020/21" in section.title
    assert "Halford" in section.text and f"{SURGE_BOROUGH} saw the same" in section.text
    assert {"Observed", "Expected without the pandemic", "lower", "upper"} <= set(section.chart.columns)
    # the side by side chart: ASB surged, other crime did not
    april = section.side_by_side.loc["2020-04-01"]
    assert april[SIDE_BY_SIDE[0]] > 180 and 80 < april[SIDE_BY_SIDE[1]] < 120
    # financial years with change, rate and rank
    years = section.years.set_index("financial_year")
    assert list(years.index) == YEARS
    assert years.loc["2020/21", "pct_change"] > 50 and years.loc["2020/21", "p_value"] < 0.001
    assert years.loc["2020/21", "rank"] <= len(BOROUGHS) and years.loc["2020/21", "rate"] > 0
    headline = section.headline()
    assert headline["first_pandemic_year"]["outside"] == "above" and "2020/21" in headline["by_financial_year"]


def test_the_first_lockdown_is_named_by_its_months_in_core_periods(street, monkeypatch):
    _, tidy, coverage = street
    text = asb.borough_asb_section(tidy, coverage, SURGE_BOROUGH, "2020-03", YEARS).text
    assert "In the first lockdown (March to June 2020) the excess" in text and "above the interval" in text
    first = covid.COVID_PERIODS[0]  # were the period defined otherwise, the sentence would follow it
    monkeypatch.setattr(
        covid, "COVID_PERIODS", (replace(first, end=pd.Timestamp("2020-05-01")), *covid.COVID_PERIODS[1:])
    )
    text = asb.borough_asb_section(tidy, coverage, SURGE_BOROUGH, "2020-03", YEARS).text
    assert "In the first lockdown (March to May 2020) the excess" in text


def test_a_borough_without_the_surge_stays_near_london(street):
    _, tidy, coverage = street
    section = asb.borough_asb_section(tidy, coverage, "Bromley", "2020-03", YEARS)
    assert section.relative.ratio_of_ratios < 1.1  # the rest of London includes the surging borough
    assert section.shift.periods.set_index("period").loc["First lockdown", "ratio"] < SURGE * 0.7


def test_a_month_missing_from_the_files_is_named(street):
    _, tidy, coverage = street
    gap = tidy[tidy["month"] != pd.Timestamp("2020-07-01")]
    with pytest.raises(ValueError, match="2020-07.*unknown, not zero"):
        asb.borough_asb_section(gap, coverage, SURGE_BOROUGH, "2020-03", YEARS)


def test_with_five_pre_pandemic_years_the_seasonal_model_is_used():
    idx = pd.date_range("2015-03-01", "2021-03-01", freq="MS")
    rng = np.random.default_rng(3)
    level = 300 * (1 + 0.2 * np.cos(2 * np.pi * (idx.month - 7) / 12)) * np.where(idx >= "2020-04-01", 2.0, 1.0)
    shift = covid_shift(pd.Series(rng.poisson(level), index=idx), "2020-03")
    assert "seasonal ARIMA fitted to the 5 years" in shift.method
    assert 1.7 < shift.fy["observed"] / shift.fy["expected"] < 2.3 and shift.fy["outside"] == "above"


def test_relative_shift_by_hand():
    r = relative_change(100, 200, 1000, 1000)
    assert r.ratio_of_ratios == pytest.approx(2.0)
    se = np.sqrt(1 / 100 + 1 / 200 + 2 / 1000)
    assert r.low == pytest.approx(2 * np.exp(-1.959964 * se), rel=1e-5)
    assert relative_change(0, 1, 1, 1) is None  # a zero count: no ratio


def test_the_audit_checks_reports_of_asb_to_police(street):
    _, tidy, _ = street
    row = audit.audit_figure("Tower Hamlets", "asb_reports_change")
    th = tidy[(tidy["borough"] == "Tower Hamlets") & (tidy["crime_type"] == "Anti-social behaviour")]
    fy = th.groupby(th["month"].map(lambda m: m.year if m.month >= 4 else m.year - 1))["count"].sum()
    assert row["recomputed"] == pytest.approx(100 * (fy[2019] / fy[2018] - 1))
    assert row["plan_value"] == 14.5 and not row["verdict"].startswith("cannot")
    assert row["period"] == "2019/20 on 2018/19" and "policeuk/YYYY-MM/YYYY-MM-metropolitan-street.csv" in row["source"]
    assert "Read as 2020/21 on 2019/20" in row["note"]


def test_the_key_point_says_the_borough_asb_shift_or_london_calls(street):
    _, tidy, coverage = street
    section = asb.borough_asb_section(tidy, coverage, SURGE_BOROUGH, "2020-03", YEARS)
    calls = asb.london_calls_section(datasets.london_asb_calls(), SURGE_BOROUGH, "2020-03", source("gla_sol_asb_calls"))
    point = asb.key_point(section, calls)
    fy = section.shift.fy
    assert point.text.startswith(
        f"Police-recorded ASB in {SURGE_BOROUGH} in 2020/21, the first pandemic year: {fy['observed']:,.0f} incidents against "
    )
    assert (
        point.text.endswith("above the expected range.")
        and point.anchor == "anti-social-behaviour-incidents-in-the-borough"
    )
    none = asb.key_point(asb.asb_section(None, SURGE_BOROUGH, "2020-03", source("policeuk_street_asb")), calls)
    assert (
        none.text.startswith("Calls about ASB to the police across London rose ") and "a secondary source" in none.text
    )
    assert none.anchor == "anti-social-behaviour-calls-across-london-london-wide-a-secondary-source"
