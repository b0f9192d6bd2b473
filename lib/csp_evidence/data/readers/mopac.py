"""MOPAC Public Attitude Survey (PAS) trust-and-confidence dashboard, Borough sheet (CSV export): read and validate.

Source: MOPAC "MOPAC Surveys" on the London Datastore (https://data.london.gov.uk/dataset/mopac-surveys),
``PAS_T&Cdashboard_to Q3 23-24.xlsx``, sheet ``Borough``; the project copy is a third-party CSV export of that
sheet (``mopac_pas_borough_PAS_Dashboard_Borough.csv``; provenance in shared/data/other/SOURCES.md). OGL.

Layout and quirks handled here:

* Columns ``Date,Survey,Borough,Measure,Proportion,MPS`` then 4 unnamed columns. The unnamed columns are empty
  except on one row (31/12/2022, Barking and Dagenham, Trust MPS: stray cells ``Trust`` and ``0,71``, which
  repeat that row's MPS value); they are ignored.
* Proportions use decimal commas inside quotes (``"0,56"``); some have one decimal (``"0,6"``). All are
  published to 2 decimal places, i.e. whole percentage points.
* Dates are ``d/m/yyyy`` quarter ends, 31/12/2014 to 31/12/2023 (37 quarters). 'Trust MPS' starts 31/3/2016.
* Borough names: ``City of Westminster`` becomes ``Westminster``, and ``Richmond Upon Thames`` (used from
  30/6/2023) becomes ``Richmond upon Thames``, matching the MPS recorded-crime files. 32 boroughs (the survey
  does not cover the City of London).
* ``MPS`` is the London-wide (Metropolitan Police Service area) value for the same quarter and measure.
* No final newline; ASCII.

Are these rolling 12-month figures? Yes, almost certainly (checked on this file, 2025-11):

* The survey design (MOPAC, as described in the UK Data Service catalogue entry for the PAS) is about 100
  interviews per borough per quarter "to provide a borough-level sample of 400 interviews in any 12-month
  rolling period", and MOPAC's dashboard reports rolling 12-month (R12) results.
* The series behave like R12 averages of independent quarterly samples. For each borough x measure, take the
  borough-minus-London gap and its quarter-on-quarter changes. If each value were a fresh quarterly sample the
  changes would have lag-1 autocorrelation near -0.5; if each value averages the latest 4 quarters, the change
  is (newest quarter - quarter dropped)/4, so autocorrelations at lags 1-3 are near 0 and at lag 4 near -0.5.
  Observed (mean over 256 series): lag 1 +0.06, lag 2 +0.09, lag 3 +0.04, **lag 4 -0.40**, lag 5 -0.01.
* The spread of changes grows with the gap until 4 quarters and then levels off (SD of the borough-minus-London
  gap changes: 1 quarter 2.5 points, 2 quarters 3.7, 4 quarters 5.5, 8 quarters 6.1), as expected when values
  4+ quarters apart share no respondents. A fresh n~100 quarterly sample would move by ~6.5 points a quarter.

Consequences: consecutive quarters share about 3/4 of their respondents, so quarter-on-quarter changes are not
independent and must not be tested as if they were; compare quarters 4 apart (non-overlapping years), with
roughly n = 400 per borough (about +/-4.5 points at 95% for a proportion near 0.6, before any design effect).
A value "for September 2020" covers roughly October 2019 to September 2020, so it mixes pre-pandemic and
pandemic fieldwork. Face-to-face interviewing was unlikely to continue through the 2020-21 lockdowns, so check
MOPAC's methodology notes for a change of fieldwork mode before reading 2020-21 movements as real (not verified
here).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import (
    SourceFormatError,
    file_line,
    read_csv_text,
    schema_failures,
)

NAMED_COLUMNS: tuple[str, ...] = ("Date", "Survey", "Borough", "Measure", "Proportion", "MPS")

MEASURES: tuple[str, ...] = (
    '"Good Job" local',
    "Contact ward officer",
    "Informed local",
    "Listen to concerns",
    "Relied on to be there",
    "Treat everyone fairly",
    "Trust MPS",
    "Understand issues",
)

# The 32 London boroughs as named in the MPS borough-level crime files.
BOROUGHS: tuple[str, ...] = (
    "Barking and Dagenham",
    "Barnet",
    "Bexley",
    "Brent",
    "Bromley",
    "Camden",
    "Croydon",
    "Ealing",
    "Enfield",
    "Greenwich",
    "Hackney",
    "Hammersmith and Fulham",
    "Haringey",
    "Harrow",
    "Havering",
    "Hillingdon",
    "Hounslow",
    "Islington",
    "Kensington and Chelsea",
    "Kingston upon Thames",
    "Lambeth",
    "Lewisham",
    "Merton",
    "Newham",
    "Redbridge",
    "Richmond upon Thames",
    "Southwark",
    "Sutton",
    "Tower Hamlets",
    "Waltham Forest",
    "Wandsworth",
    "Westminster",
)
_ALIASES = {"city of westminster": "Westminster"}
_BY_KEY = {b.lower(): b for b in BOROUGHS} | _ALIASES

_PROPORTION_TEXT = r"^\d+(,\d+)?$"


class PasFormatError(SourceFormatError):
    """A PAS dashboard file that does not have the expected layout or values."""


def normalise_borough(name: str) -> str:
    """Map a PAS borough name to the MPS crime-file spelling ('City of Westminster' -> 'Westminster'); KeyError if unknown."""
    return _BY_KEY[" ".join(str(name).split()).lower()]


_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "Date": pa.Column(str, pa.Check.str_matches(r"^\d{1,2}/\d{1,2}/\d{4}$")),
        "Survey": pa.Column(str, pa.Check.isin(["PAS"])),
        "Borough": pa.Column(
            str,
            pa.Check(
                lambda s: s.map(lambda v: " ".join(v.split()).lower() in _BY_KEY),
                element_wise=False,
                name="known London borough",
            ),
        ),
        "Measure": pa.Column(str, pa.Check.isin(list(MEASURES))),
        "Proportion": pa.Column(str, pa.Check.str_matches(_PROPORTION_TEXT)),
        "MPS": pa.Column(str, pa.Check.str_matches(_PROPORTION_TEXT)),
    },
    strict=False,
)

_TIDY_SCHEMA = pa.DataFrameSchema(
    {
        "quarter_end": pa.Column("datetime64[ns]", pa.Check(lambda s: s.dt.is_quarter_end, name="is a quarter end")),
        "borough": pa.Column(str, pa.Check.isin(list(BOROUGHS))),
        "measure": pa.Column(str, pa.Check.isin(list(MEASURES))),
        "proportion": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
        "london": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
    },
    unique=["quarter_end", "borough", "measure"],
    strict=True,
)


def _message(
    path: Path, err: pa.errors.SchemaErrors, columns: dict[str, str], frame: pd.DataFrame | None = None
) -> str:
    """Pandera failures in the PAS file's own terms: a repeated (date, borough, measure) names the three values."""

    def repeated(case, line):
        if case["check"] != "multiple_fields_uniqueness" or frame is None:
            return None
        q, b, m = frame.loc[case["index"], ["quarter_end", "borough", "measure"]]
        return (
            f"columns Date/Borough/Measure: ({q:%d/%m/%Y}, {b!r}, {m!r}) is repeated (after normalising borough names)"
        )

    return schema_failures(path, err, "invalid PAS borough dashboard file", columns, repeated)


