"""GLA London Borough Profiles, used as the borough lookup: name, ONS code, inner or outer London."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import SourceFormatError

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
