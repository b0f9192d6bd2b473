"""Build whole evidence packs, as `make pack` does, into a temporary outputs folder."""

import csv
import json
import re
import shutil
from html.parser import HTMLParser

import pytest
from conftest import ROOT
from site_scan import site_problems
from test_environment import lock_versions

from csp_evidence.core.files import sha256_of
from csp_evidence.report.words import number, ordinal
from csp_evidence.runner.pipeline import run

pytestmark = [pytest.mark.e2e, pytest.mark.realdata]


def _fy_totals_by_hand(raw, year_start: int) -> dict[str, int]:
    """Financial-year totals per borough read straight from the official CSV, without the library."""
    months = [f"{year_start}{m:02d}" for m in range(4, 13)] + [f"{year_start + 1}{m:02d}" for m in range(1, 4)]
    totals: dict[str, int] = {}
    with open(raw / "mps" / "mps_borough_crime_historical_201004_202201.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            totals[row["LookUp_BoroughName"]] = totals.get(row["LookUp_BoroughName"], 0) + sum(
                int(row[m]) for m in months
            )
    totals.pop("London Heathrow and London City Airports")
    return totals


def _special_by_hand(raw, borough: str, minor: str, year_start: int) -> int:
    """A financial year's count of one category of the hate and special crime CSV, without the library."""
    months = [f"{year_start}{m:02d}" for m in range(4, 13)] + [f"{year_start + 1}{m:02d}" for m in range(1, 4)]
    with open(raw / "mps" / "mps_hate_special_crime_borough_201004_202105.csv", newline="", encoding="utf-8") as fh:
        return sum(
            int(row[m])
            for row in csv.DictReader(fh)
            if row["Borough"] == borough and row["MinorText"] == minor
            for m in months
        )


def _text(path):
    return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, fetched):
    import os

    folder = tmp_path_factory.mktemp("outputs")
    os.environ["CSP_OUTPUTS_DIR"] = str(folder)
    yield folder
    os.environ.pop("CSP_OUTPUTS_DIR", None)


@pytest.mark.parametrize("params_file, borough", [("tower-hamlets.yml", "Tower Hamlets"), ("hackney.yml", "Hackney")])
def test_pack_shows_the_headline_total_and_rank(outputs, fetched, params_file, borough):
    result = run(ROOT / "params" / params_file, render_site=True, engine="smalldocs")
    site = outputs / params_file.removesuffix(".yml") / "site"
    assert result.site == site
    for page in ("index.html", "00_overview.html", "methods.html", "sources.html"):
        assert (site / page).is_file(), page
    totals = _fy_totals_by_hand(fetched, 2019)
    rank = 1 + sum(v > totals[borough] for v in totals.values())
    overview = _text(site / "00_overview.html")
    assert f"In 2019/20 {borough} had {number(totals[borough])} recorded offences" in overview
    assert f"the {ordinal(rank)} highest of the 32 London boroughs" in overview
    assert number(totals[borough]) in _text(site / "index.html")
    assert (site / "tables" / "00-total-by-year.csv").is_file()
    if borough == "Tower Hamlets":
        assert totals[borough] == 34693 and rank == 7  # the plan quotes 34,657 and 7th: a revision of 36
        assert "quotes 34,657 and rank 7" in overview
    sources = _text(site / "sources.html")
    assert "6345105bf68b4416cbf20183adef8e3086470ceb2e72d91e0e0d67b2df49373e" in sources
    assert sources.count("Cite the original publisher, not this file") == 2  # the two GLA State of London databases
    # the force-wide and London-wide ASB and reoffending series are said to be so, for every borough
    asb = _text(site / "01_asb_neighbourhood.html")
    assert f"Force-wide figures, not figures for {borough}" in asb and "251,120 in 2018/19" in asb
    assert f"London-wide calls, not incidents, and not figures for {borough}" in asb
    assert "in April 2020 69,151 calls" in asb and (site / "tables" / "01-london-asb-calls.csv").is_file()
    reoffending = _text(site / "03_reoffending.html")
    assert f"London-wide context from a secondary source, not figures for {borough}" in reoffending
    assert "fc74074f866152754dd9b025ad1a27c0af0dd2a189098db31fbca45438e3d6e3" in sources  # the hate and special file
    # the borough's own strands, domestic abuse and knife crime, as read straight from the official CSV
    hate_page, violence = _text(site / "02_hate_crime.html"), _text(site / "04_violence_exploitation.html")
    for minor, name, page in (
        ("Faith Hate Crime", "Faith hate crime", hate_page),
        ("Homophobic Hate Crime", "Homophobic hate crime", hate_page),
        ("Knife Crime", "Knife crime", violence),
        ("Domestic Abuse", "Domestic abuse", violence),
    ):
        before, after = (_special_by_hand(fetched, borough, minor, y) for y in (2018, 2019))
        assert re.search(rf"{name}\W+{number(after)} in 2019/20 against {number(before)} in 2018/19", page), name
    assert "Did domestic abuse rise during the lockdowns?" in violence
    assert (site / "tables" / "02-islamophobic-antisemitic-monthly.csv").is_file()
    if borough == "Tower Hamlets":  # the acceptance figures
        assert "108 in 2019/20 against 137 in 2018/19 (-21.2%" in hate_page
        assert "145 in 2019/20 against 110 in 2018/19 (+31.8%" in hate_page
        assert "629 in 2019/20 against 665 in 2018/19 (-5.4%" in violence
        audit = _text(site / "99_plan_audit.html")
        for figure in ("faith hate crime", "homophobic hate crime", "knife crime offences", "gun crime offences"):
            assert f"Change in {figure} on the previous year" in audit
        assert "within revision" in audit and "differs" in audit


