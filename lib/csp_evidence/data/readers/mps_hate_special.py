"""MPS hate crime and 'special' crime by borough and month (London Datastore, "MPS hate crime or special crime
dashboard data", file "Monthly Crime Other Crime Borough Level Off Type.csv", CRIS era).

The official file is wide: one row per (``Borough``, ``MajorText``, ``MinorText``) and one column per month
``YYYYMM`` (2010-04 to 2021-05 in the locked extract). ``MajorText`` is ``Hate`` (the hate crime strands and,
filed there by the publisher, domestic abuse) or ``Special`` (knife and gun crime, homicide, and others). An
offence can carry more than one flag: the hate strands overlap (Islamophobic and antisemitic offences are
also faith or racist and religious hate crime), so they are never added up. ``Aviation Security(SO18)`` is the
MPS airports unit, not a borough; the City of London is not in the file (it has its own police force).

``read_hate_special_crime`` turns the file into the same tidy long table as the recorded-crime reader
(month, borough, major_category, minor_category, count), so the same statistics apply, and checks it with
pandera: the columns are there, every count is a non-negative whole number (a blank or a word names its line
and column: a month past the data is never read as zero), month columns run without a gap, every borough is
known, every MPS borough is there, and every borough has every category (a missing row would read as no
crime). Errors name the file, its line and the column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import (
    SourceFormatError,
    file_line,
    read_csv_text,
    schema_failures,
    whole_counts,
)
from csp_evidence.data.readers.mps import TIDY_SCHEMA, check_boroughs, long_table, month_columns

ID_COLUMNS = {"Borough": "borough", "MajorText": "major_category", "MinorText": "minor_category"}
MAJOR_CATEGORIES = ("Hate", "Special")
AVIATION_SECURITY = "Aviation Security(SO18)"  # the MPS airports unit: not a borough
WHOLE_NUMBER = "a non-negative whole number"

_ROW_SCHEMA = pa.DataFrameSchema(
    {
        "Borough": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
        "MajorText": pa.Column(str, pa.Check.isin(MAJOR_CATEGORIES), nullable=False),
        "MinorText": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
    },
    unique=list(ID_COLUMNS),
)
# the counts, checked as one long column (a check per month column costs pandera 20 ms each)
_COUNT_SCHEMA = pa.DataFrameSchema({"count": pa.Column(str, pa.Check.str_matches(r"^\s*\d+\s*$"))})


def _validate_wide(path: Path, wide: pd.DataFrame, months: list[str]) -> None:
    """pandera over the file as read: names, major category, one row per borough and category, whole-number counts."""

    def in_file_terms(case, line):
        check, idx = str(case["check"]), case["index"]
        if check == "multiple_fields_uniqueness":
            first = wide.index[(wide[list(ID_COLUMNS)] == wide.loc[idx, list(ID_COLUMNS)]).all(axis=1)][0]
            return f"duplicated row: same borough and categories as line {file_line(first)}"
        if check.startswith("str_matches"):
            row = wide.loc[idx]
            column = next(m for m in months if row[m] == case["failure_case"])
            return (
                f"column {column!r}: count {case['failure_case']!r} is not {WHOLE_NUMBER} "
                f"({row['Borough']}, {row['MinorText']})"
            )
        return None

    for schema, frame in (
        (_ROW_SCHEMA, wide[list(ID_COLUMNS)]),
        (_COUNT_SCHEMA, wide[months].stack().rename("count").reset_index(level=1, drop=True).to_frame()),
    ):
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as err:
            message = schema_failures(
                path, err, f"{path}: invalid MPS hate and special crime file", None, in_file_terms
            )
            first = message.splitlines()[1]  # 'path: line N, column 'C': ...': the first failure's line and column
            found = re.search(r"line (\d+), column '([^']+)'", first)
            raise SourceFormatError(
                path, message, row=int(found.group(1)) if found else None, column=found.group(2) if found else None
            ) from None


def _check_boroughs(
    path: Path, wide: pd.DataFrame, known_boroughs: Iterable[str] | None, required_boroughs: Iterable[str] | None
) -> None:
    check_boroughs(path, wide, "Borough", (AVIATION_SECURITY,), known_boroughs, required_boroughs)
    # every borough has every category: a missing row would read as no offences of that kind
    have = set(zip(wide["Borough"], wide["MinorText"], strict=True))
    wanted = {(b, c) for b in wide["Borough"].unique() for c in wide["MinorText"].unique()}
    lacking = sorted(wanted - have)
    if lacking:
        shown = "; ".join(f"{b}: {c}" for b, c in lacking[:5])
        more = f" and {len(lacking) - 5} more" if len(lacking) > 5 else ""
        raise SourceFormatError(
            path,
            f"borough and category rows missing ({shown}{more}): each borough must have a row for every "
            "category (a missing row would read as no offences)",
            column="MinorText",
        )


def read_hate_special_crime(
    path: Path | str, known_boroughs: Iterable[str] | None = None, required_boroughs: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read the official file into the tidy long table (month, borough, major_category, minor_category, count).

    `known_boroughs`: any other name but the airports unit is an error; `required_boroughs`: each must have rows.
    The table's months are the file's: financial years past its last month are not in it (and are refused by
    the statistics that ask for them), never zero.
    """
    path = Path(path)
    wide = read_csv_text(path, list(ID_COLUMNS))
    if wide.empty:
        raise SourceFormatError(path, "has a header but no data rows")
    months = month_columns(path, wide, ID_COLUMNS)
    _validate_wide(path, wide, months)
    _check_boroughs(path, wide, known_boroughs, required_boroughs)
    counts = whole_counts(path, wide[months], context=lambda i: f"{wide.at[i, 'Borough']}, {wide.at[i, 'MinorText']}")
    long = long_table(wide, counts, months, ID_COLUMNS)
    try:
        return TIDY_SCHEMA.validate(long)
    except pa.errors.SchemaError as exc:
        raise SourceFormatError(path, f"tidy table failed validation: {exc}") from exc
