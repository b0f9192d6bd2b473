"""The board summary: two to four A4 pages a partnership board reads in five minutes, as HTML and PDF.

Built from a run's outputs only (no number is computed here): each chapter's key points and its headline chart
(the first chart of the chapter, which answers its first key point), the plan audit's verdicts, the sources and
their retrieval dates. The HTML page is printed to PDF by headless Chromium (tagged, with a document outline);
where no Chromium is installed the PDF is skipped and ``pdf_unavailable_reason`` says why and what to install.

Chromium writes every link of the PDF as the absolute address it resolved, a ``file://`` path into the build
folder: dead once the pack is published, and a machine path in a published file. ``relative_links`` rewrites them
(with pypdf) to the chapter's name relative to the PDF, or to the published site's address where ``_quarto.yml``
gives one (``website: site-url:``); a ``file://`` link to anything outside the site is made inert, its text kept.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from csp_evidence import __version__
from csp_evidence.core.paths import quarto_config
from csp_evidence.data.sources import OPTIONAL_SOURCES, SOURCES, read_lock
from csp_evidence.report.headlines import read_headlines
from csp_evidence.report.words import number, ordinal
from csp_evidence.website.key_findings import chapter_key_points

SUMMARY_HTML = "board-summary.html"
SUMMARY_PDF = "board-summary.pdf"
CHART_LINK = re.compile(r"\[Download the data for this chart \(CSV\)\]\(tables/([\w.-]+)\.csv\)")
FIG_ALT = re.compile(r"^#\| fig-alt:\s*\"?(.*?)\"?\s*$", re.MULTILINE)
PRINT_TIMEOUT = 120  # seconds for Chromium to print the page


class SummaryError(RuntimeError):
    """Chromium was found but could not print the summary."""


@dataclass(frozen=True)
class Chart:
    """A chapter's headline chart: the PNG under figures/ and its alt text."""

    slug: str
    alt: str


def headline_chart(run_dir: Path, chapter: str) -> Chart | None:
    """The first chart the executed chapter published (its slug and the cell's fig-alt), or None if it drew none."""
    path = run_dir / "notebooks" / f"{chapter}.ipynb"
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    for cell in cells:
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/markdown", []))
            found = CHART_LINK.search(text)
            if found and (run_dir / "figures" / f"{found.group(1)}.png").is_file():
                alt = FIG_ALT.search("".join(cell.get("source", [])))
                return Chart(found.group(1), alt.group(1) if alt else f"Chart: {found.group(1)}")
    return None


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _sources() -> tuple[list[str], str]:
    """Each locked source as 'title (publisher)', and the latest retrieval date of them all."""
    lock = read_lock()
    used = [s for s in (*SOURCES, *OPTIONAL_SOURCES) if s.id in lock]
    dates = sorted(lock[s.id].retrieved for s in used)
    # a file format of several files (a shapefile) is one source: its files share a title, listed once
    return list(dict.fromkeys(f"{s.title} ({s.publisher})" for s in used)), dates[-1] if dates else ""


