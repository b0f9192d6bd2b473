"""The website reads a pack's headline figures once and in the site's chapter order, by no notebook's name."""

from csp_evidence.report.headlines import PackHeadlines
from csp_evidence.website.key_findings import key_findings
from csp_evidence.website.render import index_page

OVERVIEW = {
    "headline_year": "2019/20",
    "borough": "Hackney",
    "total_offences": 34693,
    "rank": 7,
    "ranked": 32,
    "rate_per_1000": 113.7,
    "london_rate_per_1000": 102.5,
}


def point(text: str) -> dict:
    return {"key_points": [{"text": text, "anchor": "a"}]}


def test_findings_follow_the_given_chapter_order_and_skip_the_overview():
    pack = PackHeadlines(
        {"00_overview": point("Overview.") | OVERVIEW, "07_places": point("Places."), "02_hate": point("Hate.")}
    )
    assert key_findings(pack) == [("02_hate.html#a", "Hate."), ("07_places.html#a", "Places.")]
    assert key_findings(pack, ["07_places", "02_hate", "09_absent"]) == [
        ("07_places.html#a", "Places."),
        ("02_hate.html#a", "Hate."),
    ]


def test_the_home_page_uses_the_headlines_it_is_given_and_the_site_chapters(tmp_path):
    pack = PackHeadlines({"00_overview": OVERVIEW, "07_places": point("Places."), "08_unlisted": point("Hidden.")})
    chapters = [("00_overview.ipynb", "Overview"), ("07_places.ipynb", "Places"), ("methods.qmd", "Methods")]
    page = index_page(tmp_path, "Hackney", chapters, headlines=pack)  # nothing on disk: all from `pack`
    assert "**34,693**" in page and "7th highest" in page
    assert "- Places. [See the evidence](07_places.html#a)" in page
    assert "Hidden." not in page  # a chapter the site does not show gives no finding
