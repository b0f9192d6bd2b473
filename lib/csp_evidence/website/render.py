"""Build the evidence-pack website from an executed run: Quarto where installed, otherwise smalldocs.

The site is staged in a temporary folder inside the run folder (the project's _quarto.yml, the pages in
site/, generated index and sources pages, the executed notebooks, and the tables and figures they wrote),
built there, and only then moved into ``<run folder>/site/``: a failed build leaves the last site intact. The
pipeline only ever renders into a run's private staging folder (``csp render`` stages a new version of the
pack), which is then published whole by one atomic rename. A file that cannot be read or written, a full disk
included, is a RenderError naming it.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from csp_evidence import __version__
from csp_evidence.core.environment import KEY_PACKAGES
from csp_evidence.core.paths import quarto_config, site_pages_dir
from csp_evidence.data.sources import AREA_SOURCES, OPTIONAL_SOURCES, SOURCES, read_lock, source
from csp_evidence.report.freshness import read_data_through
from csp_evidence.report.headlines import OverviewHeadlines, PackHeadlines
from csp_evidence.report.words import md, number, ordinal
from csp_evidence.website.key_findings import key_findings
from csp_evidence.website.summary import (
    SUMMARY_HTML,
    SUMMARY_PDF,
    SummaryError,
    pdf_unavailable_reason,
    print_pdf,
    summary_html,
)


class RenderError(RuntimeError):
    """The site could not be built."""


def quarto_available() -> bool:
    return shutil.which("quarto") is not None


def _project_config() -> dict:
    """The project's _quarto.yml; an unreadable or malformed one is a RenderError naming it."""
    path = quarto_config()
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        render_list = config["project"]["render"]
        if not isinstance(render_list, list) or not all(isinstance(p, str) for p in render_list):
            raise TypeError("project.render is not a list of pages")
    except OSError as exc:
        raise RenderError(f"cannot read the site configuration {path} ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise RenderError(f"the site configuration {path} is not as expected ({type(exc).__name__}: {exc})") from None
    return config


def declared_chapters() -> list[str]:
    """The chapter notebooks the site declares (the .ipynb pages of _quarto.yml's project.render), in order."""
    return [page for page in _project_config()["project"]["render"] if page.endswith(".ipynb")]


def _site_config(pages: set[str], title: str) -> dict:
    """The project's _quarto.yml with the run's title, and only the pages this run has."""
    config = _project_config()
    config["project"]["render"] = [p for p in config["project"]["render"] if p in pages]
    sidebar = config["website"]["sidebar"]
    sidebar["contents"] = [item for item in sidebar["contents"] if item["href"] in pages]
    config["website"]["title"] = title
    return config


def sources_page(run_dir: Path | None = None) -> str:
    """The sources page: publisher, URL, licence, sha256 and retrieval date of every file used, and the software
    the pack was built with (from the run's manifest).

    Optional sources (not in the mirror) are listed once provided and locked. A secondary source (a compilation
    of figures another body published first) is marked as one in its heading and names the original publisher.
    """
    lock = read_lock()
    rows = []
    locked_ids = {sid.split("/")[0] for sid in lock}
    area = tuple(s for s in AREA_SOURCES if s.id in locked_ids and _area_run(run_dir))  # police.uk, any force
    for src in (*SOURCES, *(s for s in OPTIONAL_SOURCES if s.id in locked_ids), *area):
        if src.monthly:
            rows.append(_monthly_source(src, lock))
            continue
        entry = lock.get(src.id)
        secondary = (
            f"- **Secondary source:** compiled by {md(src.publisher)} from the {md(src.original)} "
            f"(<{src.original_page}>). Cite the original publisher, not this file, and check figures against "
            "the original before relying on them.\n"
            if src.secondary
            else ""
        )
        rows.append(
            f"### {md(src.title)}{' (secondary source)' if src.secondary else ''}\n\n"
            + secondary
            + f"- **Publisher:** {md(src.publisher)}\n"
            f"- **Dataset page:** <{src.page}>\n"
            f"- **Download URL:** <{src.url}>\n"
            f"- **Licence:** {md(src.licence)}\n"
            f"- **File:** `{entry.file if entry and entry.file else src.file}`, "
            f"{number(entry.bytes) if entry else '?'} bytes\n"
            f"- **sha256:** `{entry.sha256 if entry else 'not locked'}`\n"
            f"- **Retrieved:** {entry.retrieved if entry else '?'}\n"
            f"- **Period:** {md(src.period)}\n" + (f"- **Notes:** {md(src.notes)}\n" if src.notes else "")
        )
    intro = (
        "Every file below is fetched from its official URL, or from a mirror of it, and checked against the "
        "sha256 in `data/sources.lock` before any number is computed. Contains public sector information "
        "licensed under the Open Government Licence v3.0. Sources marked *secondary* are compilations by another "
        "body of figures first published elsewhere; each names its original publisher, and the chapters that use "
        "them say so beside every figure.\n\n"
    )
    return '---\ntitle: "Sources"\n---\n\n' + intro + "\n".join(rows) + _software_section(run_dir)


def _area_run(run_dir: Path | None) -> bool:
    """True for the run of a CSP outside the MPS boroughs (its manifest's params name an `area`): only its pages
    list the police.uk files of other forces."""
    try:
        params = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["params"] if run_dir else {}
    except (OSError, ValueError, KeyError):
        return False
    return bool(params.get("area")) and not params.get("borough")


def _monthly_source(src, lock: dict) -> str:
    """A source kept one file a month (police.uk): its details once, then each month's file, size, sha256 and
    retrieval date in a table."""
    months = sorted((sid.split("/", 1)[1], e) for sid, e in lock.items() if sid.startswith(f"{src.id}/"))
    table = "| month | file | bytes | sha256 | retrieved |\n|---|---|---:|---|---|\n" + "".join(
        f"| {m} | `{src.month_file(m)}` | {number(e.bytes)} | `{e.sha256}` | {e.retrieved} |\n" for m, e in months
    )
    return (
        f"### {md(src.title)}\n\n"
        f"- **Publisher:** {md(src.publisher)}\n"
        f"- **Dataset page:** <{src.page}>\n"
        f"- **Download URL:** archives `{src.url.format(month='YYYY-MM')}`\n"
        f"- **Licence:** {md(src.licence)}\n"
        f"- **Months:** {len(months)}, {months[0][0]} to {months[-1][0]}, one file a month\n"
        f"- **Period:** {md(src.period)}\n" + (f"- **Notes:** {md(src.notes)}\n" if src.notes else "") + "\n" + table
    )


def _software_section(run_dir: Path | None) -> str:
    """The software of the build, as its manifest records it: the key packages, then all of them."""
    try:
        recorded = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["software"] if run_dir else None
    except (OSError, ValueError, KeyError):
        recorded = None
    if not recorded:
        return ""
    packages = recorded["packages"]
    key = ", ".join(f"{name} {packages[name]}" for name in KEY_PACKAGES if name in packages)
    rest = ", ".join(f"{md(name)} {md(version)}" for name, version in packages.items())
    lock = f" from `requirements.lock` (sha256 `{recorded['lock_sha256']}`)" if recorded.get("lock_sha256") else ""
    return (
        "\n## Software\n\n"
        f"Built with csp-evidence on Python {md(recorded['python'])}{lock}: {md(key)}. "
        "`pip install --require-hashes -r requirements.lock` installs the same versions.\n\n"
        f"<details><summary>Every installed package ({len(packages)})</summary>\n\n{rest}\n\n</details>\n"
    )


def index_page(
    run_dir: Path,
    title: str,
    chapters: list[tuple[str, str]],
    summary: str | None = None,
    headlines: PackHeadlines | None = None,
) -> str:
    """The home page: the headline figures of the overview, each chapter's first key point, the board summary
    (`summary`: the file it is in, PDF or HTML) and links to every chapter of this run. `headlines`: the pack's
    headline figures when already read (else read from `run_dir`)."""
    headlines = PackHeadlines.load(run_dir) if headlines is None else headlines
    head = headlines[OverviewHeadlines.CHAPTER]
    # The title is Markdown to Quarto and smalldocs alike, and a borough's name comes from data: escape it.
    lines = [f"---\ntitle: {yaml.safe_dump(md(title), default_style=chr(34)).strip()}\n---\n"]
    needed = ("headline_year", "borough", "total_offences", "rank", "ranked", "rate_per_1000", "london_rate_per_1000")
    if all(k in head for k in needed):
        lines.append(
            f"In **{head['headline_year']}**, **{md(head['borough'])}** had **{number(head['total_offences'])}** "
            f"police-recorded offences, the **{ordinal(head['rank'])} highest** of the {head['ranked']} London "
            f"boroughs, or {head['rate_per_1000']:.1f} per 1,000 residents against "
            f"{head['london_rate_per_1000']:.1f} for London.\n"
        )
    findings = key_findings(headlines, [href.removesuffix(".ipynb") for href, _ in chapters if href.endswith(".ipynb")])
    if findings:
        lines.append("## Key findings\n")
        lines.extend(f"- {md(sentence)} [See the evidence]({page})" for page, sentence in findings)
        lines.append("")
    if summary == SUMMARY_PDF:
        lines.append(
            f"**[Board summary (PDF, A4)]({SUMMARY_PDF})**: the key points of every chapter with its headline chart, "
            f"the plan audit's verdicts and the sources, to print or circulate ([as a web page]({SUMMARY_HTML})).\n"
        )
    elif summary == SUMMARY_HTML:
        lines.append(
            f"**[Board summary]({SUMMARY_HTML})**: the key points of every chapter with its headline chart, the plan "
            "audit's verdicts and the sources, to print from a browser (no PDF was made where this pack was built).\n"
        )
    lines.extend(_freshness_section(run_dir))
    lines.append("## Chapters\n")
    for href, text in chapters:
        lines.append(f"- [{html.escape(text)}]({href.replace('.ipynb', '.html').replace('.qmd', '.html')})")
    lines.append(
        f"\n*Built by csp-evidence {__version__} from official open data; see [methods](methods.html) and "
        "[sources](sources.html).*\n"
    )
    return "\n".join(lines)


def _freshness_section(run_dir: Path) -> list[str]:
    """'How recent the data are': the last period of each dataset the chapters used (their data-through tables) and
    the date each of its source files was retrieved (data/sources.lock)."""
    table = read_data_through(run_dir)
    if table.empty:
        return []
    lock = read_lock()
    lines = ["## How recent the data are\n", "| Data | Latest period | Source files (retrieved) |", "|---|---|---|"]
    for row in table.itertuples():
        files = [
            f"{md(source(sid).title)} ({lock[sid].retrieved if sid in lock else 'not locked'})"
            for sid in str(row.source_ids).split(";")
            if sid
        ]
        lines.append(f"| {md(row.title)} | {md(row.last_period)} | {'; '.join(files)} |")
    lines.append("")
    return lines


def executed_notebooks(run_dir: Path) -> list[Path]:
    """The run's executed notebooks; an error saying to run `csp run` first when there are none."""
    notebooks = sorted((run_dir / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise RenderError(f"{run_dir / 'notebooks'} holds no executed notebooks: run `csp run` first")
    return notebooks


def _stage(run_dir: Path, stage: Path, title: str) -> None:
    """Lay out the site's sources in `stage`; a file that cannot be read or written (a full disk, a permission)
    is a RenderError naming it."""
    try:
        _stage_files(run_dir, stage, title)
    except shutil.Error as exc:  # copytree gathers the failures of several files: (source, destination, why)
        source, _, why = exc.args[0][0]
        raise RenderError(f"could not stage the site: {source}: {why}") from None
    except OSError as exc:
        where = exc.filename or stage
        raise RenderError(f"could not stage the site: {where}: {exc.strerror or exc}") from None


def _write(path: Path, text: str) -> None:
    """Write a staged page; an error names the page (a write's OSError may carry no file name)."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        exc.filename = exc.filename or str(path)
        raise


def _stage_files(run_dir: Path, stage: Path, title: str) -> None:
    for nb in executed_notebooks(run_dir):
        shutil.copy2(nb, stage / nb.name)
    for folder in ("tables", "figures"):
        if (run_dir / folder).is_dir():
            shutil.copytree(run_dir / folder, stage / folder)
    for page in [*site_pages_dir().glob("*.qmd"), *site_pages_dir().glob("*.css"), *site_pages_dir().glob("*.svg")]:
        shutil.copy2(page, stage / page.name)
    _write(stage / "sources.qmd", sources_page(run_dir))
    pages = {p.name for p in stage.iterdir() if p.suffix in (".qmd", ".ipynb")} | {"index.qmd"}
    config = _site_config(pages, title)
    chapters = [(i["href"], i["text"]) for i in config["website"]["sidebar"]["contents"] if i["href"] != "index.qmd"]
    summary = _board_summary(run_dir, stage, title, chapters)
    _write(stage / "index.qmd", index_page(run_dir, title, chapters, summary, PackHeadlines.load(run_dir)))
    _write(stage / "_quarto.yml", yaml.safe_dump(config, sort_keys=False))


def _board_summary(run_dir: Path, stage: Path, title: str, chapters: list[tuple[str, str]]) -> str:
    """Write the board summary page into `stage` and print it to PDF where Chromium is installed; returns the file
    the home page links (the PDF, or the page when no PDF could be made: `csp` then says why)."""
    stems = [(href.removesuffix(".ipynb"), text) for href, text in chapters if href.endswith(".ipynb")]
    page = stage / SUMMARY_HTML
    _write(page, summary_html(run_dir, title, stems))
    if pdf_unavailable_reason() is not None:
        return SUMMARY_HTML
    try:
        print_pdf(page, stage / SUMMARY_PDF)
    except SummaryError as exc:
        raise RenderError(str(exc)) from None
    return SUMMARY_PDF


def _build(stage: Path, engine: str) -> Path:
    if engine == "quarto":
        done = subprocess.run(["quarto", "render", str(stage)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RenderError(f"quarto render failed:\n{done.stderr[-4000:]}")
    else:
        from smalldocs.config import BuildError, ConfigError
        from smalldocs.site import build

        try:
            build(stage, quiet=True)
        except (BuildError, ConfigError) as exc:
            raise RenderError(f"smalldocs could not build the site: {exc}") from exc
    built = stage / "_site"
    for folder in ("tables", "figures"):  # resources: make sure the downloads are in the site
        if (stage / folder).is_dir() and not (built / folder).is_dir():
            shutil.copytree(stage / folder, built / folder)
    for name in (SUMMARY_HTML, SUMMARY_PDF):  # the board summary, as written (not a page of the site's own)
        if (stage / name).is_file():
            shutil.copy2(stage / name, built / name)
    return built


def render(run_dir: str | Path, title: str, engine: str = "auto") -> Path:
    """Build `<run_dir>/site/` from the executed run in `run_dir`; returns the site folder."""
    run_dir = Path(run_dir)
    if engine == "auto":
        engine = "quarto" if quarto_available() else "smalldocs"
    if engine not in ("quarto", "smalldocs"):
        raise ValueError(f"engine must be 'auto', 'quarto' or 'smalldocs', got {engine!r}")
    executed_notebooks(run_dir)  # before anything is made in run_dir
    try:
        stage = Path(tempfile.mkdtemp(prefix=".site-build-", dir=run_dir))
    except OSError as exc:
        raise RenderError(f"could not make a build folder in {run_dir} ({exc.strerror or exc})") from None
    try:
        _stage(run_dir, stage, title)
        target = run_dir / "site"
        try:
            built = _build(stage, engine)
            old = run_dir / f".site-old-{stage.name}"
            if target.exists():
                target.rename(old)
            built.rename(target)
        except OSError as exc:
            raise RenderError(f"could not build the site: {exc.filename or stage}: {exc.strerror or exc}") from None
        shutil.rmtree(old, ignore_errors=True)
        return target
    finally:
        shutil.rmtree(stage, ignore_errors=True)