def test_measure_rank_by_rate_agrees_with_london_rates(crime):
    from csp_evidence.analysis import priorities, summaries

    table = summaries.measure_table(crime, "Tower Hamlets", "2019/20", priorities.NEIGHBOURHOOD).set_index("measure")
    for measure in priorities.NEIGHBOURHOOD:
        london = summaries.london_rates(priorities.measure_rows(crime, measure), "2019/20")
        by_rate = 1 + int((london["rate"] > london.loc["Tower Hamlets", "rate"]).sum())
        by_count = 1 + int((london["count"] > london.loc["Tower Hamlets", "count"]).sum())
        assert table.loc[measure.name, "rate_rank"] == by_rate
        assert table.loc[measure.name, "rank"] == by_count


@pytest.mark.parametrize("params_file", ["tower-hamlets.yml", "hackney.yml"])
def test_no_page_shows_a_repr_a_path_a_traceback_or_an_empty_section(outputs, params_file):
    site = outputs / params_file.removesuffix(".yml") / "site"
    if not site.is_dir():
        run(ROOT / "params" / params_file, render_site=True, engine="smalldocs")
    assert site_problems(site) == []


def _comparable(path):
    """A file's bytes, with an executed notebook's timings (papermill's start, end and duration) left out."""
    if path.suffix != ".ipynb":
        return path.read_bytes()
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in [nb, *nb["cells"]]:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
    return json.dumps(nb, sort_keys=True).encode()


def test_two_builds_of_the_same_inputs_are_byte_identical(outputs, tmp_path):
    # tables, figures, headline JSON and executed notebooks (papermill's timings aside) are the same bytes
    pack = outputs / "tower-hamlets"
    if not (pack / "manifest.json").is_file():
        run(ROOT / "params" / "tower-hamlets.yml", render_site=True, engine="smalldocs")
    first = tmp_path / "first"
    shutil.copytree(pack, first)
    run(ROOT / "params" / "tower-hamlets.yml", force=True)

    def files(folder):
        return sorted(
            p.relative_to(folder)
            for sub in ("notebooks", "tables", "figures")
            for p in (folder / sub).rglob("*")
            if p.is_file()
        )

    assert files(first) == files(pack)
    assert [str(f) for f in files(pack) if _comparable(first / f) != _comparable(pack / f)] == []
    executed = (pack / "notebooks" / "01_asb_neighbourhood.ipynb").read_text(encoding="utf-8")
    # no machine path in a published notebook: the output folder is relative to notebooks/, never absolute
    assert f'"{outputs}' not in executed and ".staging-" not in executed


