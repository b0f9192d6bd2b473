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


def test_hate_strand_and_domestic_abuse_sentences(tmp_path):
    write_headlines(
        tmp_path,
        "02_hate_crime",
        {
            "strand_year": "2019/20",
            "strands": {
                "Racist and religious hate crime": {
                    "previous": 792,
                    "count": 767,
                    "pct_change": -3.157,
                    "significant": False,
                    "rate": 2.514,
                    "london_rate": 2.106,
                    "small": False,
                },
                "Homophobic hate crime": {"previous": 110, "count": 145, "pct_change": 31.82, "significant": True},
                "Transgender hate crime": {
                    "previous": 6,
                    "count": 9,
                    "pct_change": None,
                    "significant": None,
                    "small": True,
                },
            },
            "racist_and_religious_covid": {
                "summer_2020": {"observed": 302, "expected": 258.9, "lower": 184.4, "upper": 357.2, "outside": "within"}
            },
        },
    )
    write_headlines(
        tmp_path,
        "04_violence_exploitation",
        {
            "borough": "Tower Hamlets",
            "special_year": "2019/20",
            "special_measures": {
                "Knife crime": {
                    "previous": 665,
                    "count": 629,
                    "pct_change": -5.41,
                    "significant": False,
                    "small": False,
                }
            },
            "domestic_abuse_lockdowns": [
                {
                    "area": "Tower Hamlets",
                    "measure": "Domestic abuse",
                    "period": "First lockdown",
                    "months": "March to June 2020",
                    "observed": 1235,
                    "expected": 1268.0,
                    "outside": "within",
                },
                {
                    "area": "Tower Hamlets",
                    "measure": "Domestic abuse",
                    "period": "Financial year 2020/21",
                    "months": "April 2020 to March 2021",
                    "observed": 4057,
                    "expected": 3831.7,
                    "outside": "within",
                },
                {
                    "area": "London",
                    "measure": "Domestic abuse",
                    "period": "First lockdown",
                    "months": "March to June 2020",
                    "observed": 31297,
                    "expected": 31404.5,
                    "outside": "within",
                },
            ],
        },
    )
    found = [text for _, text in key_findings(tmp_path)]
    assert found[0] == (
        "Racist and religious hate crime: 767 offences in 2019/20 against 792 the year before (-3.2%), within what "
        "chance alone would produce; 2.51 per 1,000 residents against London's 2.11."
    )
    assert found[1] == "Hate crime strands that changed beyond chance in 2019/20: homophobic (+31.8%)."
    assert found[2].startswith("Racist and religious hate crime in summer 2020 (June to August): 302 recorded")
    assert found[3] == (
        "Domestic abuse in the lockdowns: 1,235 offences in the first lockdown (March to June 2020) against 1,268 "
        "expected, within the range expected without the pandemic."
    )
    assert found[4] == (
        "Knife crime: 629 offences in 2019/20 against 665 in 2018/19 (-5.4%), within what chance alone would produce."
    )
