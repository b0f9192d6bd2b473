"""Metropolitan Police recorded crime by borough, month and category (London Datastore, CRIS-era layout).

The official files are wide: one row per (major category, minor category, borough) and one column per
month ``YYYYMM``. ``read_borough_crime`` turns one or more of them into one tidy long table with the
columns month, borough, major_category, minor_category, count, and checks it: the columns are there,
counts are non-negative whole numbers within int64 (``errors.whole_counts``), no row is duplicated, months run without a gap across the files,
every borough is known, and every borough that must be there is (a borough missing from one extract would
otherwise read as no crime at all). Errors name the file, its line and the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import SourceFormatError, file_line, read_csv_text, whole_counts

ID_COLUMNS = {"MajorText": "major_category", "MinorText": "minor_category", "LookUp_BoroughName": "borough"}
MONTH_COLUMN = re.compile(r"^\d{6}$")
AIRPORTS = "London Heathrow and London City Airports"
CITY_OF_LONDON = "City of London"  # policed by the City of London Police, not the MPS

TIDY_SCHEMA = pa.DataFrameSchema(
    {
        "month": pa.Column("datetime64[ns]", nullable=False),
        "borough": pa.Column(str, nullable=False),
        "major_category": pa.Column(str, nullable=False),
        "minor_category": pa.Column(str, nullable=False),
        "count": pa.Column("int64", pa.Check.ge(0), nullable=False),
    },
    unique=["month", "borough", "major_category", "minor_category"],
    strict=True,
    ordered=True,
)


def _read_wide(path: Path) -> pd.DataFrame:
    wide = read_csv_text(
        path,
        list(ID_COLUMNS),
        hint=" (is this a CONNECT-era '_connect' file? those use BoroughName and must not be joined to CRIS months)",
    )
    if wide.empty:
        raise SourceFormatError(path, "has a header but no data rows")
    return wide


def month_columns(path: Path, wide: pd.DataFrame, id_columns: Iterable[str] = ID_COLUMNS) -> list[str]:
    """The YYYYMM columns of an MPS wide file, checked: nothing else beside `id_columns`, valid months, in order,
    no month missing; an error names the file and column."""
    ids = set(id_columns)
    months = [c for c in wide.columns if MONTH_COLUMN.match(str(c))]
    extra = [c for c in wide.columns if c not in ids and c not in months]
    if extra:
        raise SourceFormatError(
            path, f"unexpected column(s) {extra}; expected only month columns YYYYMM", column=extra[0]
        )
    if not months:
        raise SourceFormatError(path, "no month columns (YYYYMM) found")
    stamps = pd.to_datetime(months, format="%Y%m", errors="coerce")
    for col, ts in zip(months, stamps, strict=False):
        if pd.isna(ts):
            raise SourceFormatError(path, f"month column {col!r} is not a valid YYYYMM month", column=col)
    expected = pd.date_range(stamps.min(), stamps.max(), freq="MS")
    gaps = expected.difference(stamps)
    if len(gaps):
        raise SourceFormatError(path, f"month(s) missing from the columns: {', '.join(gaps.strftime('%Y%m'))}")
    if list(stamps) != sorted(stamps):
        raise SourceFormatError(path, "month columns are not in order")
    return months


def _counts(path: Path, wide: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    return whole_counts(
        path,
        wide[months],
        context=lambda i: f"{wide.at[i, 'LookUp_BoroughName']}, {wide.at[i, 'MinorText']}",
    )


def check_ids(
    path: Path, wide: pd.DataFrame, id_columns: Iterable[str], describe: Callable[[object], str] | None = None
) -> None:
    """No blank identifying value, and no row twice (the same categories and borough); errors name file and line,
    and the row as `describe` (given its index) says it, as ``errors.whole_counts``'s context does."""
    ids = list(id_columns)
    for col in ids:
        blank = wide[col].str.strip() == ""
        if blank.any():
            raise SourceFormatError(path, "empty value", row=file_line(blank.idxmax()), column=col)
    dup = wide.duplicated(ids, keep="first")
    if dup.any():
        pos = dup.idxmax()
        first = wide.index[(wide[ids] == wide.loc[pos, ids]).all(axis=1)][0]
        named = f"{describe(pos)}, " if describe else ""
        raise SourceFormatError(
            path, f"duplicated row: {named}same categories and borough as line {file_line(first)}", row=file_line(pos)
        )


