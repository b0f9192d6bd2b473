"""data.police.uk street-level crime files: read, validate and aggregate to borough x month x crime type.

Source: the monthly "street" CSVs from https://data.police.uk/data/ (one file per force per month, named like
``2020-04-metropolitan-street.csv``), Open Government Licence v3.0. The layout is fixed:

    Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,
    Last outcome category,Context

* ``Month`` is ``YYYY-MM``. ``Crime ID`` is empty for 'Anti-social behaviour' rows (ASB incidents are not
  crimes and have no outcome).
* The borough is the LSOA name without its trailing 3-digit + letter code (``Tower Hamlets 001A`` ->
  ``Tower Hamlets``). Rows with no LSOA (crimes that could not be geocoded; the Location reads
  ``No Location``) cannot be placed in a borough and are left out of the aggregates.
* A force's file includes incidents the force recorded outside its own area (the Met file has some LSOAs in
  Essex or Hertfordshire districts); they come out under those districts' names, so filter to the boroughs
  you want after reading.
* Locations are anonymised to snap points, and the LSOA is that of the snap point, so counts for small areas
  near boundaries carry some misallocation; at borough level this is negligible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import (
    SourceFormatError,
    file_line,
    read_csv_text,
    schema_failures,
)

EXPECTED_COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)

ASB = "Anti-social behaviour"

# The 14 categories in use since May 2013, plus the older ones used in the files from 2010 to April 2013.
CRIME_TYPES: frozenset[str] = frozenset(
    {
        ASB,
        "Bicycle theft",
        "Burglary",
        "Criminal damage and arson",
        "Drugs",
        "Other crime",
        "Other theft",
        "Possession of weapons",
        "Public order",
        "Robbery",
        "Shoplifting",
        "Theft from the person",
        "Vehicle crime",
        "Violence and sexual offences",
        # historical categories (before May 2013)
        "Violent crime",
        "Public disorder and weapons",
        "Other crime and anti-social behaviour",
    }
)

_MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_LSOA_NAME = re.compile(r"^(?P<borough>.*\S)\s+\d{3}[A-Z]$")


class PoliceUkFormatError(SourceFormatError):
    """A data.police.uk street file that does not have the expected layout or values."""


_SCHEMA = pa.DataFrameSchema(
    {
        "Month": pa.Column(str, pa.Check.str_matches(_MONTH_PATTERN), nullable=False),
        "Crime type": pa.Column(str, pa.Check.isin(sorted(CRIME_TYPES)), nullable=False),
        "LSOA name": pa.Column(str, pa.Check.str_matches(_LSOA_NAME.pattern), nullable=True),
    },
    strict=False,
)


def read_street_file(path: str | Path) -> pd.DataFrame:
    """Read and validate one street-level file; returns the raw rows (all columns as strings, '' -> NA)."""
    path = Path(path)
    raw = read_csv_text(
        path,
        EXPECTED_COLUMNS,
        PoliceUkFormatError,
        na_values=[""],
        hint=f"; expected the data.police.uk street layout {list(EXPECTED_COLUMNS)}",
    )
    for col in ("Month", "Crime type"):
        blank = raw.index[raw[col].isna()]
        if len(blank):
            raise PoliceUkFormatError(
                path, f"{path}: line {file_line(blank[0])}, column {col!r} is empty ({len(blank)} row(s))"
            )
    try:
        _SCHEMA.validate(raw, lazy=True)
    except pa.errors.SchemaErrors as err:
        raise PoliceUkFormatError(path, schema_failures(path, err, "invalid data.police.uk street file")) from None
    no_id = raw["Crime ID"].isna() & (raw["Crime type"] != ASB)
    if no_id.any():
        first = raw.index[no_id][0]
        raise PoliceUkFormatError(
            path,
            f"{path}: line {file_line(first)}, column 'Crime ID' is empty for crime type {raw.at[first, 'Crime type']!r}"
            " (only 'Anti-social behaviour' rows may have no Crime ID)",
        )
    return raw


def read_street_files(paths: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """Read street-level files and count rows by month, borough and crime type (tidy long table)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    frames = []
    for p in paths:
        raw = read_street_file(p)
        located = raw[raw["LSOA name"].notna()]
        frames.append(
            pd.DataFrame(
                {
                    "month": pd.to_datetime(located["Month"], format="%Y-%m"),
                    "borough": located["LSOA name"].str.extract(_LSOA_NAME)["borough"],
                    "crime_type": located["Crime type"],
                }
            )
        )
    if not frames:
        raise ValueError("read_street_files: no paths given")
    rows = pd.concat(frames, ignore_index=True)
    tidy = (
        rows.groupby(["month", "borough", "crime_type"], observed=True)
        .size()
        .rename("count")
        .reset_index()
        .sort_values(["month", "borough", "crime_type"], ignore_index=True)
    )
    tidy["count"] = tidy["count"].astype("int64")
    tidy["borough"] = tidy["borough"].astype(str)
    tidy["crime_type"] = tidy["crime_type"].astype(str)
    return tidy


