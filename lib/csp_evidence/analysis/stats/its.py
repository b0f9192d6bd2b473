"""Interrupted time series: segmented GLM regression of monthly counts (see ``timeseries`` for the method)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from csp_evidence.analysis.stats.series import _month, _month_dummies, _month_start, _span, check_monthly


@dataclass(frozen=True)
class ITSResult:
    """Segmented GLM regression: level and slope changes at the interruption as rate ratios with 95% CIs."""

    level_change_ratio: float
    level_ci: tuple[float, float]
    level_p: float
    slope_change_ratio_per_month: float
    slope_ci: tuple[float, float]
    slope_p: float
    n_pre: int
    n_post: int
    family: str
    interruption: pd.Timestamp
    alpha: float | None  # NB2 dispersion (variance = mu + alpha * mu^2); None for Poisson
    resid_acf1: float  # lag-1 autocorrelation of Pearson residuals; large values make the CIs too narrow
    fitted: pd.DataFrame  # observed, fitted, counterfactual (no interruption), counts per month


def its_design(index: pd.DatetimeIndex, interruption: pd.Timestamp) -> pd.DataFrame:
    """Design matrix: const, time (months from start), level (1 from interruption), slope_change, month dummies."""
    time = np.arange(len(index), dtype=float)
    post = (index >= interruption).astype(float)
    t0 = float(np.argmax(index >= interruption))
    design = pd.DataFrame({"const": 1.0, "time": time, "level": post, "slope_change": post * (time - t0)}, index=index)
    return pd.concat([design, _month_dummies(index)], axis=1)


def _nb_alpha(y: pd.Series, design: pd.DataFrame) -> float:
    """NB2 dispersion alpha by maximum likelihood (statsmodels discrete NegativeBinomial, BFGS then Newton).

    BFGS stops where its tolerance says (alpha to about 1e-4, moving with the last bits of the arithmetic);
    Newton's method with the analytic derivatives then converges from there to the maximum itself, so alpha,
    and the rate ratios that depend on it, are the same on any machine. With no overdispersion the MLE sits
    on the boundary alpha -> 0 and the optimiser reports non-convergence while alpha shrinks towards zero;
    that boundary solution (alpha < 1e-4, i.e. Poisson) is accepted.
    """
    model = NegativeBinomial(y, design, loglike_method="nb2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", HessianInversionWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = model.fit(disp=False, maxiter=1000)
        if fit.params["alpha"] >= 1e-4:
            newton = model.fit(start_params=fit.params, method="newton", disp=False, maxiter=200, tol=1e-10)
            if not fit.mle_retvals.get("converged", True) or (
                newton.mle_retvals.get("converged", True) and newton.llf >= fit.llf - 1e-9
            ):
                fit = newton
    alpha = float(fit.params["alpha"])
    converged = fit.mle_retvals.get("converged", True)
    if not np.isfinite(alpha) or alpha < 0 or (not converged and alpha >= 1e-4):
        raise RuntimeError(f"negative binomial dispersion alpha could not be estimated (alpha={alpha})")
    return max(alpha, 1e-8)


def _fit_its_glm(y: pd.Series, design: pd.DataFrame, alpha: float | None, hac_lags: int | None):
    """Poisson GLM, or NB2 GLM with alpha fixed plus a Pearson scale (floored at 1) and t reference distribution.

    The ML alpha is biased low in ~100-month series, which made Wald tests too liberal (about 6.5% false
    positives at the 5% level in 400 null simulations); the Pearson scale and t reference bring it to about 4.5%.
    `hac_lags` switches to Newey-West (HAC) standard errors for residual autocorrelation.
    """
    family = sm.families.Poisson() if alpha is None else sm.families.NegativeBinomial(alpha=alpha)
    model = sm.GLM(y, design, family=family)
    if hac_lags:
        return model.fit(cov_type="HAC", cov_kwds={"maxlags": hac_lags}, use_t=alpha is not None)
    if alpha is None:
        return model.fit()
    first = model.fit()
    return model.fit(scale=max(1.0, float(first.pearson_chi2 / first.df_resid)), use_t=True)


def _ratio_ci(fit, term: str) -> tuple[float, tuple[float, float], float]:
    low, high = fit.conf_int(alpha=0.05).loc[term]
    return float(np.exp(fit.params[term])), (float(np.exp(low)), float(np.exp(high))), float(fit.pvalues[term])


def interrupted_time_series(
    series: pd.Series,
    interruption: pd.Timestamp | str = "2020-03-01",
    family: str = "negbin",
    end: pd.Timestamp | str | None = None,
    hac_lags: int | None = None,
) -> ITSResult:
    """Segmented GLM (log link) of monthly counts: level and slope change at `interruption` as rate ratios."""
    if family not in ("negbin", "poisson"):
        raise ValueError(f"family must be 'negbin' or 'poisson', got {family!r}")
    y = check_monthly(series)
    interruption = _month_start(interruption, "interruption")
    if end is not None:
        y = y.loc[: _month_start(end, "end")]
    n_pre, n_post = int((y.index < interruption).sum()), int((y.index >= interruption).sum())
    if n_pre < 24:
        raise ValueError(
            f"series must have at least 24 pre-period months before {_month(interruption)}, "
            f"got {n_pre} ({_span(y.index[y.index < interruption])})"
        )
    if n_post < 3:
        raise ValueError(
            f"series must have at least 3 months from {_month(interruption)} onwards, "
            f"got {n_post} ({_span(y.index[y.index >= interruption])})"
        )
    design = its_design(y.index, interruption)
    alpha = _nb_alpha(y, design) if family == "negbin" else None
    fit = _fit_its_glm(y, design, alpha, hac_lags)

    level, level_ci, level_p = _ratio_ci(fit, "level")
    slope, slope_ci, slope_p = _ratio_ci(fit, "slope_change")
    no_change = design.assign(level=0.0, slope_change=0.0)
    fitted = pd.DataFrame(
        {"observed": y, "fitted": fit.fittedvalues, "counterfactual": fit.predict(no_change)}, index=y.index
    )
    pearson = pd.Series(fit.resid_pearson, index=y.index)
    return ITSResult(
        level_change_ratio=level,
        level_ci=level_ci,
        level_p=level_p,
        slope_change_ratio_per_month=slope,
        slope_ci=slope_ci,
        slope_p=slope_p,
        n_pre=n_pre,
        n_post=n_post,
        family=family,
        interruption=interruption,
        alpha=alpha,
        resid_acf1=float(pearson.autocorr(lag=1)),
        fitted=fitted,
    )
