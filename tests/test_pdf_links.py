"""The board summary PDF links its chapters relatively (or at the published site's address), never as the
`file://` path of the folder it was printed in: that path is dead once the pack is published, and a machine path."""

from __future__ import annotations

import os

import pytest
from browser_env import need_browser
from published_scan import machine_paths, pdf_links, pdf_strings

from csp_evidence.website.summary import print_pdf

PAGE = """<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Board summary: Test</title></head>
<body><main><h1>Board summary</h1>
<p><a href="00_overview.html">The full chapter: Overview</a></p>
<p><a href="99_plan_audit.html#verdicts">The audit's verdicts</a></p>
<p><a href="https://www.gov.uk/">GOV.UK</a></p>
<p><a href="{outside}">A file beside the site</a></p>
</main></body></html>
"""


@pytest.fixture
def printed(tmp_path):
    need_browser()

    def build(project_config: str | None = None):
        project = tmp_path / "project"
        project.mkdir(exist_ok=True)
        if project_config is not None:
            (project / "_quarto.yml").write_text(project_config)
        os.environ["CSP_PROJECT_DIR"] = str(project)
        site = tmp_path / "outputs" / ".staging-th-abcd1234" / ".site-build-wxyz"
        site.mkdir(parents=True, exist_ok=True)
        (tmp_path / "notes.txt").write_text("not part of the site")
        page = site / "board-summary.html"
        page.write_text(PAGE.format(outside=(tmp_path / "notes.txt").as_uri()))
        return print_pdf(page, site / "board-summary.pdf")

    old = os.environ.get("CSP_PROJECT_DIR")
    yield build
    os.environ.pop("CSP_PROJECT_DIR") if old is None else os.environ.update(CSP_PROJECT_DIR=old)


def test_the_pdf_links_its_chapters_relatively_and_holds_no_machine_path(printed):
    pdf = printed()
    assert pdf_links(pdf) == ["00_overview.html", "99_plan_audit.html#verdicts", "https://www.gov.uk/"]
    assert sorted({p for text in pdf_strings(pdf) for p in machine_paths(text)}) == []


def test_the_pdf_links_the_published_site_where_its_address_is_configured(printed):
    pdf = printed("website:\n  title: x\n  site-url: https://csp.example.org/tower-hamlets\n")
    assert pdf_links(pdf) == [
        "https://csp.example.org/tower-hamlets/00_overview.html",
        "https://csp.example.org/tower-hamlets/99_plan_audit.html#verdicts",
        "https://www.gov.uk/",
    ]
