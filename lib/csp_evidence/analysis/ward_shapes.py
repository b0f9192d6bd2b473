"""Ward shapes for the maps: published ward boundaries where the mirror has them, otherwise wards built from LSOAs.

The mirror holds London's 2018 wards (GLA), which are also the May 2022 wards of the seven boroughs not redrawn
then, and London's 2021 LSOAs (ONS). For a borough whose wards are all among the 2018 wards, those shapes are
used as published. Otherwise each May 2022 ward is drawn as the union of the 2021 LSOAs the ONS best-fit lookup puts
in it: approximate (LSOA edges, not ward edges), and a ward no LSOA is best-fitted to has no shape. ``WardShapes``
says which was done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import shapely


@dataclass(frozen=True)
class WardShapes:
    """Polygons by ward code, how they were made and which wards have none."""

    shapes: dict[str, object] = field(default_factory=dict)
    method: str = "none"  # 'published' (ward boundaries), 'lsoa' (union of best-fitted LSOAs) or 'none'
    missing: tuple[str, ...] = ()  # wards of the data with no shape

    @property
    def approximate(self) -> bool:
        return self.method == "lsoa"

    @property
    def drawable(self) -> bool:
        return bool(self.shapes)


def ward_shapes(
    codes: Sequence[str],
    wards: pd.DataFrame | None,
    lsoas: pd.DataFrame | None = None,
    lookup: pd.DataFrame | None = None,
    lsoa_column: str = "lsoa21",
    ward_column: str = "ward22",
) -> WardShapes:
    """Shapes for the ward `codes`: from `wards` (code, wkb) when it has every one; else dissolved from `lsoas` (code,
    wkb) through `lookup` (`lsoa_column` -> `ward_column`) when both are given; else none."""
    codes = list(dict.fromkeys(map(str, codes)))
    if wards is not None and set(codes) <= set(wards["code"]):
        rows = wards.set_index("code").loc[codes, "wkb"]
        return WardShapes({c: shapely.from_wkb(w) for c, w in rows.items()}, "published")
    if lsoas is None or lookup is None:
        return WardShapes(method="none", missing=tuple(codes))
    fitted = lookup[lookup[ward_column].isin(codes)][[lsoa_column, ward_column]]
    polygons = lsoas.set_index("code")["wkb"]
    fitted = fitted[fitted[lsoa_column].isin(polygons.index)]
    shapes = {}
    for ward, group in fitted.groupby(ward_column):
        parts = shapely.from_wkb(polygons.loc[group[lsoa_column]].to_numpy())
        shapes[str(ward)] = shapely.union_all(shapely.buffer(parts, 0.5)).buffer(-0.5)  # close slivers between LSOAs
    missing = tuple(c for c in codes if c not in shapes)
    return WardShapes({c: shapes[c] for c in codes if c in shapes}, "lsoa" if shapes else "none", missing)
