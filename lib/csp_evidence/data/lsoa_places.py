"""Placing LSOA codes in their ward, authority, CSP, force area and region, given the geography table.

The pure part of ``data.geography``'s placing: functions of a table of codes and ``datasets.lsoa_geography``'s
table, so that a reader (``readers.policeuk``) places rows without importing the datasets that import it.
``geography.place_lsoas`` and ``geography.lsoa_vintage`` are these, with the locked geography table.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.readers.ons_geography import VINTAGES

# The columns `place` adds to a table of LSOA codes.
PLACE_COLUMNS = (
    "lsoa_name",
    "ward",
    "ward_name",
    "lad",
    "lad_name",
    "csp",
    "csp_name",
    "pfa",
    "pfa_name",
    "region",
    "region_name",
    "country",
    "country_name",
)


class UnplacedLsoaError(SourceFormatError):
    """A row's LSOA code is in no ONS lookup of its vintage."""


def check_vintage(value: object) -> int:
    if value not in VINTAGES:
        raise ValueError(f"LSOA vintage {value!r}: the lookups hold the {' and '.join(map(str, VINTAGES))} LSOAs")
    return int(value)


def code_sets(geography: pd.DataFrame) -> dict[int, frozenset[str]]:
    """The LSOA codes of each vintage in the geography table."""
    return {v: frozenset(geography.loc[geography["vintage"] == v, "lsoa"]) for v in VINTAGES}


def vintage_of(codes: Iterable[object], path: Path | str, sets: dict[int, frozenset[str]]) -> int:
    """Which LSOA set a file's codes are from: 2021 if any code is a 2021-only code, 2011 if any is 2011-only; a
    file mixing the two raises naming it. Codes in both sets (most: an unchanged LSOA keeps its code) are placed
    alike by either lookup, so a file of those alone reads as 2021."""
    found = {c for c in codes if isinstance(c, str) and c}
    only11 = sorted(found & (sets[2011] - sets[2021]))
    only21 = sorted(found & (sets[2021] - sets[2011]))
    if only11 and only21:
        raise SourceFormatError(
            path,
            f"mixes 2011 LSOA codes ({', '.join(only11[:3])}, ...) and 2021 LSOA codes ({', '.join(only21[:3])}, ...)",
            column="LSOA code",
        )
    return 2011 if only11 else 2021


def place(
    rows: pd.DataFrame,
    vintage: int | str,
    geography: pd.DataFrame,
    *,
    code: str = "lsoa",
    file: str = "file",
    line: str = "line",
) -> pd.DataFrame:
    """`rows` with the PLACE_COLUMNS of each row's LSOA added, from the `geography` table (``geography.place_lsoas``
    says the rest)."""
    for column in (code, file, line, *([vintage] if isinstance(vintage, str) else [])):
        if column not in rows.columns:
            raise KeyError(f"place_lsoas: the table has no column {column!r}; its columns: {list(rows.columns)}")
    vintages = rows[vintage] if isinstance(vintage, str) else pd.Series(check_vintage(vintage), index=rows.index)
    for v in vintages.dropna().unique():
        check_vintage(v)
    table = geography.set_index(["lsoa", "vintage"])[list(PLACE_COLUMNS)]
    codes = rows[code].where(rows[code].notna() & (rows[code].astype(str) != ""))
    keys = pd.MultiIndex.from_arrays([codes.astype(object), vintages.astype("int64")], names=["lsoa", "vintage"])
    placed = table.reindex(keys)
    unknown = codes.notna().to_numpy() & placed["lad"].isna().to_numpy()
    if unknown.any():
        first = rows.index[unknown][0]
        bad = rows.loc[rows.index[unknown]]
        in_file = int((bad[file] == rows.at[first, file]).sum())
        raise UnplacedLsoaError(
            rows.at[first, file],
            f"LSOA code {rows.at[first, code]!r} is in no ONS lookup of {int(vintages[first])} LSOAs "
            f"({in_file} such row(s) in this file, {int(unknown.sum())} in all)",
            row=int(rows.at[first, line]),
            column="LSOA code",
        )
    placed.index = rows.index
    return pd.concat([rows, placed], axis=1)