def asb_monthly(tidy: pd.DataFrame, borough: str) -> pd.Series:
    """Monthly counts of 'Anti-social behaviour' for one borough, over the months present in `tidy` (0 where none)."""
    if borough not in set(tidy["borough"]):
        raise ValueError(f"borough {borough!r} not in the data; boroughs present: {sorted(set(tidy['borough']))}")
    # only months that some file covered: a month with no file is unknown, not zero
    months = pd.DatetimeIndex(sorted(tidy["month"].unique()), name="month")
    sel = tidy[(tidy["borough"] == borough) & (tidy["crime_type"] == ASB)]
    series = sel.groupby("month")["count"].sum().reindex(months, fill_value=0).astype("int64")
    series.name = "asb"
    series.index.name = "month"
    return series


NO_LSOA = "no LSOA"  # the `area` of rows police.uk could not place (Location 'No Location')


def read_street_months(files: Mapping[str, str | Path], boroughs: Sequence[str]) -> pd.DataFrame:
    """Read one street file a month and count rows by month, area and crime type, keeping every row.

    `files` maps 'YYYY-MM' to that month's file; a file holding rows of another month, or an LSOA name that is not
    one, is an error naming it. `area` is the borough (the LSOA name without its code) when it is one of
    `boroughs`, NO_LSOA when the row has no LSOA (the LSOA name is empty), else the local authority the LSOA is in
    (outside London, or the City of London); `placed` is True for the boroughs. Columns: month, area, placed,
    crime_type, count.
    """
    wanted = set(boroughs)
    frames = []
    for month, path in sorted(files.items()):
        raw = read_street_file(path)
        other = raw["Month"] != month
        if other.any():
            first = raw.index[other][0]
            raise PoliceUkFormatError(
                path,
                f"{path}: line {file_line(first)}, column 'Month': {raw.at[first, 'Month']!r} in the file for {month} "
                f"({int(other.sum())} row(s))",
            )
        no_lsoa = raw["LSOA name"].isna()
        borough = raw["LSOA name"].str.extract(_LSOA_NAME)["borough"]
        odd = ~no_lsoa & borough.isna()  # a name that is there but not an LSOA name is never read as 'no LSOA'
        if odd.any():
            first = raw.index[odd][0]
            raise PoliceUkFormatError(
                path,
                f"{path}: line {file_line(first)}, column 'LSOA name': {raw.at[first, 'LSOA name']!r} is not an LSOA "
                f"name (a local authority and a code like 'Tower Hamlets 001A'; {int(odd.sum())} row(s))",
            )
        area = borough.mask(no_lsoa, NO_LSOA)
        counts = (
            pd.DataFrame({"area": area, "crime_type": raw["Crime type"]})
            .groupby(["area", "crime_type"])
            .size()
            .rename("count")
            .reset_index()
        )
        counts.insert(0, "month", pd.Timestamp(f"{month}-01"))
        frames.append(counts)
    if not frames:
        raise ValueError("read_street_months: no files given")
    table = pd.concat(frames, ignore_index=True)
    table["placed"] = table["area"].isin(wanted)
    table["count"] = table["count"].astype("int64")
    table["month"] = table["month"].astype("datetime64[ns]")
    return table[["month", "area", "placed", "crime_type", "count"]]


def street_coverage(table: pd.DataFrame) -> pd.DataFrame:
    """Per month, what the street files held and what could not be placed in a borough: month, rows, placed,
    no_lsoa, outside (rows in LSOAs outside the boroughs) and outside_areas (a dict of their local authorities and
    rows, most first)."""
    rows = []
    for month, sel in table.groupby("month", sort=True):
        outside = (
            sel[~sel["placed"] & (sel["area"] != NO_LSOA)].groupby("area")["count"].sum().sort_values(ascending=False)
        )
        rows.append(
            {
                "month": month,
                "rows": int(sel["count"].sum()),
                "placed": int(sel.loc[sel["placed"], "count"].sum()),
                "no_lsoa": int(sel.loc[sel["area"] == NO_LSOA, "count"].sum()),
                "outside": int(outside.sum()),
                "outside_areas": {str(a): int(n) for a, n in outside.items()},
            }
        )
    return pd.DataFrame(rows)
