"""Key points: three to five short plain-English sentences per chapter, written from the numbers, each linked to
its evidence. Planted tables with hand-known answers check the wording; the rule itself is checked too."""

import dataclasses

import pandas as pd
import pytest

from csp_evidence.chapters import attitudes, audit, hate, reoffending
from csp_evidence.chapters.violence import violence_key_points
from csp_evidence.report.key_points import (
    KeyPoint,
    KeyPointError,
    key_points_html,
    problems,
    section_id,
    word_count,
)
from csp_evidence.report.priority_words import change_point, covid_point


def test_section_ids_are_the_ones_the_renderers_give_headings():
    assert section_id("The Covid-19 pandemic: observed against expected") == (
        "the-covid-19-pandemic-observed-against-expected"
    )
    assert section_id("Fair treatment and the plan's target") == "fair-treatment-and-the-plans-target"
    assert section_id("Domestic abuse, knife crime, gun crime and homicide") == (
        "domestic-abuse-knife-crime-gun-crime-and-homicide"
    )


def test_the_rule_counts_points_words_and_method_words():
    ok = [KeyPoint("Theft fell 4.6% in 2019/20.", "a")] * 3
    assert problems(ok) == []
    assert "2 key points" in problems(ok[:2])[0]
    assert "6 key points" in problems(ok * 2)[0]
    long = KeyPoint(" ".join(["word"] * 41), "a")
    assert "41 words" in problems([long, *ok])[0]
    for method in ("(p = 0.003)", "a Poisson test", "the ARIMA model", "the 95% prediction interval"):
        assert "method word" in problems([KeyPoint(f"Theft fell {method}.", "a"), *ok])[0]
    assert word_count("Theft fell 4.6% to 2,671 offences.") == 6


def test_the_block_escapes_text_and_links_each_point_to_its_section():
    page = key_points_html([KeyPoint("<b>Theft</b> fell.", "change"), *[KeyPoint("Robbery rose.", "london")] * 2])
    assert "&lt;b&gt;Theft&lt;/b&gt; fell." in page and "<b>" not in page
    assert page.count('href="#change"') == 1 and page.count('href="#london"') == 2
    assert page.index("Key points") < page.index("<ul>")
    with pytest.raises(KeyPointError, match="1 key points"):
        key_points_html([KeyPoint("Theft fell.", "a")])


def _priority_table():
    """Three measures: theft fell beyond chance and lay below its expected level; robbery rose within chance and
    lay above it (london index 150); rape is a small safeguarding count (not tested, modelled or charted)."""
    return pd.DataFrame(
        {
            "measure": ["Theft", "Robbery", "Rape"],
            "small": [False, False, True],
            "count": [900, 220, 8],
            "previous": [1000, 200, 6],
            "pct_change": [-10.0, 10.0, float("nan")],
            "significant": [True, False, False],
            "rate": [3.0, 1.5, 0.03],
            "london_rate": [4.0, 1.0, 0.02],
            "rate_rank": [20, 3, 1],
            "ranked": [32, 32, 32],
            "chartable": [True, True, False],
            "year": ["2020/21"] * 3,
            "outside": ["below", "above", None],
            "pct_difference": [-30.0, 40.0, float("nan")],
            "observed": [700, 280, float("nan")],
            "expected": [1000, 200, float("nan")],
        }
    )


def _periods(outside_first: str, outside_second: str):
    return pd.DataFrame(
        {
            "area": ["Borough"] * 2,
            "measure": ["Domestic abuse"] * 2,
            "period": ["First lockdown", "Second and third lockdowns"],
            "observed": [1235, 1500],
            "expected": [1268, 1300],
            "outside": [outside_first, outside_second],
        }
    )


