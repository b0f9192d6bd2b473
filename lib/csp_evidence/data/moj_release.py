"""The Ministry of Justice's proven reoffending geographic data: from the release page to a checked, locked file.

Each quarterly release of the proven reoffending statistics has a page on gov.uk with an attachment "CSV
format of data tools", a zip holding ``PRSQ_Geographic_data_<period>.csv``; earlier releases published the
geographical data tool as Excel (``Geographical_data_tool_<period>.xlsx``, sheet ``Data``). `fetch_moj`
downloads the release page named in the registry (or `url`: another release's page, or the zip itself), follows
its link to the CSV zip, extracts the data file, reads it with the MoJ reader (a file that does not read is
refused, naming the file, line and column), and only then moves it into ``data/raw/moj/`` and locks it. A user
who has the zip, the CSV or the Excel tool passes it as `from_path`.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from csp_evidence.core.files import sha256_of
from csp_evidence.core.paths import raw_dir
from csp_evidence.data import archives
from csp_evidence.data.commit import commit
from csp_evidence.data.download import ByteProgress, FetchError, TooLarge, download, work_folders
from csp_evidence.data.readers import moj
from csp_evidence.data.sources import (
    MOJ_PROVEN_REOFFENDING,
    MOJ_PROVEN_REOFFENDING_TOOL,
    LockEntry,
    locked_file,
    read_lock,
    source,
    write_lock,
)

CSV_SOURCE = MOJ_PROVEN_REOFFENDING
TOOL_SOURCE = MOJ_PROVEN_REOFFENDING_TOOL
SOURCE_IDS = (CSV_SOURCE, TOOL_SOURCE)
CSV_MEMBER = re.compile(r"(?:^|/)(PRSQ_Geographic_data_[^/]*\.csv)$", re.IGNORECASE)
TOOL_MEMBER = re.compile(r"(?:^|/)(Geographical_data_tool[^/]*\.xlsx)$", re.IGNORECASE)
_MEMBERS = {CSV_SOURCE: CSV_MEMBER, TOOL_SOURCE: TOOL_MEMBER}
PAGE_BYTES = 8 * 2**20  # a release page is about 100 kB; a page past this is not one
ZIP_BYTES = 1 << 30  # the 'CSV format of data tools' zip is a few MB


@dataclass(frozen=True)
class MojFile:
    """The file fetched: which source it is, where it is kept, what was done, and its sha256."""

    source_id: str
    path: Path
    action: str
    sha256: str


# An anchor's opening tag, up to the next '<' or '>' and at most 2,000 characters: each character of a page is
# looked at by one attempt only, so a page of unclosed or malformed tags is read in time in proportion to its size.
_ANCHOR = re.compile(r"<a\s([^<>]{0,2000})>", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,2000}>")
_TEXT = 2000  # characters of an anchor's text looked at for its closing tag


def _zip_links(page: str) -> list[tuple[str, str]]:
    """The (href, text) of each link on `page` to a .zip file, in order."""
    links = []
    for m in _ANCHOR.finditer(page):
        href = _HREF.search(m.group(1))
        if not href:
            continue
        url = html.unescape(next(g for g in href.groups() if g is not None)).strip()
        if not url.split("?")[0].split("#")[0].lower().endswith(".zip"):
            continue
        close = _find_close(page, m.end())
        text = _TAG.sub(" ", page[m.end() : close])
        links.append((url, html.unescape(text)))
    return links


def _find_close(page: str, start: int) -> int:
    """Where the anchor's text ends: its closing tag, the next anchor, or _TEXT characters on."""
    window = page[start : start + _TEXT]
    ends = [i for i in (window.lower().find("</a"), window.lower().find("<a ")) if i >= 0]
    return start + (min(ends) if ends else len(window))


def zip_link(page: str, page_url: str) -> str:
    """The URL of the 'CSV format of data tools' zip on a release page: the first .zip link whose text or name
    mentions CSV, else the only .zip link; an error naming the page when there is none or the choice is unclear."""
    links = [(urljoin(page_url, href), text) for href, text in _zip_links(page)]
    csv_links = [url for url, text in links if "csv" in (url + " " + text).lower()]
    if csv_links:
        return csv_links[0]
    if len(links) == 1:
        return links[0][0]
    found = ", ".join(url for url, _ in links[:5]) or "none"
    raise FetchError(
        f"{page_url}: no link to the 'CSV format of data tools' zip on the release page (zip links: {found}); "
        "pass the zip's own URL with --url, or download it and use --from"
    )


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


def _from_release(url: str, work: Path, on_bytes: Callable[[str], ByteProgress] | None) -> Path:
    """Download the release page (or the zip itself) at `url`; return the zip's local path."""
    for stale in (work / "release", work / "release.part"):  # a page is small: never resumed from another URL
        stale.unlink(missing_ok=True)
    zip_url = urlsplit(url).path.lower().endswith(".zip")  # the zip itself; else a page, which is small
    try:
        first = download(
            url,
            work / "release",
            on_bytes("MoJ release page") if on_bytes else None,
            max_bytes=ZIP_BYTES if zip_url else PAGE_BYTES,
            same_host=True,
        )
    except TooLarge:
        if not zip_url:
            raise FetchError(
                f"{url}: more than {PAGE_BYTES:,} bytes: not a release page (those are about 100 kB). If it is the "
                "zip itself, pass a URL ending in .zip, or download it and use --from"
            ) from None
        raise
    if _is_zip(first):
        return first
    page = first.read_text(encoding="utf-8", errors="replace")
    link = zip_link(page, url)
    name = Path(link.split("?")[0].split("#")[0]).name
    if archives.unsafe_name(name) or name.startswith("."):
        raise FetchError(f"{url}: the zip link {link} has no usable file name")
    return download(link, work / name, on_bytes(name) if on_bytes else None, max_bytes=ZIP_BYTES)


