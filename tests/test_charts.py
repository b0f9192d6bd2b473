"""The house style: charts and tables written with the data behind them, and text from data escaped."""

import pandas as pd
import pytest

from csp_evidence.report import charts
from csp_evidence.report.words import change_sentence, md, ordinal, rank_sentence


def test_table_html_escapes_values_and_labels():
    table = pd.DataFrame({"category": ["<script>alert(1)</script>", "Theft & Handling"], "count": [1, 2]})
    page = charts.table_html(table, {"count": "{:,.0f}"}, {"category": "Category <i>"}, caption="A <caption>")
    assert "<script>" not in page and "&lt;script&gt;" in page and "Theft &amp; Handling" in page
    assert "Category &lt;i&gt;" in page and "A &lt;caption&gt;" in page
    assert '<th scope="col">' in page


def test_markdown_escaping_of_data_text():
    assert md("Hackney [x](javascript:1) *bold* <b>") == r"Hackney \[x\]\(javascript:1\) \*bold\* \<b\>"
    assert "\\<img" in rank_sentence("<img src=x>", 10, 1, 32, "2019/20")
    assert "\\*" in change_sentence("Drugs*", 10, 5, 100.0, True, 0.01, "2019/20", "2018/19")
    assert md("- not a list\n# nor a heading") == "\\- not a list \\# nor a heading"
    assert md("1. Borough") == "1\\. Borough"


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]


def test_publish_chart_writes_png_and_csv(tmp_path):
    months = pd.date_range("2019-01-01", periods=30, freq="MS")
    data = pd.DataFrame({"Offences": range(30), "lower": range(30), "upper": range(1, 31)}, index=months)
    fig = charts.monthly_chart(data, "A title", "A subtitle", "Offences per month", "A source", band=("lower", "upper"))
    charts.publish_chart(fig, data, "00-test", tmp_path)
    assert (tmp_path / "figures" / "00-test.png").read_bytes()[:4] == b"\x89PNG"
    assert pd.read_csv(tmp_path / "tables" / "00-test.csv", index_col=0).shape == (30, 3)


def test_annual_chart_marks_a_break_and_refuses_unknown_years(tmp_path):
    data = pd.DataFrame({"Incidents": [5, 6, 7]}, index=["2010/11", "2011/12", "2012/13"])
    fig = charts.annual_chart(data, "T", "S", "Incidents", "Src", break_before="2011/12", break_label="New basis")
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["New basis"]
    assert fig.axes[0].get_lines()[0].get_xdata()[0] == 0.5
    charts.publish_chart(fig, data, "00-annual", tmp_path)
    with pytest.raises(ValueError, match=r"break_before '2020/21' is not among the years"):
        charts.annual_chart(data, "T", "S", "Incidents", "Src", break_before="2020/21")
    with pytest.raises(ValueError, match="a bar chart takes one series"):
        charts.annual_chart(data.assign(Other=1), "T", "S", "Incidents", "Src")
