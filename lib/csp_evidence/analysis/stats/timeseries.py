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
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.tools.numdiff import approx_fprime, approx_hess3
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.statespace.sarimax import SARIMAX

from csp_evidence.core.periods import COVID_PERIODS, Period, financial_year_months
from csp_evidence.core.periods import financial_years as _financial_year_labels

Order = tuple[int, int, int]
SeasonalOrder = tuple[int, int, int]

# (p, d, q) x (P, D, Q): all share d=0, D=1 (seasonal differencing, with drift), so their AICs are comparable.
DEFAULT_ORDERS: tuple[tuple[Order, SeasonalOrder], ...] = tuple(
    ((p, 0, q), seasonal) for p, q in itertools.product((0, 1), (0, 1)) for seasonal in ((0, 1, 1), (1, 1, 0))
)
MAX_DEFAULT_HORIZON = 36
Z95 = float(stats.norm.ppf(0.975))
# Expected counts and interval limits are reported to this many significant figures: the Monte Carlo error of
# a simulated 95% limit from 2,000 paths is about 0.3-1% of it, so a fourth figure would be noise.
SIGNIFICANT_FIGURES = 3


# --------------------------------------------------------------------------- validation and formatting


def significant(value: float, figures: int | None = SIGNIFICANT_FIGURES) -> float:
    """`value` rounded to `figures` significant figures (10666.96 -> 10700.0, 9.6862 -> 9.69); None keeps it.

    Rounded by Python's correctly rounded decimal conversion, so the same on every platform.
    """
    value = float(value)
    if figures is None or not np.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{figures - 1}e}")


def _month(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m")


def _span(index: pd.DatetimeIndex) -> str:
    return f"{_month(index[0])}..{_month(index[-1])}" if len(index) else "no months"


def _month_start(value: pd.Timestamp | str, name: str) -> pd.Timestamp:
    """Parse a month argument and insist it is a month start; errors name the argument."""
    ts = pd.Timestamp(value)
    if ts != ts.normalize() or ts.day != 1:
        raise ValueError(f"{name} must be a month start (day 1, no time), got {ts}")
    return ts


def check_monthly(series: pd.Series, name: str = "series") -> pd.Series:
    """Validate a monthly count series (contiguous month starts, counts >= 0, no NaN); returns a float copy, freq MS."""
    if not isinstance(series, pd.Series):
        raise TypeError(f"{name} must be a pandas Series of monthly counts, got {type(series).__name__}")
    index = series.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"{name} must be indexed by a DatetimeIndex of month starts, got {type(index).__name__}")
    if len(index) == 0:
        raise ValueError(f"{name} is empty; expected monthly counts")
    not_start = index[(index.day != 1) | (index != index.normalize())]
    if len(not_start):
        shown = ", ".join(str(t.date()) for t in not_start[:3])
        raise ValueError(f"{name} index must hold month starts (day 1), i.e. monthly data; got {shown}")
    if index.has_duplicates:
        dup = index[index.duplicated()]
        raise ValueError(f"{name} index has duplicate months: {', '.join(_month(t) for t in dup[:5])}")
    series = series.sort_index()
    full = pd.date_range(series.index[0], series.index[-1], freq="MS")
    missing = full.difference(series.index)
    if len(missing):
        shown = ", ".join(_month(t) for t in missing[:5])
        raise ValueError(
            f"{name} must have contiguous months; {len(missing)} missing month(s) in {_span(full)}: {shown}"
        )
    values = pd.to_numeric(series, errors="coerce").astype(float)
    if values.isna().any():
        shown = ", ".join(_month(t) for t in values.index[values.isna()][:5])
        raise ValueError(f"{name} has missing or non-numeric counts in {shown}")
    if (values < 0).any():
        shown = ", ".join(_month(t) for t in values.index[values < 0][:5])
        raise ValueError(f"{name} must be counts >= 0; negative in {shown}")
    return pd.Series(values.to_numpy(), index=pd.DatetimeIndex(full, freq="MS"), name=series.name)


