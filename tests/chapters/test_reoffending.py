"""Tests for the reoffending chapter's library: proven reoffending on the MoJ fixture, and the drivers' trends."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hand_stats import wilson_by_hand, ztest_by_hand  # noqa: E402

from csp_evidence.chapters import reoffending as r
from csp_evidence.data.readers.moj import read_proven_reoffending
from csp_evidence.data.sources import source
from csp_evidence.report import reoffending_words

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "moj" / "PRSQ_Geographic_data_fixture.csv"


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    return read_proven_reoffending(FIXTURE)


# --------------------------------------------------------------------------- the file is missing


def test_missing_file_note_names_the_file_and_where_it_comes_from():
    src = source("moj_proven_reoffending")
    note = reoffending_words.missing_file_note(src)
    assert f"data/raw/{src.file}" in note
    assert f"<{src.url}>" in note and f"<{src.page}>" in note
    assert "Ministry of Justice" in note and "CSV format of data tools" in note
    assert "rest of this chapter" in note


# --------------------------------------------------------------------------- the file is present


def test_reoffending_table_twelve_month_cohorts_by_hand(tidy):
    t = r.reoffending_table(tidy, "Tower Hamlets")
    assert set(t["cohort_months"]) == {12}  # the 3-month cohorts are left out: not comparable
    assert t["cohort_start"].is_monotonic_increasing
    adult = t[t["age_group"] == "Adult"].set_index("cohort")
    assert list(adult.index) == ["Apr 2017 to Mar 2018", "Apr 2018 to Mar 2019", "Apr 2019 to Mar 2020"]
    last = adult.loc["Apr 2019 to Mar 2020"]
    assert last["rate"] == pytest.approx(325 / 1250)  # 0.26
    low, high = wilson_by_hand(325, 1250)
    assert last["ci_low"] == pytest.approx(low) and last["ci_high"] == pytest.approx(high)
    assert last["previous_cohort"] == "Apr 2018 to Mar 2019"
    assert last["change_pp"] == pytest.approx(100 * (325 / 1250 - 378 / 1400))  # -1.0 point
    assert last["p_value"] == pytest.approx(ztest_by_hand(325, 1250, 378, 1400))
    assert math.isnan(adult.loc["Apr 2017 to Mar 2018", "change_pp"])  # no earlier cohort
    juvenile = t[t["age_group"] == "Juvenile"].set_index("cohort").loc["Apr 2019 to Mar 2020"]
    assert juvenile["rate"] == pytest.approx(0.30) and juvenile["change_pp"] == pytest.approx(-6.0)


def test_reoffending_table_three_month_cohorts_on_request(tidy):
    t = r.reoffending_table(tidy, "Tower Hamlets", cohort_months=3)
    assert list(t["cohort"]) == ["Oct 2019 to Dec 2019", "Jan 2020 to Mar 2020"]
    assert t["age_group"].eq("Adult").all()
    assert t["change_pp"].iloc[-1] == pytest.approx(100 * (90 / 300 - 80 / 320))  # +5 points
    with pytest.raises(ValueError, match="cohort_months=6"):
        r.reoffending_table(tidy, "Tower Hamlets", cohort_months=6)


def test_reoffending_table_unknown_borough_names_it(tidy):
    with pytest.raises(ValueError, match="'Camden'.*Hackney"):
        r.reoffending_table(tidy, "Camden")


def test_reoffending_findings_by_hand(tidy):
    text = reoffending_words.reoffending_findings(r.reoffending_table(tidy, "Hackney"), "Hackney")
    low, high = wilson_by_hand(26, 100)
    assert (f"26 (26.0%, 95% interval {100 * low:.1f}% to {100 * high:.1f}%)") in text
    # juvenile 26/100 against 40/100: -14 points, pooled z-test p = 0.035, beyond chance
    p = ztest_by_hand(26, 100, 40, 100)
    assert p < 0.05
    assert (
        f"14.0 points lower than the Apr 2018 to Mar 2019 cohort (40.0%), a change beyond what chance alone would produce (p = {p:.3f})"
        in text
    )
    assert "1.0 points higher" in text and "a change within what chance" in text  # adults 25% -> 26%


def test_interval_chart_draws_both_age_groups(tidy):
    from csp_evidence.report import charts

    t = r.reoffending_table(tidy, "Tower Hamlets")
    fig = charts.interval_chart(t, "cohort", "rate", "ci_low", "ci_high", "age_group", "t", "s", "Rate (%)", "src")
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["Adult", "Juvenile"]
    assert len(ax.get_xticks()) == 3


# --------------------------------------------------------------------------- drivers (recorded crime)


def _planted_crime(borough: str) -> pd.DataFrame:
    """Seven years of monthly counts: drug offences rising by 2 a month, theft flat, both seasonal, Poisson noise."""
    months = pd.date_range("2017-01-01", periods=84, freq="MS")
    rng = np.random.default_rng(7)
    season = 10 * np.sin(2 * np.pi * months.month / 12)
    rows = []
    for i, m in enumerate(months):
        rows.append((m, borough, "Drug Offences", "Possession of Drugs", int(rng.poisson(100 + 2 * i + season[i]))))
        rows.append((m, borough, "Theft", "Other Theft", int(rng.poisson(400 + season[i]))))
    return pd.DataFrame(rows, columns=["month", "borough", "major_category", "minor_category", "count"])


@pytest.mark.realdata
def test_trend_table_recovers_a_planted_trend(fetched):
    crime = _planted_crime("Tower Hamlets")
    t = r.trend_table(crime, "Tower Hamlets", {"Drug offences": ("Drug Offences",), "Theft": ("Theft",)}).set_index(
        "group"
    )
    drugs = t.loc["Drug offences"]
    assert drugs["direction"] == "rising" and drugs["ci_low"] < 2 < drugs["ci_high"]
    assert t.loc["Theft", "direction"] == "no clear change"
    assert "was rising by about" in reoffending_words.trend_sentence(
        drugs.rename(None).to_dict() | {"group": "Drug offences"}, "Tower Hamlets"
    )
    assert reoffending_words.trend_title(
        drugs.rename(None).to_dict() | {"group": "Drug offences"}, "Tower Hamlets"
    ) == ("Drug offences in Tower Hamlets have been rising over the last 24 months")
    assert reoffending_words.trend_title(t.loc["Theft"].to_dict() | {"group": "Theft"}, "X").endswith(
        "shows no clear trend over the last 24 months"
    )
    monthly = r.driver_monthly(crime, "Tower Hamlets", ("Drug Offences",), "Drug offences", start="2020-01-01")
    assert list(monthly.columns) == ["Drug offences", "Trend (seasonal decomposition)"]
    assert monthly.index[0] == pd.Timestamp("2020-01-01")
    figures, sentence = r.lockdown_sentence(crime, "Tower Hamlets", "2020-03")
    assert figures["month"] == "2020-04" and " drug offences were recorded" in sentence
    assert figures["observed"] == int(monthly.loc["2020-04-01", "Drug offences"])
    trend = monthly["Trend (seasonal decomposition)"]
    assert (trend.diff().dropna().mean()) == pytest.approx(2, abs=0.5)


# --------------------------------------------------------------------------- London context (GLA, secondary)


def test_london_context_is_labelled_and_states_the_change_by_hand():
    rates = pd.DataFrame({"year": [2018, 2019, 2020, 2021], "area": "London", "rate": [0.30, 0.29, 0.28, 0.25]})
    text, title, chart = r.london_reoffending_context(rates, "Hackney", source("gla_sol_reoffending"))
    assert text.startswith("**London-wide context from a secondary source, not figures for Hackney.**")
    assert "the GLA compiled it from the Ministry of Justice's proven reoffending statistics" in text
    assert "fell from 30.0% in 2018 to 25.0% in 2021 (-5.0 points)" in text
    assert "the largest fall between values was from 28.0% in 2020 to 25.0% in 2021" in text
    assert "no confidence interval or test of change" in text
    assert title == "London's proven reoffending rate fell from 30.0% in 2018 to 25.0% in 2021 (London-wide)"
    assert chart.index.tolist() == [2018, 2019, 2020, 2021] and chart.iloc[:, 0].tolist() == [0.30, 0.29, 0.28, 0.25]
