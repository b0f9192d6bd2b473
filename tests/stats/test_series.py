"""Tests for csp_evidence.analysis.stats.series (monthly series validation), and the argument errors every model gives on synthetic monthly crime counts with known, planted structure.

Every series is drawn from a seeded numpy Generator, so results are deterministic; the statistical checks
(false-positive rate, interval coverage) are sized so that a correct method passes with a wide margin and a
broken one (no seasonality, Poisson errors on overdispersed data, intervals ignoring correlation) would fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_series import FAST_ORDERS, MONTHS, draw, monthly_mean  # noqa: E402

from csp_evidence.analysis.stats.timeseries import (
    check_monthly,
    covid_counterfactual,
    decompose,
    interrupted_time_series,
    recent_trend,
)


def test_check_monthly_accepts_valid_series_and_sets_month_start_frequency():
    y = check_monthly(draw(np.random.default_rng(0), monthly_mean()))
    assert y.index.freqstr == "MS" and len(y) == 120


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (pd.Series(1.0, index=pd.date_range("2020-01-01", periods=60, freq="D")), "month starts"),
        (pd.Series(1.0, index=pd.date_range("2020-01-31", periods=60, freq="ME")), "month starts"),
        (pd.Series(1.0, index=MONTHS.delete(40)), r"contiguous months; 1 missing month\(s\).*2016-05"),
        (pd.Series(1.0, index=range(120)), "DatetimeIndex"),
        (pd.Series(-1.0, index=MONTHS), "counts >= 0"),
        (pd.Series(np.nan, index=MONTHS), "missing or non-numeric"),
        (pd.Series(1.0, index=MONTHS.append(MONTHS[:1])), "duplicate months"),
    ],
)
def test_invalid_series_raise_value_error_naming_the_problem(series, message):
    for func in (decompose, recent_trend, covid_counterfactual, interrupted_time_series):
        with pytest.raises(ValueError, match=message):
            func(series)


def test_argument_errors_name_the_argument():
    y = draw(np.random.default_rng(3), monthly_mean())
    with pytest.raises(ValueError, match="family must be 'negbin' or 'poisson'"):
        interrupted_time_series(y, family="gaussian")
    with pytest.raises(ValueError, match="months must be at least 24"):
        recent_trend(y, months=12)
    with pytest.raises(ValueError, match="start must be a month start"):
        covid_counterfactual(y, start="2020-03-23")
    with pytest.raises(ValueError, match="orders must all share the same d and D"):
        covid_counterfactual(y, orders=[((0, 0, 0), (0, 1, 1)), ((0, 1, 0), (0, 1, 1))])
    with pytest.raises(ValueError, match=r"financial_years: 2022/23 .* not wholly inside"):
        covid_counterfactual(y, orders=FAST_ORDERS[:1], n_sims=200, financial_years=["2022/23"])
