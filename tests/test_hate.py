"""Tests for the hate crime chapter's functions: the proxy measure, the sentences, the missing-strand note."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from csp_evidence.chapters import hate


def test_missing_strands_note_names_the_file_and_the_proxy():
    note = hate.missing_strands_note()
    assert "MPS_MonthlyCrimeDashboard_OtherCrimeData.csv" in note
    assert hate.DASHBOARD_PAGE in note
    for strand in ("racist", "faith", "antisemitic", "islamophobic", "homophobic", "disability", "transgender"):
        assert strand in note
    assert "proxy" in note


def _table():
    return pd.DataFrame(
        {
            "financial_year": ["2018/19", "2019/20", "2020/21"],
            "count": [400, 398, 501],
            "previous": [math.nan, 400, 398],
            "pct_change": [math.nan, -0.5, 25.88],
            "p_value": [math.nan, 0.97, 0.0003],
            "significant": [False, False, True],
            "signal": [False, False, True],
            "rate": [1.31, 1.30, 1.63],
            "london_rate": [1.20, 1.18, 1.25],
            "rank": [8, 9, 4],
            "ranked": [32, 32, 32],
        }
    )


def test_year_sentence():
    text = hate.year_sentence(_table(), "Tower Hamlets", "2019/20")
    assert "fell by 0.5% from 400 in 2018/19 to 398 in 2019/20" in text
    assert "within what chance alone could produce" in text
    assert "1.30 offences per 1,000 residents against 1.18 for London" in text
    assert "9th highest of 32" in text


def test_trend_sentence_names_the_signals():
    text = hate.trend_sentence(_table())
    assert "from 400 to 501 (+25.2%)" in text
    assert "2020/21 (+25.9%)" in text


def test_plan_sentence():
    row = {"plan_value": -1.4, "recomputed": -0.5, "period": "2019/20 on 2018/19", "plan_section": "Borough profile"}
    text = hate.plan_sentence(row)
    assert "fell by 1.4%" in text and "-0.5%" in text and "cannot be checked" in text
    assert hate.plan_sentence({**row, "plan_value": math.nan}) == ""


@pytest.mark.realdata
def test_by_year_on_the_real_data(crime):
    table = hate.by_year(crime, "Tower Hamlets", ["2018/19", "2019/20", "2020/21"]).set_index("financial_year")
    assert table.loc["2019/20", "count"] == 398
    assert table.loc["2020/21", "count"] == 501
    rates = hate.london(crime, "2019/20")
    assert len(rates) == 32 and rates.loc["Tower Hamlets", "count"] == 398
