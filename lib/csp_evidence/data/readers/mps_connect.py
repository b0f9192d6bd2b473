"""Metropolitan Police recorded crime by borough, month and category: the CONNECT-era extracts (London Datastore).

Since the MPS moved to its CONNECT system (early 2024) its borough files are a different series from the CRIS-era
ones (``readers.mps``): the borough is where the offence happened (applied back to 2010), the borough column is
``BoroughName``, categories are UPPER CASE and coarser, and an ``Unknown`` borough holds offences not placed in any
borough. The two series are never joined: this reader refuses a CRIS-era file, and ``readers.mps`` a CONNECT one.

Extracts overlap: a later "most recent 24 months" file revises months an earlier one already held. ``join_extracts``
makes one monthly series in which each month comes from the latest extract that holds it, refusing a gap, and
``revisions`` measures how much the months held twice were revised. The tidy table has ``readers.mps``'s columns
(month, borough, major_category, minor_category, count); errors name the file, its line and the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import SourceFormatError, read_csv_text, whole_counts
from csp_evidence.data.readers.mps import AIRPORTS, TIDY_SCHEMA, check_boroughs, check_ids, long_table, month_columns

ID_COLUMNS = {"MajorText": "major_category", "MinorText": "minor_category", "BoroughName": "borough"}
UNKNOWN_BOROUGH = "Unknown"  # offences the MPS could not place in a borough: in London's total, never ranked
NOT_BOROUGHS = (AIRPORTS, UNKNOWN_BOROUGH)


def _read_wide(path: Path) -> pd.DataFrame:
    wide = read_csv_text(
        path,
        list(ID_COLUMNS),
        hint=" (is this a CRIS-era file? those use LookUp_BoroughName and must not be joined to CONNECT months)",
    )
    if wide.empty:
        raise SourceFormatError(path, "has a header but no data rows")
    return wide


def read_connect_file(
    path: Path | str, known_boroughs: Iterable[str] | None = None, required_boroughs: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read one CONNECT-era wide borough file into the tidy long table (month, borough, categories, count)."""
    path = Path(path)
    wide = _read_wide(path)
    months = month_columns(path, wide, ID_COLUMNS)

    def row(i: object) -> str:
        return f"{wide.at[i, 'BoroughName']}, {wide.at[i, 'MinorText']}"

    check_ids(path, wide, ID_COLUMNS, describe=row)
    check_boroughs(path, wide, "BoroughName", NOT_BOROUGHS, known_boroughs, required_boroughs)
    counts = whole_counts(path, wide[months], context=row)
    return long_table(wide, counts, months, ID_COLUMNS)


def latest_holder(extracts: Sequence[pd.DataFrame], names: Sequence[str]) -> pd.Series:
    """For every month any extract holds, the name of the latest extract (last in `extracts`, oldest first) that
    holds it: a month-indexed Series. A month missing between the first and the last is an error naming the
    extracts either side."""
    if len(extracts) != len(names) or not extracts:
        raise ValueError("latest_holder needs one name for each of at least one extract")
    holder: dict[pd.Timestamp, str] = {}
    for part, name in zip(extracts, names, strict=True):
        for month in pd.DatetimeIndex(part["month"].unique()):
            holder[month] = name  # a later extract replaces an earlier one
    series = pd.Series(holder, name="extract").sort_index()
    series.index = pd.DatetimeIndex(series.index, name="month")
    expected = pd.date_range(series.index.min(), series.index.max(), freq="MS")
    gaps = expected.difference(series.index)
    if len(gaps):
        before = series[series.index < gaps[0]].iloc[-1]
        after = series[series.index > gaps[0]].iloc[0]
        raise SourceFormatError(
            after,
            f"no extract holds {', '.join(gaps.strftime('%Y-%m'))}: {before} ends before it and {after} starts "
            "after it; the extracts must join without a gap",
        )
    return series


def join_extracts(extracts: Sequence[pd.DataFrame], names: Sequence[str]) -> pd.DataFrame:
    """One monthly tidy series from extracts given oldest first: each month from the latest extract that holds it
    (never a month twice, never a gap), validated against the tidy schema."""
    holder = latest_holder(extracts, names)
    parts = [part[part["month"].isin(holder.index[holder == name])] for part, name in zip(extracts, names, strict=True)]
    tidy = pd.concat(parts, ignore_index=True).sort_values(
        ["month", "borough", "major_category", "minor_category"], ignore_index=True
    )
    try:
        return TIDY_SCHEMA.validate(tidy)
    except pa.errors.SchemaError as exc:
        raise SourceFormatError(", ".join(names), f"joined table failed validation: {exc}") from exc


def revisions(extracts: Sequence[pd.DataFrame], names: Sequence[str]) -> pd.DataFrame:
    """How the months held by more than one extract were revised: one row per month and borough (all categories
    together, since extracts also regroup categories), each earlier extract's count beside the latest's.

    Columns: month, borough, earlier_extract, earlier, latest_extract, latest, revision (latest - earlier).
    Empty when no month is held twice.
    """
    holder = latest_holder(extracts, names)
    totals = {
        name: part.groupby(["month", "borough"])["count"].sum() for part, name in zip(extracts, names, strict=True)
    }
    frames = []
    for part_name, total in totals.items():
        superseded = total[total.index.get_level_values("month").map(holder) != part_name]
        for month in superseded.index.get_level_values("month").unique():
            latest_name = holder[month]
            earlier = superseded.xs(month, level="month")
            latest = totals[latest_name].xs(month, level="month").reindex(earlier.index, fill_value=0)
            frames.append(
                pd.DataFrame(
                    {
                        "month": month,
                        "borough": earlier.index,
                        "earlier_extract": part_name,
                        "earlier": earlier.to_numpy(),
                        "latest_extract": latest_name,
                        "latest": latest.to_numpy(),
                    }
                )
            )
    columns = ["month", "borough", "earlier_extract", "earlier", "latest_extract", "latest", "revision"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out["revision"] = out["latest"] - out["earlier"]
    return out[columns].sort_values(["month", "borough", "earlier_extract"], ignore_index=True)


def read_connect_crime(
    paths: Sequence[Path | str],
    known_boroughs: Iterable[str] | None = None,
    required_boroughs: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Read CONNECT-era extracts (oldest first) into the joined tidy series, the revisions of the months held twice
    and the file each month was taken from (`latest_holder`, by file name)."""
    known = list(known_boroughs) if known_boroughs is not None else None
    required = list(required_boroughs) if required_boroughs is not None else None
    extracts = [read_connect_file(p, known, required) for p in paths]
    names = [Path(p).name for p in paths]
    return join_extracts(extracts, names), revisions(extracts, names), latest_holder(extracts, names)
