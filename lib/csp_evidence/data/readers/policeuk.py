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

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data import lsoa_places
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

# --------------------------------------------------------------------------- the reduced table: LSOA x crime type x outcome
# A month of one force's street file reduced to counts by LSOA code and crime type, with how many of them have an
# outcome of the groups the packs report (charged, no suspect identified): a few thousand
# rows in place of the file's hundreds of thousands. Every file, whether kept whole (the area's forces) or streamed
# out of an archive and dropped (every other force), is read by this one function, so what is counted is the same.

REDUCED_COLUMNS = ("month", "force", "lsoa", "crime_type", "count", "charged", "no_suspect", "line")
COUNT_COLUMNS = ("count", "charged", "no_suspect", "line")
# Outcome groups of `Last outcome category`: 'charged' (a charge or summons: the case went to court, whatever the
# result), 'no_suspect' ('Investigation complete; no suspect identified'), 'other' (every other outcome, including
# those still open) and 'none' (ASB incidents, which have no outcome).
CHARGED, NO_SUSPECT, OTHER_OUTCOME, NO_OUTCOME = "charged", "no_suspect", "other", "none"
OUTCOME_GROUPS: dict[str, str] = {
    **dict.fromkeys(
        (
            "Awaiting court outcome",
            "Court case unable to proceed",
            "Court result unavailable",
            "Defendant found not guilty",
            "Defendant sent to Crown Court",
            "Offender deprived of property",
            "Offender fined",
            "Offender given absolute discharge",
            "Offender given community sentence",
            "Offender given conditional discharge",
            "Offender given suspended prison sentence",
            "Offender ordered to pay compensation",
            "Offender otherwise dealt with",
            "Offender sent to prison",
            "Suspect charged",
            "Suspect charged as part of another case",
        ),
        CHARGED,
    ),
    "Investigation complete; no suspect identified": NO_SUSPECT,
    **dict.fromkeys(
        (
            "Action to be taken by another organisation",
            "Formal action is not in the public interest",
            "Further action is not in the public interest",
            "Further investigation is not in the public interest",
            "Local resolution",
            "Offender given a caution",
            "Offender given a drugs possession warning",
            "Offender given penalty notice",
            "Status update unavailable",
            "Unable to prosecute suspect",
            "Under investigation",
        ),
        OTHER_OUTCOME,
    ),
}
_USED = ("Crime ID", "Month", "LSOA code", "LSOA name", "Crime type", "Last outcome category")
_CHUNK_ROWS = 100_000
_FORCE_FILE = re.compile(r"^(?P<month>\d{4}-(?:0[1-9]|1[0-2]))-(?P<force>[a-z0-9]+(?:-[a-z0-9]+)*)-street\.csv$")


def street_file_force(name: str) -> tuple[str, str] | None:
    """(month, force) of a street file by its name ('2025-12-city-of-london-street.csv'), else None."""
    m = _FORCE_FILE.match(Path(str(name).replace("\\", "/")).name)
    return (m.group("month"), m.group("force")) if m else None


