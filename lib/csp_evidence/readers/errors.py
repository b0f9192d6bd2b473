"""The error every reader raises for bad input: it names the file, and the row and column where known."""

from __future__ import annotations

from pathlib import Path


class SourceFormatError(ValueError):
    """A source file does not have the layout or values its reader expects."""

    def __init__(self, path: Path | str, problem: str, *, row: int | None = None, column: str | None = None):
        where = str(path)
        if row is not None:
            where += f", line {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}")
        self.path, self.row, self.column, self.problem = Path(path), row, column, problem
