"""Tests for csp_evidence.analysis.stats.timeseries on synthetic monthly crime counts with known, planted structure.

Every series is drawn from a seeded numpy Generator, so results are deterministic; the statistical checks
(false-positive rate, interval coverage) are sized so that a correct method passes with a wide margin and a
broken one (no seasonality, Poisson errors on overdispersed data, intervals ignoring correlation) would fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csp_evidence.analysis.stats.timeseries import (
    Counterfactual,
    ITSResult,
    Trend,
    check_monthly,
    counterfactual_for_months,
    covid_counterfactual,
    decompose,
    interrupted_time_series,
    period_summary,
    recent_trend,
    trend_direction,
)
from csp_evidence.core.periods import COVID_PERIODS

MONTHS = pd.date_range("2013-01-01", "2022-12-01", freq="MS")
COVID_START = pd.Timestamp("2020-03-01")
FAST_ORDERS = [((0, 0, 0), (0, 1, 1)), ((1, 0, 0), (0, 1, 1))]


def monthly_mean(base: float = 200.0, growth: float = 0.002, amplitude: float = 0.15, step: float = 1.0) -> np.ndarray:
    """Expected counts: log-linear trend (growth per month), sinusoidal seasonality, multiplicative step at 2020-03."""
    t = np.arange(len(MONTHS))
    seasonal = 1 + amplitude * np.sin(2 * np.pi * MONTHS.month / 12)
    return base * np.exp(growth * t) * seasonal * np.where(MONTHS >= COVID_START, step, 1.0)


def draw(rng: np.random.Generator, mean: np.ndarray, alpha: float = 0.0) -> pd.Series:
    """Poisson counts, or negative binomial (NB2, variance mean + alpha*mean^2) via a gamma-Poisson mixture."""
    rate = mean * rng.gamma(1 / alpha, alpha, len(mean)) if alpha > 0 else mean
    return pd.Series(rng.poisson(rate).astype(float), index=MONTHS, name="crimes")


# --------------------------------------------------------------------------- input validation


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


def test_counterfactual_needs_enough_pre_period_months():
    short = draw(np.random.default_rng(1), monthly_mean())["2018-05-01":]
    with pytest.raises(ValueError, match=r"at least 60 pre-period months before 2020-03.*got 22 \(2018-05..2020-02\)"):
        covid_counterfactual(short, pre_years=5)


def test_its_needs_enough_pre_period_months():
    short = draw(np.random.default_rng(2), monthly_mean())["2019-01-01":]
    with pytest.raises(ValueError, match=r"at least 24 pre-period months before 2020-03, got 14"):
        interrupted_time_series(short)


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


# --------------------------------------------------------------------------- decomposition and recent trend


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


# --------------------------------------------------------------------------- Covid counterfactual


@pytest.fixture(scope="module")
def stepped_counterfactual() -> Counterfactual:
    """Overdispersed series with a planted +30% step from 2020-03, through the default AIC grid."""
    y = draw(np.random.default_rng(7), monthly_mean(step=1.3), alpha=0.005)
    return covid_counterfactual(y)


def test_counterfactual_structure(stepped_counterfactual):
    cf = stepped_counterfactual
    assert list(cf.monthly.columns) == ["observed", "expected", "lower", "upper", "outside", "ratio"]
    assert cf.monthly.index[0] == COVID_START and cf.monthly.index[-1] == pd.Timestamp("2022-12-01")
    assert (cf.monthly["lower"] <= cf.monthly["expected"]).all()
    assert (cf.monthly["expected"] <= cf.monthly["upper"]).all()
    assert cf.simulated.shape == (34, 2000)
    assert (cf.fit_start, cf.fit_end) == (pd.Timestamp("2015-03-01"), pd.Timestamp("2020-02-01"))
    assert cf.model.startswith("SARIMA(") and "fitted 2015-03..2020-02, chosen by AIC among 8 candidates" in cf.model
    assert cf.candidates["chosen"].sum() == 1
    expected_periods = [p.name for p in COVID_PERIODS] + ["Financial year 2020/21", "Financial year 2021/22"]
    assert cf.periods["period"].tolist() == expected_periods
    for column in ["start", "end", "observed", "expected", "lower", "upper", "outside", "pct_difference"]:
        assert column in cf.periods.columns


def test_counterfactual_recovers_planted_step(stepped_counterfactual):
    periods = stepped_counterfactual.periods.set_index("period")
    for name in ["First lockdown", "Financial year 2020/21"]:
        row = periods.loc[name]
        assert row["outside"] == "above"
        assert row["observed"] / row["upper"] > 1.0  # the interval for the total excludes ratio 1
        assert row["ratio"] == pytest.approx(1.3, abs=0.1)
        assert row["pct_difference"] == pytest.approx(100 * (row["ratio"] - 1))
    fy = periods.loc["Financial year 2020/21"]
    assert (fy["start"], fy["end"], fy["months"]) == (pd.Timestamp("2020-04-01"), pd.Timestamp("2021-03-01"), 12)


def test_counterfactual_for_custom_months_matches_period_row(stepped_counterfactual):
    cf = stepped_counterfactual
    fy = pd.date_range("2020-04-01", "2021-03-01", freq="MS")
    row = counterfactual_for_months(cf, fy, "FY 2020/21")
    expected_row = cf.periods.set_index("period").loc["Financial year 2020/21"]
    for column in ["observed", "expected", "lower", "upper", "outside"]:
        assert row[column] == expected_row[column]
    assert row["observed"] == cf.monthly.loc[fy, "observed"].sum()
    assert period_summary(cf, COVID_PERIODS[:1]).equals(cf.periods.iloc[:1])
    with pytest.raises(ValueError, match="must lie in the forecast window 2020-03..2022-12; not in it: 2020-02"):
        counterfactual_for_months(cf, pd.date_range("2020-02-01", "2020-05-01", freq="MS"), "spring")


def test_counterfactual_null_coverage_of_first_lockdown_total():
    # No effect planted: the 95% simulated interval for the first-lockdown total (4 correlated months) should
    # cover the observed total about 95% of the time. ARIMA intervals ignore parameter uncertainty, so true
    # coverage can fall somewhat below nominal (88-95% in trial runs of 100 series, lowest for overdispersed
    # series). With 40 series the bound >= 32/40 (80%) fails with probability 0.4% if coverage is 92% and
    # 1.5% if it is 90% (binomial), but catches intervals that leave out the noise or mis-scale the
    # back-transform. The median width check stops the test passing with uselessly wide intervals
    # (trial median relative width 0.14).
    rng = np.random.default_rng(8)
    covered, widths = [], []
    for _ in range(40):
        y = draw(rng, monthly_mean())
        cf = covid_counterfactual(
            y,
            end="2020-06-01",
            orders=FAST_ORDERS[:1],
            n_sims=400,
            seed=int(rng.integers(1_000_000)),
            financial_years=[],
        )
        row = cf.periods.set_index("period").loc["First lockdown"]
        covered.append(row["outside"] == "within")
        widths.append((row["upper"] - row["lower"]) / row["expected"])
    assert np.mean(covered) >= 0.80
    assert np.median(widths) < 0.25


def test_parameter_uncertainty_widens_period_intervals():
    y = draw(np.random.default_rng(9), monthly_mean(), alpha=0.005)
    kwargs = dict(end="2021-03-01", orders=FAST_ORDERS[:1], n_sims=400, financial_years=["2020/21"])
    plain = covid_counterfactual(y, **kwargs).periods.set_index("period")
    wider = covid_counterfactual(y, parameter_uncertainty=True, **kwargs).periods.set_index("period")
    width = lambda row: row["upper"] - row["lower"]  # noqa: E731
    assert width(wider.loc["Financial year 2020/21"]) > width(plain.loc["Financial year 2020/21"])
    # draws outside the stationary/invertible region are rejected, so the paths do not explode
    assert width(wider.loc["Financial year 2020/21"]) < 3 * width(plain.loc["Financial year 2020/21"])


def test_admissible_parameters_are_stationary_and_invertible():
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    from csp_evidence.analysis.stats.timeseries import _admissible

    model = SARIMAX(np.zeros(60), order=(1, 0, 1), seasonal_order=(0, 1, 1, 12), trend="c")
    assert model.param_names == ["intercept", "ar.L1", "ma.L1", "ma.S.L12", "sigma2"]
    assert _admissible(model, np.array([0.1, 0.5, 0.3, -0.5, 1.0]))
    assert not _admissible(model, np.array([0.1, 1.2, 0.3, -0.5, 1.0]))  # AR root inside the unit circle
    assert not _admissible(model, np.array([0.1, 0.5, -1.01, -0.5, 1.0]))  # MA not invertible
    assert not _admissible(model, np.array([0.1, 0.5, 0.3, -1.01, 1.0]))  # seasonal MA not invertible


def test_simulated_paths_have_the_forecast_mean_and_variance_and_match_statsmodels():
    # The vectorised paths must be draws from the model's own forecast distribution: per month, the mean and
    # variance of 20,000 paths agree with get_forecast (sampling error of a variance at n=20,000 is ~1%), and
    # the 95% interval of a 12-month total agrees with statsmodels' own (looped) simulate(anchor='end').
    from csp_evidence.analysis.stats.timeseries import _forecast_paths, _select_sarima

    y = np.log1p(draw(np.random.default_rng(12), monthly_mean(), alpha=0.005).loc[:"2020-02-01"].iloc[-60:])
    result, _ = _select_sarima(y, [((1, 0, 1), (0, 1, 1))], 12)
    paths = _forecast_paths(result, 24, 20_000, np.random.default_rng(1))
    forecast = result.get_forecast(24)
    sd = np.sqrt(forecast.var_pred_mean.to_numpy())
    assert np.abs(paths.mean(axis=1) - forecast.predicted_mean.to_numpy()).max() < 0.05 * sd.min()
    assert paths.var(axis=1) / sd**2 == pytest.approx(np.ones(24), abs=0.05)
    looped = np.asarray(result.simulate(24, anchor="end", repetitions=20_000, rng=np.random.default_rng(2)))
    ours = np.quantile(np.expm1(paths[:12]).sum(axis=0), [0.025, 0.5, 0.975])
    theirs = np.quantile(np.expm1(looped.reshape(24, -1)[:12]).sum(axis=0), [0.025, 0.5, 0.975])
    assert ours == pytest.approx(theirs, rel=0.01)


@pytest.mark.filterwarnings("ignore::UserWarning")  # statsmodels' start-parameter notes on the reference fits
def test_candidates_fitted_on_the_differenced_series_have_the_full_models_aic():
    # Order selection fits each candidate to the differenced series (faster); its AIC must be the one the
    # full state-space model reaches, or a different order could be chosen.
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    from csp_evidence.analysis.stats.timeseries import DEFAULT_ORDERS, _fit_sarima

    y = np.log1p(draw(np.random.default_rng(13), monthly_mean(), alpha=0.005).iloc[:60])
    for order, seasonal in DEFAULT_ORDERS[:4]:
        full = SARIMAX(y, order=order, seasonal_order=(*seasonal, 12), trend="c", concentrate_scale=True).fit(
            disp=False
        )
        assert _fit_sarima(y, order, seasonal, 12).aic == pytest.approx(full.aic, abs=0.05)


# --------------------------------------------------------------------------- interrupted time series


def test_its_recovers_planted_level_change():
    y = draw(np.random.default_rng(10), monthly_mean(step=1.3), alpha=0.01)
    result = interrupted_time_series(y, family="negbin")
    assert isinstance(result, ITSResult)
    low, high = result.level_ci
    assert low < 1.3 < high and low > 1.0
    assert result.level_p < 0.05
    assert result.slope_ci[0] < 1.0 < result.slope_ci[1]  # no slope change was planted
    assert (result.n_pre, result.n_post) == (86, 34)
    assert result.family == "negbin" and result.alpha > 0
    fitted = result.fitted
    assert list(fitted.columns) == ["observed", "fitted", "counterfactual"]
    pre = fitted.index < COVID_START
    np.testing.assert_allclose(fitted.loc[pre, "fitted"], fitted.loc[pre, "counterfactual"])
    post_ratio = fitted.loc[~pre, "fitted"] / fitted.loc[~pre, "counterfactual"]
    assert post_ratio.iloc[0] == pytest.approx(result.level_change_ratio)


def test_its_end_truncates_series():
    y = draw(np.random.default_rng(11), monthly_mean(step=1.3))
    result = interrupted_time_series(y, family="poisson", end="2021-02-01")
    assert (result.n_pre, result.n_post) == (86, 12) and result.alpha is None
    assert result.fitted.index[-1] == pd.Timestamp("2021-02-01")


def test_its_false_positive_rate_under_no_effect():
    # 100 overdispersed series (NB2 alpha 0.02: variance about 5x Poisson at ~200 crimes/month), no effect.
    # If the negative-binomial level test is calibrated, rejections ~ Binomial(100, 0.05) and P(X >= 13) = 0.15%,
    # so the bound <= 0.12 does not flake; a test that ignored overdispersion rejects far more often, which
    # the Poisson fit on the same series demonstrates (about 45% in trial runs; P(X <= 25) < 1e-4 at 45%).
    rng = np.random.default_rng(12)
    negbin, poisson = [], []
    for _ in range(100):
        y = draw(rng, monthly_mean(), alpha=0.02)
        negbin.append(interrupted_time_series(y, family="negbin").level_p < 0.05)
        poisson.append(interrupted_time_series(y, family="poisson").level_p < 0.05)
    assert np.mean(negbin) <= 0.12
    assert np.mean(poisson) >= 0.25