# --------------------------------------------------------------------------- decomposition and recent trend


def decompose(series: pd.Series, period: int = 12, robust: bool = True) -> pd.DataFrame:
    """STL decomposition of monthly counts; columns observed, trend, seasonal, resid (all in counts/month)."""
    y = check_monthly(series)
    if period < 2:
        raise ValueError(f"period must be at least 2 (months per seasonal cycle), got {period}")
    if len(y) < 2 * period:
        raise ValueError(
            f"series must have at least {2 * period} months (two seasonal cycles) for STL, "
            f"got {len(y)} ({_span(y.index)})"
        )
    fit = STL(y, period=period, robust=robust).fit()
    return pd.DataFrame(
        {"observed": y, "trend": fit.trend, "seasonal": fit.seasonal, "resid": fit.resid}, index=y.index
    )


@dataclass(frozen=True)
class Trend:
    """Linear trend over a recent window, net of seasonality; slope in counts per month, change in % per year."""

    start: pd.Timestamp
    end: pd.Timestamp
    months: int
    mean_level: float
    slope_per_month: float
    ci_low: float
    ci_high: float
    pct_change_per_year: float
    direction: str


def trend_direction(ci_low: float, ci_high: float) -> str:
    """'rising' or 'falling' only when the 95% CI of the slope excludes zero, else 'no clear change'."""
    if ci_low > 0:
        return "rising"
    if ci_high < 0:
        return "falling"
    return "no clear change"


