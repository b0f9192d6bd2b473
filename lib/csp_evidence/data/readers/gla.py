"""GLA London Borough Profiles, used as the borough lookup: name, ONS code, inner or outer London."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.core.values import is_missing
from csp_evidence.data.readers.errors import MAX_COUNT, SourceFormatError, validation_summary

COLUMNS = {"Code": "code", "Area_name": "name", "Inner/_Outer_London": "inner_outer"}

SCHEMA = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(r"^E090000(0[1-9]|[12]\d|3[0-3])$"), unique=True),
        "name": pa.Column(str, unique=True),
        "inner_outer": pa.Column(str, pa.Check.isin(["Inner London", "Outer London"])),
    },
    strict=True,
)


def read_borough_lookup(path: Path | str) -> pd.DataFrame:
    """The 33 London local authorities (32 boroughs and the City of London): code, name, inner_outer."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise SourceFormatError(path, "file is missing or empty")
    # The file is cp1252 (a pound sign in one header) and has all-empty rows where aggregates were.
    table = pd.read_csv(path, encoding="latin-1", dtype=str)
    for col in COLUMNS:
        if col not in table.columns:
            raise SourceFormatError(path, "column missing", column=col)
    table = table[list(COLUMNS)].rename(columns=COLUMNS).dropna(how="all")
    table = table[table["code"].str.startswith("E09", na=False)].reset_index(drop=True)
    try:
        return SCHEMA.validate(table)
    except pa.errors.SchemaError as exc:
        raise SourceFormatError(path, f"borough lookup failed validation: {exc}") from exc


# --------------------------------------------------------------------------- State of London databases (SQLite)
#
# SECONDARY sources: the SQLite databases behind the GLA City Intelligence team's *State of London* report and
# dashboard, holding London-wide series that GLA staff loaded from MOPAC / MPS dashboards and MoJ statistics.
# Opened read-only through the standard library. The June 2024 chart database (``sol_v4``) keeps its series in
# table ``ind_dat`` (dataset, xwhich, xvarchar, xvardt, yval, yvllb, text, chart): dataset ``sol_asb`` is the
# number of anti-social behaviour *calls* received by the MPS in London each month (``xvardt`` the first day of
# the month, ``yvllb`` 'ASB Calls'), 2019-01 to 2024-03. The 2025 dashboard database (``sol_dash``) keeps its
# series in ``chart_data`` (dataset, xd, b, y, ...): dataset ``proven_reoffending`` is London's proven
# reoffending rate as a proportion, one value a year dated June (``xd`` 'YYYY-06-01'), 2013 to 2023; the
# cohort definition is not stated, and ``y`` carries floating-point noise (rounded here to 6 decimals).

SOL_SERIES_TABLE = "ind_dat"
SOL_ASB_DATASET = "sol_asb"
SOL_ASB_UNIT = "ASB Calls"
SOL_DASH_TABLE = "chart_data"
SOL_REOFFENDING_DATASET = "proven_reoffending"

ASB_CALLS_SCHEMA = pa.DataFrameSchema(
    {
        "month": pa.Column("datetime64[ns]", pa.Check(lambda s: s.dt.day == 1, name="first day of a month")),
        "calls": pa.Column("int64", pa.Check.ge(0)),
    },
    unique=["month"],
    strict=True,
)

LONDON_REOFFENDING_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column("int64", pa.Check.in_range(2000, 2100)),
        "area": pa.Column(str, pa.Check.isin(["London"])),
        "rate": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
    },
    unique=["year"],
    strict=True,
)


def _query(path: Path, table: str, columns: tuple[str, ...], dataset: str) -> pd.DataFrame:
    """The rows of `dataset` in `table` (its `columns`, as stored), from a database opened read-only; errors name
    the file, the table and the column."""
    if not path.is_file() or path.stat().st_size == 0:
        raise SourceFormatError(path, "file is missing or empty")
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceFormatError(path, f"cannot be opened as an SQLite database ({exc})") from exc
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        if table not in tables:
            raise SourceFormatError(path, f"table not found; the database has {sorted(tables)}", table=table)
        have = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        for col in columns:
            if col not in have:
                raise SourceFormatError(path, f"column missing; the table has {have}", table=table, column=col)
        select = ", ".join(f'"{c}"' for c in columns)
        cur = con.execute(f'SELECT {select} FROM "{table}" WHERE "dataset" = ? ORDER BY rowid', (dataset,))
        rows = pd.DataFrame(cur.fetchall(), columns=list(columns), dtype=object)
    except sqlite3.DatabaseError as exc:
        raise SourceFormatError(path, f"cannot be read as an SQLite database ({exc})", table=table) from exc
    finally:
        con.close()
    if rows.empty:
        raise SourceFormatError(path, f"no rows for dataset {dataset!r}", table=table, column="dataset")
    return rows