def test_the_manifest_records_the_locked_versions_the_pack_was_built_with(outputs):
    # `pip install --require-hashes -r requirements.lock` reproduces what a pack's manifest records
    pack = outputs / "tower-hamlets"
    if not (pack / "site" / "sources.html").is_file():  # an earlier test may have rebuilt the pack without a site
        run(ROOT / "params" / "tower-hamlets.yml", render_site=True, engine="smalldocs")
    software = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))["software"]
    assert software["lock_sha256"] == sha256_of(ROOT / "requirements.lock")
    locked = lock_versions()
    differ = {
        name: (software["packages"].get(name), sorted(v))
        for name, v in locked.items()
        if name in software["packages"] and software["packages"][name] not in v
    }
    assert differ == {}
    assert {"numpy", "pandas", "statsmodels"} <= set(software["packages"])
    assert "Python " + software["python"] in _text(pack / "site" / "sources.html")


class _Page(HTMLParser):
    """A chapter page's key points (text and link of each), whether they come before the first table, and its ids."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.points, self.links = set(), [], []
        self.in_block = self.in_item = False
        self.table_before_block = self.seen_block = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "section" and "csp-key-points" in (a.get("class") or ""):
            self.in_block = self.seen_block = True
        if tag == "table" and not self.seen_block:
            self.table_before_block = True
        if self.in_block and tag == "li":
            self.in_item = True
            self.points.append("")
        if self.in_item and tag == "a":
            self.links.append(a.get("href", ""))
            self.in_item = False  # the link's own words are not the point's

    def handle_endtag(self, tag):
        if tag == "section" and self.in_block:
            self.in_block = False
        if tag == "li":
            self.in_item = False

    def handle_data(self, data):
        if self.in_item:
            self.points[-1] += data


@pytest.mark.parametrize("params_file", ["tower-hamlets.yml", "hackney.yml"])
def test_every_chapter_page_opens_with_three_to_five_short_key_points_linked_to_evidence(outputs, params_file):
    site = outputs / params_file.removesuffix(".yml") / "site"
    if not site.is_dir():
        run(ROOT / "params" / params_file, render_site=True, engine="smalldocs")
    chapters = sorted(site.glob("[0-9][0-9]_*.html"))
    assert len(chapters) >= 7
    for path in chapters:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        assert page.seen_block and not page.table_before_block, f"{path.name}: no key points before the first table"
        assert 3 <= len(page.points) <= 5, (path.name, page.points)
        for text in page.points:
            assert len(text.split()) <= 40, (path.name, text)
            assert not re.search(r"\bp [=<]|Poisson|ARIMA|interval", text), (path.name, text)
        assert len(page.links) == len(page.points)
        missing = [h for h in page.links if not h.startswith("#") or h[1:] not in page.ids]
        assert missing == [], f"{path.name}: key points link to no section: {missing}"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "Key findings" in index and "board-summary." in index


def test_the_board_summary_pdf_has_two_to_four_pages_with_every_chapters_key_points_and_charts(outputs):
    from csp_evidence.report.headlines import read_headlines
    from csp_evidence.website.summary import pdf_unavailable_reason

    why = pdf_unavailable_reason()
    if why:
        pytest.skip(f"no board summary PDF on this machine: {why}")
    pypdf = pytest.importorskip("pypdf", reason="pypdf is in the test extra of pyproject.toml")
    pack = outputs / "tower-hamlets"
    if not (pack / "site" / "board-summary.pdf").is_file():
        run(ROOT / "params" / "tower-hamlets.yml", render_site=True, engine="smalldocs")
    site = pack / "site"
    assert 'href="board-summary.pdf"' in (site / "index.html").read_text(encoding="utf-8")
    reader = pypdf.PdfReader(site / "board-summary.pdf")
    assert 2 <= len(reader.pages) <= 4
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged: headings and lists for screen readers
    words = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    words = words.replace("- ", "-")  # a word broken at a hyphen at the end of a line
    chapters = sorted(p.stem for p in (pack / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for chapter in chapters:
        for point in read_headlines(pack, chapter)["key_points"]:
            assert " ".join(point["text"].split()) in words, (chapter, point["text"])
    summary = (site / "board-summary.html").read_text(encoding="utf-8")
    charts = re.findall(r'<img src="figures/([\w.-]+)\.png" alt="([^"]+)"', summary)
    assert len(charts) >= 6  # every chapter with a chart shows its first one (the audit has none)
    assert all((site / "figures" / f"{slug}.png").is_file() for slug, _ in charts)
    assert sum(len(page.images) for page in reader.pages) == len(charts)