def _month_dummies(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Month-of-year indicator columns (January is the reference), named 'month_02'..'month_12'."""
    months = pd.Categorical(index.month, categories=range(1, 13))
    dummies = pd.get_dummies(months, prefix="month", prefix_sep="_", drop_first=True, dtype=float)
    dummies.columns = [f"month_{int(c.split('_')[1]):02d}" for c in dummies.columns]
    dummies.index = index
    return dummies.loc[:, dummies.any()]


def recent_trend(series: pd.Series, months: int = 24) -> Trend:
    """Trend over the last `months` months: OLS slope (counts/month) on time plus month dummies, % per year of mean."""
    y = check_monthly(series)
    if months < 24:
        raise ValueError(
            f"months must be at least 24 so each calendar month appears twice (needed to separate trend "
            f"from seasonality), got {months}"
        )
    if len(y) < months:
        raise ValueError(
            f"series must have at least {months} months for recent_trend(months={months}), "
            f"got {len(y)} ({_span(y.index)})"
        )
    window = y.iloc[-months:]
    design = pd.concat(
        [pd.Series(np.arange(months, dtype=float), index=window.index, name="time"), _month_dummies(window.index)],
        axis=1,
    )
    fit = sm.OLS(window, sm.add_constant(design)).fit()
    slope = float(fit.params["time"])
    low, high = (float(v) for v in fit.conf_int(alpha=0.05).loc["time"])
    mean = float(window.mean())
    pct = 100.0 * 12.0 * slope / mean if mean > 0 else float("nan")
    return Trend(
        start=window.index[0],
        end=window.index[-1],
        months=months,
        mean_level=mean,
        slope_per_month=slope,
        ci_low=low,
        ci_high=high,
        pct_change_per_year=pct,
        direction=trend_direction(low, high),
    )


# --------------------------------------------------------------------------- Covid counterfactual (SARIMA forecast)


@dataclass(frozen=True)
class Counterfactual:
    """SARIMA forecast of what would have been expected without the pandemic; counts per month or per period.

    `expected` is the back-transformed forecast median per month (summed for periods); `lower`/`upper` are 95%
    prediction limits; `outside` says whether the observed count or total lies above, below or within them.
    Expected counts and limits are rounded to `figures` significant figures (None: unrounded), and
    `outside`, `ratio` and `pct_difference` are computed from the rounded values, so that every figure is
    the one a reader sees, and the same on any machine.
    """

    monthly: pd.DataFrame
    periods: pd.DataFrame
    model: str
    order: Order
    seasonal_order: SeasonalOrder
    fit_start: pd.Timestamp
    fit_end: pd.Timestamp
    candidates: pd.DataFrame
    simulated: pd.DataFrame  # forecast months x simulated paths, in counts; used for intervals of any span
    level: float = 0.95
    figures: int | None = SIGNIFICANT_FIGURES


def _outside(observed: float, lower: float, upper: float) -> str:
    if observed > upper:
        return "above"
    if observed < lower:
        return "below"
    return "within"


def _check_orders(orders: Sequence[tuple[Order, SeasonalOrder]]) -> list[tuple[Order, SeasonalOrder]]:
    """Candidate orders must be non-empty and share d and D, otherwise their AICs are not comparable."""
    checked: list[tuple[Order, SeasonalOrder]] = [(tuple(o), tuple(s)) for o, s in orders]  # type: ignore[misc]
    orders = checked
    if not orders:
        raise ValueError("orders must list at least one ((p, d, q), (P, D, Q)) candidate")
    differencing = {(o[1], s[1]) for o, s in orders}
    if len(differencing) > 1:
        raise ValueError(
            f"orders must all share the same d and D (AIC is not comparable across differencing), got (d, D) in "
            f"{sorted(differencing)}"
        )
    return orders


def _sarima(y: pd.Series, order: Order, seasonal: SeasonalOrder, period: int, simple_differencing: bool) -> SARIMAX:
    """The SARIMA model of `y` (drift term when d + D == 1, scale concentrated out of the likelihood)."""
    trend = "c" if order[1] + seasonal[1] <= 1 else "n"
    return SARIMAX(
        y,
        order=order,
        seasonal_order=(*seasonal, period),
        trend=trend,
        concentrate_scale=True,
        simple_differencing=simple_differencing,
    )


@contextmanager
def _quiet_fit():
    """Silence statsmodels' convergence and start-parameter warnings inside a fit (convergence is recorded)."""
    with warnings.catch_warnings():
        for category in (ConvergenceWarning, UserWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        yield


# Newton polishing of each candidate's maximum likelihood estimate (see _polish).
POLISH_STEPS = 12
POLISH_XTOL = 1e-8
POLISH_STEP = 1e-4  # central-difference step, relative to the parameter (or to 0.1 if smaller)
MA_BOUNDARY_TOL = 1e-6
POLISH_MARGIN = 2.0  # AIC points


@dataclass(frozen=True)
class CandidateFit:
    """One candidate's ML estimates (natural parameters), its AIC, and whether the maximum was reached."""

    params: np.ndarray
    aic: float
    converged: bool
    polished: bool
    model: SARIMAX = field(repr=False, compare=False)


def _polish(model: SARIMAX, params: np.ndarray) -> tuple[np.ndarray, bool]:
    """Newton steps from the optimiser's stopping point to the maximum of the likelihood; (params, reached).

    L-BFGS stops where its tolerances say, which moves with the starting values, the tolerance and the
    last bits of the arithmetic (another BLAS, another CPU), by up to 1e-3 in a parameter. From there,
    Newton's method in the natural parameters converges to the maximum itself, to about 1e-9, whatever the
    starting point. Derivatives are central differences (statsmodels' complex-step score is not exact for
    seasonal AR models). The Hessian is kept from step to step while each step shrinks at least tenfold
    (the chord method) and taken again when not; where it is not negative definite its eigenvalues are
    made negative (|lambda|, at least a floor), and a step that would lower the likelihood or leave the
    stationary and invertible region is halved until it does not. Working in the natural parameters lets
    a moving-average coefficient reach the edge of invertibility, -1, where the likelihood of a series
    with a stable seasonal pattern is often largest and where, in the transformed parameters L-BFGS uses,
    the estimate drifts without limit. The maximum is reached when a full step of a negative definite
    Hessian is below POLISH_XTOL; otherwise the starting point is returned with False.
    """
    start = np.asarray(params, dtype=float)

    def loglike(p):
        return model.loglike(p, transformed=True)

    def step_sizes(p):
        return POLISH_STEP * np.maximum(np.abs(p), 0.1)

    def hessian(p):
        """The Hessian made negative definite, and whether it already was."""
        h = approx_hess3(p, loglike, epsilon=step_sizes(p))
        values, vectors = np.linalg.eigh((h + h.T) / 2)
        if np.all(values < 0):
            return h, True
        floor = 1e-6 * max(1.0, float(np.max(np.abs(values))))
        return (vectors * -np.maximum(np.abs(values), floor)) @ vectors.T, False

    x, value, previous = start.copy(), loglike(start), np.inf
    if not np.isfinite(value):
        return start, False
    try:
        h, concave = hessian(x)
        for _ in range(POLISH_STEPS):
            step = np.linalg.solve(h, approx_fprime(x, loglike, epsilon=step_sizes(x), centered=True))
            for halvings in range(30):
                trial = x - step / 2**halvings
                if np.all(np.isfinite(trial)) and _admissible(model, trial, ma_tol=MA_BOUNDARY_TOL):
                    trial_value = loglike(trial)
                    if trial_value >= value - 1e-9:
                        break
            else:
                return start, False
            size = float(np.max(np.abs(step) / np.maximum(np.abs(x), 1.0)))
            x, value = trial, trial_value
            if size < POLISH_XTOL and concave and halvings == 0:
                return x, True
            if size > 0.1 * previous or not concave or halvings:
                h, concave = hessian(x)
            previous = size
    except (np.linalg.LinAlgError, ValueError):
        pass
    return start, False


def _fit_sarima(
    y: pd.Series, order: Order, seasonal: SeasonalOrder, period: int, polish: bool = True
) -> CandidateFit | None:
    """Fit one candidate by ML; its estimates and AIC, or None on failure.

    L-BFGS (statsmodels' default) finds the neighbourhood of the maximum and, with `polish`, ``_polish``
    converges to the maximum itself, so the estimates and the AIC do not depend on where L-BFGS stopped.
    A candidate counts as converged when the polishing reached the maximum or, failing that (or unpolished),
    when L-BFGS says it converged. The differencing is applied to the data first (``simple_differencing``):
    the likelihood, estimates and AIC are those of the model with differencing in its state, whose state is
    twice the size and whose fit takes half as long again. No standard errors are computed here.
    """
    model = _sarima(y, order, seasonal, period, simple_differencing=True)
    with _quiet_fit():
        try:
            res = model.fit(disp=False, cov_type="none", low_memory=True)
        except (np.linalg.LinAlgError, ValueError):
            return None
    if not np.isfinite(res.aic):
        return None
    fit = CandidateFit(
        params=res.params.to_numpy(),
        aic=float(res.aic),
        converged=bool(res.mle_retvals.get("converged", True)),
        polished=False,
        model=model,
    )
    return _polish_fit(fit) if polish else fit


def _polish_fit(fit: CandidateFit) -> CandidateFit:
    """The candidate at the maximum of its likelihood (``_polish``), its AIC moved by the gain in likelihood."""
    with _quiet_fit():
        params, reached = _polish(fit.model, fit.params)
        if not reached:
            return fit
        gain = fit.model.loglike(params) - fit.model.loglike(fit.params)
    return CandidateFit(params=params, aic=fit.aic - 2 * gain, converged=True, polished=True, model=fit.model)


def _select_sarima(y: pd.Series, orders: list[tuple[Order, SeasonalOrder]], period: int, cov_type: str = "none"):
    """Fit every candidate; return (chosen model filtered at its estimates, candidates table).

    Every candidate is fitted by L-BFGS; those within POLISH_MARGIN AIC points of the best, and any L-BFGS
    did not converge, are then taken to the maximum of their likelihood (``_polish``), and the choice is made
    on their exact AICs. The others cannot be chosen: L-BFGS's AIC is usually within 0.01 of the exact one
    (0.63 at most in trials on 272 candidate fits to 34 borough series), and polishing only lowers AIC.
    Converged fits are preferred. The chosen model is put back in full state-space form (differencing in the
    state) at the estimated parameters, so that forecasts and simulations are of the series itself.
    """
    fits = [_fit_sarima(y, order, seasonal, period, polish=False) for order, seasonal in orders]
    fitted = [f.aic for f in fits if f is not None]
    if not fitted:
        raise RuntimeError(f"no SARIMA candidate could be fitted to {_span(y.index)}; candidates: {orders}")
    threshold = min(fitted) + POLISH_MARGIN
    fits = [f if f is None or (f.converged and f.aic > threshold) else _polish_fit(f) for f in fits]
    table = pd.DataFrame(
        [
            {
                "order": order,
                "seasonal_order": seasonal,
                "aic": np.nan if f is None else f.aic,
                "converged": f is not None and f.converged,
                "polished": f is not None and f.polished,
            }
            for (order, seasonal), f in zip(orders, fits, strict=True)
        ]
    )
    usable = table["aic"].notna()
    pool = table[usable & table["converged"]] if (usable & table["converged"]).any() else table[usable]
    best = int(pool["aic"].idxmin())
    table["chosen"] = table.index == best
    order, seasonal = orders[best]
    fitted_best = fits[best]
    assert fitted_best is not None  # the best is one of the candidates that could be fitted
    with _quiet_fit():
        chosen = _sarima(y, order, seasonal, period, simple_differencing=False).filter(
            fitted_best.params, cov_type=cov_type
        )
    return chosen, table.sort_values("aic", na_position="last").reset_index(drop=True)


def _sarima_label(order: Order, seasonal: SeasonalOrder, period: int, drift: bool) -> str:
    o, s = ",".join(map(str, order)), ",".join(map(str, seasonal))
    return f"SARIMA({o})({s}){period}" + (" with drift" if drift else "")


def _total_row(
    monthly: pd.DataFrame,
    simulated: pd.DataFrame,
    level: float,
    months: Iterable,
    label: str,
    figures: int | None = SIGNIFICANT_FIGURES,
) -> dict[str, object]:
    """Observed and expected totals over `months`: expected and its interval are the median and quantiles of the
    simulated totals, so the point sits inside its own interval (a sum of monthly medians of a log model would
    sit below the median of the sum); all three rounded to `figures` significant figures."""
    span = pd.DatetimeIndex(pd.to_datetime(list(months))).sort_values()
    if len(span) == 0:
        raise ValueError(f"months for {label!r} is empty; expected forecast months")
    outside_window = span.difference(monthly.index)
    if len(outside_window):
        raise ValueError(
            f"months for {label!r} must lie in the forecast window {_span(monthly.index)}; "
            f"not in it: {', '.join(_month(t) for t in outside_window[:5])}"
        )
    observed = float(monthly.loc[span, "observed"].sum())
    tail = (1 - level) / 2
    totals = simulated.loc[span].sum(axis=0)
    lower, expected, upper = (significant(v, figures) for v in np.quantile(totals, [tail, 0.5, 1 - tail]))
    return {
        "period": label,
        "start": span[0],
        "end": span[-1],
        "months": len(span),
        "observed": observed,
        "expected": expected,
        "lower": lower,
        "upper": upper,
        "outside": _outside(observed, lower, upper),
        "ratio": observed / expected if expected > 0 else np.nan,
        "pct_difference": 100.0 * (observed - expected) / expected if expected > 0 else np.nan,
    }


_PERIOD_COLUMNS = [
    "period",
    "start",
    "end",
    "months",
    "observed",
    "expected",
    "lower",
    "upper",
    "outside",
    "ratio",
    "pct_difference",
]


def counterfactual_for_months(cf: Counterfactual, months: Iterable, label: str) -> pd.Series:
    """Observed vs expected total (counts) over any set of forecast months, with the simulated 95% interval."""
    return pd.Series(_total_row(cf.monthly, cf.simulated, cf.level, months, label, cf.figures))


def period_summary(cf: Counterfactual, periods: Sequence[Period]) -> pd.DataFrame:
    """One row per Period (observed, expected, simulated 95% interval of the total, outside, % difference)."""
    return _period_table(cf.monthly, cf.simulated, cf.level, periods, cf.figures)


def _period_table(
    monthly: pd.DataFrame,
    simulated: pd.DataFrame,
    level: float,
    periods: Sequence[Period],
    figures: int | None = SIGNIFICANT_FIGURES,
) -> pd.DataFrame:
    rows = [
        _total_row(monthly, simulated, level, pd.date_range(p.start, p.end, freq="MS"), p.name, figures)
        for p in periods
    ]
    return pd.DataFrame(rows, columns=_PERIOD_COLUMNS)


def _periods_in_window(
    window: pd.DatetimeIndex, periods: Sequence[Period], fin_years: Sequence[str] | None
) -> list[Period]:
    """Periods wholly inside the forecast window, then the requested (or all complete) financial years."""
    chosen = [p for p in periods if p.start >= window[0] and p.end <= window[-1]]
    if fin_years is None:
        fin_years = [
            fy for fy in dict.fromkeys(_financial_year_labels(window)) if financial_year_months(fy).isin(window).all()
        ]
    for fy in fin_years:
        months = financial_year_months(fy)
        if not months.isin(window).all():
            raise ValueError(
                f"financial_years: {fy} ({_span(months)}) is not wholly inside the forecast window {_span(window)}"
            )
        chosen.append(Period(f"Financial year {fy}", months[0], months[-1]))
    return chosen


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


def _admissible(model: SARIMAX, params: np.ndarray, ma_tol: float | None = None) -> bool:
    """Whether parameters give a stationary AR and an invertible MA part: every lag polynomial (1 - sum phi z^i
    for AR, 1 + sum theta z^i for MA, seasonal ones in z^s) has all its roots outside the unit circle.

    With `ma_tol`, MA roots may also lie on the unit circle (to within `ma_tol`): the closed region in which
    a maximum of the likelihood is looked for."""
    named = dict(zip(model.param_names, params, strict=False))
    for prefix, sign, step in (
        ("ar.L", -1, 1),
        ("ma.L", 1, 1),
        ("ar.S.L", -1, model.seasonal_periods),
        ("ma.S.L", 1, model.seasonal_periods),
    ):
        terms = {
            int(k[len(prefix) :]) // step: v
            for k, v in named.items()
            if k.startswith(prefix) and k[len(prefix) :].isdigit()
        }
        if terms:
            coefs = np.zeros(max(terms) + 1)
            coefs[0] = 1.0
            for lag, value in terms.items():
                coefs[lag] = sign * value
            moduli = np.abs(np.polynomial.polynomial.polyroots(coefs))
            if (
                np.any(moduli < 1.0 - ma_tol)
                if ma_tol is not None and prefix.startswith("ma")
                else np.any(moduli <= 1.0)
            ):
                return False
    return True


def _monthly_table(
    result, observed: pd.Series, simulated: pd.DataFrame | None, figures: int | None = SIGNIFICANT_FIGURES
) -> pd.DataFrame:
    """Monthly observed vs expected (back-transformed forecast median) and 95% interval, all in counts.

    Intervals are analytic (forecast mean +/- 1.96 sd on the log scale) unless `simulated` paths are given,
    in which case they are the 2.5% and 97.5% quantiles of the simulated counts. Expected counts and limits
    are rounded to `figures` significant figures.
    """
    forecast = result.get_forecast(steps=len(observed))
    mean = forecast.predicted_mean.to_numpy()
    expected = np.expm1(mean)
    if simulated is None:
        half = Z95 * np.sqrt(forecast.var_pred_mean.to_numpy())
        lower, upper = np.clip(np.expm1(mean - half), 0, None), np.expm1(mean + half)
    else:
        lower, upper = (simulated.quantile(q, axis=1).to_numpy() for q in (0.025, 0.975))
    expected, lower, upper = (
        np.array([significant(v, figures) for v in values]) for values in (expected, lower, upper)
    )
    obs = observed.to_numpy()
    return pd.DataFrame(
        {
            "observed": obs,
            "expected": expected,
            "lower": lower,
            "upper": upper,
            "outside": [_outside(o, lo, hi) for o, lo, hi in zip(obs, lower, upper, strict=False)],
            "ratio": np.divide(obs, expected, out=np.full(len(obs), np.nan), where=expected > 0),
        },
        index=pd.DatetimeIndex(observed.index, name="month"),
    )


def covid_counterfactual(
    series: pd.Series,
    start: pd.Timestamp | str = "2020-03-01",
    end: pd.Timestamp | str | None = None,
    pre_years: int = 5,
    orders: Sequence[tuple[Order, SeasonalOrder]] = DEFAULT_ORDERS,
    periods: Sequence[Period] = COVID_PERIODS,
    financial_years: Sequence[str] | None = None,
    n_sims: int = 2000,
    seed: int = 20200323,
    period: int = 12,
    parameter_uncertainty: bool = False,
    figures: int | None = SIGNIFICANT_FIGURES,
) -> Counterfactual:
    """Pre-pandemic SARIMA (log(count+1), AIC-chosen) forecast from `start` to `end`; 95% intervals in counts.

    Expected counts and interval limits are rounded to `figures` significant figures (None: unrounded).
    """
    y = check_monthly(series)
    start = _month_start(start, "start")
    n_pre = 12 * pre_years
    if pre_years < 2:
        raise ValueError(f"pre_years must be at least 2 (two seasonal cycles), got {pre_years}")
    available = y.index[y.index < start]
    if len(available) < n_pre:
        raise ValueError(
            f"series must have at least {n_pre} pre-period months before {_month(start)} (pre_years={pre_years}), "
            f"got {len(available)} ({_span(available)})"
        )
    if start > y.index[-1]:
        raise ValueError(f"start {_month(start)} is after the last month of series ({_month(y.index[-1])})")
    if end is None:
        end = min(y.index[-1], start + pd.DateOffset(months=MAX_DEFAULT_HORIZON - 1))
    end = _month_start(end, "end")
    if end < start or end > y.index[-1]:
        raise ValueError(
            f"end must lie between start ({_month(start)}) and the last month of series "
            f"({_month(y.index[-1])}), got {_month(end)}"
        )
    if n_sims < 100:
        raise ValueError(f"n_sims must be at least 100 for stable 95% interval quantiles, got {n_sims}")
    if figures is not None and (not isinstance(figures, int) or figures < 1):
        raise ValueError(f"figures must be a positive number of significant figures or None, got {figures!r}")
    orders = _check_orders(orders)

    train = np.log1p(y.loc[available[-n_pre:]])
    window = pd.date_range(start, end, freq="MS")
    result, candidates = _select_sarima(train, orders, period, cov_type="approx" if parameter_uncertainty else "none")

    rng = np.random.default_rng(seed)
    simulated = (
        pd.DataFrame(
            _simulate_log_paths(result, len(window), n_sims, rng, parameter_uncertainty),
            index=pd.DatetimeIndex(window, name="month"),
        )
        .pipe(np.expm1)
        .clip(lower=0)
    )
    monthly = _monthly_table(result, y.loc[window], simulated if parameter_uncertainty else None, figures)

    order, seasonal = tuple(result.model.order), tuple(result.model.seasonal_order[:3])
    drift = order[1] + seasonal[1] <= 1
    description = (
        f"{_sarima_label(order, seasonal, period, drift)} on log(count+1), fitted {_span(train.index)}, "
        f"chosen by AIC among {len(orders)} candidates; period-total intervals from {n_sims} simulated paths"
        + (" including parameter uncertainty" if parameter_uncertainty else "")
    )
    level = 0.95
    return Counterfactual(
        monthly=monthly,
        periods=_period_table(monthly, simulated, level, _periods_in_window(window, periods, financial_years), figures),
        model=description,
        order=order,
        seasonal_order=seasonal,
        fit_start=train.index[0],
        fit_end=train.index[-1],
        candidates=candidates,
        simulated=simulated,
        level=level,
        figures=figures,
    )


# --------------------------------------------------------------------------- interrupted time series


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
