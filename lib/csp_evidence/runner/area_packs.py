"""Which pack a params file asks for, and which chapters it contains, without the chapters' statistics.

`csp` calls these on every start (`csp pack` with nothing to rebuild included); `chapters.area` builds the police.uk
chapter itself and imports scipy's statistics, which a run that only checks its pack must not pay for (about half a
CPU-second). The names of the police.uk chapter's notebooks live here for the same reason.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, TypeVar

from csp_evidence.core.params import Params
from csp_evidence.core.periods import period_months, previous_period
from csp_evidence.data import datasets, geography

AREA_NOTEBOOKS = ("07_area_policeuk",)  # the chapters of a pack for a CSP outside the MPS boroughs


class _Named(Protocol):
    @property
    def stem(self) -> str: ...


NotebookT = TypeVar("NotebookT", bound=_Named)


def is_area_pack(params: Params) -> bool:
    """True for params naming an area outside the 32 MPS boroughs (its pack is built from police.uk)."""
    if not params.area:
        return False
    area, _ = geography.params_area(params)
    return area.borough is None


def with_borough(params: Params) -> Params:
    """Params naming a London borough by `area` read as the borough's params (its MPS name in `borough`)."""
    if params.borough or not params.area:
        return params
    area, _ = geography.params_area(params)
    return dataclasses.replace(params, borough=area.borough) if area.borough else params


def chapters_for(params: Params, notebooks: list[NotebookT]) -> list[NotebookT]:
    """The notebooks of this params' pack: the police.uk chapter for an area outside London, the others for a
    borough. Notebooks are paths (or anything with a `stem`)."""
    if is_area_pack(params):
        return [nb for nb in notebooks if nb.stem in AREA_NOTEBOOKS]
    return [nb for nb in notebooks if nb.stem not in AREA_NOTEBOOKS]


def check_area_data(params: Params) -> None:
    """Before a police.uk area's pack runs: its params name a headline period and the police.uk months it needs
    are locked, with rows placed in the area; a ValueError says what to set or fetch. (The chapter checks again
    as it builds; this is the run's early, cheap check, with no statistics imported.)"""
    area, _ = geography.params_area(params)
    if not params.headline_period:
        raise ValueError(f"params {params.name!r}: a police.uk area needs headline_period, e.g. '12 months to 2025-12'")
    current = period_months(params.headline_period)
    before = period_months(previous_period(params.headline_period))
    months = {f"{m:%Y-%m}" for m in current.append(before)}
    placed = datasets.area_street()
    if placed is None or not months <= set(placed["month"]):
        raise ValueError(
            f"the police.uk months {min(months)} to {max(months)} are not all locked: run `csp fetch --source "
            f"policeuk --params params/{params.name}.yml` (add `--from FOLDER` for files already downloaded)"
        )
    if area.csp not in set(placed["csp"]):
        raise ValueError(f"no police.uk rows are placed in {area.name} in the months held")
