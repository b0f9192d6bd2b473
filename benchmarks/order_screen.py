"""Would a cheap pre-screen choose the same seasonal ARIMA orders? (README, Speed: not adopted.)

Each candidate of ``stats.sarima.DEFAULT_ORDERS`` is fitted by conditional sum of squares (CSS) and by the pack's
exact maximum likelihood (``_select_sarima``), on the pre-pandemic series of the chapters' crime measures for the
32 boroughs and London. For each series it reports how far above the best CSS AIC the order chosen by maximum
likelihood lies (the margin a CSS screen would need not to lose it), and how many candidates each margin keeps.

    CSP_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/order_screen.py [--series 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.signal import lfilter

from csp_evidence.analysis import priorities
from csp_evidence.analysis.covid import MIN_MONTHLY_MEAN
from csp_evidence.analysis.priorities import measure_rows
from csp_evidence.analysis.stats import sarima
from csp_evidence.analysis.summaries import monthly_series
from csp_evidence.data import datasets, geo

START = pd.Timestamp("2020-03-01")


def css_aic(w: np.ndarray, order: tuple, seasonal: tuple, period: int, skip: int, drift: bool) -> float:
    """The AIC of one candidate fitted to the differenced series `w` by conditional sum of squares.

    The innovations are (AR polynomial / MA polynomial) applied to w minus its mean (a mean only with `drift`),
    with pre-sample innovations zero, summed from observation `skip` on (the same for every candidate, so the
    AICs are of the same observations). Each lag polynomial has one coefficient, bounded inside (-1, 1), so the
    fit stays stationary and invertible. A few milliseconds where the exact likelihood takes a third of a second.
    """
    p, q, big_p, big_q = order[0], order[2], seasonal[0], seasonal[2]
    n_coef = p + q + big_p + big_q

    def polynomial(coef: np.ndarray, sign: int, lag_one: int, lag_s: int) -> np.ndarray:
        regular = np.r_[1.0, sign * coef[:lag_one]] if lag_one else np.ones(1)
        seasonal_part = np.zeros(period * lag_s + 1)
        seasonal_part[0] = 1.0
        if lag_s:
            seasonal_part[period] = sign * coef[lag_one]
        return np.polymul(regular, seasonal_part)

    def innovations(x: np.ndarray) -> np.ndarray:
        mean, coef = (x[0], x[1:]) if drift else (0.0, x)
        ar = polynomial(coef[: p + big_p], -1, p, big_p)
        ma = polynomial(coef[p + big_p :], 1, q, big_q)
        return lfilter(ar, ma, w - mean)[skip:]

    start = np.r_[[w.mean()] if drift else [], np.zeros(n_coef)]
    bound = np.r_[[np.inf] if drift else [], np.full(n_coef, 1 - 1e-6)]
    fit = least_squares(innovations, start, bounds=(-bound, bound), method="trf", x_scale="jac")
    n = len(w) - skip
    sigma2 = 2 * fit.cost / n
    return float(n * (np.log(2 * np.pi * sigma2) + 1) + 2 * (len(start) + 1))


def screen(y: pd.Series, orders: list, period: int) -> list[float] | None:
    """Each candidate's CSS AIC (``_css_aic``), or None where the screen does not apply (a lag polynomial of more
    than one coefficient)."""
    if any(max(o[0], o[2], s[0], s[2]) > 1 for o, s in orders):
        return None
    d, big_d = orders[0][0][1], orders[0][1][1]
    w = np.asarray(y, dtype=float)
    for _ in range(big_d):
        w = w[period:] - w[:-period]
    for _ in range(d):
        w = np.diff(w)
    skip = max(o[0] + period * s[0] for o, s in orders)
    drift = d + big_d <= 1
    return [css_aic(w, order, seasonal, period, skip, drift) for order, seasonal in orders]


def training_series() -> dict[tuple[str, str | None], pd.Series]:
    """log(count + 1) over the five years before the pandemic, for every measure and borough (None: London) that
    the chapters model (a monthly mean of at least MIN_MONTHLY_MEAN)."""
    crime, special = datasets.recorded_crime(), datasets.hate_special_crime()
    tables = [
        (crime, priorities.NEIGHBOURHOOD + priorities.VIOLENCE + (priorities.TOTAL,) + priorities.HATE),
        (special, priorities.SPECIAL + priorities.HATE_STRANDS + (priorities.DOMESTIC_ABUSE,)),
    ]
    found = {}
    for table, measures in tables:
        for measure in dict.fromkeys(measures):
            rows = measure_rows(table, measure)
            for borough in [*geo.mps_boroughs(), None]:
                pre = monthly_series(rows, borough).loc[: START - pd.DateOffset(months=1)].iloc[-60:]
                if len(pre) == 60 and pre.mean() >= MIN_MONTHLY_MEAN:
                    found[(measure.name, borough)] = np.log1p(pre).asfreq("MS")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=100, help="how many series, chosen at random")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    series = training_series()
    keys = sorted(series, key=str)
    random.Random(args.seed).shuffle(keys)
    orders = list(sarima.DEFAULT_ORDERS)
    gaps, kept, css_cpu, ml_cpu = [], [], 0.0, 0.0
    for key in keys[: args.series]:
        train = series[key]
        start = time.process_time()
        css = screen(train, orders, 12)
        css_cpu += time.process_time() - start
        start = time.process_time()
        _, table = sarima._select_sarima(train, orders, 12)
        ml_cpu += time.process_time() - start
        chosen = table.loc[table["chosen"]].iloc[0]
        assert css is not None
        gaps.append(css[orders.index((chosen["order"], chosen["seasonal_order"]))] - min(css))
        kept.append(np.array(css) - min(css))
    gaps_array = np.array(gaps)
    n = len(gaps)
    print(f"{n} of {len(series)} series; CPU s a series: CSS {css_cpu / n:.3f}, exact selection {ml_cpu / n:.3f}")
    print(
        "gap of the chosen order above the best CSS AIC, quantiles 50/90/99/100%:",
        np.quantile(gaps_array, [0.5, 0.9, 0.99, 1]).round(2),
    )
    for margin in (3, 4, 5, 6, 8):
        missed = int((gaps_array > margin).sum())
        mean_kept = np.mean([(k <= margin).sum() for k in kept])
        print(f"margin {margin}: {missed} series would lose their order; {mean_kept:.2f} of 8 candidates kept")


if __name__ == "__main__":
    main()
