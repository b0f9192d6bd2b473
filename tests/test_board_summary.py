"""The board summary page is built from a run's saved outputs only; without Chromium the PDF is skipped, and the
home page and `csp` say so (the PDF itself is checked on the real pack in test_end_to_end.py)."""

import json

from csp_evidence.report.headlines import write_headlines
from csp_evidence.website.render import index_page
from csp_evidence.website.summary import (
    SUMMARY_HTML,
    SUMMARY_PDF,
    SummaryError,
    headline_chart,
    pdf_unavailable_reason,
    print_pdf,
    summary_html,
)


def _executed(run, chapter, cells):
    (run / "notebooks").mkdir(parents=True, exist_ok=True)
    (run / "notebooks" / f"{chapter}.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")


def _chart_cell(slug, alt):
    link = f"[Download the data for this chart (CSV)](tables/{slug}.csv)"
    return {
        "source": [f'#| fig-alt: "{alt}"\n', "fig = charts.bar_chart(...)"],
        "outputs": [{"data": {"image/png": "..."}}, {"data": {"text/markdown": [link]}}],
    }


def test_the_headline_chart_is_the_first_chart_a_chapter_published(tmp_path):
    (tmp_path / "figures").mkdir()
    for slug in ("01-london-comparison", "01-theft"):
        (tmp_path / "figures" / f"{slug}.png").write_bytes(b"png")
    _executed(
        tmp_path,
        "01_asb_neighbourhood",
        [
            {"source": ["x = 1"], "outputs": []},
            _chart_cell("01-london-comparison", "Bars by measure"),
            _chart_cell("01-theft", "Line"),
        ],
    )
    chart = headline_chart(tmp_path, "01_asb_neighbourhood")
    assert (chart.slug, chart.alt) == ("01-london-comparison", "Bars by measure")
    _executed(tmp_path, "99_plan_audit", [{"source": ["x"], "outputs": []}])
    assert headline_chart(tmp_path, "99_plan_audit") is None
    assert headline_chart(tmp_path, "05_confidence") is None  # not executed


def test_the_summary_page_has_each_chapters_key_points_the_verdicts_and_escapes_text(tmp_path):
    write_headlines(
        tmp_path,
        "01_asb_neighbourhood",
        {"key_points": [{"text": "Theft fell <b>4.6%</b> in 2019/20.", "anchor": "change"}]},
    )
    write_headlines(
        tmp_path,
        "99_plan_audit",
        {
            "key_points": [{"text": "4 of 23 figures match.", "anchor": "the-audit"}],
            "verdicts": {"matches": 4, "differs": 6, "within revision": 0},
        },
    )
    page = summary_html(
        tmp_path,
        "Title & co",
        [("01_asb_neighbourhood", "1. Neighbourhood"), ("02_hate_crime", "2. Hate"), ("99_plan_audit", "Plan audit")],
    )
    assert "Theft fell &lt;b&gt;4.6%&lt;/b&gt; in 2019/20." in page and "<b>4.6%" not in page
    assert "Board summary: Title &amp; co" in page
    assert "2. Hate" not in page  # a chapter with no key points gives no section
    assert '<th scope="row">Matches</th><td>4</td>' in page and "Within revision" not in page
    assert "@page { size: A4" in page


def test_without_chromium_the_pdf_is_skipped_with_a_reason_and_the_home_page_links_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv("CSP_CHROMIUM", str(tmp_path / "no-such-chromium"))
    why = pdf_unavailable_reason()
    assert why and "no-such-chromium" in why and "not a file" in why
    page = tmp_path / SUMMARY_HTML
    page.write_text("<!doctype html><title>x</title>", encoding="utf-8")
    try:
        print_pdf(page, tmp_path / SUMMARY_PDF)
    except SummaryError as exc:
        assert "no-such-chromium" in str(exc)
    else:
        raise AssertionError("printing without Chromium did not fail")
    assert not (tmp_path / SUMMARY_PDF).exists()
    home = index_page(tmp_path, "Title", [], summary=SUMMARY_HTML)
    assert f"[Board summary]({SUMMARY_HTML})" in home and "no PDF was made" in home
    assert f"({SUMMARY_PDF})" in index_page(tmp_path, "Title", [], summary=SUMMARY_PDF)
