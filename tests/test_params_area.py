"""Params naming an area (any CSP of England and Wales), its comparison group and police.uk periods."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from csp_evidence.core.params import ParamsError, load_params
from csp_evidence.core.periods import period_months, period_title, previous_period


def _write(tmp_path, text, name="run.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_periods_of_police_uk_areas():
    assert list(period_months("2025")) == list(pd.date_range("2025-01-01", "2025-12-01", freq="MS"))
    twelve = period_months("12 months to 2025-06")
    assert twelve[0] == pd.Timestamp("2024-07-01") and twelve[-1] == pd.Timestamp("2025-06-01") and len(twelve) == 12
    assert period_months("2024/25")[0] == pd.Timestamp("2024-04-01")
    assert previous_period("12 months to 2025-12") == "12 months to 2024-12"
    assert previous_period("2025") == "2024" and previous_period("2024/25") == "2023/24"
    assert period_title("12 months to 2025-12") == "the 12 months to December 2025"
    for bad in ("2025-12", "12 months to 2025-13", "2024/26", "last year"):
        with pytest.raises(ValueError, match="is not (a financial year .2024/25., a calendar year|of the form)"):
            period_months(bad)


def test_an_area_with_a_headline_period(tmp_path):
    path = _write(
        tmp_path,
        """\
        area: City of London
        headline_period: "12 months to 2025-12"
        periods: ["12 months to 2025-12", "12 months to 2024-12"]
        comparison: region
        """,
        "city.yml",
    )
    params = load_params(path)
    assert params.area == "City of London" and params.borough == "" and params.comparison == "region"
    assert params.periods == ("12 months to 2024-12", "12 months to 2025-12")  # in time order
    assert params.headline_year == "" and params.financial_years == ()
    assert params.display_title == "City of London Community Safety Partnership"
    injected = params.notebook_parameters()
    assert injected["area"] == "City of London" and injected["headline_period"] == "12 months to 2025-12"


def test_a_borough_injects_what_it_did_before(tmp_path):
    """A borough's params without the new fields give the notebooks exactly the parameters they had before."""
    path = _write(
        tmp_path,
        """\
        borough: Hackney
        headline_year: "2019/20"
        financial_years: ["2018/19", "2019/20"]
        """,
    )
    injected = load_params(path).notebook_parameters()
    assert set(injected) == {
        "borough",
        "headline_year",
        "financial_years",
        "covid_start",
        "small_number_threshold",
        "title",
        "latest_series",
        "run_name",
    }


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("area: Hackney\nborough: Hackney\nheadline_period: '2025'\n", "give 'area' or 'borough', not both"),
        ("area: Hackney\ncomparison: county\nheadline_period: '2025'\n", "'comparison' must be one of force, region"),
        ("area: Hackney\nheadline_period: '2025-12'\n", "headline_period: period '2025-12' is not"),
        ("area: Hackney\n", "missing required parameter.s. headline_year, financial_years"),
        ("area: ''\nheadline_period: '2025'\n", "parameter 'area' is empty"),
        ("area: Hackney\nheadline_period: '2025'\nperiods: ['2024']\n", "headline_period '2025' must be one of"),
        ("area: Hackney\nheadline_period: '2025'\nperiods: ['2024', '2024']\n", "lists 2024 more than once"),
    ],
)
def test_bad_area_params_are_named(tmp_path, text, match):
    with pytest.raises(ParamsError, match=match):
        load_params(_write(tmp_path, text))


@pytest.mark.realdata
def test_the_area_and_comparison_resolved_against_the_lookups(tmp_path, fetched):
    from csp_evidence.data.geography import params_area

    city = load_params(_write(tmp_path, "area: City of London\nheadline_period: '2025'\n", "city.yml"))
    area, group = params_area(city)
    assert area.name == "City of London" and group.kind == "region" and group.name == "London"
    hackney = load_params(
        _write(tmp_path, "borough: Hackney\nheadline_year: '2019/20'\nfinancial_years: ['2019/20']\n", "h.yml")
    )
    assert params_area(hackney)[1].kind == "london"
    kent = load_params(_write(tmp_path, "area: E22000352\nheadline_period: '2025'\ncomparison: london\n", "k.yml"))
    with pytest.raises(ValueError, match="'comparison' 'london' is not a group .* belongs to; its groups: force"):
        params_area(kent)
    wrong = load_params(_write(tmp_path, "area: Tower Hamlet\nheadline_period: '2025'\n", "w.yml"))
    with pytest.raises(ValueError, match="params 'w': parameter 'area': unknown area 'Tower Hamlet'"):
        params_area(wrong)
    # Bournemouth's LSOAs cannot be told from Poole's with the lookups held: refused, never counted short
    bournemouth = load_params(_write(tmp_path, "area: Bournemouth\nheadline_period: '2025'\n", "b.yml"))
    with pytest.raises(ValueError, match="cannot say which of that authority's CSPs .* so its figures cannot be"):
        params_area(bournemouth)
