"""The rendered evidence pack in a real browser (headless Chromium): pages load without console errors, every
link, figure and CSV download resolves, search finds the hate-crime chapter, and axe-core finds no serious or
critical accessibility violation.

Needs Debian's `chromium` (`.ci/run` installs it) and axe-core, which the pinned Python package
axe-playwright-python ships (no npm): see browser_env. Where either is missing the tests are skipped with a
message saying what to install; with CSP_REQUIRE_BROWSER=1 (set by CI) they fail instead, so a CI run never
passes them silently.
"""

from __future__ import annotations

import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from browser_env import AXE, CHROMIUM, FLAGS, need_browser
from conftest import ROOT
from published_scan import pdf_links, published_problems

from csp_evidence.runner.pipeline import run

pytestmark = [pytest.mark.e2e, pytest.mark.realdata]


@pytest.fixture(scope="module")
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # with its scroll bars shown (Playwright hides them in headless mode), to see what a reader sees
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, ignore_default_args=["--hide-scrollbars"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, fetched, browser):
    """The default pack's site, served on the loopback address."""
    outputs = tmp_path_factory.mktemp("outputs")
    old = os.environ.get("CSP_OUTPUTS_DIR")
    os.environ["CSP_OUTPUTS_DIR"] = str(outputs)
    try:
        folder = run(ROOT / "params" / "tower-hamlets.yml", render_site=True, engine="smalldocs").site
    finally:
        os.environ.pop("CSP_OUTPUTS_DIR") if old is None else os.environ.update(CSP_OUTPUTS_DIR=old)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def _pages(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.html"))


def _open(browser, url: str):
    """A page at `url`, with the console errors, failed requests and error responses it met."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="networkidle")
    return page, problems


def test_every_page_loads_with_no_console_error_and_every_image_shows(browser, site):
    folder, base = site
    found = {}
    for name in _pages(folder):
        page, problems = _open(browser, base + name)
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src)")
        found[name] = problems + [f"image not shown: {src}" for src in broken]
        page.close()
    assert {name: p for name, p in found.items() if p} == {}
    assert len(found) >= 10  # home, seven chapters, methods, sources


def test_every_link_and_csv_download_resolves(browser, site):
    folder, base = site
    page = browser.new_page()
    targets: set[str] = set()
    for name in _pages(folder):
        page.goto(base + name)
        hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
        targets |= {
            urljoin(base + name, h).split("#")[0]
            for h in hrefs
            if not urlparse(h).scheme or urljoin(base + name, h).startswith(base)
        }
    page.close()
    assert any(t.endswith(".csv") for t in targets), "no CSV download linked from any page"
    broken = [t for t in sorted(targets) if browser.new_context().request.get(t).status != 200]
    assert broken == []


def test_search_finds_the_hate_crime_chapter(browser, site):
    _, base = site
    page, problems = _open(browser, base + "index.html")
    box = page.locator(".smalldocs-search input").first
    box.fill("hate")
    page.wait_for_selector(".search-result", timeout=10_000)
    hits = page.evaluate("() => [...document.querySelectorAll('.search-result')].map(a => a.getAttribute('href'))")
    assert any("02_hate_crime.html" in h for h in hits), hits
    assert problems == []


def test_axe_finds_no_serious_or_critical_accessibility_violation(browser, site):
    folder, base = site
    found = {}
    for name in _pages(folder):
        page, _ = _open(browser, base + name)
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            "async () => (await axe.run()).violations"
            ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
            ".map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)"
        )
        if violations:
            found[name] = violations
        page.close()
    assert found == {}


def test_no_published_file_holds_a_machine_path(site):
    # `strings` of the board summary PDF found file:///…/outputs/.staging-<run>-XXXX/.site-build-YYYY/ links
    folder, _ = site
    assert (folder / "board-summary.pdf").is_file()
    assert published_problems(folder) == []
    assert pdf_links(folder / "board-summary.pdf"), "the board summary links no chapter"
    assert all("://" not in link or link.startswith("https://") for link in pdf_links(folder / "board-summary.pdf"))


# Every table, figure, image, chart and code block that is wider than the content column (or the window) and not
# inside a region that scrolls sideways with its scroll bar shown and a keyboard can reach; the page scrolling
# sideways. Chapter 01's change table and the audit table were cut off at 1280 px, their p-value and verdict
# columns unreadable, and the board summary's charts ran past a phone's edge.
OVERFLOWS = """() => {
  const width = document.documentElement.clientWidth;
  const column = document.querySelector('main') || document.body;
  const limit = Math.min(width, column.getBoundingClientRect().right);
  const scroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === 'auto' || x === 'scroll') return p;
    }
    return null;
  };
  const named = (el) => el.tagName.toLowerCase() + (el.caption ? ` "${el.caption.textContent.slice(0, 60)}"` : '');
  const out = [];
  for (const el of document.querySelectorAll('main table, main figure, main img, main svg, main pre')) {
    const box = el.getBoundingClientRect();
    if (!box.width || el.closest('nav, header, footer')) continue;
    const region = scroller(el);
    if (region === null) {
      if (box.right > limit + 1 || box.left < -1) out.push(`${named(el)}: ${Math.round(box.right)} px wide, past ${Math.round(limit)} px`);
      continue;
    }
    const edge = region.getBoundingClientRect().right;
    if (edge > limit + 1) out.push(`${named(el)}: its scroll region runs past ${Math.round(limit)} px`);
    if (region.scrollWidth > region.clientWidth + 1) {
      if (region.offsetHeight - region.clientHeight < 1) out.push(`${named(el)}: scrolls with no scroll bar shown`);
      if (region.tabIndex < 0) out.push(`${named(el)}: scrolls in a region the keyboard cannot reach`);
    }
  }
  if (document.documentElement.scrollWidth > width + 1) out.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px)`);
  return out;
}"""
FITS = """(caption) => [...document.querySelectorAll('main table')]
  .filter(t => (t.caption ? t.caption.textContent : '').startsWith(caption))
  .map(t => { const r = t.closest('.csp-table-scroll') || t.parentElement; return [r.scrollWidth, r.clientWidth]; })"""


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)], ids=["1280px", "390px"])
def test_no_table_or_figure_overflows_without_a_scroll_bar(browser, site, width, height):
    folder, base = site
    found = {}
    for name in _pages(folder):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(base + name, wait_until="networkidle")
        overflows = page.evaluate(OVERFLOWS)
        if overflows:
            found[name] = overflows
        page.close()
    assert found == {}


@pytest.mark.parametrize(
    "chapter, caption",
    [
        ("01_asb_neighbourhood.html", "Neighbourhood crime measures in"),
        ("99_plan_audit.html", "The figures the CSP plan"),
    ],
)
def test_the_change_and_audit_tables_fit_whole_at_1280px(browser, site, chapter, caption):
    _, base = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base + chapter, wait_until="networkidle")
    widths = page.evaluate(FITS, caption)
    page.close()
    assert widths and all(needed <= shown for needed, shown in widths), widths
