"""ONS mid-year population estimates (mid-2011 to mid-2023, 2023 local authority boundaries), sheet MYE5."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from openpyxl.utils import get_column_letter

from csp_evidence.core.values import is_missing
from csp_evidence.data.readers.errors import SourceFormatError, validation_summary

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


# --------------------------------------------------------------------------- police force area tables: ASB
#
# ONS "Crime in England and Wales: Police Force Area data tables", year ending March 2019 edition (the 2018
# edition has the same layout plus an 'Area Code' column, and is read the same way). Sheet 'Table P7 ' (the
# trailing space is in the official name; sheets are matched without surrounding spaces): anti-social
# behaviour incidents recorded by each police force, English region and Wales, one pair of columns (number,
# rate per 1,000) per financial year from Apr '07 to Mar '08. Sheet 'Table P8 ': the year's incidents by
# category (personal, nuisance, environmental), in per cent. Home Office police-recorded incident data, not
# National Statistics. Quirks: names carry footnote digits and spaces ('London 10', 'City of London10');
# '..' is not available (British Transport Police before 2012/13), never zero; '+' is a suppressed rate
# (City of London); no borough breakdown.

PFA_ASB_SHEET = "Table P7 "
PFA_ASB_CATEGORY_SHEET = "Table P8 "
MET = "Metropolitan Police"
CITY_OF_LONDON_POLICE = "City of London"
# Note 7 of Table P7: ASB incidents were recorded differently from 2011/12, so earlier years are not
# directly comparable with it.
PFA_ASB_COMPARABLE_FROM = "2011/12"
ENGLISH_REGIONS: tuple[str, ...] = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East",
    "London",
    "South East",
    "South West",
)
AREA_TYPES: tuple[str, ...] = ("England and Wales", "country", "region", "force")
ASB_CATEGORIES: tuple[str, ...] = ("Personal", "Nuisance", "Environmental")

_YEAR_HEADER = re.compile(r"^Apr '(\d{2}) to Mar '(\d{2})")
_INCIDENTS_HEADER = "Number of Incidents"
_RATE_HEADER = re.compile(r"^(Number|Rate) per 1,000 population$")
_TITLE_YEAR = re.compile(r"year ending March (\d{4})")
_FOOTNOTE_MARKS = re.compile(r"[\d,\s]+$")
_NOT_AVAILABLE, _SUPPRESSED = "..", "+"

PFA_ASB_SCHEMA = pa.DataFrameSchema(
    {
        "area": pa.Column(str, pa.Check.str_length(min_value=1)),
        "area_type": pa.Column(str, pa.Check.isin(list(AREA_TYPES))),
        "financial_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}/\d{2}$")),
        "incidents": pa.Column("int64", pa.Check.ge(0)),
        "rate_per_1000": pa.Column(float, pa.Check.ge(0), nullable=True),
    },
    unique=["area", "area_type", "financial_year"],  # 'West Midlands' is a region and a force
    strict=True,
)

PFA_ASB_CATEGORY_SCHEMA = pa.DataFrameSchema(
    {
        "area": pa.Column(str, pa.Check.str_length(min_value=1)),
        "area_type": pa.Column(str, pa.Check.isin(list(AREA_TYPES))),
        "financial_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}/\d{2}$")),
        "category": pa.Column(str, pa.Check.isin(list(ASB_CATEGORIES))),
        "percent": pa.Column(float, pa.Check.in_range(0.0, 100.0)),
    },
    unique=["area", "area_type", "financial_year", "category"],
    strict=True,
)


def area_name(cell: object) -> str:
    """A PFA table's area name without its footnote marks: 'London 10' -> 'London', 'City of London10' -> 'City of London'."""
    return _FOOTNOTE_MARKS.sub("", " ".join(str(cell).split()))


def area_types(names: list[str]) -> list[str]:
    """Each area's type, in table order: 'England and Wales', 'country' (England, Wales), 'region' (an English
    region: its first row, as the region's total heads its forces) or 'force' ('West Midlands' is both)."""
    seen: set[str] = set()
    out = []
    for name in names:
        if name.upper().startswith("ENGLAND AND WALES"):
            out.append("England and Wales")
        elif name.upper() in ("ENGLAND", "WALES"):
            out.append("country")
        else:
            out.append("region" if name in ENGLISH_REGIONS and name not in seen else "force")
        seen.add(name)
    return out


