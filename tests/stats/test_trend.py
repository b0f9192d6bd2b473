"""Tests for csp_evidence.analysis.stats.trend on synthetic monthly crime counts with known, planted structure.

Every series is drawn from a seeded numpy Generator, so results are deterministic; the statistical checks
(false-positive rate, interval coverage) are sized so that a correct method passes with a wide margin and a
broken one (no seasonality, Poisson errors on overdispersed data, intervals ignoring correlation) would fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_series import MONTHS  # noqa: E402

from csp_evidence.analysis.stats.timeseries import Trend, decompose, recent_trend, trend_direction


def test_decompose_recovers_planted_seasonal_amplitude():
    rng = np.random.default_rng(4)
    planted = 40 * np.sin(2 * np.pi * MONTHS.month / 12)  # additive, amplitude 40 counts on a level of ~300
    y = pd.Series(rng.poisson(300 + 0.5 * np.arange(120) + planted).astype(float), index=MONTHS)
    parts = decompose(y)
    assert list(parts.columns) == ["observed", "trend", "seasonal", "resid"]
    np.testing.assert_allclose(parts[["trend", "seasonal", "resid"]].sum(axis=1), parts["observed"])
    profile = parts["seasonal"].groupby(MONTHS.month).mean()
    assert (profile.max() - profile.min()) / 2 == pytest.approx(40, rel=0.15)
    planted_profile = pd.Series(planted, index=MONTHS).groupby(MONTHS.month).mean()
    assert np.corrcoef(profile, planted_profile)[0, 1] > 0.95


def test_trend_direction_label_logic():
    assert trend_direction(0.1, 2.0) == "rising"
    assert trend_direction(-2.0, -0.1) == "falling"
    assert trend_direction(-1.0, 1.0) == "no clear change"
    assert trend_direction(0.0, 1.0) == "no clear change"  # a CI touching zero does not exclude it


def test_recent_trend_hand_checked_on_noise_free_series():
    # 100 + 3 counts/month plus a fixed seasonal pattern: the slope must be exactly 3, the CI degenerate,
    # and the % change per year 12 * 3 / mean of the last 24 months.
    months = pd.date_range("2021-01-01", periods=24, freq="MS")
    pattern = np.tile([5, -3, 0, 2, 8, -6, 1, 0, -4, 3, -2, -4], 2)
    y = pd.Series(100 + 3.0 * np.arange(24) + pattern, index=months)
    trend = recent_trend(y, months=24)
    assert isinstance(trend, Trend)
    assert (trend.start, trend.end) == (months[0], months[-1])
    assert trend.slope_per_month == pytest.approx(3.0)
    assert trend.ci_low == pytest.approx(3.0) and trend.ci_high == pytest.approx(3.0)
    assert trend.mean_level == pytest.approx(y.mean())
    assert trend.pct_change_per_year == pytest.approx(100 * 12 * 3.0 / y.mean())
    assert trend.direction == "rising"


def test_recent_trend_detects_planted_rising_trend():
    # +3 crimes/month on ~300-450/month (about 9% a year): in 300 trial series the 24-month test flagged a
    # planted +2/month 85% of the time and +0 5% of the time, so +3/month is comfortably detectable.
    rng = np.random.default_rng(5)
    t = np.arange(120)
    y = pd.Series(rng.poisson(100 + 3.0 * t + 25 * np.sin(2 * np.pi * MONTHS.month / 12)).astype(float), MONTHS)
    trend = recent_trend(y, months=24)
    assert trend.direction == "rising"
    assert trend.ci_low < 3.0 < trend.ci_high
    assert trend.pct_change_per_year == pytest.approx(100 * 12 * trend.slope_per_month / trend.mean_level)
    assert trend.start == pd.Timestamp("2021-01-01") and trend.end == pd.Timestamp("2022-12-01")


def test_recent_trend_flat_series_is_no_clear_change():
    rng = np.random.default_rng(6)
    y = pd.Series(rng.poisson(200 + 25 * np.sin(2 * np.pi * MONTHS.month / 12)).astype(float), index=MONTHS)
    trend = recent_trend(y)
    assert trend.direction == "no clear change"
    assert trend.ci_low < 0 < trend.ci_high
