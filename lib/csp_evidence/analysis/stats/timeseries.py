"""Monthly crime time series: STL decomposition, recent trend, Covid counterfactuals and interrupted time series.

Methods and references
----------------------
* ``decompose``: STL, seasonal-trend decomposition by Loess (Cleveland et al. 1990), ``statsmodels`` ``STL``.
* ``recent_trend``: OLS of the monthly counts over the last ``months`` months on a linear time term plus
  month-of-year dummies, so the slope (counts per month) is net of seasonality; 95% CI from the t distribution.
* ``covid_counterfactual``: the forecast-as-counterfactual design of Langton, Dixon & Farrell (2021, "Six months
  in: pandemic crime trends in England and Wales", Crime Science) and Halford, Dixon & Farrell (2022, Crime
  Science, on anti-social behaviour in the pandemic). A seasonal ARIMA is fitted to
  log(count + 1) over the ``pre_years`` years before the pandemic only, its orders chosen by AIC over a small
  grid that shares one differencing order (AIC is not comparable across differencing orders; candidates are
  fitted to the differenced series, which gives the same likelihood faster), and forecast over the pandemic
  months with 95% prediction intervals. Monthly intervals are analytic (forecast mean and variance on the log
  scale, back-transformed); intervals for *period totals* are simulated from the fitted state-space model
  (the distribution of ``simulate(anchor='end')``, drawn as the forecast plus L z with L the Cholesky factor
  of the forecast errors' joint covariance and z seeded), so they carry the correlation between months. Parameter
  uncertainty is not included, as is standard for ARIMA prediction intervals, so coverage is a little below
  nominal (88-95% for 4-month totals in simulations); ``parameter_uncertainty=True`` also draws the
  parameters from their estimated sampling distribution, rejecting non-stationary or non-invertible draws
  (wider intervals, about 4-5x slower).
  *The same figures on any machine*: each candidate's L-BFGS fit is taken on to the maximum of the likelihood
  by Newton's method (``_polish``), so estimates, AICs and the choice do not depend on where L-BFGS stopped
  (which moves with its start, its tolerance and BLAS rounding); the simulated paths are a smooth function of
  the fit for a given seed (``_forecast_paths``); expected counts and limits are rounded to
  ``SIGNIFICANT_FIGURES`` (3), the precision 2,000 paths support, and verdicts are taken on the rounded values.
* ``interrupted_time_series``: segmented regression (Lopez Bernal, Cummins & Gasparrini 2017, "Interrupted
  time series regression for the evaluation of public health interventions: a tutorial", Int J Epidemiol
  46:348) with a linear time term, a level change at the interruption, a slope change after it and
  month-of-year dummies, fitted as a ``statsmodels`` GLM (Poisson, or negative binomial with the NB2
  dispersion ``alpha`` estimated by maximum likelihood with ``statsmodels.discrete.NegativeBinomial`` and
  then held fixed in the GLM, whose standard errors get a Pearson scale correction (floored at 1) and a t
  reference distribution). The model assumes independent residuals given the covariates; ``resid_acf1``
  reports the lag-1 autocorrelation and ``hac_lags`` gives Newey-West standard errors instead.

All functions take a monthly series: a ``pd.Series`` of non-negative counts indexed by contiguous month starts.
Convergence and start-parameter warnings from statsmodels are silenced inside the model fits only; whether
each candidate SARIMA converged is recorded in ``Counterfactual.candidates``.

The models live in modules of their own, and this module gathers their public names: ``series`` (validation and
rounding), ``trend`` (STL and the recent trend), ``sarima`` (the candidates and the choice by AIC), ``forecast``
(simulated paths), ``counterfactual`` (the Covid counterfactual) and ``its`` (interrupted time series).
"""

from csp_evidence.analysis.stats.counterfactual import (
    MAX_DEFAULT_HORIZON,
    Counterfactual,
    counterfactual_for_months,
    covid_counterfactual,
    period_summary,
)
from csp_evidence.analysis.stats.forecast import forecast_error_cov
from csp_evidence.analysis.stats.its import ITSResult, interrupted_time_series, its_design
from csp_evidence.analysis.stats.sarima import DEFAULT_ORDERS, Order, SeasonalOrder
from csp_evidence.analysis.stats.series import SIGNIFICANT_FIGURES, check_monthly, significant
from csp_evidence.analysis.stats.trend import Trend, decompose, recent_trend, trend_direction

__all__ = [
    "DEFAULT_ORDERS",
    "MAX_DEFAULT_HORIZON",
    "SIGNIFICANT_FIGURES",
    "Counterfactual",
    "ITSResult",
    "Order",
    "SeasonalOrder",
    "Trend",
    "check_monthly",
    "counterfactual_for_months",
    "covid_counterfactual",
    "decompose",
    "forecast_error_cov",
    "interrupted_time_series",
    "its_design",
    "period_summary",
    "recent_trend",
    "significant",
    "trend_direction",
]
