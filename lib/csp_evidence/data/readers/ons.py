"""ONS mid-year population estimates (mid-2011 to mid-2023, 2023 local authority boundaries), sheet MYE5."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import SourceFormatError

SHEET = "MYE5"
HEADER_ROW = 7  # the table's header is on spreadsheet row 8
POP_COLUMN = re.compile(r"^Estimated Population mid-(\d{4})$")

SCHEMA = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(r"^[EWSNK]\d{8}$")),
        "name": pa.Column(str),
        "geography": pa.Column(str),
        "year": pa.Column("int64", pa.Check.in_range(2001, 2100)),
        "population": pa.Column("int64", pa.Check.gt(0)),
    },
    unique=["code", "year"],
    strict=True,
)


def read_population(path: Path | str) -> pd.DataFrame:
    """Tidy mid-year population: code, name, geography, year (mid-year), population (persons)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise SourceFormatError(path, "file is missing or empty")
    try:
        sheet = pd.read_excel(path, sheet_name=SHEET, header=HEADER_ROW)
    except ValueError as exc:
        raise SourceFormatError(path, f"cannot read sheet {SHEET!r} ({exc})") from exc
    except Exception as exc:  # a truncated xlsx raises zipfile/openpyxl errors of several types
        raise SourceFormatError(path, f"not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
    for col in ("Code", "Name", "Geography"):
        if col not in sheet.columns:
            raise SourceFormatError(path, f"sheet {SHEET}: column missing", column=col)
    years = {c: int(m.group(1)) for c in sheet.columns if (m := POP_COLUMN.match(str(c)))}
    if not years:
        raise SourceFormatError(path, f"sheet {SHEET}: no 'Estimated Population mid-YYYY' columns")
    long = sheet[["Code", "Name", "Geography", *years]].melt(
        id_vars=["Code", "Name", "Geography"], var_name="column", value_name="population"
    )
    long["year"] = long["column"].map(years).astype("int64")
    bad = pd.to_numeric(long["population"], errors="coerce").isna()
    if bad.any():
        row = long[bad].iloc[0]
        raise SourceFormatError(
            path, f"sheet {SHEET}: population for {row['Name']} is {row['population']!r}", column=row["column"]
        )
    tidy = pd.DataFrame(
        {
            "code": long["Code"].astype(str),
            "name": long["Name"].astype(str),
            "geography": long["Geography"].astype(str),
            "year": long["year"],
            "population": long["population"].astype("int64"),
        }
    )
    try:
        return SCHEMA.validate(tidy)
    except pa.errors.SchemaError as exc:
        raise SourceFormatError(path, f"sheet {SHEET} failed validation: {exc}") from exc
