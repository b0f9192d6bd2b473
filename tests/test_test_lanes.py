"""The fast lane's list of slow tests names tests that exist: an entry left behind by a moved or renamed test
would silently put that test back into `make test-fast`."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import SLOW

ROOT = Path(__file__).resolve().parents[1]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_slow_entry_names_a_test_that_exists():
    for entry in SLOW:
        file, _, prefix = entry.partition("::")
        path = ROOT / file
        assert path.is_file(), f"SLOW names {file}, which does not exist"
        if prefix:
            assert any(name.startswith(prefix) for name in _test_names(path)), f"SLOW names {entry}: no such test"
