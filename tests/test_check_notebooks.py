"""The notebook check of `make check` (tools/check_notebooks.py): it fails on a notebook over its line limit and on
a block of six code lines two notebooks share, names what fails, and passes the repository's notebooks."""

import json
import runpy
import subprocess
import sys

import pytest
from conftest import ROOT

CHECK = ROOT / "tools" / "check_notebooks.py"
tool = runpy.run_path(str(CHECK))


def _notebook(path, *cells, parameters="borough = 'Hackney'\noutput_dir = 'out'"):
    """A notebook with a parameters cell and the given code cells (each a string)."""
    sources = [({"tags": ["parameters"]}, parameters)] + [({}, c) for c in cells]
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": meta, "source": src.splitlines(keepends=True), "outputs": []}
            for meta, src in sources
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


SHARED = "\n".join(f"x{i} = chapter.step({i}, borough)" for i in range(6))


def test_a_six_line_block_in_two_notebooks_fails_and_is_named(tmp_path):
    a = _notebook(tmp_path / "a.ipynb", "from m import chapter\n" + SHARED, "chapter.show(x0)")
    b = _notebook(
        tmp_path / "b.ipynb", "import m\n\n# the same steps, indented otherwise\n" + SHARED.replace("x", "  x")
    )
    found = tool["problems"]([a, b])
    assert len(found) == 1 and "a.ipynb and" in found[0] and "b.ipynb share 6 lines" in found[0]
    assert "x5 = chapter.step(5, borough)" in found[0]
    run = subprocess.run([sys.executable, str(CHECK), str(a), str(b)], capture_output=True, text=True)
    assert run.returncode == 1 and "share 6 lines" in run.stdout


def test_five_shared_lines_imports_comments_and_the_parameters_cell_pass(tmp_path):
    five = "\n".join(SHARED.splitlines()[:5])
    imports = "\n".join(f"from csp_evidence.m{i} import f{i}" for i in range(8))
    a = _notebook(tmp_path / "a.ipynb", imports, five + "\ny = 1", "# " + "\n# ".join(SHARED.splitlines()))
    b = _notebook(tmp_path / "b.ipynb", imports, five + "\ny = 2", "# " + "\n# ".join(SHARED.splitlines()))
    assert tool["problems"]([a, b]) == []
    # the same six lines in two cells of one notebook are that notebook's business, not a shared block
    c = _notebook(tmp_path / "c.ipynb", SHARED, SHARED)
    assert tool["problems"]([c]) == []


@pytest.mark.parametrize("lines, fails", [(120, False), (121, True)])
def test_a_notebook_over_120_code_lines_fails(tmp_path, lines, fails):
    body = "\n".join(f"step_{i}()" for i in range(lines)) + "\n\n# a comment is not a code line\n#| fig-cap: 'nor this'"
    found = tool["problems"]([_notebook(tmp_path / "long.ipynb", body)])
    assert bool(found) is fails
    if fails:
        assert found == [
            f"{tmp_path / 'long.ipynb'}: 121 code lines, more than 120: move the work into its chapter module"
        ]


def test_the_repository_notebooks_pass():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks and tool["problems"](notebooks) == []
