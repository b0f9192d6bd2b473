"""The chapters' table specs: the labels, formats and captions a priority table and the ASB sections publish with."""

import pandas as pd
import pytest

from csp_evidence.chapters import asb
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
