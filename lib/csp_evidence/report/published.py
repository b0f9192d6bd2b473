"""A last check of the figures a run publishes: none that cannot be negative is negative.

A count, a rate, a population, a rank or a p-value below zero is always a fault upstream (a count that wrapped
round, a sign lost in a subtraction): published, it would be read as a figure. ``negative_figures`` lists every
such value in a chapter's headline JSON (at any depth, by its key), and the runner refuses to publish a run that
has one, naming the chapter, the key and the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

# Keys of headline figures that cannot be negative: counts, rates, populations, ranks and p-values. Changes,
# differences, gaps, z-scores, excesses and interval bounds of a change can be, and are not listed.
NON_NEGATIVE = frozenset(
    {
        "asb_incidents",
        "base_rate",
        "count",
        "earlier",
        "earlier_london",
        "expected",
        "force_asb_incidents",
        "incidents",
        "latest",
        "latest_london",
        "lockdown_expected",
        "lockdown_observed",
        "london_rate",
        "london_rate_per_1000",
        "months",
        "observed",
        "offenders",
        "offences",
        "p_value",
        "pandemic_count",
        "pandemic_london_rate",
        "pandemic_p_value",
        "pandemic_rank",
        "pandemic_rate",
        "per_reoffender",
        "plan_p_value",
        "plan_rel_p_value",
        "population",
        "previous",
        "rank",
        "ranked",
        "rate",
        "rate_per_1000",
        "rate_rank",
        "rel_p_value",
        "reoffenders",
        "total_offences",
    }
)


def negative_figures(figures: object, where: str = "") -> Iterator[str]:
    """'key.path = value' for each number under a NON_NEGATIVE key of `figures` (a headline JSON) below zero."""
    if isinstance(figures, dict):
        for key, value in figures.items():
            path = f"{where}.{key}" if where else str(key)
            if key in NON_NEGATIVE and _negative(value):
                yield f"{path} = {value!r}"
            else:
                yield from negative_figures(value, path)
    elif isinstance(figures, list):
        for n, value in enumerate(figures):
            yield from negative_figures(value, f"{where}[{n}]")


def _negative(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value) and value < 0
