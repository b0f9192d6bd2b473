"""The plan-period statistics: hand-computed values, planted verdicts, and the real CONNECT-era series."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from csp_evidence.analysis import plan_period as pp
from csp_evidence.analysis.priorities import CONNECT_MEASURES, NEIGHBOURHOOD, VIOLENCE, in_series
from csp_evidence.chapters import plan_period as ch


def test_plan_years_from_the_plan_and_the_pandemic():
    years = pp.plan_years(("2021/22", "2022/23", "2023/24"), "2020-03")
    assert (years.pre_pandemic, years.baseline, years.end, years.after) == ("2019/20", "2020/21", "2023/24", "2024/25")
    assert years.all == ("2019/20", "2020/21", "2021/22", "2022/23", "2023/24", "2024/25")
    with pytest.raises(ValueError, match="consecutive financial years; 2021/22 is followed by 2023/24"):
        pp.plan_years(("2021/22", "2023/24"), "2020-03")


def test_relative_change_by_hand():
    # borough 100 -> 80, rest of London 1000 -> 1000: ratio of ratios 0.8, se sqrt(1/100 + 1/80 + 2/1000)
    rel = pp.relative_change(100, 80, 1000, 1000)
    se = math.sqrt(0.0245)
    assert rel.ratio_of_ratios == pytest.approx(0.8)
    assert rel.z == pytest.approx(math.log(0.8) / se)
    assert rel.z == pytest.approx(-1.42561, abs=1e-5)
    assert rel.p_value == pytest.approx(0.15398, abs=1e-5)
    assert rel.low == pytest.approx(0.8 * math.exp(-1.959964 * se), rel=1e-6)
    assert not rel.significant
    assert pp.relative_change(0, 5, 100, 100) is None
    with pytest.raises(ValueError, match="rest_end must be a non-negative whole count, got 2.5"):
        pp.relative_change(1, 2, 3, 2.5)


def test_relative_change_is_the_poisson_glm_interaction():
    b0, b1, r0, r1 = 230, 310, 5100, 5600
    rel = pp.relative_change(b0, b1, r0, r1)
    design = pd.DataFrame({"area": [1, 1, 0, 0], "end": [0, 1, 0, 1]})
    design["interaction"] = design["area"] * design["end"]
    with warnings.catch_warnings():  # a saturated model: statsmodels warns that no residual scale is left
        warnings.simplefilter("ignore")
        fit = sm.GLM([b0, b1, r0, r1], sm.add_constant(design), family=sm.families.Poisson()).fit(tol=1e-12)
    assert math.exp(fit.params["interaction"]) == pytest.approx(rel.ratio_of_ratios, rel=1e-8)
    assert fit.pvalues["interaction"] == pytest.approx(rel.p_value, rel=1e-6)


def _counts(b0, b1, r0, r1):
    frame = pd.DataFrame({"borough": [b0, b1], "rest": [r0, r1]}, index=pd.Index(["2020/21", "2023/24"]))
    frame["london"] = frame["borough"] + frame["rest"]
    return frame


@pytest.mark.parametrize(
    "b0, b1, r0, r1, own, relative",
    [
        (1000, 700, 10000, 10000, "improved", "improved"),  # fell while London held: better than London
        (1000, 1300, 10000, 10000, "worsened", "worsened"),  # rose while London held: worse than London
        (100, 95, 10000, 10000, "no clear change", "no clear change"),  # within chance
        (1000, 1100, 10000, 14000, "worsened", "improved"),  # rose, but far less than London: better than London
        (1000, 700, 10000, 7000, "improved", "no clear change"),  # fell exactly as London fell
    ],
)
def test_planted_verdicts(b0, b1, r0, r1, own, relative):
    row = pp.count_comparison(_counts(b0, b1, r0, r1), "2020/21", "2023/24", "plan_")
    assert (row["plan_own_verdict"], row["plan_verdict"]) == (own, relative)
    assert row["plan_count_start"] == b0 and row["plan_london_end"] == b1 + r1
    assert row["plan_pct_change"] == pytest.approx(100 * (b1 - b0) / b0)


def test_verdict_direction_for_surveys_and_crime():
    assert pp.verdict(-1, True) == "improved" and pp.verdict(-1, True, higher_is_better=True) == "worsened"
    assert pp.verdict(2, False) == "no clear change" and pp.verdict(np.nan, True) == "no clear change"


def test_priority_verdicts():
    assert pp.priority_verdict(["improved", "no clear change", "not tested"]) == "improved"
    assert pp.priority_verdict(["worsened", "no clear change"]) == "worsened"
    assert pp.priority_verdict(["worsened", "improved"]) == "mixed"
    assert pp.priority_verdict(["no clear change"]) == "no clear change"
    assert pp.priority_verdict(["not tested"]) == "not tested"
    table = pd.DataFrame({"priority": ["A", "A", "B"], "plan_verdict": ["improved", "worsened", "no clear change"]})
    summary = pp.priority_table(table).set_index("priority")
    assert summary.loc["A", "verdict"] == "mixed" and summary.loc["A", "improved"] == 1
    assert summary.loc["B", "verdict"] == "no clear change" and summary.loc["B", "measures"] == 1


def test_measures_found_by_police_activity_are_tested_but_not_judged():
    drugs = next(m for m in NEIGHBOURHOOD if m.name == "Drug trafficking")
    assert drugs.police_found and in_series(drugs, "connect").police_found
    months = pd.date_range("2020-04-01", "2024-03-01", freq="MS")
    rows = [
        {"month": m, "borough": b, "major_category": "Drug Offences", "minor_category": "Drug Trafficking", "count": n}
        for m in months
        for b, n in (
            ("Tower Hamlets", 10 if m.year < 2021 or (m.year == 2021 and m.month < 4) else 30),
            ("Hackney", 10),
        )
    ]
    crime = pd.DataFrame(rows)
    years = pp.plan_years(("2021/22", "2022/23", "2023/24"), "2020-03")
    row = pp.measure_table(crime, "Tower Hamlets", [("Drugs", drugs)], years).iloc[0]
    assert row["plan_count_start"] == 120 and row["plan_count_end"] == 360 and row["plan_rel_significant"]
    assert (row["plan_own_verdict"], row["plan_verdict"]) == ("not judged", "not judged")  # tripled: tested, not judged
    assert pp.priority_verdict(["not judged", "improved"]) == "improved"
    assert pp.priority_verdict(["not judged"]) == "not tested"


def test_survey_change_by_hand():
    # borough 50% -> 60% of 400, London 50% -> 50% of 12,800: difference of changes 10 points
    out = pp.survey_change(0.5, 0.6, 0.5, 0.5, 400, 12800)
    se = math.sqrt(0.25 / 400 + 0.24 / 400 + 2 * 0.25 / 12800)
    assert out["gap_change_pp"] == pytest.approx(10.0)
    assert out["rel_p_value"] == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(0.1 / se / math.sqrt(2)))), rel=1e-9)
    assert out["rel_p_value"] == pytest.approx(0.00491, abs=1e-5)
    assert (out["own_verdict"], out["verdict"]) == ("improved", "improved")
    falling = pp.survey_change(0.6, 0.5, 0.5, 0.5, 400, 12800)
    assert falling["verdict"] == "worsened"
    with pytest.raises(ValueError, match="b1 must be a proportion from 0 to 1, got 60"):
        pp.survey_change(0.5, 60, 0.5, 0.5, 400, 12800)


def test_connect_measures_cover_what_the_series_can_count():
    assert in_series(NEIGHBOURHOOD[0], "cris") is NEIGHBOURHOOD[0]
    assert in_series(NEIGHBOURHOOD[0], "connect").categories == ("BURGLARY",)
    knife = next(m for m in VIOLENCE if m.name == "Knife and blade possession")
    assert in_series(knife, "connect") is None  # CRIS-era only
    assert set(CONNECT_MEASURES) >= {m.name for m in NEIGHBOURHOOD}
    with pytest.raises(ValueError, match="series must be one of cris, connect, got 'both'"):
        in_series(knife, "both")


@pytest.mark.realdata
def test_real_plan_period_total_for_tower_hamlets(fetched):
    from csp_evidence.data import datasets

    crime = datasets.recorded_crime_connect()
    years = pp.plan_years(("2021/22", "2022/23", "2023/24"), "2020-03")
    table = pp.measure_table(crime, "Tower Hamlets", [("All", CONNECT_MEASURES["All recorded crime"])], years)
    row = table.iloc[0]
    assert row["2019/20"] == 33054  # SOURCES.md's CONNECT-era check figure
    assert row["2020/21"] == 30037 and row["end"] == "2023/24"
    assert row["plan_count_start"] == 30037 and row["plan_count_end"] == row["2023/24"]
    # the CRIS-era series does not hold 2023/24 whole: its plan change ends in 2022/23
    cris = pp.measure_table(datasets.recorded_crime(), "Tower Hamlets", [("All", NEIGHBOURHOOD[0])], years)
    assert cris.iloc[0]["end"] == "2022/23" and "2023/24" not in cris.columns


def _plan_row(measure, pct, london_pct, verdict, pre=(9.1, 2.7, "worsened")):
    return {
        "priority": "All recorded crime" if measure == "All recorded crime" else "Neighbourhood crime and ASB",
        "measure": measure,
        "end": "2023/24",
        "plan_pct_change": pct,
        "plan_london_pct_change": london_pct,
        "plan_verdict": verdict,
        "pre_pct_change": pre[0],
        "pre_london_pct_change": pre[1],
        "pre_verdict": pre[2],
    }


@pytest.mark.parametrize(
    ("pct", "london", "verdict", "words"),
    [
        (20.04, 23.7, "improved", "rose 20% (London +24%), a smaller rise than London's"),
        (20.04, 13.9, "worsened", "rose 20% (London +14%), a larger rise than London's"),
        (-12.0, -3.0, "improved", "fell 12% (London -3%), a larger fall than London's"),
        (-2.0, -9.0, "worsened", "fell 2% (London -9%), a smaller fall than London's"),
        (-5.0, 4.0, "improved", "fell 5% (London +4%), a fall while London rose"),
        (6.0, -4.0, "worsened", "rose 6% (London -4%), a rise while London fell"),
        (20.04, 21.0, "no clear change", "rose 20% (London +21%), no clear difference from London's"),
        (0.2, 1.0, "no clear change", "was unchanged (London +1%), no clear difference from London's"),
    ],
)
def test_key_points_say_which_way_the_borough_and_london_moved(pct, london, verdict, words):
    table = pd.DataFrame(
        [_plan_row("All recorded crime", pct, london, verdict), _plan_row("Burglary", -9, 0, "improved")]
    )
    verdicts = pd.DataFrame(
        {"priority": ["All recorded crime", "Neighbourhood crime and ASB"], "verdict": [verdict, "mixed"]}
    )
    pre = verdicts.assign(verdict=["worsened", "worsened"])
    years = pp.plan_years(("2021/22", "2022/23", "2023/24"), "2020-03")
    points = ch.key_points(table, verdicts, pre, years, None, "Tower Hamlets")
    assert points[0].text == (
        f"From 2020/21 to 2023/24 recorded crime in Tower Hamlets {words}; from 2019/20, before the pandemic, it rose "
        "9% (London +3%), a larger rise than London's."
    )
    assert points[1].text == "Against London, 2020/21 to 2023/24: neighbourhood crime and ASB mixed."
    assert points[2].text == "Against London, 2019/20 to 2023/24: neighbourhood crime and ASB worsened."
    assert [p.anchor for p in points] == [
        "each-priority-over-the-plan-against-london",
        "each-priority-over-the-plan-against-london",
        "against-the-year-before-the-pandemic",
    ]


@pytest.mark.realdata
def test_key_points_name_the_target_and_whose_plan_set_it(fetched):
    from csp_evidence.data import datasets

    pas = datasets.public_attitudes()
    own, other = ch.target_reading(pas, "Tower Hamlets"), ch.target_reading(pas, "Hackney")
    table = pd.DataFrame([_plan_row("All recorded crime", 20.04, 23.7, "improved")])
    verdicts = pd.DataFrame(
        {"priority": ["All recorded crime", "Neighbourhood crime and ASB"], "verdict": ["improved", "mixed"]}
    )
    years = pp.plan_years(("2021/22", "2022/23", "2023/24"), "2020-03")
    th = ch.key_points(table, verdicts, verdicts, years, own, "Tower Hamlets")[-1].text
    assert th == (
        f"{own.latest:.0%} of residents said 'Treat everyone fairly' in the 12 months to December 2023, against the "
        f"plan's target of {own.target:.0%}: the target was not met."
    )
    assert own.target == pytest.approx(own.baseline + 0.05)  # the plan's five points on its baseline
    hackney = ch.key_points(table, verdicts, verdicts, years, other, "Hackney")[-1].text
    assert "against the target in Tower Hamlets's plan of" in hackney
