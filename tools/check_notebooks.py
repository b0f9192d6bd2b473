"""Keep the notebooks thin: fail on a notebook over MAX_LINES code lines, or a block of BLOCK lines two notebooks share.

A notebook is the parameters cell, a few calls into its chapter module, charts and text; what two notebooks both
need belongs in a shared function. Code lines are the non-blank lines of code cells that are not comments (Quarto's
``#|`` options included) and not in the parameters cell (papermill's, the same in every notebook). A shared block is
BLOCK consecutive code lines of one cell, imports left out, that stand (whitespace aside) in another notebook too.

Usage: ``python tools/check_notebooks.py notebooks/*.ipynb``; exits 1 and names each notebook and block that fails.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

MAX_LINES = 120
BLOCK = 6


def code_cells(path: Path) -> list[list[str]]:
    """Each code cell's code lines (stripped), the parameters cell left out; a file that is not a notebook is an error."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f"{path}: not a notebook ({exc})") from None
    out = []
    for cell in cells:
        if cell.get("cell_type") != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell.get("source", []))
        out.append([line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")])
    return out


def _is_import(line: str) -> bool:
    return line.startswith(("import ", "from ")) and " import " in f" {line} "


def problems(paths: list[Path], max_lines: int = MAX_LINES, block: int = BLOCK) -> list[str]:
    """What is wrong with the notebooks: one line for each notebook that is too long and each block shared."""
    found = []
    seen: dict[tuple[str, ...], set[Path]] = defaultdict(set)
    for path in paths:
        cells = code_cells(path)
        count = sum(len(lines) for lines in cells)
        if count > max_lines:
            found.append(f"{path}: {count} code lines, more than {max_lines}: move the work into its chapter module")
        for lines in cells:
            lines = [line for line in lines if not _is_import(line)]
            for i in range(len(lines) - block + 1):
                seen[tuple(lines[i : i + block])].add(path)
    reported: set[frozenset[Path]] = set()
    for lines, where in seen.items():
        if len(where) > 1 and frozenset(where) not in reported:
            reported.add(frozenset(where))
            names = " and ".join(str(p) for p in sorted(where))
            found.append(f"{names} share {block} lines (make them one function):\n    " + "\n    ".join(lines))
    return found


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv]
    if not paths:
        print("usage: check_notebooks.py NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    found = problems(paths)
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
