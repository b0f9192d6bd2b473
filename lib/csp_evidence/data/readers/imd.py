"""The English Indices of Deprivation 2019, File 1 (Index of Multiple Deprivation by 2011 LSOA; MHCLG).

``read_imd2019`` reads sheet ``IMD2019`` into lsoa11, lad19, rank, decile and checks it: the six published columns
are there, every LSOA code is an English 2011 LSOA code (E01...) and appears once, ranks lie between 1 and the number of LSOAs
(32,844; a few ties are published), and each decile (1 = the most deprived tenth) is the one its rank falls in. Errors name the
file, sheet, row and column.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from csp_evidence.data.readers.errors import SourceFormatError

SHEET = "IMD2019"
COLUMNS = {
    "LSOA code (2011)": "lsoa11",
    "Local Authority District code (2019)": "lad19",
    "Index of Multiple Deprivation (IMD) Rank": "rank",
    "Index of Multiple Deprivation (IMD) Decile": "decile",
}
LSOA11 = re.compile(r"E01\d{6}")


def read_imd2019(path: Path | str, sheet: str = SHEET) -> pd.DataFrame:
    """Read the IMD 2019 by 2011 LSOA: lsoa11, lad19, rank (1 = most deprived), decile (1 = most deprived tenth)."""
    path = Path(path)
    if not path.is_file():
        raise SourceFormatError(path, "file not found")
    try:
        raw = pd.read_excel(path, sheet_name=sheet, dtype=str)
    except ValueError as exc:  # a missing sheet
        raise SourceFormatError(path, f"no sheet {sheet!r} ({exc})") from exc
    except Exception as exc:  # a truncated xlsx raises zipfile/openpyxl errors of several types
        raise SourceFormatError(path, f"cannot be read as a workbook ({exc})") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise SourceFormatError(path, f"missing column(s) {missing}", sheet=sheet, column=missing[0])
    table = raw[list(COLUMNS)].rename(columns=COLUMNS)
    n = len(table)

    def row(i: int) -> int:
        return int(i) + 2  # spreadsheet row (row 1 is the header)

    bad = ~table["lsoa11"].fillna("").str.fullmatch(LSOA11.pattern)
    if bad.any():
        i = bad.idxmax()
        raise SourceFormatError(
            path,
            f"{table.at[i, 'lsoa11']!r} is not a 2011 LSOA code in England",
            sheet=sheet,
            row=row(i),
            column="LSOA code (2011)",
        )
    for column in ("rank", "decile"):
        text = table[column].fillna("").str.strip()
        ok = text.str.fullmatch(r"\d+")
        if not ok.all():
            i = (~ok).idxmax()
            raise SourceFormatError(
                path,
                f"{table.at[i, column]!r} is not a whole number",
                sheet=sheet,
                row=row(i),
                column=[k for k, v in COLUMNS.items() if v == column][0],
            )
        table[column] = text.astype("int64")
    dup = table["lsoa11"].duplicated()
    if dup.any():
        i = dup.idxmax()
        raise SourceFormatError(path, f"LSOA {table.at[i, 'lsoa11']} appears twice", sheet=sheet, row=row(i))
    out_of_range = (table["rank"] < 1) | (table["rank"] > n)
    if out_of_range.any():
        i = out_of_range.idxmax()
        raise SourceFormatError(
            path,
            f"rank {table.at[i, 'rank']} is outside 1 to {n}",
            sheet=sheet,
            row=row(i),
            column="Index of Multiple Deprivation (IMD) Rank",
        )
    expected = table["rank"].map(lambda r: math.ceil(10 * r / n))
    wrong = table["decile"] != expected
    if wrong.any():
        i = wrong.idxmax()
        raise SourceFormatError(
            path,
            f"decile {table.at[i, 'decile']} does not match rank {table.at[i, 'rank']} of {n}",
            sheet=sheet,
            row=row(i),
            column="Index of Multiple Deprivation (IMD) Decile",
        )
    return table.reset_index(drop=True)
