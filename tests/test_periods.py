import pandas as pd
import pytest

from csp_evidence.core.periods import (
    COVID_PERIODS,
    covid_period,
    financial_year,
    financial_year_months,
    financial_years,
    next_financial_year,
    parse_financial_year,
    previous_financial_year,
)


@pytest.mark.parametrize(
    "month, label",
    [
        ("2019-04-01", "2019/20"),
        ("2020-03-01", "2019/20"),
        ("2020-01-15", "2019/20"),
        ("1999-04-01", "1999/00"),
        ("2009-12-01", "2009/10"),
    ],
)
def test_financial_year_runs_april_to_march(month, label):
    assert financial_year(month) == label


def test_vectorised_financial_years_match_scalar():
    months = pd.date_range("2018-01-01", "2021-12-01", freq="MS")
    assert list(financial_years(months)) == [financial_year(m) for m in months]


def test_financial_year_months_and_previous():
    months = financial_year_months("2019/20")
    assert months[0] == pd.Timestamp("2019-04-01") and months[-1] == pd.Timestamp("2020-03-01") and len(months) == 12
    assert previous_financial_year("2000/01") == "1999/00"
    assert (
        next_financial_year("1999/00") == "2000/01"
        and next_financial_year(previous_financial_year("2019/20")) == "2019/20"
    )


@pytest.mark.parametrize("bad", ["2019-20", "2019/21", "19/20", "2019/2020", ""])
def test_malformed_financial_year_is_named(bad):
    with pytest.raises(ValueError, match="YYYY/YY"):
        parse_financial_year(bad)


def test_covid_periods():
    first, *_, last = COVID_PERIODS
    assert first.name == "First lockdown" and first.start <= pd.Timestamp("2020-04-01") <= first.end
    assert last.end < pd.Timestamp("2022-04-01")


def test_covid_period_names_the_restrictions_a_month_falls_in():
    assert covid_period("2020-04-01") == "First lockdown"
    assert covid_period("2021-01-01") == "Second and third lockdowns"
    assert covid_period("2019-12-01") is None
