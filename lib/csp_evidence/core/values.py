"""Tests of values every layer makes, defined once."""

from __future__ import annotations

import pandas as pd


def is_missing(value: object) -> bool:
    """True for a missing value: None, NaN (float or numpy) or pandas' NA/NaT; False for any other value (a list or
    an array is a value, even of NaNs). The one missing-value test of the library, in place of `x != x`."""
    if value is None:
        return True
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))