def _extract(archive: Path, staging: Path) -> list[tuple[str, Path]]:
    """The data files of an MoJ zip, extracted into `staging`: (source id, path) for each."""
    out = []
    with archives.open_archive(archive) as zf:  # names checked: none unsafe, none twice
        names = zf.namelist()
        wanted = {sid: [n for n in names if pattern.search(n)] for sid, pattern in _MEMBERS.items()}
        for sid, members in wanted.items():
            if len(members) > 1:  # two releases' files, or a copy: which one is meant is unclear
                raise FetchError(
                    f"{archive}: holds {len(members)} data files of one kind ({', '.join(members[:4])}): which "
                    "release is meant is unclear. Extract the one you want and pass it with --from"
                )
            for name in members:
                m = _MEMBERS[sid].search(name)
                assert m is not None
                target = staging / m.group(1)
                archives.extract_member(zf, zf.getinfo(name), target, archive, text=sid == CSV_SOURCE)
                out.append((sid, target))
    if not out:
        raise FetchError(
            f"{archive}: holds no PRSQ_Geographic_data_*.csv or Geographical_data_tool_*.xlsx (members: "
            f"{', '.join(names[:8])}{' ...' if len(names) > 8 else ''})"
        )
    return out


def _user_file(path: Path, staging: Path) -> list[tuple[str, Path]]:
    if not path.exists():
        raise FetchError(f"{path}: no such file (--from)")
    archives.regular_file(path)  # never a FIFO or a device
    if path.suffix.lower() == ".zip":
        return _extract(path, staging)
    target = staging / path.name
    if path.suffix.lower() == ".csv":
        archives.copy_file(path, target)
        return [(CSV_SOURCE, target)]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        archives.copy_file(path, target, text=False)
        return [(TOOL_SOURCE, target)]
    raise FetchError(f"{path}: expected the MoJ zip, a PRSQ_Geographic_data_*.csv or a Geographical_data_tool_*.xlsx")


def _check(source_id: str, path: Path) -> None:
    """Read the file with the MoJ reader: a file that does not read is never kept (SourceFormatError)."""
    (moj.read_proven_reoffending if source_id == CSV_SOURCE else moj.read_data_tool)(path)


def fetch_moj(
    *,
    from_path: str | Path | None = None,
    url: str | None = None,
    update: bool = False,
    on_bytes: Callable[[str], ByteProgress] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> list[MojFile]:
    """Bring the MoJ geographic data into data/raw/moj/ and lock it (see the module's description).

    The file keeps its published name (``moj/PRSQ_Geographic_data_April 2011 to March 2022.csv``), which the
    lock records. Bytes that differ from a locked file of the same source are refused unless `update`.
    """
    work, staging = work_folders("moj")
    downloaded: list[Path] = []
    try:
        if from_path is not None:
            files = _user_file(Path(from_path).expanduser(), staging)
        else:
            page = url or source(CSV_SOURCE).url
            if on_step:
                on_step(f"downloading {page}")
            archive = _from_release(page, work, on_bytes)
            downloaded.append(archive)
            try:
                files = _extract(archive, staging)
            except FetchError:
                archive.unlink(missing_ok=True)  # downloaded afresh next time
                raise
        for sid, path in files:
            if on_step:
                on_step(f"checking {path.name}")
            _check(sid, path)
        results = _commit(files, update)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        (work / "release").unlink(missing_ok=True)  # a page is never resumed: fetched afresh each time
    for path in downloaded:
        path.unlink(missing_ok=True)
    return results


def _commit(files: list[tuple[str, Path]], update: bool) -> list[MojFile]:
    """Check the staged files against the lock, then move them into data/raw/moj/, remove the file a newer release
    replaces under another name, and rewrite the lock, all or nothing (``files.move_all_into_place``: on any error
    data/raw/ and the lock are left as they were)."""
    lock = read_lock()
    today = dt.date.today().isoformat()
    moves, stale, results = [], [], []
    for sid, path in files:
        got = sha256_of(path)
        entry = lock.get(sid)
        file = f"moj/{path.name}"
        if entry is not None and entry.sha256 != got and not update:
            raise FetchError(
                f"{path.name} ({sid}): sha256 {got} does not match the lock ({entry.sha256}): a different release "
                "or a revised file. Run with --update to accept it and rewrite data/sources.lock. Nothing was kept"
            )
        target = archives.confined(raw_dir(), file, sid)
        moves.append((path, target))
        old_file = locked_file(sid, entry)
        if entry is not None and old_file != file:  # a newer release under another name replaces the old file
            stale.append(archives.confined(raw_dir(), old_file, f"{sid} in data/sources.lock"))
        if entry is None or entry.sha256 != got or old_file != file:
            lock[sid] = LockEntry(got, path.stat().st_size, today, "" if file == source(sid).file else file)
            results.append(MojFile(sid, target, "updated" if entry else "downloaded", got))
        else:
            results.append(MojFile(sid, target, "present", got))
    commit(moves, lock, write_lock, remove=stale)  # all or nothing, also after SIGKILL (``data.commit``)
    return results
