"""The tables and sentences of the priority chapters: small-number rule, plan comparisons, Covid verdicts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from csp_evidence.analysis import priorities
from csp_evidence.chapters import crime as pt
from csp_evidence.data import plan
from csp_evidence.report import charts


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
    text = pt.outside_sentence(_table(), "Theft")
    assert text == (
        "Theft in 2020/21 was outside the counterfactual interval: 6,589 offences were recorded against "
        "9,605 expected, below the 95% interval of 8,649 to 10,684."
    )
    within = pt.outside_sentence(_table(outside=["within", np.nan]), "Theft")
    assert "was not outside" in within and "inside the 95% interval" in within
    assert "not modelled" in pt.outside_sentence(_table(), "Homicide")


def test_covid_figures_are_plain_with_none_for_unmodelled():
    assert pt.covid_figures(_table(), "Theft")["observed"] == 6589
    homicide = pt.covid_figures(_table(), "Homicide")
    assert homicide["observed"] is None and homicide["note"].startswith("not modelled")


def test_counterfactual_and_panel_titles():
    assert (
        pt.counterfactual_title(_table(), "Theft")
        == "Theft in 2020/21 was 31% below the level expected without the pandemic"
    )
    assert pt.panel_title(_table()) == "1 of 1 measures in 2020/21 lay outside the range expected without the pandemic"


def test_change_columns_blank_the_tests_of_small_measures():
    out = pt.change_columns(_table())
    assert out.loc[1, "count"] == 5 and out.loc[1, "previous"] == 7  # counts shown, flagged by the table
    assert all(pd.isna(out.loc[1, c]) for c in ("pct_change", "p_value", "signal", "pandemic_p_value"))
    assert out.loc[0, "p_value"] == pytest.approx(0.0017)


@pytest.mark.parametrize(
    "period, expected",
    [
        ("2020/21 on 2019/20", ("2020/21", True)),
        ("previous year (not stated; read as 2019/20 on 2018/19)", ("2019/20", False)),
        ("previous year (not stated)", (None, False)),
        ("2020/21 on 2018/19", (None, False)),  # not consecutive years
    ],
)
def test_plan_year(period, expected):
    assert pt._plan_year(period) == expected


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
                "year_before_pct": 9.97,
                "plan_section": "Violence",
                "plan_quote": "3 per cent",
            }
        ]
    )
    text = pt.plan_change_sentences(comparisons)
    assert "reports a decrease of 3 per cent in violence against the person" in text
    assert "read here as 2019/20" in text and "8,799 in 2018/19 and 8,560 in 2019/20, -2.7%" in text
    assert "within a percentage point" in text and "p = 0.071" in text
    assert pt.plan_change_sentences(comparisons.iloc[:0]) == ""


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
    long = pt.long_panel_data({"One": frame, "Two": frame})
    assert long.index.names == ["measure", "month"] and len(long) == 48


@pytest.mark.realdata
def test_violence_plan_comparison_on_the_real_data(crime):
    comparisons = pt.plan_change_comparisons(
        crime, "Tower Hamlets", priorities.VIOLENCE, plan.plan_figures("Tower Hamlets")
    )
    vap = comparisons.set_index("figure_id").loc["violence_change"]
    assert (vap["year"], vap["previous"], vap["count"]) == ("2019/20", 8799, 8560)
    assert vap["pct_change"] == pytest.approx(-2.716, abs=0.001)
    assert "decrease of 3 per cent" in pt.plan_change_sentences(comparisons)
    # a borough without a plan table gets no comparisons, so no sentence
    assert (
        pt.plan_change_sentences(
            pt.plan_change_comparisons(crime, "Hackney", priorities.VIOLENCE, plan.plan_figures("Hackney"))
        )
        == ""
    )


@pytest.mark.realdata
def test_priority_table_small_number_rule_on_the_real_data(crime):
    by_name = {m.name: m for m in priorities.VIOLENCE + priorities.NEIGHBOURHOOD}
    measures = [by_name["Drug trafficking"], by_name["Homicide"]]
    table, fits = pt.priority_table(crime, "Tower Hamlets", measures, "2019/20", "2020-03", threshold=10)
    rows = table.set_index("measure")
    assert list(fits) == ["Drug trafficking"]  # the small safeguarding measure is never fitted
    assert rows.loc["Homicide", "small"] and not rows.loc["Homicide", "chartable"]
    assert rows.loc["Homicide", "note"].startswith("not modelled or charted")
    dt = rows.loc["Drug trafficking"]
    assert (dt["count"], dt["pandemic_count"], dt["observed"]) == (153, 473, 473)
    assert dt["outside"] == "above" and dt["chartable"]
    assert set(pt.counterfactual_panel_data(crime, "Tower Hamlets", measures, table, fits)) == {"Drug trafficking"}
    text = pt.drug_enforcement_sentence(crime, table, "Tower Hamlets", measures, "2019/20")
    assert "Operation Continuum" in text and "153 to 473" in text
    fig, data = pt.counterfactual_figure(crime, "Tower Hamlets", measures, table, fits, "Homicide", "src")
    assert fig is None and data is None
