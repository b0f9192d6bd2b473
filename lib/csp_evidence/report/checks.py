"""Checks of a chapter's figures against reference values with a stated tolerance (the notebooks' check cells).

A check cell used to print figures for nbval to compare as text, so a figure whose last printed digit moved
with the machine failed the test, and the printed text was the only statement of what was expected.
``check_figures`` states the reference values and the tolerance in the cell itself, raises an AssertionError
naming every figure that differs, and returns one line that stays the same while the figures agree (nbval
still compares it). The reference values belong to one run, the default params (``REFERENCE_PARAMS``, as in
``params/tower-hamlets.yml``); a run with other params is not checked, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

# The params the reference values in the notebooks' check cells were made with (params/tower-hamlets.yml).
REFERENCE_PARAMS = {
    "borough": "Tower Hamlets",
    "headline_year": "2019/20",
    "covid_start": "2020-03",
    "small_number_threshold": 10,
}


def reference_run(**params) -> bool:
    """Whether the given notebook parameters are those of the reference run (only the ones named are compared)."""
    unknown = set(params) - set(REFERENCE_PARAMS)
    if unknown:
        raise ValueError(
            f"reference_run: no reference value for {', '.join(sorted(unknown))}; known: {', '.join(REFERENCE_PARAMS)}"
        )
    return all(REFERENCE_PARAMS[k] == v for k, v in params.items())


def _plain(value):
    """numpy scalars as the Python numbers they hold (so messages show 474, not np.int64(474))."""
    return value.item() if isinstance(value, np.generic) else value


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _agrees(value, reference, rel: float | None) -> bool:
    if _missing(reference) or _missing(value):
        return _missing(reference) and _missing(value)
    if rel is None:
        return value == reference
    if isinstance(value, (bool, str)) or isinstance(reference, (bool, str)):
        return value == reference
    return math.isclose(float(value), float(reference), rel_tol=rel, abs_tol=0.0)


def _percent(rel: float) -> str:
    return f"{100 * rel:g}%"


def check_figures(
    label: str, figures: Mapping, reference: Mapping | None, rel: Mapping[str, float] | None = None
) -> str:
    """Compare `figures` with `reference`; one stable line when every referenced figure agrees, else AssertionError.

    Figures named in `rel` may differ from their reference by that fraction of it (0.01 = 1%); every other
    figure (counts, ranks, verdicts, years, text) must be equal. Only the figures `reference` names are
    checked, and each must be present in `figures`. With `reference` None (a run with other params than the
    reference run's) nothing is checked and the line says so.
    """
    rel = dict(rel or {})
    if reference is None:
        return f"{label}: not checked (the reference figures are for the default params)"
    unknown = set(rel) - set(reference)
    if unknown:
        raise ValueError(f"rel names figures with no reference value: {', '.join(sorted(unknown))}")
    problems = []
    for name, expected in reference.items():
        if name not in figures:
            problems.append(f"{name}: missing (reference {expected!r})")
            continue
        value = _plain(figures[name])
        if not _agrees(value, expected, rel.get(name)):
            allowed = f"within {_percent(rel[name])}" if name in rel else "exactly"
            problems.append(f"{name}: {value!r}, reference {expected!r} ({allowed})")
    if problems:
        raise AssertionError(
            f"{label}: {len(problems)} of {len(reference)} figures differ from the reference:\n  "
            + "\n  ".join(problems)
        )
    if rel:
        tolerances = sorted(set(rel.values()))
        within = "; ".join(
            f"{', '.join(n for n in reference if rel.get(n) == t)} within {_percent(t)}" for t in tolerances
        )
        how = f"{within}, the rest exactly" if len(rel) < len(reference) else within
    else:
        how = "all exactly"
    return f"{label}: {len(reference)} figures agree with the reference ({how})"