def check_boroughs(
    path: Path,
    wide: pd.DataFrame,
    column: str,
    not_boroughs: Iterable[str],
    known_boroughs: Iterable[str] | None,
    required_boroughs: Iterable[str] | None,
) -> None:
    """`known_boroughs`: any other name in `column` but `not_boroughs` (airports, unknown) is an error;
    `required_boroughs`: each must have rows, since a borough missing from a file would read as no crime."""
    if known_boroughs is not None:
        unknown = ~wide[column].isin(set(known_boroughs) | set(not_boroughs))
        if unknown.any():
            pos = unknown.idxmax()
            raise SourceFormatError(
                path, f"unknown borough {wide.loc[pos, column]!r}", row=file_line(pos), column=column
            )
    if required_boroughs is not None:
        missing = sorted(set(required_boroughs) - set(wide[column]))
        if missing:
            raise SourceFormatError(
                path,
                f"no rows for borough(s) {', '.join(missing)}: every borough must be in every extract "
                "(a missing borough would read as no crime)",
                column=column,
            )


def long_table(wide: pd.DataFrame, counts: pd.DataFrame, months: list[str], id_columns: dict[str, str]) -> pd.DataFrame:
    """A wide MPS file's checked counts as the tidy long table (month, borough, major_category, minor_category,
    count), sorted; `id_columns` maps the file's identifying columns to the tidy names."""
    counts = counts.set_axis(pd.to_datetime(months, format="%Y%m"), axis=1)
    ids = wide[list(id_columns)].rename(columns=id_columns).astype(str)
    long = pd.concat([ids, counts], axis=1).melt(
        id_vars=list(id_columns.values()), var_name="month", value_name="count"
    )
    long["month"] = pd.to_datetime(long["month"]).astype("datetime64[ns]")
    long = long[["month", "borough", "major_category", "minor_category", "count"]]
    return long.sort_values(["month", "borough", "major_category", "minor_category"], ignore_index=True)


def read_borough_file(
    path: Path | str, known_boroughs: Iterable[str] | None = None, required_boroughs: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read one official wide borough-level file into the tidy long table (month, borough, categories, count).

    `known_boroughs`: any other borough name (bar the airports) is an error; `required_boroughs`: each must
    have rows in the file.
    """
    path = Path(path)
    wide = _read_wide(path)
    months = month_columns(path, wide)
    check_ids(path, wide, ID_COLUMNS)
    check_boroughs(path, wide, "LookUp_BoroughName", (AIRPORTS,), known_boroughs, required_boroughs)
    return long_table(wide, _counts(path, wide, months), months, ID_COLUMNS)


def read_borough_crime(
    paths: Sequence[Path | str],
    known_boroughs: Iterable[str] | None = None,
    required_boroughs: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read consecutive official extracts into one continuous monthly tidy table; gaps and overlaps are errors."""
    known = list(known_boroughs) if known_boroughs is not None else None
    required = list(required_boroughs) if required_boroughs is not None else None
    parts = [read_borough_file(p, known, required) for p in paths]
    for (prev_path, prev), (path, part) in zip(
        zip(paths, parts, strict=False), zip(paths[1:], parts[1:], strict=False), strict=False
    ):
        expected = prev["month"].max() + pd.offsets.MonthBegin(1)
        if part["month"].min() != expected:
            raise SourceFormatError(
                path,
                f"starts at {part['month'].min():%Y-%m} but {Path(prev_path).name} ends at "
                f"{prev['month'].max():%Y-%m}: the extracts must join without a gap or overlap",
            )
    tidy = pd.concat(parts, ignore_index=True)
    try:
        return TIDY_SCHEMA.validate(tidy)
    except pa.errors.SchemaError as exc:
        names = ", ".join(str(Path(p).name) for p in paths)
        raise SourceFormatError(names, f"tidy table failed validation: {exc}") from exc