def summary_html(run_dir: Path | str, title: str, chapters: Sequence[tuple[str, str]]) -> str:
    """The summary page: for each (chapter stem, chapter name), its key points and headline chart; the audit's
    verdicts; sources and dates. Every text from data is escaped; images are the run's own figures/."""
    run_dir = Path(run_dir)
    head = read_headlines(run_dir, "00_overview")
    sources, retrieved = _sources()
    intro = ""
    if all(k in head for k in ("headline_year", "borough", "total_offences", "rank", "ranked")):
        intro = (
            f"<p class='lead'>In {_e(head['headline_year'])}, {_e(head['borough'])} recorded "
            f"{number(head['total_offences'])} offences, the {ordinal(head['rank'])} highest number of the "
            f"{head['ranked']} London boroughs.</p>"
        )
    blocks = []
    for stem, name in chapters:
        points = chapter_key_points(run_dir, stem)
        if not points:
            continue
        items = "".join(f"<li>{_e(p['text'])}</li>" for p in points)
        chart = headline_chart(run_dir, stem)
        figure = f'<figure><img src="figures/{_e(chart.slug)}.png" alt="{_e(chart.alt)}"></figure>' if chart else ""
        extra = _audit_table(run_dir) if stem == "99_plan_audit" else ""
        blocks.append(
            f'<section class="chapter{" with-chart" if chart else ""}"><h2>{_e(name)}</h2>'
            f'<div class="points"><ul>{items}</ul>{extra}<p class="more"><a href="{_e(stem)}.html">The full chapter: {_e(name)}</a></p></div>'
            f"{figure}</section>"
        )
    source_items = "".join(f"<li>{_e(s)}</li>" for s in sources)
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Board summary: {_e(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="favicon.svg">
<style>{SUMMARY_CSS}</style></head>
<body><main>
<h1>Board summary: {_e(title)}</h1>
<p class="meta">Community Safety Partnership evidence pack, built by csp-evidence {_e(__version__)} from official open
data{f", files retrieved up to {_e(retrieved)}" if retrieved else ""}. Every figure is computed from the data; the
full pack gives the tables, tests and methods behind each point.</p>
{intro}
{"".join(blocks)}
<section class="sources"><h2>Sources</h2><ul>{source_items}</ul>
<p>Contains public sector information licensed under the Open Government Licence v3.0. The sources page of the pack
gives each file's address, licence, sha256 and retrieval date.</p></section>
</main></body></html>
"""


def _audit_table(run_dir: Path) -> str:
    """The plan audit's verdict counts as a small table (empty when the audit saved none)."""
    verdicts = read_headlines(run_dir, "99_plan_audit").get("verdicts") or {}
    rows = "".join(
        f'<tr><th scope="row">{_e(k.capitalize())}</th><td>{int(v)}</td></tr>' for k, v in verdicts.items() if v
    )
    if not rows:
        return ""
    return (
        '<table class="verdicts"><caption>The plan\'s figures by verdict</caption>'
        f'<thead><tr><th scope="col">Verdict</th><th scope="col">Figures</th></tr></thead><tbody>{rows}</tbody></table>'
    )


SUMMARY_CSS = """
@page { size: A4; margin: 13mm 14mm; }
body { font-family: Arial, Helvetica, "Liberation Sans", sans-serif; font-size: 9.6pt; line-height: 1.35;
  color: #0b0c0c; margin: 0 auto; max-width: 60rem; padding: 0 .5rem; }
h1 { font-size: 17pt; margin: 0 0 .3rem; color: #12436d; }
h2 { font-size: 12pt; margin: 0 0 .3rem; color: #12436d; border-bottom: 1px solid #12436d; }
.meta { color: #505a5f; margin: 0 0 .4rem; }
.lead { font-size: 10.5pt; margin: 0 0 .5rem; }
.chapter { break-inside: avoid; margin: 0 0 4.5mm; }
.chapter.with-chart { display: grid; grid-template-columns: 1fr 82mm; column-gap: 5mm; }
.chapter h2 { grid-column: 1 / -1; }
.chapter ul { margin: 0; padding-left: 1.1rem; }
.chapter li { margin-bottom: .2rem; }
.more { color: #505a5f; font-size: 8.5pt; margin: .2rem 0 0; }
figure { margin: 0; }
figure img { width: 100%; max-height: 62mm; object-fit: contain; object-position: top; }
table.verdicts { border-collapse: collapse; margin: .3rem 0; }
table.verdicts caption { text-align: left; font-weight: bold; }
table.verdicts th, table.verdicts td { padding: .1rem .6rem .1rem 0; text-align: left; border-bottom: 1px solid #b1b4b6; }
.sources { break-inside: avoid; font-size: 8.5pt; }
@media screen and (max-width: 700px) {  /* a phone: the chart below its points, never past the window's edge */
  .chapter.with-chart { display: block; }
  figure img { max-height: none; }
}
.sources ul { padding-left: 1.1rem; margin: 0 0 .3rem; }
"""


def chromium() -> str | None:
    """The headless Chromium to print with: $CSP_CHROMIUM, else chromium, chromium-browser or google-chrome on PATH."""
    chosen = os.environ.get("CSP_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pdf_unavailable_reason() -> str | None:
    """Why no PDF can be printed on this machine (None when Chromium is there)."""
    if chromium() is not None:
        return None
    where = os.environ.get("CSP_CHROMIUM")
    if where:
        return f"CSP_CHROMIUM names {where}, which is not a file"
    return "no Chromium found: install Debian's chromium (or set CSP_CHROMIUM to a Chromium or Chrome binary)"


def print_pdf(page: Path, pdf: Path) -> Path:
    """Print `page` (an HTML file) to `pdf` (A4, tagged, with an outline) with headless Chromium; written whole or
    not at all. A SummaryError with Chromium's message when it fails; a SummaryError saying what to install when
    there is no Chromium."""
    browser = chromium()
    if browser is None:
        raise SummaryError(pdf_unavailable_reason())
    with tempfile.TemporaryDirectory(prefix="csp-chromium-") as profile:
        partial = pdf.with_name(f".{pdf.name}.partial")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--generate-pdf-document-outline",
            f"--print-to-pdf={partial}",
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            partial.unlink(missing_ok=True)
            raise SummaryError(f"Chromium ({browser}) could not print the board summary: {exc}") from None
        if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            partial.unlink(missing_ok=True)
            raise SummaryError(
                f"Chromium ({browser}) could not print the board summary (exit {done.returncode}): "
                f"{done.stderr.strip()[-1500:]}"
            )
        try:
            relative_links(partial, page.parent, site_url())
        except Exception as exc:  # pypdf's errors for a PDF it cannot read have no common base
            partial.unlink(missing_ok=True)
            raise SummaryError(f"the board summary Chromium printed could not be read back ({exc})") from None
        partial.replace(pdf)
    return pdf


def site_url() -> str | None:
    """The published site's address (``website: site-url:`` in _quarto.yml, as Quarto reads it), or None."""
    try:
        config = yaml.safe_load(quarto_config().read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    url = (config.get("website") or {}).get("site-url") if isinstance(config, dict) else None
    return url.rstrip("/") + "/" if isinstance(url, str) and urlparse(url).scheme in ("http", "https") else None


def relative_links(pdf: Path, site: Path, base_url: str | None = None) -> int:
    """Rewrite, in place, each ``file://`` link of `pdf` to a file under `site` as a path relative to the PDF (which
    sits in `site`), or as `base_url` + that path; make any other ``file://`` link inert. Returns the links changed."""
    reader = PdfReader(pdf)
    writer = PdfWriter(clone_from=reader)
    root = Path(os.path.realpath(site))
    changed = 0
    for page in writer.pages:
        annotations = page.get("/Annots")
        if annotations is None:
            continue
        for ref in annotations.get_object():
            annotation = ref.get_object()
            action = annotation.get("/A")
            action = action.get_object() if action is not None else None
            uri = action.get("/URI") if isinstance(action, DictionaryObject) else None
            if (
                not isinstance(action, DictionaryObject)
                or not isinstance(uri, str)
                or not uri.lower().startswith("file:")
            ):
                continue
            changed += 1
            parsed = urlparse(uri)
            target = Path(os.path.realpath(unquote(parsed.path)))
            if not target.is_relative_to(root):  # a link out of the site: no address to give it once published
                del annotation[NameObject("/A")]  # the annotation stays (the tagged structure refers to it), inert
                continue
            relative = target.relative_to(root).as_posix() + (f"#{parsed.fragment}" if parsed.fragment else "")
            action[NameObject("/URI")] = TextStringObject((base_url or "") + relative)
    if changed:
        tmp = pdf.with_name(f".{pdf.name}.links")
        with tmp.open("wb") as out:
            writer.write(out)
        tmp.replace(pdf)
    return changed
