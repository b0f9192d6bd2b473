"""Simulated future paths of a fitted state-space model, from the joint covariance of its forecast errors."""

from __future__ import annotations

import numpy as np

from csp_evidence.analysis.stats.sarima import _admissible, _quiet_fit


def _system_at_end(result):
    """The system matrices at the last period (statsmodels stores time-varying ones with a third, time axis)."""
    ssm = result.filter_results
    names = ("design", "transition", "selection", "state_cov")
    return tuple(
        matrix[..., -1] if matrix.ndim == 3 else matrix for matrix in (np.asarray(ssm.model[name]) for name in names)
    )


def forecast_error_cov(result, steps: int) -> np.ndarray:
    """Joint covariance (steps x steps) of the forecast errors over the next `steps` periods, given the data.

    With the state one step past the data distributed N(a, P) and x[h+1] = T x[h] + R eta[h], eta ~ N(0, Q),
    the error of the forecast h steps ahead is Z (x[h] - a[h]); its covariance with the error k >= h steps
    ahead is Z T^(k-h) V[h] Z', where V[h+1] = T V[h] T' + R Q R'. The diagonal is get_forecast's variance.
    """
    design, transition, selection, state_cov = _system_at_end(result)
    ssm = result.filter_results
    scale = float(ssm.scale) if getattr(ssm, "filter_concentrated", False) else 1.0
    disturbance = selection @ (state_cov * scale) @ selection.T
    state_var = np.asarray(ssm.predicted_state_cov)[:, :, -1]  # already in the scale of the data
    to_later = np.empty((len(transition), steps))  # column h: V[h] Z'
    for h in range(steps):
        to_later[:, h] = state_var @ design[0]
        state_var = transition @ state_var @ transition.T + disturbance
    cov = np.empty((steps, steps))
    for lag in range(steps):  # cov[h + lag, h] = Z T^lag V[h] Z'
        values = design[0] @ to_later[:, : steps - lag]
        idx = np.arange(steps - lag)
        cov[idx + lag, idx] = values
        cov[idx, idx + lag] = values
        to_later = transition @ to_later
    return cov


def _cov_root(cov: np.ndarray) -> np.ndarray:
    """A square root L of a covariance (L @ L.T == cov) that is a smooth function of it: the Cholesky factor,
    or for a singular covariance the symmetric square root (both unique, unlike an eigenvector basis)."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh((cov + cov.T) / 2)
        return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def _forecast_paths(result, steps: int, n_sims: int, rng: np.random.Generator) -> np.ndarray:
    """Simulated future paths (steps x n_sims) from the end of a fitted state-space model, given the data.

    The paths are the forecast mean plus draws of the forecast errors, L z with z standard normal and L the
    Cholesky factor of the errors' joint covariance (``forecast_error_cov``): the same distribution as
    statsmodels' ``simulate(anchor='end', repetitions=n_sims)`` (checked in the tests), vectorised. For a
    given seed the draws z are fixed, and L is a smooth function of the fitted parameters, so a tiny change
    in the fit (another BLAS, another CPU) makes a tiny change in every path and every quantile of them. (A
    factorisation through the eigenvectors of the state covariance is not smooth: its repeated eigenvalues
    leave the eigenvectors arbitrary, and rounding in the last bit redrew all the paths.)
    """
    errors = _cov_root(forecast_error_cov(result, steps)) @ rng.standard_normal((steps, n_sims))
    mean = np.asarray(result.get_forecast(steps=steps).predicted_mean)
    return mean[:, None] + errors


def _simulate_log_paths(
    result, steps: int, n_sims: int, rng: np.random.Generator, parameter_uncertainty: bool
) -> np.ndarray:
    """Simulated future paths (steps x n_sims, log scale) from the end of the fit, conditional on the data.

    With `parameter_uncertainty`, parameters are first drawn from their asymptotic normal distribution (MLE and
    its covariance from the numerical Hessian), n_sims/20 draws (at most 100), each re-filtered and simulated to
    make up n_sims paths. Draws outside the stationary and invertible region are rejected (the normal truncated
    to the admissible region: a seasonal MA estimated near -1, common for seasonal crime series, puts about
    half the draws outside it, and those paths explode). Otherwise the MLE is treated as known, as in standard
    ARIMA prediction intervals.
    """
    if not parameter_uncertainty:
        return _forecast_paths(result, steps, n_sims, rng)
    cov = np.asarray(result.cov_params())
    if not np.isfinite(cov).all():
        raise RuntimeError(
            "parameter_uncertainty=True needs the parameter covariance, which is not finite for "
            "this fit (parameter on a boundary?); use parameter_uncertainty=False"
        )
    n_draws = max(1, min(100, n_sims // 20))
    per_draw = -(-n_sims // n_draws)
    blocks: list[np.ndarray] = []
    tried = 0
    with _quiet_fit():
        while len(blocks) < n_draws:
            if tried >= 10 * n_draws:
                raise RuntimeError(
                    f"parameter_uncertainty=True: only {len(blocks)} of {tried} parameter draws gave a stationary, "
                    "invertible model, so the normal approximation to the estimates' sampling distribution does not "
                    "hold for this fit; use parameter_uncertainty=False"
                )
            params = rng.multivariate_normal(result.params, cov)
            tried += 1
            if _admissible(result.model, params):
                blocks.append(_forecast_paths(result.model.filter(params), steps, per_draw, rng))
    return np.hstack(blocks)[:, :n_sims]
