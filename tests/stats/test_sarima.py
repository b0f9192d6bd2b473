"""Tests for csp_evidence.analysis.stats.sarima on synthetic monthly crime counts with known, planted structure.

Every series is drawn from a seeded numpy Generator, so results are deterministic; the statistical checks
(false-positive rate, interval coverage) are sized so that a correct method passes with a wide margin and a
broken one (no seasonality, Poisson errors on overdispersed data, intervals ignoring correlation) would fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_series import draw, monthly_mean  # noqa: E402


def test_admissible_parameters_are_stationary_and_invertible():
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    from csp_evidence.analysis.stats.sarima import _admissible

    model = SARIMAX(np.zeros(60), order=(1, 0, 1), seasonal_order=(0, 1, 1, 12), trend="c")
    assert model.param_names == ["intercept", "ar.L1", "ma.L1", "ma.S.L12", "sigma2"]
    assert _admissible(model, np.array([0.1, 0.5, 0.3, -0.5, 1.0]))
    assert not _admissible(model, np.array([0.1, 1.2, 0.3, -0.5, 1.0]))  # AR root inside the unit circle
    assert not _admissible(model, np.array([0.1, 0.5, -1.01, -0.5, 1.0]))  # MA not invertible
    assert not _admissible(model, np.array([0.1, 0.5, 0.3, -1.01, 1.0]))  # seasonal MA not invertible


@pytest.mark.filterwarnings("ignore::UserWarning")  # statsmodels' start-parameter notes on the reference fits
def test_candidates_fitted_on_the_differenced_series_have_the_full_models_aic():
    # Order selection fits each candidate to the differenced series (faster); its AIC must be the one the
    # full state-space model reaches, or a different order could be chosen.
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    from csp_evidence.analysis.stats.sarima import DEFAULT_ORDERS, _fit_sarima

    y = np.log1p(draw(np.random.default_rng(13), monthly_mean(), alpha=0.005).iloc[:60])
    for order, seasonal in DEFAULT_ORDERS[:4]:
        full = SARIMAX(y, order=order, seasonal_order=(*seasonal, 12), trend="c", concentrate_scale=True).fit(
            disp=False
        )
        assert _fit_sarima(y, order, seasonal, 12).aic == pytest.approx(full.aic, abs=0.05)
