"""Tests for the PAS confidence functions, on a small synthetic table checked against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csp_evidence.analysis import survey
from csp_evidence.chapters import attitudes as a

Z95 = 1.959963984540054
N = 400


def wilson_by_hand(p: float, n: int = N, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of p = x/n: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def ztest_by_hand(p1: float, p2: float, n: int = N) -> float:
    pooled = (p1 + p2) / 2
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * 2 / n)
    return math.erfc(abs(z) / math.sqrt(2))


QUARTERS = pd.date_range("2020-03-31", periods=8, freq="QE")  # 31/03/2020 .. 31/12/2021
FAIR_A = [0.70, 0.71, 0.72, 0.50, 0.70, 0.72, 0.74, 0.60]
TRUST_A = [0.80, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80]
FAIR_LONDON = [0.65, 0.65, 0.65, 0.66, 0.66, 0.66, 0.66, 0.67]


@pytest.fixture
def pas() -> pd.DataFrame:
    rows = []
    for i, q in enumerate(QUARTERS):
        rows.append((q, "Alpha", "Treat everyone fairly", FAIR_A[i], FAIR_LONDON[i]))
        rows.append((q, "Alpha", "Trust MPS", TRUST_A[i], 0.70))
        rows.append((q, "Beta & Co", "Treat everyone fairly", 0.60, FAIR_LONDON[i]))
        if i >= 4:  # a measure that only starts in 2021, so it has no year-before value at the latest quarter
            rows.append((q, "Alpha", "Informed local", 0.30, 0.35))
    return pd.DataFrame(rows, columns=["quarter_end", "borough", "measure", "proportion", "london"])


def test_quarter_before_steps_back_whole_quarters():
    assert a.quarter_before(pd.Timestamp("2023-12-31")) == pd.Timestamp("2022-12-31")
    assert a.quarter_before(pd.Timestamp("2021-03-31"), 1) == pd.Timestamp("2020-12-31")


def test_measure_trends_gives_borough_beside_london_and_gap(pas):
    t = a.measure_trends(pas, "Alpha", ("Treat everyone fairly",))
    assert list(t["quarter_end"]) == list(QUARTERS)
    assert t["borough"].tolist() == FAIR_A
    assert t["gap_pp"].iloc[0] == pytest.approx(5.0)  # 0.70 - 0.65
    assert t["gap_pp"].iloc[-1] == pytest.approx(-7.0)  # 0.60 - 0.67


def test_measure_trends_errors_name_borough_and_measure(pas):
    with pytest.raises(ValueError, match="Gamma"):
        a.measure_trends(pas, "Gamma")
    with pytest.raises(ValueError, match="Fairness"):
        a.measure_trends(pas, "Alpha", ("Fairness",))


def test_year_on_year_compares_quarters_four_apart_by_hand(pas):
    t = a.year_on_year(pas, "Alpha").set_index("measure")
    fair = t.loc["Treat everyone fairly"]
    assert fair["quarter_end"] == pd.Timestamp("2021-12-31")
    assert fair["year_before_quarter"] == pd.Timestamp("2020-12-31")
    assert fair["value"] == 0.60 and fair["year_before"] == 0.50  # not 0.74, the adjacent quarter
    assert fair["change_pp"] == pytest.approx(10.0)
    low, high = wilson_by_hand(0.60)
    assert fair["ci_low"] == pytest.approx(low, abs=1e-9) and fair["ci_high"] == pytest.approx(high, abs=1e-9)
    # 240/400 against 200/400: pooled 0.55, z = 0.1 / sqrt(0.55 * 0.45 * 2/400) = 2.843, p = 0.00447
    assert fair["p_value"] == pytest.approx(ztest_by_hand(0.60, 0.50), rel=1e-9)
    assert fair["p_value"] == pytest.approx(0.004474, abs=1e-6)
    assert bool(fair["significant"])
    # Newcombe hybrid score interval of the difference, from the two Wilson intervals
    l1, u1 = wilson_by_hand(0.60)
    l2, u2 = wilson_by_hand(0.50)
    assert fair["change_low_pp"] == pytest.approx(100 * (0.10 - math.sqrt((0.60 - l1) ** 2 + (u2 - 0.50) ** 2)))
    assert fair["change_high_pp"] == pytest.approx(100 * (0.10 + math.sqrt((u1 - 0.60) ** 2 + (0.50 - l2) ** 2)))
    assert fair["london"] == 0.67
    assert fair["gap_pp"] == pytest.approx(-7.0)
    assert fair["london_change_pp"] == pytest.approx(1.0)  # 0.67 - 0.66


def test_year_on_year_no_change_and_missing_year_before(pas):
    t = a.year_on_year(pas, "Alpha").set_index("measure")
    trust = t.loc["Trust MPS"]
    assert trust["change_pp"] == 0 and trust["p_value"] == pytest.approx(1.0)
    assert not bool(trust["significant"])
    informed = t.loc["Informed local"]
    assert np.isnan(informed["year_before"]) and np.isnan(informed["p_value"])
    assert not bool(informed["significant"])


def test_year_on_year_at_a_given_quarter_and_bad_quarter(pas):
    t = a.year_on_year(pas, "Alpha", quarter="2021-06-30").set_index("measure")
    assert t.loc["Treat everyone fairly", "year_before"] == 0.71
    with pytest.raises(ValueError, match="quarter must be a quarter end"):
        a.year_on_year(pas, "Alpha", quarter="2021-05-31")


def test_change_interval_is_symmetric_in_sign():
    lo, hi = survey.change_interval(0.6, 0.5, N, N)
    lo2, hi2 = survey.change_interval(0.5, 0.6, N, N)
    assert lo == pytest.approx(-hi2) and hi == pytest.approx(-lo2)
    assert lo < 0.1 < hi


def test_target_progress_below_baseline_by_hand(pas):
    pr = survey.target_progress(pas, "Alpha", baseline_quarter="2020-12-31", end_quarter="2021-12-31")
    assert pr.baseline == 0.50 and pr.target == pytest.approx(0.55) and pr.latest == 0.60
    assert pr.status == "met"
    pr = survey.target_progress(pas, "Alpha", baseline_quarter="2020-03-31", end_quarter="2022-03-31")
    assert pr.baseline == 0.70 and pr.target == pytest.approx(0.75)
    assert pr.change_pp == pytest.approx(-10.0)
    assert pr.status == "below baseline"
    assert pr.p_value == pytest.approx(ztest_by_hand(0.60, 0.70))


def test_target_progress_on_track_and_behind_use_the_straight_path(pas):
    # baseline 0.70 at 31/03/2021, target 0.75 at 31/03/2022; at 30/09/2021 the path is 0.70 + 0.05 * 183/365
    pr = survey.target_progress(
        pas, "Alpha", baseline_quarter="2021-03-31", end_quarter="2022-03-31", quarter="2021-09-30"
    )
    assert pr.path_value == pytest.approx(0.70 + 0.05 * 183 / 365)
    assert pr.latest == 0.74 and pr.status == "on track"
    assert math.isnan(pr.p_value)  # two quarters apart: the rolling samples overlap, so no test
    pr = survey.target_progress(
        pas, "Alpha", baseline_quarter="2021-03-31", end_quarter="2022-03-31", quarter="2021-06-30"
    )
    assert pr.latest == 0.72 and pr.path_value == pytest.approx(0.70 + 0.05 * 91 / 365)
    assert pr.status == "on track"
    pr = survey.target_progress(
        pas, "Alpha", baseline_quarter="2021-03-31", end_quarter="2021-06-30", quarter="2021-06-30", uplift=0.03
    )
    assert pr.path_value == pytest.approx(0.73) and pr.status == "behind"  # 0.72: above baseline, below path
    assert a.target_title(pr) == "Alpha is behind the path to the fair-treatment target"


def test_target_progress_errors_name_the_argument(pas):
    with pytest.raises(ValueError, match="baseline_quarter"):
        survey.target_progress(pas, "Alpha", baseline_quarter="2021-02-28")
    with pytest.raises(ValueError, match="no PAS value .* 31/03/2019"):
        survey.target_progress(pas, "Alpha", baseline_quarter="2019-03-31")
    with pytest.raises(ValueError, match="end_quarter"):
        survey.target_progress(pas, "Alpha", baseline_quarter="2021-03-31", end_quarter="2020-03-31")


def test_target_sentence_and_series(pas):
    pr = survey.target_progress(pas, "Beta & Co", baseline_quarter="2021-03-31", end_quarter="2022-03-31")
    text = a.target_sentence(pr)
    assert "Beta &amp; Co" in text  # names from data are made safe for Markdown
    assert "60%" in text and "target at 65%" in text and "unchanged at 60%" in text
    series = a.target_series(pas, pr)
    assert list(series.columns) == ["Beta & Co", "London (MPS)", "ci_low", "ci_high", "Target (baseline + 5 points)"]
    assert series["Target (baseline + 5 points)"].tolist() == pytest.approx([0.65] * len(series))
    assert series["ci_low"].iloc[0] == pytest.approx(wilson_by_hand(0.60)[0])


def test_change_findings_names_significant_changes_and_gaps(pas):
    text = a.change_findings(a.year_on_year(pas, "Alpha"), "Alpha")
    assert "rose beyond chance on 'Treat everyone fairly' (+10 points, 50% to 60%)" in text
    assert "below London by 5 points or more on 'Treat everyone fairly' (-7)" in text
    assert "above London by 5 points or more on 'Trust MPS' (+10)" in text


def test_change_findings_never_claims_a_comparison_without_a_year_before(pas):
    text = a.change_findings(a.year_on_year(pas, "Alpha"), "Alpha")
    assert "Not compared, having no value for the year before: 'Informed local'." in text
    first = a.change_findings(a.year_on_year(pas, "Alpha", QUARTERS[2]), "Alpha")
    assert first.startswith("No measure in Alpha has a value for the 12 months to September 2019, so none is compared.")
    assert "changed by more than chance" not in first


def test_plan_quotes_sets_plan_beside_data(pas):
    figures = pd.DataFrame(
        {
            "description": ["fair"],
            "plan_value": [71.0],
            "period": ["June 2020"],
            "plan_section": ["Confidence"],
            "measure": ["Treat everyone fairly"],  # the plan table names the survey measure a figure quotes
            "kind": ["survey share"],  # ... and what kind of figure it is, read for which quarter, from where
            "reading": ["2020-06"],
            "source": ["mopac_pas"],
        },
        index=pd.Index(["treat_fairly_2020_06"], name="figure_id"),
    )
    quotes = a.plan_quotes(pas, "Alpha", figures)
    assert quotes.loc[0, "quarter_end"] == pd.Timestamp("2020-06-30") and quotes.loc[0, "data_value"] == 71.0
    assert "the same figures" in a.plan_quote_sentence(quotes)
    assert a.plan_quote_sentence(a.plan_quotes(pas, "Alpha", figures.iloc[0:0])) == ""


def test_charts_draw_the_pas_tables(pas):
    from csp_evidence.report import charts

    fig = charts.panel_chart(
        a.measure_trends(pas, "Alpha"),
        "measure",
        {"borough": "Alpha", "london": "London"},
        "t",
        "s",
        "Agree (%)",
        "src",
    )
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3
    pr = survey.target_progress(pas, "Alpha", baseline_quarter="2021-03-31", end_quarter="2022-03-31")
    data = a.target_series(pas, pr)
    fig = charts.quarterly_chart(
        data,
        "t",
        "s",
        "Agree (%)",
        "src",
        lines=["Alpha", "London (MPS)"],
        band=("ci_low", "ci_high"),
        target=("Target", pr.target, pr.baseline_quarter),
    )
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "95% interval",
        "Alpha",
        "London (MPS)",
        "Target",
    ]
