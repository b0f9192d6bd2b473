"""Tables as specs: a TableSpec is checked once when made, formats its cells, and publishes its CSV and HTML."""

import math

import numpy as np
import pandas as pd
import pytest

from csp_evidence.report import charts, tables
from csp_evidence.report.tables import AS_IS, P_VALUE, TableSpec, TableSpecError


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure": ["Theft", "Robbery <b>"],
            "count": [9630, 1204],
            "pct_change": [-31.36, 4.04],
            "p_value": [0.0000001, 0.25],
            "significant": [True, False],
            "rank": [3.0, float("nan")],
            "internal": ["x", "y"],
        }
    )


def spec(**changes) -> TableSpec:
    args = {
        "slug": "01-test-table",
        "data": frame(),
        "columns": {
            "measure": "Measure",
            "count": "Offences",
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "significant": "Significant",
            "rank": "Rank",
        },
        "formats": {"count": "{:,.0f}", "pct_change": "{:+.1f}%", "p_value": P_VALUE, "rank": "{:.0f}"},
        "caption": "Offences in the borough, 2019/20 against 2018/19.",
        "source": "Metropolitan Police, recorded crime",
        "period": "2018/19 to 2019/20",
    }
    return TableSpec(**(args | changes))


def cells(html: str) -> list[str]:
    return [c.split("</td>")[0] for c in html.split("<td>")[1:]]


def test_table_html_escapes_values_and_labels():  # moved with table_html from test_charts.py
    table = pd.DataFrame({"category": ["<script>alert(1)</script>", "Theft & Handling"], "count": [1, 2]})
    page = tables.table_html(table, {"count": "{:,.0f}"}, {"category": "Category <i>"}, caption="A <caption>")
    assert "<script>" not in page and "&lt;script&gt;" in page and "Theft &amp; Handling" in page
    assert "Category &lt;i&gt;" in page and "A &lt;caption&gt;" in page
    assert '<th scope="col">' in page


def test_formats_are_applied_to_each_cell_and_the_caption_ends_with_the_source():
    made = spec()
    assert cells(made.html) == [
        "Theft",
        "9,630",
        "-31.4%",
        "&lt;0.001",
        "yes",
        "3",
        "Robbery &lt;b&gt;",
        "1,204",
        "+4.0%",
        "0.250",
        "no",
        "–",
    ]
    assert (
        "<caption>Offences in the borough, 2019/20 against 2018/19. Source: Metropolitan Police, recorded crime."
        in made.html
    )
    assert '<th scope="col">Change (%)</th>' in made.html and "internal" not in made.html


def test_as_is_shows_a_number_as_python_writes_it():
    made = spec(formats={"count": "{:,.0f}", "pct_change": "{:+.1f}%", "p_value": P_VALUE, "rank": AS_IS})
    assert cells(made.html)[5] == "3.0"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"columns": {"measure": "Measure", "counts": "Offences"}}, "column 'counts' is not in the data"),
        ({"columns": {"measure": "Measure", "count": ""}}, "column 'count' has no label"),
        (
            {"formats": {"count": "{:,.0f}", "internal": "{}"}},
            "format for column 'internal', which the table does not show",
        ),
        ({"formats": {"count": "{:,.0f}", "p_value": P_VALUE, "rank": "{:.0f}"}}, "column 'pct_change' holds numbers"),
        ({"formats": {"count": "{:,.0f} of {:,.0f}"}}, "the format of column 'count'"),
        ({"formats": {"count": "{n:,.0f}"}}, "the format of column 'count'"),
        ({"formats": {"count": 3}}, "the format of column 'count' is 3"),
        ({"caption": " "}, "no caption"),
        ({"source": ""}, "no source"),
        ({"period": ""}, "no period"),
        ({"caption": "Offences. Source: the police."}, "the caption names its source"),
        ({"flag": pd.Series([True])}, "flag has 1 values for 2 rows"),
        ({"data": [1, 2]}, "the data is a list"),
        ({"columns": {}}, "no columns are shown"),
    ],
)
def test_a_spec_that_does_not_fit_its_data_names_the_table_and_what_is_wrong(changes, words):
    with pytest.raises(TableSpecError, match="^table '01-test-table': ") as raised:
        spec(**changes)
    assert words in str(raised.value)


