"""The package's layout holds: layers import only the layers below them, no import cycles, no hidden imports."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
from conftest import ROOT

PACKAGE = ROOT / "lib" / "csp_evidence"


def test_the_layers_contracts_hold():
    # import-linter's contracts in pyproject.toml: a back-edge (say analysis importing report) fails here
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_no_module_imports_the_package_inside_a_function():
    # in-function imports of the package's own modules hide cycles and layer breaks from the contracts
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and not node.level
                    else ["." * node.level]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                if any(n.startswith(("csp_evidence", ".")) for n in names):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not hidden, hidden


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle among the package's modules, or None (depth-first search, white/grey/black)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(other) == 1:
                return stack[stack.index(other) :] + [other]
            if other not in state and (found := visit(other)):
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph.modules):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_there_is_no_import_cycle():
    graph = grimp.build_graph("csp_evidence", cache_dir=None)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert _cycle(graph) == ["p.a", "p.b", "p.c", "p.a"]


def test_the_chapters_contract_lists_every_chapter_module():
    # a chapter module left out of "Chapters never import each other" could import another chapter unnoticed
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(
        c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == "Chapters never import each other"
    )
    modules = {f"csp_evidence.chapters.{p.stem}" for p in (PACKAGE / "chapters").glob("*.py") if p.stem != "__init__"}
    assert set(contract["modules"]) == modules
