"""The home page's key findings come from the chapters' headline JSON, and only from what they computed."""

from csp_evidence.report.headlines import write_headlines
from csp_evidence.website.key_findings import key_findings
from csp_evidence.website.render import index_page


def test_each_chapter_gives_its_first_key_point_linked_to_its_evidence(tmp_path):
    assert key_findings(tmp_path) == []
    points = [
        {"text": "In 2019/20 Borough had a higher rate than London on 7 of 8 measures.", "anchor": "london-comparison"},
        {"text": "Theft fell 4.6% in 2019/20.", "anchor": "change-on-the-previous-year"},
    ]
    write_headlines(tmp_path, "01_asb_neighbourhood", {"key_points": points})
    write_headlines(tmp_path, "05_confidence", {"key_points": [{"text": "64% say the police are fair.", "anchor": ""}]})
    write_headlines(tmp_path, "02_hate_crime", {"strands": {}})  # an older chapter that saved no key points
    assert key_findings(tmp_path) == [
        ("01_asb_neighbourhood.html#london-comparison", points[0]["text"]),
        ("05_confidence.html", "64% say the police are fair."),
    ]


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
