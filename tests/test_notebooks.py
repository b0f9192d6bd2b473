"""The committed notebooks: stripped of outputs, parameterised alike, and every chart with alt text."""

import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHART_CALL = re.compile(r"charts\.publish_chart\(")


def test_there_is_an_overview():
    assert (ROOT / "notebooks" / "00_overview.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_then_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "parameters" in nb.cells[1].metadata.get("tags", [])
    for name in ("borough", "headline_year", "financial_years", "output_dir"):
        assert re.search(rf"^{name} = ", nb.cells[1].source, re.M), f"{path.name}: parameter {name} missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_except_nbval_checks(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kept = "NBVAL_CHECK_OUTPUT" in cell.source
        assert kept or not cell.outputs, f"{path.name} cell {i} carries outputs: strip them"
        assert not any("image/png" in o.get("data", {}) for o in cell.outputs), f"{path.name} cell {i} keeps an image"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chart_has_caption_and_alt_text(path):
    nb = nbformat.read(path, as_version=4)
    charts = [c for c in nb.cells if c.cell_type == "code" and CHART_CALL.search(c.source)]
    for cell in charts:
        head = cell.source.splitlines()
        options = [line for line in head if line.startswith("#|")]
        assert any(o.startswith("#| fig-alt:") and len(o) > 40 for o in options), f"{path.name}: chart without fig-alt"
        assert any(o.startswith("#| fig-cap:") for o in options), f"{path.name}: chart without fig-cap"
