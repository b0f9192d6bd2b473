"""Tests for csp_evidence.analysis.stats.forecast on synthetic monthly crime counts with known, planted structure.

Every series is drawn from a seeded numpy Generator, so results are deterministic; the statistical checks
(false-positive rate, interval coverage) are sized so that a correct method passes with a wide margin and a
broken one (no seasonality, Poisson errors on overdispersed data, intervals ignoring correlation) would fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_series import draw, monthly_mean  # noqa: E402


def test_simulated_paths_have_the_forecast_mean_and_variance_and_match_statsmodels():
    # The vectorised paths must be draws from the model's own forecast distribution: per month, the mean and
    # variance of 20,000 paths agree with get_forecast (sampling error of a variance at n=20,000 is ~1%), and
    # the 95% interval of a 12-month total agrees with statsmodels' own (looped) simulate(anchor='end').
    from csp_evidence.analysis.stats.forecast import _forecast_paths
    from csp_evidence.analysis.stats.sarima import _select_sarima

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
