"""Metropolitan Police recorded crime by ward, month and category (London Datastore "MPS Ward Level Crime").

The official files are wide: one row per (major category, minor category, ward) with the ward's name, code and
borough, and one column per month ``YYYYMM``. ``read_ward_file`` turns one into a tidy long table with the columns
month, borough, ward_code, ward, major_category, minor_category, count, and checks it: the columns are there, counts
are whole non-negative numbers (``errors.whole_counts``), no row is duplicated, each ward code is an ONS ward code
(E05...) with one name and one borough (the airports unit apart, which shares Heathrow Villages ward), every borough is known and every borough that must be there is, and the
categories are of the era the caller expects (CRIS-era files have Title Case categories, CONNECT-era ones UPPER
CASE: the two are separate series and never joined).

Some extracts open with a stub month: a first column holding a handful of offences London-wide where a month holds
tens of thousands (the extract to March 2026 starts with such a 2024-03). Leading months below ``STUB_SHARE`` of the
file's median month are dropped (``stub_months`` names them): such a month would otherwise read as a collapse in
crime.

Ward sums fall short of the borough files' totals (not every offence is placed in a ward); the chapter shows the
gap, this reader does not fill it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import SourceFormatError, file_line, read_csv_text, whole_counts
from csp_evidence.data.readers.mps import check_boroughs, check_ids, month_columns

ID_COLUMNS = {
    "MajorText": "major_category",
    "MinorText": "minor_category",
    "WardName": "ward",
    "WardCode": "ward_code",
    "LookUp_BoroughName": "borough",
}
AVIATION_SECURITY = "Aviation Security (SO18)"  # the MPS airports unit (Heathrow Villages ward): not a borough
WARD_CODE = re.compile(r"^[EW]05\d{6}$")
STUB_SHARE = 0.05  # a leading month with under 5% of the file's median month is a stub, not data
SERIES = ("cris", "connect")

TIDY_SCHEMA = pa.DataFrameSchema(
    {
        "month": pa.Column("datetime64[ns]", nullable=False),
        "borough": pa.Column(str, nullable=False),
        "ward_code": pa.Column(str, pa.Check.str_matches(WARD_CODE.pattern), nullable=False),
        "ward": pa.Column(str, nullable=False),
        "major_category": pa.Column(str, nullable=False),
        "minor_category": pa.Column(str, nullable=False),
        "count": pa.Column("int64", pa.Check.ge(0), nullable=False),
    },
    unique=["month", "borough", "ward_code", "major_category", "minor_category"],
    strict=True,
    ordered=True,
)


def _check_era(path: Path, wide: pd.DataFrame, series: str) -> None:
    upper = wide["MajorText"].str.upper() == wide["MajorText"]
    if series == "connect" and not upper.all():
        pos = (~upper).idxmax()
        raise SourceFormatError(
            path,
            f"category {wide.at[pos, 'MajorText']!r} is not UPPER CASE: this looks like a CRIS-era ward file, which "
            "must not be read as the CONNECT-era series",
            row=file_line(pos),
            column="MajorText",
        )
    if series == "cris" and upper.all():
        raise SourceFormatError(
            path,
            "every category is UPPER CASE: this looks like a CONNECT-era ward file, which must not be read as the "
            "CRIS-era series",
            column="MajorText",
        )


def _check_wards(path: Path, wide: pd.DataFrame) -> None:
    bad = ~wide["WardCode"].str.fullmatch(WARD_CODE.pattern)
    if bad.any():
        pos = bad.idxmax()
        raise SourceFormatError(
            path,
            f"ward code {wide.at[pos, 'WardCode']!r} is not an ONS ward code (E05 and six digits)",
            row=file_line(pos),
            column="WardCode",
        )
    boroughs = wide[wide["LookUp_BoroughName"] != AVIATION_SECURITY]  # the airports unit shares Heathrow's ward
    for column, rows_of in (("WardName", wide), ("LookUp_BoroughName", boroughs)):
        values = rows_of.groupby("WardCode")[column].nunique()
        if (values > 1).any():
            code = values[values > 1].index[0]
            rows = rows_of.index[rows_of["WardCode"] == code]
            second = rows[rows_of.loc[rows, column] != rows_of.at[rows[0], column]][0]
            raise SourceFormatError(
                path,
                f"ward {code} has {column} {wide.at[second, column]!r} here but {wide.at[rows[0], column]!r} on line "
                f"{file_line(rows[0])}: a ward code must have one name and one borough",
                row=file_line(second),
                column=column,
            )


def stub_months(path: Path | str, totals: pd.Series) -> list[str]:
    """The leading month columns (YYYYMM) of a file whose London-wide total is below ``STUB_SHARE`` of the median
    month: stubs, not data. `totals` is the file's total per month column, in order."""
    median = float(totals.median())
    stubs = []
    for column, total in totals.items():
        if total >= STUB_SHARE * median:
            break
        stubs.append(str(column))
    if len(stubs) == len(totals):
        raise SourceFormatError(path, "every month holds almost no offences: the file is not a ward crime extract")
    return stubs


def read_ward_file(
    path: Path | str,
    series: str,
    known_boroughs: Iterable[str] | None = None,
    required_boroughs: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read one official wide ward-level file into the tidy long table (month, borough, ward_code, ward, major_category,
    minor_category, count), its stub months dropped.

    `series`: 'cris' or 'connect', the era the file must be of. `known_boroughs`: any other borough name (bar the
    airports unit) is an error; `required_boroughs`: each must have rows in the file.
    """
    if series not in SERIES:
        raise ValueError(f"series must be one of {', '.join(SERIES)}, got {series!r}")
    path = Path(path)
    wide = read_csv_text(path, list(ID_COLUMNS))
    if wide.empty:
        raise SourceFormatError(path, "has a header but no data rows")
    months = month_columns(path, wide, ID_COLUMNS)

    def row(i: object) -> str:
        return f"{wide.at[i, 'WardName']} ({wide.at[i, 'WardCode']}), {wide.at[i, 'MinorText']}"

    check_ids(path, wide, ["MajorText", "MinorText", "WardCode", "LookUp_BoroughName"], describe=row)
    _check_era(path, wide, series)
    _check_wards(path, wide)
    check_boroughs(path, wide, "LookUp_BoroughName", (AVIATION_SECURITY,), known_boroughs, required_boroughs)
    counts = whole_counts(path, wide[months], context=row)
    stubs = stub_months(path, counts.sum())
    kept = [m for m in months if m not in stubs]
    counts = counts[kept].set_axis(pd.to_datetime(kept, format="%Y%m"), axis=1)
    ids = wide[list(ID_COLUMNS)].rename(columns=ID_COLUMNS)
    long = pd.concat([ids, counts], axis=1).melt(
        id_vars=list(ID_COLUMNS.values()), var_name="month", value_name="count"
    )
    long["month"] = pd.to_datetime(long["month"]).astype("datetime64[ns]")
    columns = ["month", "borough", "ward_code", "ward", "major_category", "minor_category", "count"]
    long = long[columns].sort_values(["month", "borough", "ward_code", "major_category", "minor_category"])
    try:
        return TIDY_SCHEMA.validate(long.reset_index(drop=True))
    except pa.errors.SchemaError as exc:
        raise SourceFormatError(path, f"tidy table failed validation: {exc}") from exc
