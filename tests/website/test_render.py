"""The site build: refuses a run that was never executed, and escapes the title (a borough's name, from data)."""

import re

import nbformat
import pytest
import yaml

from csp_evidence.data.sources import SOURCES
from csp_evidence.website.render import RenderError, index_page, render, sources_page

HOSTILE = "<img src=x onerror=alert(1)> & Co"


def test_render_refuses_a_run_never_executed_and_makes_nothing(tmp_path):
    run_dir = tmp_path / "hackney"
    with pytest.raises(RenderError, match=r"hackney/notebooks holds no executed notebooks: run `csp run` first"):
        render(run_dir, "Hackney", engine="smalldocs")
    assert not run_dir.exists()


def test_title_is_escaped_in_the_front_matter(tmp_path):
    title = yaml.safe_load(index_page(tmp_path, HOSTILE, []).split("---")[1])["title"]
    assert re.search(r"(?<!\\)<", title) is None  # every '<' is backslashed: literal text to Markdown
    assert "&amp; Co" in title


def test_title_is_escaped_on_the_built_pages(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Overview\n\nText.")])
    nbformat.write(nb, run_dir / "notebooks" / "00_overview.ipynb")
    site = render(run_dir, HOSTILE, engine="smalldocs")
    for page in ("index.html", "00_overview.html"):
        text = (site / page).read_text(encoding="utf-8")
        assert "<img src=x" not in text, page
        assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in text, page


def test_sources_page_lists_every_registered_source_and_marks_the_secondary_ones():
    page = sources_page()
    for src in SOURCES:
        assert src.file in page, src.id
    secondary = [s for s in SOURCES if s.secondary]
    assert {s.id for s in secondary} >= {"gla_sol_asb_calls", "gla_sol_reoffending"}
    assert page.count("(secondary source)\n") == len(secondary)
    for src in secondary:
        assert f"(<{src.original_page}>). Cite the original publisher" in page
    assert "crime dashboard of Metropolitan Police Service data" in page
    assert "Ministry of Justice's proven reoffending statistics" in page
