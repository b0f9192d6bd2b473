"""Tests of values every layer makes, defined once."""

from __future__ import annotations

import pandas as pd


def is_missing(value: object) -> bool:
    """True for a missing value: None, NaN (float or numpy) or pandas' NA/NaT; False for any other scalar."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array is a value, not a missing one
        return False
