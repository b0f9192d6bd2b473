"""The error every reader raises for bad input: it names the file, and the row and column where known."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path

import pandas as pd


class SourceFormatError(ValueError):
    """A source file does not have the layout or values its reader expects."""

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        sheet: str | None = None,
        table: str | None = None,
    ):
        """`sheet` names a workbook's sheet (rows are then spreadsheet rows), `table` a database's table."""
        where = str(path)
        if sheet is not None:
            where += f", sheet {sheet!r}"
        if table is not None:
            where += f", table {table!r}"
        if row is not None:
            where += f", {'row' if sheet is not None else 'line'} {row}"
        if column is not None:
            where += f", column {column!r}"
        # a message that already names the file (a summary of several failures) is kept as it is
        super().__init__(problem if problem.startswith(str(path)) else f"{where}: {problem}")
        self.path, self.row, self.column, self.problem = Path(path), row, column, problem
        self.sheet, self.table = sheet, table


def read_csv_text(
    path: Path,
    required: tuple[str, ...] | list[str],
    error: type[SourceFormatError] = SourceFormatError,
    hint: str = "",
    **read_csv_args,
) -> pd.DataFrame:
    """Read an official CSV with every column as text; a missing, empty or unreadable file, or a missing
    required column, raises `error` naming the file (and the column, with `hint` added to the message)."""
    if not path.is_file():
        raise error(path, "file not found")
    if path.stat().st_size == 0:
        raise error(path, "file is empty")
    options = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"} | read_csv_args
    try:
        raw = pd.read_csv(path, **options)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise error(path, f"cannot be read as a CSV ({exc})") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise error(path, f"missing column(s) {missing}; found {list(raw.columns)[:8]}{hint}", column=missing[0])
    return raw


INT64_MAX = 2**63 - 1
# The largest count a file may hold: no count in any source reaches ten million (London records about a million
# offences a year), and int64 holds a sum of nine billion counts this large, so no total, rate or change computed
# from them can wrap round to a negative number.
MAX_COUNT = 10**9
_DIGITS = r"[0-9]+"
_DIGITS_OR_THOUSANDS = r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+"


def whole_counts(
    path: Path,
    frame: pd.DataFrame,
    error: type[SourceFormatError] = SourceFormatError,
    *,
    thousands: bool = False,
    context: Callable[[Hashable], str] | None = None,
) -> pd.DataFrame:
    """The counts in `frame` (text as read, one column per count column, the index the 0-based data row) as int64.

    A count is written as a whole non-negative number, digits only (with `thousands`, also grouped '1,234'),
    no larger than `MAX_COUNT` (so that sums cannot wrap round): '1e3', '5.0', '+5', '-1', '' and
    '9223372036854775807' are refused rather than rounded, wrapped round or read as another number. The first bad value (in file order) raises `error` naming
    the file, line and column, with `context(index)` (e.g. the row's borough) when given.
    """
    text = frame.apply(lambda column: column.fillna("").astype(str).str.strip())
    digits = text.apply(lambda column: column.str.replace(",", "", regex=False)) if thousands else text
    pattern = _DIGITS_OR_THOUSANDS if thousands else _DIGITS
    significant = digits.apply(lambda column: column.str.lstrip("0"))
    width = significant.apply(lambda column: column.str.len())
    bound = str(MAX_COUNT)
    in_range = (width < len(bound)) | ((width == len(bound)) & (significant <= bound))
    ok = text.apply(lambda column: column.str.fullmatch(pattern)).fillna(False).astype(bool) & in_range
    if not ok.to_numpy().all():
        bad = ~ok.to_numpy()
        row_pos, col_pos = next(zip(*bad.nonzero(), strict=True))
        index, column = frame.index[row_pos], frame.columns[col_pos]
        where = f" ({context(index)})" if context else ""
        raise error(
            path,
            f"count {str(frame.iloc[row_pos, col_pos])[:40]!r} is not a non-negative whole number up to {MAX_COUNT:,}"
            f"{where}; {int(bad.sum())} such value(s)",
            row=file_line(index),
            column=str(column),
        )
    return digits.astype("int64")


def file_line(index: object) -> int:
    """The 1-based line in the file of a 0-based data row index (line 1 is the header)."""
    return int(index) + 2  # type: ignore[call-overload]


def schema_failures(
    path: Path,
    err,
    title: str,
    columns: dict[str, str] | None = None,
    describe=None,
    row_checks: tuple[str, ...] = (),
    limit: int = 10,
) -> str:
    """Pandera's lazy failures as 'file: line N, column C: value V fails CHECK' lines, at most `limit` of them.

    A check over several columns (uniqueness, a frame-wide check, or a check named in `row_checks`) is reported
    once per row, after the single-column failures. `columns` maps
    tidy column names back to the file's; `describe(case, line)` may return a reader's own wording for a case.
    """
    cases = err.failure_cases.drop_duplicates(["check", "index", "column"])
    check = cases["check"].astype(str)
    row_wide = cases["column"].isna() | (check == "multiple_fields_uniqueness") | check.isin(row_checks)
    cases = pd.concat([cases[~row_wide], cases[row_wide].drop_duplicates(["check", "index"])])
    out = []
    for _, case in cases.head(limit).iterrows():
        line = f"line {file_line(case['index'])}" if pd.notna(case["index"]) else "all rows"
        text = describe(case, line) if describe else None
        if text is None:
            column = (columns or {}).get(str(case["column"]), case["column"])
            value = case["failure_case"]
            value = f"{value:%d/%m/%Y}" if isinstance(value, pd.Timestamp) else repr(value)
            text = f"column {column!r}: value {value} fails {case['check']}"
        out.append(f"{path}: {line}, {text}")
    more = f"\n... and {len(cases) - limit} more" if len(cases) > limit else ""
    return f"{title}\n" + "\n".join(out) + more


def validation_summary(err, columns: dict[str, str] | None = None, limit: int = 5) -> str:
    """Pandera's lazy failures of a tidy table in one line, for files without lines (sheets, database tables):
    'failed validation: column C: value V fails CHECK; ...', with tidy column names mapped back to the file's
    through `columns`."""
    cases = err.failure_cases.drop_duplicates(["column", "check"])
    names = columns or {}
    lines = [
        f"column {names.get(c.column, c.column)!r}: value {c.failure_case!r} fails {c.check}"
        for c in cases.head(limit).itertuples()
    ]
    return "failed validation: " + "; ".join(lines)