def test_violence_key_points_from_a_planted_table():
    special = pd.DataFrame(
        {"measure": ["Knife crime"], "small": [False], "pct_change": [-5.4], "significant": [False], "count": [629]}
    )
    table = _priority_table().replace({"Theft": "Violence against the person"})
    points = violence_key_points(table, special, _periods("within", "above"), "Borough", "2019/20", "2019/20")
    texts = [p.text for p in points]
    assert texts[0] == (
        "Recorded domestic abuse rose above the level expected without the pandemic in the second and third "
        "lockdowns: 1,500 offences in the second and third lockdowns against 1,300 expected."
    )
    assert texts[1] == (
        "Violence against the person fell 10.0% in 2019/20, to 900 offences: more than normal year-to-year variation."
    )
    assert texts[2] == (
        "In 2019/20 Borough had a higher rate than London on 1 of 2 violence measures, furthest above on robbery "
        "(50% higher)."
    )
    assert texts[3] == (
        "In 2020/21, the first pandemic year, 1 of 2 violence measures were below the level expected without the "
        "pandemic and 1 above it; furthest above: robbery, 280 against 200 expected."
    )
    assert texts[4] == "Knife crime fell 5.4% in 2019/20, to 629 offences: within normal year-to-year variation."
    assert [p.anchor for p in points] == [
        "domestic-abuse-during-the-lockdowns",
        "change-on-the-previous-year",
        "london-comparison",
        "the-covid-19-pandemic-observed-against-expected",
        "domestic-abuse-knife-crime-gun-crime-and-homicide",
    ]
    calm = violence_key_points(table, special, _periods("within", "below"), "Borough", "2019/20", "2019/20")
    assert calm[0].text.startswith("Recorded domestic abuse did not rise above the level expected")
    assert "1,235 offences in the first lockdown against 1,268 expected" in calm[0].text


def test_no_change_beyond_chance_and_no_measure_above_expected_are_said_plainly():
    table = _priority_table()
    table["significant"] = False
    table["outside"] = ["below", "within", None]
    assert change_point(table, "2019/20", "measures").text == (
        "None of the 2 measures changed by more than normal year-to-year variation in 2019/20."
    )
    assert covid_point(table, "measures").text == (
        "In 2020/21, the first pandemic year, 1 of 2 measures were below the level expected without the pandemic "
        "and none above it."
    )


def test_hate_key_points_from_planted_strands():
    by_year = pd.DataFrame(
        {
            "strand": ["Racist and religious hate crime", "Islamophobic hate crime", "Disability hate crime"],
            "financial_year": ["2019/20"] * 3,
            "count": [767, 40, 5],
            "previous": [792, 60, 4],
            "pct_change": [-3.2, -33.3, float("nan")],
            "significant": [False, True, False],
            "rate": [2.51, 0.13, float("nan")],
            "london_rate": [2.11, 0.15, float("nan")],
            "rate_rank": [5, 12, float("nan")],
            "ranked": [32, 32, float("nan")],
            "small": [False, False, True],
        }
    )
    summer = pd.Series({"observed": 302, "expected": 259, "outside": "within"})
    texts = [p.text for p in hate.key_points(by_year, "Borough", "2019/20", summer)]
    assert texts == [
        "In 2019/20 Borough had a higher rate than London on 1 of 2 hate crime strands; racist and religious hate "
        "crime was 2.51 per 1,000 residents against London's 2.11.",
        "Racist and religious hate crime fell 3.2% in 2019/20, to 767 offences: within normal year-to-year variation.",
        "Other strands that changed by more than normal variation in 2019/20: Islamophobic fell 33.3%.",
        "In summer 2020, as the first lockdown eased, racist and religious hate crime stayed within the range "
        "expected without the pandemic: 302 offences against 259 expected.",
    ]
    assert "too small a count" in hate.key_points(by_year, "Borough", "2019/20", None)[-1].text


def test_confidence_key_points_from_planted_measures():
    q, before = pd.Timestamp("2023-12-31"), pd.Timestamp("2022-12-31")
    latest = pd.DataFrame(
        {
            "measure": ["Trust MPS", "Treat everyone fairly", "Relied on to be there"],
            "quarter_end": [q] * 3,
            "year_before_quarter": [before] * 3,
            "gap_pp": [-2.0, -6.0, 3.0],
            "change_pp": [-7.0, 1.0, 0.0],
            "significant": [True, False, False],
        }
    )
    progress = attitudes.TargetProgress(
        "Borough", "Treat everyone fairly", pd.Timestamp("2021-03-31"), 0.70, 0.75, pd.Timestamp("2024-03-31"), q,
        0.64, 0.74, -6.0, -12.0, 0.0, 0.01, "below baseline",
    )  # fmt: skip
    texts = [p.text for p in attitudes.key_points(latest, progress, "Tower Hamlets")]
    assert texts == [
        "In the 12 months to December 2023 Tower Hamlets was below London on 2 of 3 confidence measures, furthest on "
        "'Treat everyone fairly' (-6 points).",
        "64% of residents agree 'Treat everyone fairly', against 70% in March 2021 (down 6 points, beyond normal "
        "survey variation) and the plan's target of 75%: below where the plan started.",
        "Against a year earlier, 'Trust MPS' fell 7 points; the other measures moved within normal survey variation.",
    ]
    # another borough is measured against the target the Tower Hamlets plan set; a fall within chance says so
    within = dataclasses.replace(progress, p_value=0.071)
    hackney = attitudes.key_points(latest, within, "Hackney")[1].text
    assert "(down 6 points, within normal survey variation) and the target in Tower Hamlets's plan of 75%" in hackney
    overlapping = dataclasses.replace(progress, p_value=float("nan"))  # quarters too close to test
    assert "(down 6 points) and" in attitudes.key_points(latest, overlapping, "Tower Hamlets")[1].text


