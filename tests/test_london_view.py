"""The London view: a tile map coloured by the measure the reader chooses, a sortable table, a CSV behind them,
each borough linked to its pack; static and offline, with no console error in headless Chromium."""

import csv
import io

import pytest
from browser_env import AXE, CHROMIUM, FLAGS, need_browser

from csp_evidence.data.geo import LONDON_SQUARES
from csp_evidence.report.headlines import write_headlines
from csp_evidence.runner.batch import BoroughOutcome, slug, write_london_index
from csp_evidence.website.london import CLASS_COLOURS, NO_VALUE, class_breaks, class_of


def test_five_classes_of_equal_count():
    values = list(range(1, 11))  # 1..10: two values a class
    breaks = class_breaks(values)
    assert breaks == [2, 4, 6, 8, 10]
    assert [class_of(v, breaks) for v in (1, 2, 3, 10)] == [0, 0, 1, 4]


@pytest.fixture
def london(tmp_path):
    """Planted packs for the 32 boroughs: rate = row number (1 to 32 by name), change = rate - 16, Sutton failed."""
    outcomes = []
    for i, borough in enumerate(sorted(LONDON_SQUARES), 1):
        name = slug(borough)
        if borough == "Sutton":
            outcomes.append(BoroughOutcome(name, borough, "failed", error="planted failure"))
            continue
        write_headlines(
            tmp_path / name,
            "00_overview",
            {
                "headline_year": "2019/20",
                "total_offences": 1000 * i,
                "rank": 33 - i,
                "rate_per_1000": float(i),
                "change_pct": float(i - 16),
                "lockdown": {"month": "2020-04", "pct_change": -float(i)},
            },
        )
        (tmp_path / name / "site").mkdir()
        (tmp_path / name / "site" / "index.html").write_text("<!doctype html><title>pack</title>", encoding="utf-8")
        outcomes.append(BoroughOutcome(name, borough, "built"))
    return write_london_index(tmp_path, outcomes)


def test_the_page_has_the_map_the_table_and_the_csv_behind_them(london):
    page = london.read_text(encoding="utf-8")
    assert (
        page.count('<g class="tile"') == 32
        and '<title id="map-title">' in page
        and 'aria-labelledby="map-title map-desc"' in page
    )
    assert 'href="../barnet/site/index.html"' in page and 'href="../sutton/site/index.html"' not in page
    assert "planted failure" in page and "<td>+14.0%</td>" in page  # Westminster: 30th by name, change 30 - 16
    assert (london.parent / "styles.css").is_file()
    rows = list(csv.DictReader(io.StringIO((london.parent / "london-boroughs.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 32
    westminster = next(r for r in rows if r["borough"] == "Westminster")
    assert westminster["offences_per_1000_residents"] == "32" and westminster["change_on_previous_year_pct"] == "16"
    assert next(r for r in rows if r["borough"] == "Sutton")["status"] == "failed: planted failure"


@pytest.fixture(scope="module")
def chromium():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _fill(page, borough):
    return page.evaluate(
        "(b) => [...document.querySelectorAll('#london-map .tile')]"
        ".find(g => g.querySelector('title').textContent.startsWith(b)).querySelector('rect').getAttribute('fill')",
        borough,
    )


def test_choosing_a_measure_recolours_the_map_and_headings_sort_the_table(london, chromium):
    page = chromium.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(london.as_uri())
    # by rate, Barking and Dagenham (1st by name, rate 1) is lightest, Westminster (rate 32) darkest; Sutton no value
    assert _fill(page, "Barking and Dagenham") == CLASS_COLOURS[0]
    assert _fill(page, "Westminster") == CLASS_COLOURS[-1]
    assert _fill(page, "Sutton") == NO_VALUE
    page.check("input[value=lockdown]")  # lockdown = -rate: the order turns over
    assert _fill(page, "Barking and Dagenham") == CLASS_COLOURS[-1]
    assert _fill(page, "Westminster") == CLASS_COLOURS[0]
    assert page.is_visible(".legend[data-measure=lockdown]") and not page.is_visible(".legend[data-measure=rate]")
    first = "() => document.querySelector('#boroughs tbody tr th').textContent"
    page.click("#boroughs thead button[data-column='3']")  # per 1,000, ascending
    assert page.evaluate(first) == "Barking and Dagenham"
    page.click("#boroughs thead button[data-column='3']")  # descending
    assert page.evaluate(first) == "Westminster"
    assert page.get_attribute("#boroughs thead th:nth-child(4)", "aria-sort") == "descending"
    assert problems == []  # before axe, whose own requests for the styles fail on file:// pages
    page.add_script_tag(path=str(AXE))
    serious = page.evaluate(
        "async () => (await axe.run()).violations.filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id)"
    )
    assert serious == []
    page.screenshot(path=str(london.parent / "screenshot.png"), full_page=True)