def _fy_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def _open_sheet(path: Path, sheet: str) -> tuple[pd.DataFrame, str]:
    """The sheet (matched without surrounding spaces) as a raw grid, and its name as written in the workbook."""
    if not path.is_file() or path.stat().st_size == 0:
        raise SourceFormatError(path, "file is missing or empty")
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:  # a truncated xlsx raises zipfile/openpyxl errors of several types
        raise SourceFormatError(path, f"not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
    with book:
        names = [str(n) for n in book.sheet_names]
        found = [n for n in names if n.strip() == sheet.strip()]
        if not found:
            raise SourceFormatError(
                path,
                f"sheet not found (names are matched without surrounding spaces); the sheets are {names}",
                sheet=sheet,
            )
        # every cell as stored: 'n/a' or 'NA' in a count is an error to name, not a missing value; blanks are ''
        grid = pd.read_excel(book, sheet_name=found[0], header=None, dtype=object, keep_default_na=False)
        return grid, found[0]


def _header_text(cell: object) -> str:
    """A header cell without its footnote marks: "Apr '18 to Mar '196,7" -> "Apr '18 to Mar '19", 'Nuisance5' -> 'Nuisance'."""
    text = " ".join(str(cell).split())
    year = _YEAR_HEADER.match(text)
    return year.group(0) if year else area_name(text)


def _cell_name(grid: pd.DataFrame, header_row: int, col: int, sub_row: int | None = None) -> str:
    """A column as the reader sees it: its letter and header(s), e.g. "X (Apr '18 to Mar '19, Number of Incidents)"."""
    head = [_header_text(grid.iat[header_row, col])]
    if sub_row is not None:
        head.append(_header_text(grid.iat[sub_row, col]))
    named = [h for h in head if h]
    return f"{get_column_letter(col + 1)} ({', '.join(named)})" if named else get_column_letter(col + 1)


def _area_rows(grid: pd.DataFrame, first: int, name_col: int) -> list[tuple[int, str]]:
    """(grid row, area name) for each area row from `first` to the 'Source:' line that ends the table."""
    rows = []
    for i in range(first, len(grid)):
        cell = grid.iat[i, name_col]
        if isinstance(cell, str) and cell.strip().startswith("Source"):
            break
        first_cell = grid.iat[i, 0]
        if isinstance(first_cell, str) and first_cell.strip().startswith("Source"):
            break
        if isinstance(cell, str) and cell.strip():
            rows.append((i, area_name(cell)))
    return rows


def _value(path: Path, sheet: str, grid: pd.DataFrame, i: int, j: int, column: str, area: str, whole: bool):
    """One cell as a number: None for '..' (not available), NaN for '+' (suppressed); an error names anything else."""
    cell = grid.iat[i, j]
    text = cell.strip() if isinstance(cell, str) else cell
    if text == _NOT_AVAILABLE:
        return None
    if text == _SUPPRESSED and not whole:
        return float("nan")
    if isinstance(text, bool) or not isinstance(text, (int, float)) or is_missing(text):
        raise SourceFormatError(
            path,
            f"value {cell!r} for {area} is not a number ('..' marks a value not available)",
            sheet=sheet,
            row=i + 1,
            column=column,
        )
    if whole and (text < 0 or text != int(text)):
        raise SourceFormatError(
            path, f"value {cell!r} for {area} is not a whole non-negative count", sheet=sheet, row=i + 1, column=column
        )
    return int(text) if whole else float(text)


def _check_required_areas(path: Path, sheet: str, grid: pd.DataFrame, header_row: int, name_col: int, areas) -> None:
    for needed in (MET, CITY_OF_LONDON_POLICE):
        if needed not in areas:
            raise SourceFormatError(
                path,
                f"no row for {needed!r}; areas found: {sorted(areas)[:12]}...",
                sheet=sheet,
                column=_cell_name(grid, header_row, name_col),
            )


def read_pfa_asb_incidents(path: Path | str, sheet: str = PFA_ASB_SHEET) -> pd.DataFrame:
    """ASB incidents by police force area and financial year (ONS PFA tables, Table P7), tidy:
    area, area_type, financial_year ('2018/19'), incidents, rate_per_1000 (NaN where suppressed).

    A value not available ('..') has no row: it is unknown, never zero.
    """
    path = Path(path)
    grid, sheet = _open_sheet(path, sheet)
    year_row = next(
        (i for i in range(len(grid)) if any(_YEAR_HEADER.match(str(v).strip()) for v in grid.iloc[i])), None
    )
    if year_row is None or year_row + 1 >= len(grid):
        raise SourceFormatError(path, "no header row of financial years ('Apr 'YY to Mar 'YY') found", sheet=sheet)
    sub_row = year_row + 1
    years: list[tuple[int, str]] = []  # (column of the count, financial year)
    for j in range(grid.shape[1]):
        m = _YEAR_HEADER.match(str(grid.iat[year_row, j]).strip())
        if not m:
            continue
        start, end = 2000 + int(m.group(1)), int(m.group(2))
        if (start + 1) % 100 != end:
            raise SourceFormatError(
                path,
                "the header is not one financial year",
                sheet=sheet,
                row=year_row + 1,
                column=_cell_name(grid, year_row, j),
            )
        if str(grid.iat[sub_row, j]).strip() != _INCIDENTS_HEADER:
            raise SourceFormatError(
                path,
                f"expected {_INCIDENTS_HEADER!r} under the year, found {grid.iat[sub_row, j]!r}",
                sheet=sheet,
                row=sub_row + 1,
                column=_cell_name(grid, year_row, j),
            )
        if j + 1 >= grid.shape[1] or not _RATE_HEADER.match(str(grid.iat[sub_row, j + 1]).strip()):
            found = grid.iat[sub_row, j + 1] if j + 1 < grid.shape[1] else None
            raise SourceFormatError(
                path,
                f"expected 'Number per 1,000 population' beside the count, found {found!r}",
                sheet=sheet,
                row=sub_row + 1,
                column=get_column_letter(j + 2),
            )
        years.append((j, _fy_label(start)))
    starts = [int(fy[:4]) for _, fy in years]
    if starts != list(range(starts[0], starts[0] + len(starts))):
        raise SourceFormatError(
            path, f"financial years are not consecutive: {[fy for _, fy in years]}", sheet=sheet, row=year_row + 1
        )
    name_col = years[0][0] - 1
    rows = []
    areas = _area_rows(grid, sub_row + 1, name_col)
    _check_required_areas(path, sheet, grid, year_row, name_col, {a for _, a in areas})
    for (i, area), kind in zip(areas, area_types([a for _, a in areas]), strict=True):
        for j, fy in years:
            incidents = _value(path, sheet, grid, i, j, _cell_name(grid, year_row, j, sub_row), area, whole=True)
            rate = _value(path, sheet, grid, i, j + 1, _cell_name(grid, year_row, j + 1, sub_row), area, whole=False)
            if incidents is not None:
                rows.append((area, kind, fy, incidents, float("nan") if rate is None else rate))
    tidy = pd.DataFrame(rows, columns=["area", "area_type", "financial_year", "incidents", "rate_per_1000"]).astype(
        {"incidents": "int64", "rate_per_1000": float}
    )
    try:
        return PFA_ASB_SCHEMA.validate(tidy, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SourceFormatError(path, validation_summary(exc), sheet=sheet) from None


def read_pfa_asb_categories(path: Path | str, sheet: str = PFA_ASB_CATEGORY_SHEET) -> pd.DataFrame:
    """ASB incidents by category (ONS PFA tables, Table P8), per cent of each area's incidents in the year of
    the title, tidy: area, area_type, financial_year, category ('Personal', 'Nuisance', 'Environmental'), percent.
    """
    path = Path(path)
    grid, sheet = _open_sheet(path, sheet)
    title = str(grid.iat[0, 0]) if grid.shape[0] else ""
    ends = _TITLE_YEAR.findall(title)
    if not ends:
        raise SourceFormatError(
            path, f"the title names no 'year ending March YYYY': {title[:120]!r}", sheet=sheet, row=1
        )
    year = _fy_label(int(ends[-1]) - 1)
    header = next(
        (i for i in range(len(grid)) if [area_name(v) for v in grid.iloc[i] if area_name(v) in ASB_CATEGORIES]), None
    )
    if header is None:
        raise SourceFormatError(path, f"no header row naming the categories {list(ASB_CATEGORIES)}", sheet=sheet)
    columns = {area_name(grid.iat[header, j]): j for j in range(grid.shape[1])}
    missing = [c for c in ASB_CATEGORIES if c not in columns]
    if missing:
        found = [str(v) for v in grid.iloc[header] if str(v).strip()]
        raise SourceFormatError(
            path,
            f"category column(s) {missing} missing from the header; found {found}",
            sheet=sheet,
            row=header + 1,
            column=missing[0],
        )
    name_col = min(columns[c] for c in ASB_CATEGORIES) - 1
    areas = _area_rows(grid, header + 1, name_col)
    areas = [(i, a) for i, a in areas if a.lower() != "percentages"]
    _check_required_areas(path, sheet, grid, header, name_col, {a for _, a in areas})
    rows: list[tuple] = []
    for (i, area), kind in zip(areas, area_types([a for _, a in areas]), strict=True):
        values = {
            c: _value(path, sheet, grid, i, columns[c], _cell_name(grid, header, columns[c]), area, whole=False)
            for c in ASB_CATEGORIES
        }
        if any(v is None or math.isnan(v) for v in values.values()):
            continue  # not available: no rows, never zero
        total = sum(values.values())
        if abs(total - 100) > 0.5:
            raise SourceFormatError(
                path, f"the categories of {area} add up to {total:.2f}%, not 100%", sheet=sheet, row=i + 1
            )
        rows.extend((area, kind, year, c, v) for c, v in values.items())
    tidy = pd.DataFrame(rows, columns=["area", "area_type", "financial_year", "category", "percent"])
    try:
        return PFA_ASB_CATEGORY_SCHEMA.validate(tidy, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SourceFormatError(path, validation_summary(exc), sheet=sheet) from None