def test_a_format_that_cannot_format_its_values_is_caught_when_the_spec_is_made():
    with pytest.raises(TableSpecError, match=r"format '\{:,.0f\}' of column 'measure' cannot format 'Theft'"):
        spec(
            formats={
                "count": "{:,.0f}",
                "pct_change": "{:+.1f}%",
                "p_value": P_VALUE,
                "rank": "{:.0f}",
                "measure": "{:,.0f}",
            }
        )
    with pytest.raises(TableSpecError, match="column 'measure' cannot format"):
        spec(
            formats={
                "count": "{:,.0f}",
                "pct_change": "{:+.1f}%",
                "p_value": P_VALUE,
                "rank": "{:.0f}",
                "measure": P_VALUE,
            }
        )


def test_a_bad_slug_is_refused():
    with pytest.raises(TableSpecError, match="slug"):
        spec(slug="01 change/../x")


def test_a_number_column_in_an_object_frame_still_needs_a_format():
    data = frame().astype(object)
    with pytest.raises(TableSpecError, match="column 'rank' holds numbers"):
        spec(data=data, formats={"count": "{:,.0f}", "pct_change": "{:+.1f}%", "p_value": P_VALUE})


def test_whole_numbers_and_text_need_no_format():
    made = spec(
        data=pd.DataFrame({"year": ["2019/20"], "count": [np.int64(12)], "small": [np.bool_(True)]}),
        columns={"year": "Year", "count": "Offences", "small": "Small"},
        formats={},
    )
    assert cells(made.html) == ["2019/20", "12", "yes"]


def test_the_spec_keeps_the_data_it_was_checked_with():
    data = frame()
    made = spec(data=data)
    data.loc[0, "pct_change"] = 99.0
    assert made.shown.loc[0, "pct_change"] == -31.36


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(tables, "display", out.append)
    return out


def test_publish_writes_the_shown_columns_as_csv_and_shows_the_table_with_a_link(tmp_path, shown):
    made = spec()
    assert made.publish(tmp_path) is None
    written = pd.read_csv(tmp_path / "tables" / "01-test-table.csv")
    assert list(written.columns) == ["measure", "count", "pct_change", "p_value", "significant", "rank"]
    assert written["pct_change"].tolist() == [-31.36, 4.04]  # unformatted
    assert math.isnan(written["rank"].iloc[1])
    assert [type(o).__name__ for o in shown] == ["HTML", "Markdown"]
    assert shown[0].data == made.html
    assert shown[1].data == "[Download this table (CSV)](tables/01-test-table.csv)"
    assert not list((tmp_path / "tables").glob("*.tmp*"))  # written atomically, nothing left beside it


def test_publish_writes_the_fuller_download_frame_when_given(tmp_path, shown):
    spec(download=frame()).publish(tmp_path)
    assert "internal" in pd.read_csv(tmp_path / "tables" / "01-test-table.csv").columns


def test_a_spec_publishes_exactly_what_the_unchecked_publish_table_did(tmp_path, shown, monkeypatch):
    made = spec(flag=pd.Series([False, True]))
    made.publish(tmp_path / "spec")
    charts.publish_table(
        made.shown, made.slug, tmp_path / "old", made.formats, made.columns, made.full_caption, made.flag
    )
    assert shown[0].data == shown[2].data and shown[1].data == shown[3].data
    assert 'class="small-number"' in shown[0].data
    spec_csv = (tmp_path / "spec" / "tables" / "01-test-table.csv").read_bytes()
    assert spec_csv == (tmp_path / "old" / "tables" / "01-test-table.csv").read_bytes()