def test_audit_key_points_count_the_verdicts_and_name_those_that_differ():
    table = pd.DataFrame(
        {
            "figure": ["Total offences", "Rank", "Change in violence", "Knife injuries", "Population"],
            "plan_value": [34000, 7, -3.0, 12.0, float("nan")],
            "recomputed": [34693, 7, 5.0, float("nan"), 331000],
            "verdict": ["within revision", "matches", "differs", "cannot be checked: not open", "no plan value"],
        }
    )
    texts = [p.text for p in audit.key_points(table, "Borough")]
    assert texts == [
        "Of the 4 figures the CSP plan quotes, the open data can check 3: 1 matches and 1 is within the revisions "
        "between data extracts.",
        "1 of the plan's figures differs from the open data: the change in violence.",
        "1 figure cannot be checked, because the data behind it is not published as open data.",
    ]
    more = pd.concat([table] * 3, ignore_index=True)  # 3 of each verdict: plural words, "among them" past two
    texts = [p.text for p in audit.key_points(more, "Borough")]
    assert texts[0] == (
        "Of the 12 figures the CSP plan quotes, the open data can check 9: 3 match and 3 are within the revisions "
        "between data extracts."
    )
    assert texts[1] == (
        "3 of the plan's figures differ from the open data, among them the change in violence and the change in "
        "violence."
    )
    assert texts[2] == "3 figures cannot be checked, because the data behind them is not published as open data."
    none = audit.key_points(table.assign(plan_value=float("nan")), "Borough")
    assert none[0].text == "No CSP plan table is held for Borough, so no plan figure is checked here."
    assert none[1].text.startswith("4 of the 5 figures the audit knows are recomputed")


def test_reoffending_key_points_say_reoffending_from_the_borough_or_london():
    trends = pd.DataFrame(
        {
            "direction": ["falling", "rising"],
            "pct_change_per_year": [-11.2, 10.6],
            "months": [24, 24],
            "end": [pd.Timestamp("2024-01-01")] * 2,
        },
        index=["Drug offences", "Acquisitive crime"],
    )
    by_year = pd.DataFrame(
        {
            "group": ["Drug offences"],
            "financial_year": ["2019/20"],
            "count": [2476],
            "rate": [8.12],
            "london_rate": [5.61],
        }
    )
    lockdown = {"month": "2020-04", "pct_change": 31.9}
    london = pd.Series([0.3107, 0.2718, 0.2242], index=[2013, 2019, 2023])
    texts = [p.text for p in reoffending.key_points(trends, by_year, "Borough", "2019/20", lockdown, None, london)]
    assert texts[1] == (
        "No reoffending figures for Borough are held here; across London reoffending fell from 31% in 2013 to 22% in "
        "2023 (GLA figures, a secondary source)."
    )
    assert (
        len(texts) == 5
        and texts[0]
        == "Recorded drug offences in Borough were falling by about 11% a year over the 24 months to January 2024."
    )
    rates = pd.DataFrame(
        {
            "cohort_start": [pd.Timestamp("2020-04-01")] * 2,
            "cohort": ["Apr 2020 to Mar 2021"] * 2,
            "age_group": ["Adult", "Juvenile"],
            "rate": [0.26, 0.31],
        }
    )
    own = reoffending.key_points(trends, by_year, "Borough", "2019/20", lockdown, rates, london)
    assert own[1].text == (
        "Proven reoffending within a year, latest cohort (Apr 2020 to Mar 2021): 26% of adult offenders and 31% of "
        "juvenile offenders."
    )
    assert own[1].anchor == "proven-reoffending"
