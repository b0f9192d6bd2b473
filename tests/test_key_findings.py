"""The home page's key findings come from the chapters' headline JSON, and only from what they computed."""

from csp_evidence.report.headlines import write_headlines
from csp_evidence.website.key_findings import key_findings
from csp_evidence.website.render import index_page


def test_sentences_from_headlines_and_nothing_for_missing_chapters(tmp_path):
    assert key_findings(tmp_path) == []
    write_headlines(
        tmp_path,
        "01_asb_neighbourhood",
        {
            "drug_trafficking_covid": {
                "year": "2020/21",
                "observed": 473,
                "expected": 161.6,
                "lower": 135.2,
                "upper": 233.4,
                "outside": "above",
            },
            "theft_covid": {"year": "2020/21", "observed": None, "expected": None, "note": "not modelled"},
        },
    )
    write_headlines(
        tmp_path,
        "05_confidence",
        {
            "treat_fairly": {
                "latest": 0.64,
                "latest_quarter": "2023-12-31",
                "baseline": 0.7,
                "baseline_quarter": "2021-03-31",
                "target": 0.75,
                "status": "below baseline",
            }
        },
    )
    found = dict((page, text) for page, text in key_findings(tmp_path))
    assert found["01_asb_neighbourhood.html"] == (
        "Drug trafficking in 2020/21: 473 recorded against 162 expected (135 to 233), above the range expected "
        "without the pandemic."
    )
    assert "64% in the year to December 2023, against 70% in the year to March 2021" in found["05_confidence.html"]
    assert len(found) == 2  # theft was not modelled: no sentence


def test_index_page_lists_key_findings_and_escapes_borough(tmp_path):
    write_headlines(
        tmp_path,
        "00_overview",
        {
            "headline_year": "2019/20",
            "borough": "<b>Borough</b>",
            "total_offences": 34693,
            "rank": 7,
            "ranked": 32,
            "rate_per_1000": 113.7,
            "london_rate_per_1000": 102.5,
        },
    )
    page = index_page(tmp_path, "Title", [("00_overview.ipynb", "Overview")])
    assert "34,693" in page and "7th highest" in page and "<b>Borough</b>" not in page
    assert "[Overview](00_overview.html)" in page