def reduce_street_stream(stream: IO[bytes], origin: str, month: str, force: str) -> pd.DataFrame:
    """Read one street file from a binary stream (an archive member as it is inflated, or a file) in chunks and
    count its rows by LSOA code and crime type (with those charged and those with no suspect identified), never
    holding the whole file.

    Each row is checked as the reader checks it: the official header, the month `month`, a known crime type and
    outcome, a Crime ID on every row but ASB; a failure raises a PoliceUkFormatError naming `origin` and the line.
    Rows with no LSOA code (police.uk's 'No Location') are counted with `lsoa` empty: the rows it could not place,
    per force. `line` is the first line each LSOA code is on, so a code no lookup holds can be named later. Columns:
    REDUCED_COLUMNS; LF and CRLF line endings alike.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    header = next(csv.reader([text.readline()]), [])
    if tuple(c.strip() for c in header) != EXPECTED_COLUMNS:
        raise PoliceUkFormatError(
            origin,
            f"not a data.police.uk street file: the header is {header[:6]}...; expected {list(EXPECTED_COLUMNS)}",
            row=1,
        )
    parts = []
    offset = 2  # the file line of the chunk's first row
    try:
        chunks = pd.read_csv(
            text,
            names=list(EXPECTED_COLUMNS),
            header=None,
            usecols=list(_USED),
            dtype=str,
            keep_default_na=False,
            chunksize=_CHUNK_ROWS,
            engine="c",
        )
        for chunk in chunks:
            parts.append(_reduce_chunk(chunk, origin, month, offset))
            offset += len(chunk)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PoliceUkFormatError(origin, f"cannot be read as a CSV near line {offset} ({exc})") from None
    if not parts:
        table = pd.DataFrame({c: pd.Series(dtype="int64" if c in COUNT_COLUMNS else object) for c in REDUCED_COLUMNS})
        return table
    table = (
        pd.concat(parts, ignore_index=True)
        .groupby(["lsoa", "crime_type"], sort=True)
        .agg(count=("count", "sum"), charged=("charged", "sum"), no_suspect=("no_suspect", "sum"), line=("line", "min"))
    )
    table = table.reset_index()
    table.insert(0, "force", force)
    table.insert(0, "month", month)
    return table[list(REDUCED_COLUMNS)]


def _reduce_chunk(chunk: pd.DataFrame, origin: str, month: str, offset: int) -> pd.DataFrame:
    lines = pd.RangeIndex(offset, offset + len(chunk))
    chunk.index = lines

    def refuse(bad: pd.Series, column: str, problem: str) -> None:
        first = bad.index[bad.to_numpy()][0]
        raise PoliceUkFormatError(
            origin, f"{problem} ({int(bad.sum())} row(s) in this part)", row=int(first), column=column
        )

    other = chunk["Month"] != month
    if other.any():
        first = chunk.index[other.to_numpy()][0]
        refuse(other, "Month", f"{chunk.at[first, 'Month']!r} in the file for {month}")
    crime = chunk["Crime type"]
    unknown = ~crime.isin(CRIME_TYPES)
    if unknown.any():
        first = chunk.index[unknown.to_numpy()][0]
        refuse(unknown, "Crime type", f"unknown crime type {crime[first]!r}; known: {sorted(CRIME_TYPES)}")
    asb = crime == ASB
    no_id = (chunk["Crime ID"] == "") & ~asb
    if no_id.any():
        first = chunk.index[no_id.to_numpy()][0]
        refuse(
            no_id,
            "Crime ID",
            f"empty for crime type {crime[first]!r} (only 'Anti-social behaviour' rows may have none)",
        )
    code = chunk["LSOA code"].str.strip()
    nameless = (code == "") & (chunk["LSOA name"].str.strip() != "")  # never read as police.uk's 'No Location'
    if nameless.any():
        first = chunk.index[nameless.to_numpy()][0]
        refuse(nameless, "LSOA code", f"empty, but the LSOA name is {chunk.at[first, 'LSOA name']!r}")
    last = chunk["Last outcome category"]
    outcome = last.map(OUTCOME_GROUPS)
    outcome = outcome.mask(last == "", NO_OUTCOME)
    odd = outcome.isna()
    if odd.any():
        first = chunk.index[odd.to_numpy()][0]
        refuse(odd, "Last outcome category", f"unknown outcome {last[first]!r}")
    frame = pd.DataFrame(
        {
            "lsoa": code,
            "crime_type": crime,
            "charged": (outcome == CHARGED).astype("int64"),
            "no_suspect": (outcome == NO_SUSPECT).astype("int64"),
            "line": lines,
        }
    )
    grouped = frame.groupby(["lsoa", "crime_type"], sort=False)
    return grouped.agg(
        count=("line", "size"), charged=("charged", "sum"), no_suspect=("no_suspect", "sum"), line=("line", "min")
    ).reset_index()


def reduce_street_file(path: str | Path, month: str | None = None, force: str | None = None) -> pd.DataFrame:
    """`reduce_street_stream` over a file on disk; the month and force default to those of its name."""
    path = Path(path)
    named = street_file_force(path.name)
    month = month or (named[0] if named else None)
    force = force or (named[1] if named else None)
    if month is None or force is None:
        raise PoliceUkFormatError(path, "cannot tell the month and force: name it YYYY-MM-<force>-street.csv")
    if not path.is_file():
        raise PoliceUkFormatError(path, "file not found")
    with path.open("rb") as fh:
        return reduce_street_stream(fh, str(path), month, force)


def place_reduced(
    reduced: pd.DataFrame, geography: pd.DataFrame, origin: Callable[[str, str], str] | None = None
) -> pd.DataFrame:
    """A reduced table with every row's LSOA placed from the `geography` table (``datasets.lsoa_geography``: ward,
    authority, CSP, force area, region), by ``lsoa_places.place`` (what ``geography.place_lsoas`` does), through
    the lookup of the vintage each force-month's codes are from (2011 until police.uk switched, 2021 after). An LSOA
    code no lookup of its vintage holds raises naming the file (`origin(month, force)`, by default the file's
    name), the line and the code. Rows with no LSOA keep empty places; `vintage` is added."""
    if reduced.empty:
        raise ValueError("place_reduced: the table is empty")
    name = origin or (lambda month, force: f"{month}-{force}-street.csv")
    sets = lsoa_places.code_sets(geography)
    parts = []
    for (month, force), rows in reduced.groupby(["month", "force"], sort=True):
        where = name(str(month), str(force))
        parts.append(rows.assign(file=where, vintage=lsoa_places.vintage_of(rows["lsoa"], where, sets)))
    rows = pd.concat(parts, ignore_index=True)
    placed = lsoa_places.place(rows, "vintage", geography, code="lsoa", file="file", line="line").drop(columns=["file"])
    for column in lsoa_places.PLACE_COLUMNS:
        placed[column] = placed[column].fillna("").astype(str)
    return placed


def read_reduced(path: str | Path) -> pd.DataFrame:
    """A reduced month as ``data.policeuk_forces`` wrote it (REDUCED_COLUMNS), checked: the columns, one month, known
    crime types and outcome groups, whole positive counts."""
    path = Path(path)
    raw = read_csv_text(path, REDUCED_COLUMNS, PoliceUkFormatError, hint="; expected a reduced police.uk month")
    if raw["month"].nunique() != 1 or not raw["month"].str.fullmatch(_MONTH_PATTERN.strip("^$")).all():
        raise PoliceUkFormatError(
            path, f"holds months {sorted(raw['month'].unique())[:5]}; expected one", column="month"
        )
    bad = ~raw["crime_type"].isin(CRIME_TYPES) | ~raw["count"].str.fullmatch(r"[1-9][0-9]*")
    for column in COUNT_COLUMNS[1:]:
        bad |= ~raw[column].str.fullmatch(r"[0-9]+")
    if bad.any():
        raise PoliceUkFormatError(
            path, "an unknown crime type, or a count that is not whole", row=file_line(raw.index[bad][0])
        )
    for column in COUNT_COLUMNS:
        raw[column] = raw[column].astype("int64")
    over = raw["charged"] + raw["no_suspect"] > raw["count"]
    if over.any():
        raise PoliceUkFormatError(path, "more outcomes than crimes", row=file_line(raw.index[over][0]))
    return raw[list(REDUCED_COLUMNS)]


def read_street_months(
    files: Mapping[str, str | Path], boroughs: Sequence[str], geography: pd.DataFrame
) -> pd.DataFrame:
    """Read one street file a month and count rows by month, area and crime type, keeping every row.

    `files` maps 'YYYY-MM' to that month's file; a row of another month, an unknown crime type or outcome, or an
    LSOA code in no ONS lookup of its vintage is an error naming the file and line. Each row is placed by its LSOA
    code (``place_reduced``, with the `geography` table of ``datasets.lsoa_geography``), never by its LSOA name: `area` is the local authority the LSOA lies in (the borough,
    for the Met's rows in London), NO_LSOA when the row has no LSOA; `placed` is True for the authorities named in
    `boroughs`. Columns: month, area, placed, crime_type, count.
    """
    wanted = set(boroughs)
    if not files:
        raise ValueError("read_street_months: no files given")
    paths = {month: Path(path) for month, path in files.items()}
    reduced = pd.concat(
        [reduce_street_file(path, month, _force_of(path)) for month, path in sorted(paths.items())], ignore_index=True
    )
    placed = place_reduced(reduced, geography, lambda month, force: str(paths[month]))
    placed["area"] = placed["lad_name"].mask(placed["lsoa"] == "", NO_LSOA)
    table = placed.groupby(["month", "area", "crime_type"], sort=True)["count"].sum().reset_index()
    table["month"] = pd.to_datetime(table["month"], format="%Y-%m").astype("datetime64[ns]")
    table["placed"] = table["area"].isin(wanted)
    table["count"] = table["count"].astype("int64")
    return table[["month", "area", "placed", "crime_type", "count"]]


def _force_of(path: Path) -> str:
    named = street_file_force(path.name)
    return named[1] if named else "unknown"


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
