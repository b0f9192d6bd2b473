"""Ministry of Justice proven reoffending, geographic data tool (CSV form): read, validate, and compute rates.

Source: MoJ "Proven reoffending statistics" (https://www.gov.uk/government/collections/proven-reoffending-statistics),
the attachment "CSV format of data tools" of a quarterly release; for the January to March 2022 release the zip
holds ``PRSQ_Geographic_data_April 2011 to March 2022.csv``. Open Government Licence v3.0.

Layouts: the file's columns must be one of the published LAYOUTS (matched without case, spaces or '/'); any
other is refused, naming the columns found and the layouts known.

* The geographic data tool (the Excel tool's ``Data`` sheet, and its CSV): ``Geography``, ``Category`` (e.g.
  'UTLA total'), ``Adult / Juvenile`` ('Adult' or 'Juvenile'), ``Cohort``, ``offenders``, ``reoffenders``,
  ``reoffences``, as public code reading the Excel tool filters and sums them. Other columns (published rates or
  averages) are ignored; rates are recomputed from the counts.
* The data tools' CSV form (a real regional file is in shared/data/moj): snake_case ``adult_juv``, ``cohort``,
  the geography column named after its level (``region``), ``category``, ``subcat1``, ``subcat2``, ``offenders``,
  ``reoffenders``, ``reoffences``; a category's rows break it down (the age bands of 'Age total') and are summed
  to the category's total.
* ``Cohort`` is a label ``'<Mon> <YYYY> to <Mon> <YYYY>'``: 12-month cohorts (``'Apr 2019 to Mar 2020'``) and,
  in the quarterly tool, 3-month cohorts (``'Jan 2020 to Mar 2020'``). Full month names are accepted too.
  ``cohort_start`` is the first day of the first month, ``cohort_end`` the last day of the last month,
  ``cohort_months`` the length in months.
* Counts may be written with thousands separators (``1,234``); anything else that is not a whole non-negative
  number within int64 (suppression marks such as ``*`` or ``..``, blanks, ``1e3``, ``5.0``, ``+5``) is an error
  naming the file, line and column (``errors.whole_counts``).

Definitions (MoJ): an offender enters the cohort on release from custody or on receiving a non-custodial
conviction, caution, reprimand or warning in the cohort period; a proven reoffence is one committed in the
following 12 months and proven by court conviction or caution in that 12 months or a further 6 months.
3-month and 12-month cohorts are not comparable with each other (the 12-month cohort counts each person once
per year, so its rate is higher), so changes are only computed between cohorts of the same length
(``analysis.reoffending``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import (
    SourceFormatError,
    file_line,
    read_csv_text,
    schema_failures,
    whole_counts,
)

REQUIRED_COLUMNS: tuple[str, ...] = (
    "Geography",
    "Category",
    "Adult / Juvenile",
    "Cohort",
    "offenders",
    "reoffenders",
    "reoffences",
)
COUNT_COLUMNS: tuple[str, ...] = ("offenders", "reoffenders", "reoffences")
AGE_GROUPS: tuple[str, ...] = ("Adult", "Juvenile")

_COHORT = re.compile(r"^\s*([A-Za-z]+)\.?\s+(\d{4})\s+to\s+([A-Za-z]+)\.?\s+(\d{4})\s*$", re.IGNORECASE)
_MONTHS = {
    m.lower(): i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9


class MojFormatError(SourceFormatError):
    """A proven reoffending data-tool file that does not have the expected layout or values."""


def parse_cohort(label: str) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """Parse 'Apr 2019 to Mar 2020' into (first day, last day, length in months); ValueError names the label."""
    m = _COHORT.match(str(label))
    if not m:
        raise ValueError(f"cohort {label!r} is not of the form 'Apr 2019 to Mar 2020'")
    mon1, year1, mon2, year2 = m.group(1).lower(), int(m.group(2)), m.group(3).lower(), int(m.group(4))
    if mon1 not in _MONTHS or mon2 not in _MONTHS:
        raise ValueError(f"cohort {label!r} has an unknown month name")
    start = pd.Timestamp(year1, _MONTHS[mon1], 1)
    end_month = pd.Timestamp(year2, _MONTHS[mon2], 1)
    months = (end_month.year - start.year) * 12 + end_month.month - start.month + 1
    if months < 1:
        raise ValueError(f"cohort {label!r} ends before it starts")
    return start, end_month + pd.offsets.MonthEnd(0), months


_SCHEMA = pa.DataFrameSchema(
    {
        "geography": pa.Column(str, pa.Check.str_length(min_value=1)),
        "category": pa.Column(str, pa.Check.str_length(min_value=1)),
        "age_group": pa.Column(str, pa.Check.isin(list(AGE_GROUPS))),
        "cohort": pa.Column(str),
        "cohort_start": pa.Column("datetime64[ns]"),
        "cohort_end": pa.Column("datetime64[ns]"),
        "cohort_months": pa.Column("int64", pa.Check.ge(1)),
        "offenders": pa.Column("int64", pa.Check.ge(0)),
        "reoffenders": pa.Column("int64", pa.Check.ge(0)),
        "reoffences": pa.Column("int64", pa.Check.ge(0)),
    },
    checks=[
        pa.Check(lambda df: df["reoffenders"] <= df["offenders"], name="reoffenders <= offenders"),
        pa.Check(lambda df: df["reoffences"] >= df["reoffenders"], name="reoffences >= reoffenders"),
    ],
    unique=["geography", "category", "age_group", "cohort"],
    strict=True,
    coerce=False,
)

_SOURCE_COLUMN = {
    "geography": "Geography",
    "category": "Category",
    "age_group": "Adult / Juvenile",
    "cohort": "Cohort",
    "offenders": "offenders",
    "reoffenders": "reoffenders",
    "reoffences": "reoffences",
}


def _schema_error_message(path: Path, err: pa.errors.SchemaErrors, frame: pd.DataFrame) -> str:
    """Pandera failures in the data tool's own terms: repeated cohorts and impossible counts name the row's values."""

    def in_file_terms(case, line):
        check, idx = str(case["check"]), case["index"]
        if check == "multiple_fields_uniqueness":
            key = tuple(frame.loc[idx, ["geography", "category", "age_group", "cohort"]])
            return f"columns Geography/Category/Adult / Juvenile/Cohort: {key} is repeated"
        if check in ("reoffenders <= offenders", "reoffences >= reoffenders"):
            values = ", ".join(f"{c}={frame.loc[idx, c]}" for c in COUNT_COLUMNS)
            return f"columns offenders/reoffenders/reoffences: {values} breaks {check}"
        return None

    return schema_failures(
        path,
        err,
        "invalid proven reoffending file",
        _SOURCE_COLUMN,
        in_file_terms,
        row_checks=("reoffenders <= offenders", "reoffences >= reoffenders"),
    )


# The layouts the MoJ has published, by the columns that name them (matched without case, spaces or '/'):
# * the geographic data tool: the Excel tool's `Data` sheet and its CSV, one row per geography, category, age group
#   and cohort (REQUIRED_COLUMNS);
# * the data tools' CSV form: snake_case names, the geography column named after its level (`region` in the
#   overview tool; seen in shared/data/moj), and the breakdown of a category in `subcat1`/`subcat2` (the age bands
#   of 'Age total'), summed here to the category's total.
SNAKE_CASE = ("adult_juv", "cohort", "category", "subcat1", "subcat2", "offenders", "reoffenders", "reoffences")
SNAKE_GEOGRAPHIES = ("region",)  # the geography columns of the snake_case layout seen in published files
LAYOUTS: dict[str, tuple[str, ...]] = {
    "the geographic data tool (Excel sheet 'Data', or its CSV)": REQUIRED_COLUMNS,
    **{f"the data tools' CSV form, by {g}": (*SNAKE_CASE[:2], g, *SNAKE_CASE[2:]) for g in SNAKE_GEOGRAPHIES},
}


def _key(name: object) -> str:
    return re.sub(r"[\s/]+", "", str(name)).lower()


def _canonical_columns(raw: pd.DataFrame, path: Path, sheet: str | None = None) -> pd.DataFrame:
    """Name the columns as REQUIRED_COLUMNS from one of the published LAYOUTS, matching case and spacing loosely
    (releases differ: 'Offenders', 'Adult/Juvenile'); a file of no known layout is an error naming the file (and
    sheet), the columns it found and the layouts known."""
    found = {_key(c): c for c in raw.columns}
    for columns in LAYOUTS.values():
        if not all(_key(c) in found for c in columns):
            continue
        if columns == REQUIRED_COLUMNS:
            return raw.rename(columns={found[_key(c)]: c for c in REQUIRED_COLUMNS})
        return _snake_case_totals(raw.rename(columns={found[_key(c)]: c for c in columns}), columns[2], path, sheet)
    known = "; ".join(f"{name}: {', '.join(cols)}" for name, cols in LAYOUTS.items())
    missing = [c for c in REQUIRED_COLUMNS if _key(c) not in found]
    raise MojFormatError(
        path,
        f"not a proven reoffending layout the reader knows: found columns {list(raw.columns)[:12]}; known layouts "
        f"are {known}",
        column=missing[0] if missing else None,
        sheet=sheet,
    )


def _snake_case_totals(raw: pd.DataFrame, geography: str, path: Path, sheet: str | None) -> pd.DataFrame:
    """The snake_case layout in the geographic tool's terms: each category's rows (its `subcat1`/`subcat2`
    breakdown) summed to one row per geography, category, age group and cohort. Counts are checked whole first, so
    a bad cell is named by its own line."""
    counts = whole_counts(path, raw[list(COUNT_COLUMNS)], MojFormatError, thousands=True)
    keys = [geography, "category", "adult_juv", "cohort"]
    text = raw[keys].apply(lambda c: c.str.strip())
    repeated = pd.concat([text, raw[["subcat1", "subcat2"]].apply(lambda c: c.str.strip())], axis=1).duplicated()
    if repeated.any():
        first = raw.index[repeated.to_numpy()][0]
        raise MojFormatError(
            path,
            f"columns {'/'.join(keys)}/subcat1/subcat2: {tuple(raw.loc[first, [*keys, 'subcat1', 'subcat2']])} is "
            "repeated",
            row=file_line(first),
            sheet=sheet,
        )
    frame = pd.concat([text, counts], axis=1)
    first_line = pd.Series(raw.index, index=raw.index)
    frame["_line"] = first_line
    totals = frame.groupby(keys, sort=False).agg(**{c: (c, "sum") for c in COUNT_COLUMNS}, _line=("_line", "min"))
    totals = totals.reset_index().set_index("_line")
    totals.index.name = None
    for c in COUNT_COLUMNS:
        totals[c] = totals[c].astype(str)
    return totals.rename(
        columns={geography: "Geography", "category": "Category", "adult_juv": "Adult / Juvenile", "cohort": "Cohort"}
    )


def read_proven_reoffending(path: str | Path) -> pd.DataFrame:
    """Read the MoJ geographic proven reoffending CSV into a tidy validated table, one row per cohort and group."""
    path = Path(path)
    raw = _canonical_columns(read_csv_text(path, (), MojFormatError), path)
    return _tidy(raw, path)


DATA_SHEET = "Data"


def read_data_tool(path: str | Path) -> pd.DataFrame:
    """Read the older Excel geographical data tool (``Geographical_data_tool_*.xlsx``, sheet 'Data') into the same
    tidy table as `read_proven_reoffending`; the header is the first row naming Geography and Cohort."""
    path = Path(path)
    try:
        cells = pd.read_excel(path, sheet_name=DATA_SHEET, header=None, dtype=str, keep_default_na=False)
    except ValueError as exc:  # no such sheet
        raise MojFormatError(path, f"no sheet {DATA_SHEET!r} ({exc})") from None
    except Exception as exc:  # a damaged or non-Excel file: openpyxl and zipfile raise many types
        raise MojFormatError(path, f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc})") from None
    header = next(
        (i for i, row in cells.iterrows() if {"geography", "cohort"} <= {str(v).strip().lower() for v in row}), None
    )
    if header is None:
        raise MojFormatError(path, "no header row naming 'Geography' and 'Cohort'", sheet=DATA_SHEET)
    raw = cells.iloc[int(header) + 1 :].copy()
    raw.columns = [str(c).strip() for c in cells.iloc[int(header)]]
    raw = raw[(raw != "").any(axis=1)]
    raw.index = pd.RangeIndex(len(raw)) + int(header)  # file_line(index) is then the spreadsheet row
    return _tidy(_canonical_columns(raw, path, DATA_SHEET), path)


def _tidy(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The data tool's rows (text, named as REQUIRED_COLUMNS) as the tidy validated table."""
    tidy = pd.DataFrame(
        {
            "geography": raw["Geography"].str.strip(),
            "category": raw["Category"].str.strip(),
            "age_group": raw["Adult / Juvenile"].str.strip(),
            "cohort": raw["Cohort"].str.strip(),
        }
    )
    starts, ends, lengths = [], [], []
    for idx, label in tidy["cohort"].items():
        try:
            start, end, months = parse_cohort(label)
        except ValueError as exc:
            raise MojFormatError(path, f"{path}: line {file_line(idx)}, column 'Cohort': {exc}") from None
        starts.append(start)
        ends.append(end)
        lengths.append(months)
    tidy["cohort_start"] = pd.DatetimeIndex(starts, dtype="datetime64[ns]")
    tidy["cohort_end"] = pd.DatetimeIndex(ends, dtype="datetime64[ns]")
    tidy["cohort_months"] = np.array(lengths, dtype="int64")

    counts = whole_counts(path, raw[list(COUNT_COLUMNS)], MojFormatError, thousands=True)
    for col in COUNT_COLUMNS:
        tidy[col] = counts[col]

    try:
        _SCHEMA.validate(tidy, lazy=True)
    except pa.errors.SchemaErrors as err:
        raise MojFormatError(path, _schema_error_message(path, err, tidy)) from None
    return tidy.reset_index(drop=True)


def combine_releases(newer: pd.DataFrame, older: pd.DataFrame) -> pd.DataFrame:
    """One table from two releases: every row of `newer`, and the rows of `older` for cohorts (of a geography,
    category and age group) that `newer` does not hold, so a user can add earlier cohorts."""
    key = ["geography", "category", "age_group", "cohort"]
    seen = pd.MultiIndex.from_frame(newer[key])
    extra = older[~pd.MultiIndex.from_frame(older[key]).isin(seen)]
    return pd.concat([extra, newer], ignore_index=True).sort_values(key, ignore_index=True)
