"""Remember London-wide tables that every borough's chapters would otherwise derive again from the same data.

The tidy tables come from ``datasets`` (loaded once per process) and stay the same objects for the life of a
kernel, and a warm kernel (``kernels``) runs many notebooks and boroughs. A table derived from them that does
not depend on the borough (a measure's rows across London, financial-year totals for all 32 boroughs) is
computed once and handed to every later caller.

Keys are the identity (with shape and columns) of each table argument plus the values of the other
arguments. The memo holds a reference to the input tables, so an id cannot be reused by another table while
it is remembered; the oldest entries are dropped past `maxsize`. Results are the remembered objects
themselves (so that a remembered selection can key the next memo, e.g. its totals) and, like the inputs,
must not be changed in place: nothing in the library modifies a loaded, selected or totalled table, and
the chapters only call the library. A table changed in place would keep its old remembered results.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TypeVar

import numpy as np
import pandas as pd

F = TypeVar("F", bound=Callable)


def _key_part(value, nested: bool = False):
    """A hashable stand-in for an argument: tables by identity and shape, collections by their items.

    A table inside a collection is not kept alive by the memo, so its id could be reused: such calls are not
    remembered (TypeError, as for anything unhashable).
    """
    if isinstance(value, (pd.DataFrame, pd.Series)):
        if nested:
            raise TypeError("a table inside a collection is not remembered")
        columns = tuple(value.columns) if isinstance(value, pd.DataFrame) else value.name
        return ("table", id(value), value.shape, columns)
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(value))
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return ("items", tuple(_key_part(v, nested=True) for v in value))
    return ("value", value)


def by_table_identity(maxsize: int = 256) -> Callable[[F], F]:
    """Memoise a function whose table arguments are never modified, keyed by those tables' identity.

    Arguments that cannot be hashed even as items are passed through: the call is then made, not remembered.
    Safe to call from several threads.
    """

    def decorate(func: F) -> F:
        remembered: OrderedDict = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                key = (tuple(_key_part(a) for a in args), tuple(sorted((k, _key_part(v)) for k, v in kwargs.items())))
                hash(key)
            except TypeError:
                return func(*args, **kwargs)
            with lock:
                hit = remembered.get(key)
                if hit is not None:
                    remembered.move_to_end(key)
                    return hit[1]
            result = func(*args, **kwargs)
            tables = [a for a in _flat(args, kwargs) if isinstance(a, (pd.DataFrame, pd.Series))]
            with lock:
                remembered[key] = (tables, result)
                while len(remembered) > maxsize:
                    remembered.popitem(last=False)
            return result

        def cache_clear() -> None:
            with lock:
                remembered.clear()

        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _flat(args: Iterable, kwargs: dict) -> Iterable:
    yield from args
    yield from kwargs.values()
