"""Remember London-wide tables that every borough's chapters would otherwise derive again from the same data.

The tidy tables come from ``datasets`` (loaded once per process) and stay the same objects for the life of a
kernel, and a warm kernel (``kernels``) runs many notebooks and boroughs. A table derived from them that does
not depend on the borough (a measure's rows across London, financial-year totals for all 32 boroughs) is
computed once and handed to every later caller.

Keys are the identity of each table argument plus the values of the other arguments. The memo holds a
reference to the input tables, so an id cannot be reused by another table while it is remembered; the oldest
entries are dropped past `maxsize`. Results are shared between callers: the library treats them as read-only
(nothing modifies a selected or totalled table in place; the tests check results are unchanged by reuse).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import pandas as pd

F = TypeVar("F", bound=Callable)


def _key_part(value):
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return ("table", id(value))
    if isinstance(value, list):
        return ("list", tuple(value))
    return ("value", value)


def by_table_identity(maxsize: int = 256) -> Callable[[F], F]:
    """Memoise a function whose table arguments are never modified, keyed by those tables' identity."""

    def decorate(func: F) -> F:
        remembered: OrderedDict = OrderedDict()

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            key = (tuple(_key_part(a) for a in args), tuple(sorted((k, _key_part(v)) for k, v in kwargs.items())))
            hit = remembered.get(key)
            if hit is not None:
                remembered.move_to_end(key)
                return hit[1]
            result = func(*args, **kwargs)
            tables = [a for a in (*args, *kwargs.values()) if isinstance(a, (pd.DataFrame, pd.Series))]
            remembered[key] = (tables, result)
            if len(remembered) > maxsize:
                remembered.popitem(last=False)
            return result

        wrapper.cache_clear = remembered.clear  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
