"""The chapters' table specs: the labels, formats and captions a priority table and the ASB sections publish with."""

import pandas as pd
import pytest

from csp_evidence.chapters import asb, hate, plan_period, reoffending
from csp_evidence.report.priority_tables import change_spec
from csp_evidence.report.tables import P_VALUE


def priority_rows() -> pd.DataFrame:
    """Two measures as priority_table gives them (the columns change_columns reads), one under the threshold."""
    return pd.DataFrame(
        {
            "measure": ["Theft", "Homicide"],
            "year": ["2020/21", "2020/21"],
            "previous": [10_000, 4],
            "count": [9_630, 3],
            "pct_change": [-3.7, -25.0],
            "p_value": [0.008, 0.7],
            "signal": ["none", "none"],
            "pandemic_count": [6_589, 2],
            "pandemic_pct_change": [-31.6, -33.3],
            "pandemic_p_value": [0.0001, 0.9],
            "pandemic_signal": ["fall", "none"],
            "small": [False, True],
        }
    )


def test_the_change_table_is_labelled_by_year_and_blanks_the_tests_of_small_measures():
    made = change_spec(
        priority_rows(),
        "04-change",
        "Violence measures",
        "Hackney",
        "2019/20",
        "MPS",
        note="Italics: small.",
        flag=True,
    )
    assert list(made.columns.values())[1:3] == ["2018/19", "2019/20"] and made.columns["pandemic_count"] == "2020/21"
    assert made.formats["p_value"] == P_VALUE
    assert made.full_caption == (
        "Violence measures in Hackney: 2019/20 and 2020/21, each against the year before (exact Poisson test of the "
        "rate ratio; Poisson Z-score signal). Italics: small. Source: MPS."
    )
    assert made.flag is not None and made.flag.tolist() == [False, True]
    assert "<td>-3.7%</td><td>0.008</td>" in made.html and "<td>-31.6%</td><td>&lt;0.001</td>" in made.html
    small_row = made.html.split('<tr class="small-number"')[1]
    assert small_row.count("<td>–</td>") == 6  # the small measure's counts only, no change, test or signal


def test_without_a_note_or_flag_the_caption_and_rows_are_plain():
    made = change_spec(priority_rows(), "01-change", "Neighbourhood crime measures", "Hackney", "2019/20", "MPS")
    assert made.flag is None and "small-number" not in made.html
    assert made.full_caption.endswith("Z-score signal). Source: MPS.")


@pytest.mark.parametrize("spec", [asb.years_spec, asb.shift_spec])
def test_the_borough_asb_tables_are_left_out_without_the_police_uk_files(spec):
    section = asb.AsbSection(available=False, text="No borough-level ASB source is provided.")
    assert spec(section, "police.uk") is None


def test_proven_reoffending_rows_under_the_threshold_are_in_italics_and_shares_show_as_percentages():
    rates = pd.DataFrame(
        {
            "age_group": ["Adult", "Juvenile"],
            "cohort": ["Apr 2019 to Mar 2020", "Apr 2019 to Mar 2020"],
            "offenders": [1_200, 40],
            "reoffenders": [300, 9],
            "rate": [0.25, 0.225],
            "ci_low": [0.2262, 0.1232],
            "ci_high": [0.2755, 0.3753],
            "change_pp": [-1.5, float("nan")],
            "p_value": [0.0004, float("nan")],
            "per_reoffender": [3.1, 2.0],
        }
    )
    made = reoffending.proven_spec(rates, "Hackney", 10, "MoJ")
    assert made.flag is not None and made.flag.tolist() == [False, True]  # 9 reoffenders is under 10
    assert "<td>25.0%</td><td>22.6%</td><td>27.6%</td><td>-1.5</td><td>&lt;0.001</td>" in made.html
    assert made.full_caption.endswith("Rows in italics have fewer than 10 reoffenders. Source: MoJ.")
    assert reoffending.covid_cohorts_spec(None, "Hackney", "MoJ") is None
    assert reoffending.covid_cohorts_spec(pd.DataFrame(), "Hackney", "MoJ") is None


def test_the_hate_strand_table_is_labelled_by_its_year_and_cites_the_population_estimates():
    strands = pd.DataFrame(
        {
            "strand": ["Racist and religious hate crime", "Transgender hate crime"],
            "previous": [900, 4],
            "count": [990, 6],
            "pct_change": [10.0, float("nan")],
            "p_value": [0.034, float("nan")],
            "signal": [False, None],
            "rate": [3.056, float("nan")],
            "london_rate": [2.0011, float("nan")],
            "rate_rank": [3.0, float("nan")],
            "small": [False, True],
        }
    )
    made = hate.strands_spec(strands, "Hackney", "2020/21", 10, "MPS")
    assert list(made.columns.values())[1:3] == ["2019/20", "2020/21"]
    assert "<td>+10.0%</td><td>0.034</td><td>no</td><td>3.056</td><td>2.001</td><td>3</td>" in made.html
    assert made.full_caption.endswith("Source: MPS; ONS mid-year population estimates.")
    assert made.flag is not None and made.flag.tolist() == [False, True]


def test_the_revisions_table_keeps_the_columns_it_is_given_in_their_order():
    revisions = pd.DataFrame(
        {
            "month": pd.to_datetime(["2024-11-01", "2024-12-01"]),
            "earlier": [2_000, 2_100],
            "latest": [2_050, 2_180],
            "revision": [50, 80],
            "pct_revision": [2.5, 3.81],
        }
    )
    name, ids = plan_period.SERIES["connect"]
    series = plan_period.Series("connect", name, pd.DataFrame({"month": revisions["month"]}), tuple(ids))
    made = plan_period.revisions_spec(revisions, "Hackney", series)
    assert list(made.columns) == ["month", "earlier", "latest", "revision", "pct_revision"]
    assert "<td>November 2024</td><td>2,000</td><td>2,050</td><td>+50</td><td>+2.5%</td>" in made.html
    assert made.period == "November 2024 to December 2024"
    assert plan_period.revisions_spec(None, "Hackney", series) is None
