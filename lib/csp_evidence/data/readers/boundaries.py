"""Boundary files (ESRI shapefile, MapInfo table) as a table of area codes and polygons, for the pack's maps.

The files are read through GDAL (pyogrio's wheels bundle it), which reads both formats the mirror holds: the ONS
London LSOA shapefiles and the GLA's London wards in MapInfo. ``read_boundaries`` returns code, name, parent (the
local authority code) and geometry as WKB bytes (so the table caches as parquet), and checks it: the fields are
there, every feature has a polygon, codes are ONS codes of the expected kind and none repeats. Errors name the file,
the feature and the field. Coordinates are kept as published (British National Grid, metres).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from csp_evidence.data.readers.errors import SourceFormatError


def read_boundaries(
    path: Path | str, code_field: str, name_field: str, parent_field: str, code_pattern: str
) -> pd.DataFrame:
    """Read a boundary file's polygons: code, name, parent, wkb (one row per feature, in file order)."""
    import pyogrio  # GDAL is loaded only when a map is drawn
    import shapely

    path = Path(path)
    if not path.is_file():
        raise SourceFormatError(path, "file not found")
    try:
        meta, _, geometry, values = pyogrio.raw.read(path)
    except Exception as exc:  # GDAL's errors (DataSourceError, DataLayerError, ...) share no useful base
        raise SourceFormatError(path, f"cannot be read as a boundary file ({exc})") from exc
    fields = list(meta["fields"])
    for field in (code_field, name_field, parent_field):
        if field not in fields:
            raise SourceFormatError(path, f"missing field {field!r}; found {fields}", column=field)
    data = dict(zip(fields, values, strict=True))
    table = pd.DataFrame(
        {
            k: pd.Series(data[f]).astype(str).str.strip()
            for k, f in (("code", code_field), ("name", name_field), ("parent", parent_field))
        }
    )
    shapes = shapely.from_wkb(geometry)
    pattern = re.compile(code_pattern)
    for i, (code, shape) in enumerate(zip(table["code"], shapes, strict=True)):
        if not pattern.fullmatch(code):
            raise SourceFormatError(
                path, f"feature {i + 1}: code {code!r} does not match {code_pattern}", column=code_field
            )
        if shape is None or shape.is_empty or shape.geom_type not in ("Polygon", "MultiPolygon"):
            kind = "no geometry" if shape is None else f"a {shape.geom_type}"
            raise SourceFormatError(path, f"feature {i + 1} ({code}) has {kind}, not a polygon")
    repeated = table["code"].duplicated()
    if repeated.any():
        raise SourceFormatError(
            path, f"code {table['code'][repeated].iloc[0]!r} is on more than one feature", column=code_field
        )
    table["wkb"] = list(shapely.to_wkb(shapes))
    return table