def read_pas(path: str | Path) -> pd.DataFrame:
    """Read the PAS Borough dashboard CSV into a tidy table: quarter_end, borough, measure, proportion, london."""
    path = Path(path)
    raw = read_csv_text(path, NAMED_COLUMNS, PasFormatError)
    extra = [c for c in raw.columns if c not in NAMED_COLUMNS and not str(c).startswith("Unnamed:")]
    if extra:
        raise PasFormatError(path, f"{path}: unexpected named column(s) {extra}; expected {list(NAMED_COLUMNS)}")
    raw = raw[list(NAMED_COLUMNS)].apply(lambda s: s.str.strip())
    try:
        _RAW_SCHEMA.validate(raw, lazy=True)
    except pa.errors.SchemaErrors as err:
        raise PasFormatError(path, _message(path, err, {})) from None

    tidy = pd.DataFrame(
        {
            "quarter_end": pd.to_datetime(raw["Date"], format="%d/%m/%Y", errors="coerce").astype("datetime64[ns]"),
            "borough": raw["Borough"].map(normalise_borough).astype(str),
            "measure": raw["Measure"],
            "proportion": raw["Proportion"].str.replace(",", ".", regex=False).astype(float),
            "london": raw["MPS"].str.replace(",", ".", regex=False).astype(float),
        }
    )
    bad_date = tidy["quarter_end"].isna()
    if bad_date.any():
        i = bad_date.idxmax()
        raise PasFormatError(
            path, f"{path}: line {file_line(i)}, column 'Date': {raw.at[i, 'Date']!r} is not a d/m/yyyy date"
        )
    try:
        _TIDY_SCHEMA.validate(tidy, lazy=True)
    except pa.errors.SchemaErrors as err:
        names = {
            "quarter_end": "Date",
            "borough": "Borough",
            "measure": "Measure",
            "proportion": "Proportion",
            "london": "MPS",
        }
        raise PasFormatError(path, _message(path, err, names, tidy)) from None
    _check_panel(path, tidy)
    return tidy.sort_values(["quarter_end", "borough", "measure"], ignore_index=True)


def _check_panel(path: Path, tidy: pd.DataFrame) -> None:
    """Each measure's quarters must run without a gap, each (quarter, measure) must cover all 32 boroughs and
    have one London value; errors name the quarter, the measure and the rows."""
    for measure, group in tidy.groupby("measure", sort=True):
        quarters = pd.DatetimeIndex(group["quarter_end"].unique()).sort_values()
        gaps = pd.date_range(quarters[0], quarters[-1], freq="QE").difference(quarters)
        if len(gaps):
            raise PasFormatError(
                path,
                f"{path}: {measure!r} has no rows for the quarter(s) ending {', '.join(f'{q:%d/%m/%Y}' for q in gaps)} "
                f"between {quarters[0]:%d/%m/%Y} and {quarters[-1]:%d/%m/%Y} (column 'Date'): quarters must run without a gap",
            )
    for (quarter, measure), group in tidy.groupby(["quarter_end", "measure"], sort=True):
        boroughs = set(group["borough"])
        if boroughs != set(BOROUGHS):
            missing = sorted(set(BOROUGHS) - boroughs)
            raise PasFormatError(
                path,
                f"{path}: {quarter:%d/%m/%Y} {measure!r} has {len(boroughs)} boroughs, not 32 (lines "
                f"{file_line(group.index.min())}-{file_line(group.index.max())}); missing {missing}",
            )
        if group["london"].nunique() != 1:
            lines = [file_line(i) for i in group.index[group["london"] != group["london"].mode().iloc[0]]]
            raise PasFormatError(
                path,
                f"{path}: {quarter:%d/%m/%Y} {measure!r}: column 'MPS' differs between boroughs (lines {lines[:10]})",
            )
