"""The priority chapters (01 and 04) and what they share: the priority table (analysis.priority_table), its sentences
and published tables (report.priority_words, report.priority_tables), and chapter 04's plan comparisons and domestic
abuse in the lockdowns (chapters.violence): small-number rule, plan comparisons, Covid verdicts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from csp_evidence.analysis import priorities
from csp_evidence.analysis.priority_table import (
    COUNTS_ONLY_NOTE,
    change_columns,
    counterfactual_panel_data,
    covid_figures,
    lockdown_periods,
    long_panel_data,
    priority_table,
)
from csp_evidence.chapters.neighbourhood import drug_enforcement_sentence
from csp_evidence.chapters.violence import (
    domestic_abuse_answer,
    plan_change_comparisons,
    plan_change_sentences,
)
from csp_evidence.data import plan
from csp_evidence.report import charts
from csp_evidence.report.priority_tables import counterfactual_figure
from csp_evidence.report.priority_words import counterfactual_title, measure_findings, outside_sentence, panel_title


def _table(**over) -> pd.DataFrame:
    """A two-row priority table as priority_table returns it (values by hand)."""
    rows = {
        "measure": ["Theft", "Homicide"],
        "safeguarding": [False, True],
        "small": [False, True],
        "chartable": [True, False],
        "year": ["2020/21"] * 2,
        "previous": [9232, 7],
        "count": [8809, 5],
        "pct_change": [-4.58, -28.6],
        "p_value": [0.0017, 0.77],
        "signal": [True, False],
        "pandemic_count": [6589, 4],
        "pandemic_pct_change": [-25.2, -20.0],
        "pandemic_p_value": [1e-70, 1.0],
        "pandemic_signal": [True, False],
        "observed": [6589, np.nan],
        "expected": [9604.7, np.nan],
        "lower": [8649.1, np.nan],
        "upper": [10684.0, np.nan],
        "outside": ["below", np.nan],
        "pct_difference": [-31.4, np.nan],
        "note": ["", "not modelled or charted: a safeguarding measure with fewer than 10 offences in a year"],
    }
    rows.update(over)
    return pd.DataFrame(rows)


def test_outside_sentence_states_counts_and_interval():
    text = outside_sentence(_table(), "Theft")
    assert text == (
        "Theft in 2020/21 was outside the counterfactual interval: 6,589 offences were recorded against "
        "9,605 expected, below the 95% interval of 8,649 to 10,684."
    )
    within = outside_sentence(_table(outside=["within", np.nan]), "Theft")
    assert "was not outside" in within and "inside the 95% interval" in within
    assert "not modelled" in outside_sentence(_table(), "Homicide")


def test_covid_figures_are_plain_with_none_for_unmodelled():
    assert covid_figures(_table(), "Theft")["observed"] == 6589
    homicide = covid_figures(_table(), "Homicide")
    assert homicide["observed"] is None and homicide["note"].startswith("not modelled")


def test_counterfactual_and_panel_titles():
    assert (
        counterfactual_title(_table(), "Theft")
        == "Theft in 2020/21 was 31% below the level expected without the pandemic"
    )
    assert panel_title(_table()) == "1 of 1 measures in 2020/21 lay outside the range expected without the pandemic"


def test_change_columns_blank_the_tests_of_small_measures():
    out = change_columns(_table())
    assert out.loc[1, "count"] == 5 and out.loc[1, "previous"] == 7  # counts shown, flagged by the table
    assert all(pd.isna(out.loc[1, c]) for c in ("pct_change", "p_value", "signal", "pandemic_p_value"))
    assert out.loc[0, "p_value"] == pytest.approx(0.0017)


def test_plan_change_sentences_by_hand():
    comparisons = pd.DataFrame(
        [
            {
                "figure_id": "violence_change",
                "measure": "Violence against the person",
                "year": "2019/20",
                "stated": False,
                "plan_pct": -3.0,
                "previous": 8799,
                "count": 8560,
                "pct_change": -2.716,
                "p_value": 0.0709,
                "significant": False,
                "verdict": "matches",
                "alternative": "2020/21",
                "alternative_pct": 9.97,
                "alternative_verdict": "differs",
                "plan_section": "Violence",
                "plan_quote": "3 per cent",
            }
        ]
    )
    text = plan_change_sentences(comparisons)
    assert "reports a decrease of 3 per cent in violence against the person" in text
    assert "read here as 2019/20" in text and "8,799 in 2018/19 and 8,560 in 2019/20, -2.7%" in text
    assert "the same at the precision the plan quotes" in text and "p = 0.071" in text
    assert "may describe that year" not in text  # the reading matches: the other is not offered
    assert plan_change_sentences(comparisons.iloc[:0]) == ""
    # the plan audit's verdict, not a rule of its own: a 4-point gap differs, and the reading that fits is named
    differs = comparisons.assign(
        plan_pct=-7.0, verdict="differs", alternative_pct=-6.6, alternative_verdict="matches", stated=True
    )
    text = plan_change_sentences(differs)
    assert "a difference larger than the revisions between extracts" in text
    assert "Read as 2020/21 on 2019/20, the data give -6.6% (the same at the precision" in text


def test_index_chart_and_counterfactual_panels_draw():
    fig = charts.index_chart(
        pd.Series({"A": 120.0, "B": 80.0}), "t", "s", "x", "src", labels=pd.Series({"A": "rank 1", "B": "rank 2"})
    )
    bars = fig.axes[0].patches
    assert len(bars) == 2 and bars[0].get_facecolor() != bars[1].get_facecolor()
    plt.close(fig)
    months = pd.date_range("2019-01-01", periods=24, freq="MS")
    frame = pd.DataFrame(
        {"Observed": 10.0, "Expected without the pandemic": 9.0, "lower": 7.0, "upper": 12.0}, index=months
    )
    fig = charts.counterfactual_panels(
        {"One": frame, "Two": frame, "Three": frame, "Four": frame}, "t", "s", "y", "src"
    )
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4 and [ax.get_title(loc="left") for ax in visible] == ["One", "Two", "Three", "Four"]
    plt.close(fig)
    long = long_panel_data({"One": frame, "Two": frame})
    assert long.index.names == ["measure", "month"] and len(long) == 48


@pytest.mark.realdata
def test_violence_plan_comparison_on_the_real_data(crime):
    comparisons = plan_change_comparisons(
        crime, "Tower Hamlets", priorities.VIOLENCE, plan.plan_figures("Tower Hamlets")
    )
    vap = comparisons.set_index("figure_id").loc["violence_change"]
    assert (vap["year"], vap["previous"], vap["count"]) == ("2019/20", 8799, 8560)
    assert vap["pct_change"] == pytest.approx(-2.716, abs=0.001)
    assert "decrease of 3 per cent" in plan_change_sentences(comparisons)
    # a borough without a plan table gets no comparisons, so no sentence
    assert (
        plan_change_sentences(
            plan_change_comparisons(crime, "Hackney", priorities.VIOLENCE, plan.plan_figures("Hackney"))
        )
        == ""
    )


@pytest.mark.realdata
def test_priority_table_small_number_rule_on_the_real_data(crime):
    by_name = {m.name: m for m in priorities.VIOLENCE + priorities.NEIGHBOURHOOD}
    measures = [by_name["Drug trafficking"], by_name["Homicide"]]
    table, fits = priority_table(crime, "Tower Hamlets", measures, "2019/20", "2020-03", threshold=10)
    rows = table.set_index("measure")
    assert list(fits) == ["Drug trafficking"]  # the small safeguarding measure is never fitted
    assert rows.loc["Homicide", "small"] and not rows.loc["Homicide", "chartable"]
    assert rows.loc["Homicide", "note"].startswith("not modelled or charted")
    dt = rows.loc["Drug trafficking"]
    assert (dt["count"], dt["pandemic_count"], dt["observed"]) == (153, 473, 473)
    assert dt["outside"] == "above" and dt["chartable"]
    assert set(counterfactual_panel_data(crime, "Tower Hamlets", measures, table, fits)) == {"Drug trafficking"}
    text = drug_enforcement_sentence(crime, table, "Tower Hamlets", measures, "2019/20")
    assert "Operation Continuum" in text and "153 to 473" in text
    fig, data = counterfactual_figure(crime, "Tower Hamlets", measures, table, fits, "Homicide", "src")
    assert fig is None and data is None


# --------------------------------------------------------------------------- domestic abuse, knife and gun crime


def _special_table(boroughs: list[str], per_month: dict, months: pd.DatetimeIndex, default: int = 40) -> pd.DataFrame:
    """A tidy hate-and-special-file table with the SPECIAL measures for every borough (constant `default` a month,
    or `per_month[(borough, minor category)]`, a function of the months)."""
    frames = []
    for borough in boroughs:
        for m in priorities.SPECIAL:
            minor = m.categories[0]
            spec = per_month.get((borough, minor), default)
            counts = spec(months) if callable(spec) else np.full(len(months), spec)
            frames.append(
                pd.DataFrame(
                    {"month": months, "borough": borough, "major_category": "Special", "minor_category": minor}
                ).assign(count=np.asarray(counts, dtype="int64"))
            )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.realdata
def test_planted_rise_in_domestic_abuse_in_the_second_and_third_lockdowns_is_found(fetched):
    from csp_evidence.data import geo

    months = pd.date_range("2014-04-01", "2021-05-01", freq="MS")
    rng = np.random.default_rng(3)
    season = 1 + 0.1 * np.sin(2 * np.pi * (months.month - 1) / 12)
    planted = np.where((months >= "2020-11-01") & (months <= "2021-03-01"), 1.5, 1.0)
    abuse = rng.poisson(300 * season * planted)
    table = _special_table(geo.mps_boroughs(), {("Hackney", "Domestic Abuse"): lambda m: abuse}, months)
    by_name = {m.name: m for m in priorities.SPECIAL}
    measures = [by_name["Domestic abuse"], by_name["Domestic abuse homicide"]]
    result, fits = priority_table(table, "Hackney", measures, "2019/20", "2020-03", threshold=10)
    rows = result.set_index("measure")
    assert list(fits) == ["Domestic abuse"]
    homicide = rows.loc["Domestic abuse homicide"]  # 40 a month here, but counts only whatever its size
    assert homicide["counts_only"] and homicide["small"] and homicide["note"] == COUNTS_ONLY_NOTE
    assert not homicide["chartable"]
    periods = lockdown_periods(fits, ["Domestic abuse"], "Hackney").set_index("period")
    second = periods.loc["Second and third lockdowns"]
    assert second["months"] == "November 2020 to March 2021"
    assert second["observed"] == abuse[(months >= "2020-11-01") & (months <= "2021-03-01")].sum()
    assert second["outside"] == "above" and 1.3 < second["observed"] / second["expected"] < 1.7
    assert periods.loc["First lockdown", "outside"] == "within"
    answer = domestic_abuse_answer(periods.reset_index(), result, "Hackney")
    assert answer.startswith("**Did domestic abuse rise during the lockdowns?** Yes")
    assert "in the second and third lockdowns" in answer and "floor on what happened" in answer
    bullets = measure_findings(result, "Hackney", "2019/20")
    assert "**Domestic abuse homicide**: 480, 480 and 480" in bullets and COUNTS_ONLY_NOTE in bullets


def test_domestic_abuse_answer_by_hand():
    periods = pd.DataFrame(
        [
            ["Tower Hamlets", "Domestic abuse", "First lockdown", "March to June 2020", 1235, 1268.0, 1129.0, 1414.5],
            [
                "Tower Hamlets",
                "Domestic abuse",
                "Second and third lockdowns",
                "November 2020 to March 2021",
                1500,
                1535.5,
                1384.3,
                1701.0,
            ],
            [
                "Tower Hamlets",
                "Domestic abuse",
                "Financial year 2020/21",
                "April 2020 to March 2021",
                4057,
                3831.7,
                3581.8,
                4107.6,
            ],
            ["London", "Domestic abuse", "First lockdown", "March to June 2020", 31297, 31404.5, 29830.2, 33097.8],
        ],
        columns=["area", "measure", "period", "months", "observed", "expected", "lower", "upper"],
    ).assign(outside="within")
    periods["pct_difference"] = 100 * (periods["observed"] / periods["expected"] - 1)
    table = pd.DataFrame(
        {
            "measure": ["Domestic abuse"],
            "year": ["2020/21"],
            "note": [""],
            "pandemic_previous": [3610],
            "pandemic_pct_change": [12.38],
            "pandemic_significant": [True],
            "pandemic_p_value": [1e-6],
        }
    )
    text = domestic_abuse_answer(periods, table, "Tower Hamlets")
    assert "Not beyond what the pre-pandemic pattern predicts" in text
    assert (
        "in the first lockdown (March to June 2020), 1,235 recorded against 1,268 expected (95% interval 1,129 to 1,414"
        in text
    )
    assert "against 3,610 the year before, +12.4% (beyond chance, p < 0.001)" in text
    assert "in line with the upward trend of the years before the pandemic" in text
    assert "London as a whole, first lockdown: 31,297 recorded against 31,404 expected" in text


@pytest.mark.realdata
def test_knife_and_gun_crime_on_the_real_file(fetched):
    from csp_evidence.data import datasets

    special = datasets.hate_special_crime()
    table, fits = priority_table(special, "Tower Hamlets", priorities.SPECIAL[3:6], "2019/20", "2020-03", 10)
    knife = table.set_index("measure").loc["Knife crime"]
    assert (knife["previous"], knife["count"], knife["pandemic_count"]) == (665, 629, 473)
    assert knife["pct_change"] == pytest.approx(-5.41, abs=0.01)
    comparisons = plan_change_comparisons(
        special, "Tower Hamlets", priorities.SPECIAL, plan.plan_figures("Tower Hamlets")
    ).set_index("figure_id")
    assert comparisons.loc["knife_crime_change", "plan_pct"] == -6
    assert (comparisons.loc["knife_crime_change", "previous"], comparisons.loc["knife_crime_change", "count"]) == (
        665,
        629,
    )
    assert (comparisons.loc["gun_crime_change", "previous"], comparisons.loc["gun_crime_change", "count"]) == (75, 62)
    assert (comparisons.loc["domestic_abuse_change_2020_21", "count"]) == 4057


def test_domestic_abuse_answer_says_no_when_below_and_one_change_when_the_years_coincide():
    periods = pd.DataFrame(
        [
            ["Kingston", "Domestic abuse", "First lockdown", "March to June 2020", 511, 492.0, 407.0, 600.0, "within"],
            [
                "Kingston",
                "Domestic abuse",
                "Second and third lockdowns",
                "November 2020 to March 2021",
                518,
                734.0,
                593.0,
                917.0,
                "below",
            ],
            [
                "Kingston",
                "Domestic abuse",
                "Financial year 2020/21",
                "April 2020 to March 2021",
                1439,
                1738.0,
                1470.0,
                2079.0,
                "below",
            ],
        ],
        columns=["area", "measure", "period", "months", "observed", "expected", "lower", "upper", "outside"],
    )
    periods["pct_difference"] = 100 * (periods["observed"] / periods["expected"] - 1)
    table = pd.DataFrame(
        {
            "measure": ["Domestic abuse"],
            "year": ["2020/21"],
            "note": [""],
            "pandemic_previous": [1426],
            "pandemic_pct_change": [0.9],
            "pandemic_significant": [False],
            "pandemic_p_value": [0.82],
        }
    )
    text = domestic_abuse_answer(periods, table, "Kingston")
    assert (
        "No: recorded domestic abuse did not rise beyond" in text and "below its expected range in the second" in text
    )
    counts_only = _table(measure=["Theft", "Homicide"], counts_only=[False, True], year=["2019/20"] * 2)
    counts_only["rate"], counts_only["london_rate"], counts_only["rate_rank"], counts_only["ranked"] = 1.0, 2.0, 5, 32
    counts_only["significant"], counts_only["pandemic_significant"] = True, True
    counts_only["pandemic_previous"] = counts_only["previous"]
    bullets = measure_findings(counts_only, "Kingston", "2019/20")
    assert bullets.count("against 9,232 in 2018/19") == 1  # the headline year is the pandemic year: one change
    assert "**Homicide**: 7 and 5 in 2018/19 and 2019/20; counts only" in bullets