def _is_number(value: object, whole: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or is_missing(value):
        return False
    return not whole or (0 <= value <= MAX_COUNT and value == int(value))  # a sum of such counts cannot wrap


def _numbers(path: Path, table: str, rows: pd.DataFrame, column: str, key: str, whole: bool) -> pd.Series:
    """A column of stored values as numbers; the first value that is not one is an error naming its row's `key`."""
    values = rows[column]
    ok = values.map(lambda v: _is_number(v, whole))
    if not ok.all():
        i = (~ok).idxmax()
        what = f"a whole non-negative number up to {MAX_COUNT:,}" if whole else "a number"
        raise SourceFormatError(
            path, f"value {values[i]!r} for {key} {rows.at[i, key]!r} is not {what}", table=table, column=column
        )
    return values.astype("int64" if whole else float)


def _months(path: Path, table: str, rows: pd.DataFrame, column: str) -> pd.Series:
    months = pd.to_datetime(rows[column].astype(str), format="%Y-%m-%d", errors="coerce")
    if months.isna().any():
        i = months.isna().idxmax()
        raise SourceFormatError(
            path, f"value {rows.at[i, column]!r} is not a YYYY-MM-DD date", table=table, column=column
        )
    return months.astype("datetime64[ns]")


def read_sol_asb_calls(path: Path | str) -> pd.DataFrame:
    """London's monthly ASB calls to the MPS (State of London dataset sol_asb): month (first day), calls.

    Months must run without a gap: a month missing from the database is unknown, never zero.
    """
    path = Path(path)
    table = SOL_SERIES_TABLE
    rows = _query(path, table, ("dataset", "xvardt", "yval", "yvllb"), SOL_ASB_DATASET)
    units = set(rows["yvllb"].astype(str))
    if units != {SOL_ASB_UNIT}:
        raise SourceFormatError(
            path,
            f"dataset {SOL_ASB_DATASET!r} is labelled {sorted(units)}, not {SOL_ASB_UNIT!r}",
            table=table,
            column="yvllb",
        )
    tidy = pd.DataFrame(
        {
            "month": _months(path, table, rows, "xvardt"),
            "calls": _numbers(path, table, rows, "yval", "xvardt", whole=True),
        }
    )
    try:
        tidy = ASB_CALLS_SCHEMA.validate(tidy, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SourceFormatError(
            path, validation_summary(exc, {"month": "xvardt", "calls": "yval"}), table=table
        ) from None
    tidy = tidy.sort_values("month", ignore_index=True)
    gaps = pd.date_range(tidy["month"].min(), tidy["month"].max(), freq="MS").difference(tidy["month"])
    if len(gaps):
        raise SourceFormatError(
            path,
            f"dataset {SOL_ASB_DATASET!r} has no value for {', '.join(f'{m:%Y-%m}' for m in gaps[:6])}: "
            "months must run without a gap (a missing month is unknown, not zero)",
            table=table,
            column="xvardt",
        )
    return tidy


def read_sol_london_reoffending(path: Path | str) -> pd.DataFrame:
    """London's proven reoffending rate by year (State of London dashboard dataset proven_reoffending): year,
    area ('London'), rate (a proportion, 0-1, rounded to 6 decimals to drop floating-point noise)."""
    path = Path(path)
    table = SOL_DASH_TABLE
    rows = _query(path, table, ("dataset", "xd", "b", "y"), SOL_REOFFENDING_DATASET)
    areas = sorted(set(rows["b"].astype(str)))
    if areas != ["London"]:
        raise SourceFormatError(
            path, f"dataset {SOL_REOFFENDING_DATASET!r} is for {areas}, not London alone", table=table, column="b"
        )
    dates = _months(path, table, rows, "xd")
    tidy = pd.DataFrame(
        {
            "year": dates.dt.year.astype("int64"),
            "area": rows["b"].astype(str),
            "rate": _numbers(path, table, rows, "y", "xd", whole=False).round(6),
        }
    )
    try:
        tidy = LONDON_REOFFENDING_SCHEMA.validate(tidy, lazy=True)
    except pa.errors.SchemaErrors as exc:
        names = {"year": "xd", "area": "b", "rate": "y"}
        raise SourceFormatError(path, validation_summary(exc, names), table=table) from None
    return tidy.sort_values("year", ignore_index=True)
