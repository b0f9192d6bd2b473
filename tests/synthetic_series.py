"""Synthetic monthly crime counts with planted structure, for the time-series tests (seeded, deterministic)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
