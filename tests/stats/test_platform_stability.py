"""The published Covid counterfactual figures do not move when the model fit is perturbed as another machine
perturbs it.

Another BLAS or CPU rounds the Kalman filter's arithmetic differently in the last bits; L-BFGS then takes a
slightly different path and stops at a slightly different point within its tolerance. The same happens, only
more, when its starting values move by 1e-6 to 1e-4 of themselves or its tolerances change within their own
accuracy, which is how these tests perturb the fit. Before the fix, such a perturbation moved the period-total
interval limits by up to 1% (Tower Hamlets drug trafficking 2020/21: 134.07 to 232.15 became 134.36 to
231.55 under another OpenBLAS core type), because the simulated paths were drawn through eigenvectors that a
last-bit change rotates, and moved monthly figures by up to 2e-3 because fits stopped short of the maximum.
Every published figure must now be identical: expected counts, interval limits, verdicts, ratios and
percentage differences, per month and per period, and the model chosen.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.statespace.sarimax import SARIMAX

from csp_evidence.analysis import priorities
from csp_evidence.analysis.priorities import measure_rows
from csp_evidence.analysis.stats import counterfactual, forecast, sarima
from csp_evidence.analysis.stats import timeseries as ts
from csp_evidence.analysis.summaries import monthly_series

MONTHS = pd.date_range("2013-01-01", "2022-12-01", freq="MS")
_FIT = SARIMAX.fit


def monthly_mean(growth: float = 0.002, step: float = 1.0) -> np.ndarray:
    """Expected counts about 200 a month: log-linear trend, sinusoidal seasons, multiplicative step at 2020-03."""
    t = np.arange(len(MONTHS))
    seasonal = 1 + 0.15 * np.sin(2 * np.pi * MONTHS.month / 12)
    return 200.0 * np.exp(growth * t) * seasonal * np.where(MONTHS >= pd.Timestamp("2020-03-01"), step, 1.0)


def draw(rng: np.random.Generator, mean: np.ndarray, alpha: float) -> pd.Series:
    """Negative binomial (NB2) counts via a gamma-Poisson mixture."""
    return pd.Series(rng.poisson(mean * rng.gamma(1 / alpha, alpha, len(mean))).astype(float), index=MONTHS)


# (relative perturbation of the starting values, seed of its signs) and L-BFGS settings within its accuracy
PERTURBATIONS = [
    pytest.param({"start": 1e-6, "seed": 1}, id="start-1e-6"),
    pytest.param({"start": 1e-5, "seed": 2}, id="start-1e-5"),
    pytest.param({"start": 1e-4, "seed": 3}, id="start-1e-4"),
    pytest.param({"pgtol": 1e-6}, id="pgtol-1e-6"),
    pytest.param({"pgtol": 3e-5, "factr": 1e6}, id="pgtol-3e-5-factr-1e6"),
]


@contextlib.contextmanager
def perturbed_fits(start: float = 0.0, seed: int = 0, **lbfgs):
    """Every SARIMAX.fit inside starts from its default starting values times (1 + u), |u| <= `start`, and
    passes `lbfgs` (pgtol, factr) to L-BFGS-B."""
    rng = np.random.default_rng(seed)

    def fit(self, start_params=None, **kwargs):
        if start and start_params is None:
            params = np.asarray(self.start_params, dtype=float)
            wiggle = start * rng.uniform(-1, 1, params.shape)
            start_params = np.where(params == 0, wiggle, params * (1 + wiggle))
        return _FIT(self, start_params=start_params, **{**kwargs, **lbfgs})

    SARIMAX.fit = fit
    try:
        yield
    finally:
        SARIMAX.fit = _FIT


def published(cf: ts.Counterfactual) -> dict:
    """Every figure the pack publishes from a counterfactual."""
    return {
        "model": cf.model,
        "periods": cf.periods[
            ["period", "observed", "expected", "lower", "upper", "outside", "ratio", "pct_difference"]
        ].reset_index(drop=True),
        "monthly": cf.monthly[["observed", "expected", "lower", "upper", "outside", "ratio"]],
    }


def assert_same(a: dict, b: dict) -> None:
    assert a["model"] == b["model"]
    pd.testing.assert_frame_equal(a["periods"], b["periods"], check_exact=True)
    pd.testing.assert_frame_equal(a["monthly"], b["monthly"], check_exact=True)


@pytest.fixture(scope="module")
def series() -> pd.Series:
    """Overdispersed monthly counts (NB2) with a +30% step from 2020-03."""
    return draw(np.random.default_rng(7), monthly_mean(step=1.3), alpha=0.005)


@pytest.fixture(scope="module")
def reference(series) -> dict:
    return published(ts.covid_counterfactual(series, financial_years=["2020/21"]))


@pytest.mark.parametrize("perturbation", PERTURBATIONS)
def test_published_figures_unchanged_when_the_fit_is_perturbed(series, reference, perturbation):
    with perturbed_fits(**perturbation):
        assert_same(published(ts.covid_counterfactual(series, financial_years=["2020/21"])), reference)


def test_candidate_estimates_reach_the_same_maximum_from_perturbed_starts(series):
    # The estimates and AICs of every candidate that can be chosen agree to ~1e-9 whatever L-BFGS did, so
    # the choice between candidates cannot flip.
    train = np.log1p(series.loc["2015-03-01":"2020-02-01"])
    fits = {}
    for label, perturbation in [("plain", {}), ("start", {"start": 1e-4, "seed": 4}), ("tol", {"pgtol": 1e-6})]:
        with perturbed_fits(**perturbation):
            fits[label] = [
                sarima._polish_fit(sarima._fit_sarima(train, o, s, 12, polish=False)) for o, s in ts.DEFAULT_ORDERS
            ]
    for plain, *others in zip(*fits.values(), strict=True):
        assert plain.polished
        for other in others:
            assert other.polished
            np.testing.assert_allclose(other.params, plain.params, rtol=1e-7, atol=1e-9)
            assert other.aic == pytest.approx(plain.aic, abs=1e-7)


def test_polishing_reaches_the_edge_of_invertibility_and_raises_the_likelihood():
    # A series with a fixed seasonal pattern (over-differenced by the seasonal difference): the likelihood is
    # largest with the seasonal MA coefficient at -1, which L-BFGS in transformed parameters only approaches.
    y = np.log1p(draw(np.random.default_rng(21), monthly_mean(growth=0.0), alpha=0.002).iloc[:60])
    plain = sarima._fit_sarima(y, (0, 0, 0), (0, 1, 1), 12, polish=False)
    polished = sarima._polish_fit(plain)
    assert polished.polished and polished.converged
    assert polished.params[-1] == pytest.approx(-1.0, abs=1e-6)
    assert polished.aic <= plain.aic


def test_simulated_paths_move_smoothly_with_the_parameters(series):
    # For a given seed, a change of 1e-12 in the parameters (the size of a BLAS rounding difference) must make
    # a change of the same order in the paths, not a new set of draws.
    train = np.log1p(series.loc["2015-03-01":"2020-02-01"])
    result, _ = sarima._select_sarima(train, list(ts.DEFAULT_ORDERS), 12)
    paths = forecast._forecast_paths(result, 24, 500, np.random.default_rng(1))
    nudged = result.model.filter(np.asarray(result.params) * (1 + 1e-12))
    moved = forecast._forecast_paths(nudged, 24, 500, np.random.default_rng(1))
    assert np.max(np.abs(moved - paths)) < 1e-9


def test_forecast_error_cov_diagonal_is_the_forecast_variance(series):
    train = np.log1p(series.loc["2015-03-01":"2020-02-01"])
    result, _ = sarima._select_sarima(train, [((1, 0, 1), (0, 1, 1)), ((0, 0, 0), (1, 1, 0))], 12)
    cov = ts.forecast_error_cov(result, 30)
    np.testing.assert_allclose(np.diag(cov), result.get_forecast(30).var_pred_mean.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > 0


@pytest.mark.parametrize(
    "value, figures, rounded",
    [
        (10666.956, 3, 10700.0),
        (134.61, 3, 135.0),
        (231.38, 3, 231.0),
        (9.686189, 3, 9.69),
        (0.0, 3, 0.0),
        (-2.71621, 2, -2.7),
        (175.5, 3, 176.0),
        (123.456, None, 123.456),
    ],
)
def test_significant_figures(value, figures, rounded):
    assert ts.significant(value, figures) == rounded


def test_counterfactual_figures_are_rounded_and_verdicts_use_the_rounded_limits(series):
    cf = ts.covid_counterfactual(series, financial_years=["2020/21"], orders=ts.DEFAULT_ORDERS[:2])
    for frame in (cf.periods, cf.monthly):
        for column in ("expected", "lower", "upper"):
            assert all(ts.significant(v) == v for v in frame[column])
    fy = cf.periods.set_index("period").loc["Financial year 2020/21"]
    assert fy["ratio"] == fy["observed"] / fy["expected"]
    assert fy["outside"] == counterfactual._outside(fy["observed"], fy["lower"], fy["upper"])
    raw = ts.covid_counterfactual(series, financial_years=["2020/21"], orders=ts.DEFAULT_ORDERS[:2], figures=None)
    raw_fy = raw.periods.set_index("period").loc["Financial year 2020/21"]
    assert ts.significant(raw_fy["upper"]) == fy["upper"] and raw_fy["upper"] != fy["upper"]
    with pytest.raises(ValueError, match="figures must be a positive number of significant figures"):
        ts.covid_counterfactual(series, figures=0)


@pytest.mark.realdata
@pytest.mark.parametrize("measure", ["Drug trafficking", "Theft"])
def test_tower_hamlets_figures_unchanged_when_the_fit_is_perturbed(crime, measure):
    # The figures of issue 10 (Tower Hamlets, 2020/21): the same under every perturbation.
    chosen = {m.name: m for m in priorities.NEIGHBOURHOOD}[measure]
    series = monthly_series(measure_rows(crime, chosen), "Tower Hamlets")
    reference = published(ts.covid_counterfactual(series, start="2020-03-01", financial_years=["2020/21"]))
    for perturbation in ({"start": 1e-5, "seed": 5}, {"pgtol": 1e-6}):
        with perturbed_fits(**perturbation):
            again = published(ts.covid_counterfactual(series, start="2020-03-01", financial_years=["2020/21"]))
        assert_same(again, reference)
