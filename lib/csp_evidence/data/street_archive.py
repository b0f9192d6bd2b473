"""The Metropolitan Police's street-level files from data.police.uk: which archives hold a month, download,
extract, check and lock, one file a month.

data.police.uk publishes an archive each month, ``https://data.police.uk/data/archive/YYYY-MM.zip``, holding the
36 months to YYYY-MM of every force's files in the layout ``YYYY-MM/YYYY-MM-<force>-street.csv`` (with the
``-outcomes`` and ``-stop-and-search`` files beside them). An archive is over a gigabyte. `fetch_policeuk`
downloads the fewest archives that hold the months asked for (streamed to disk and resumable,
``download.download``), reads only the ``metropolitan-street`` members out of each, checks every month's file
(bounded and text-checked by ``archives``; the official header, the month in every row), and only when every
month asked for is there and whole moves them into ``data/raw/policeuk/YYYY-MM/YYYY-MM-metropolitan-street.csv``
and locks each month's sha256 in ``data/sources.lock`` (entry ``policeuk_street_asb/YYYY-MM``). A corrupt or
truncated archive or a missing month is an error naming it, and leaves data/raw/ and the lock as they were.

A user who has downloaded an archive, a custom download from data.police.uk, or monthly files already passes
them as ``from_path`` (a zip, a folder, or one CSV); a mirror holds them in the archive's own layout under
``policeuk/`` (``fetch.fetch`` copies and checks those like any other source).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from csp_evidence.core.files import sha256_of
from csp_evidence.core.paths import raw_dir
from csp_evidence.core.periods import financial_year_months
from csp_evidence.data import archives
from csp_evidence.data.commit import commit
from csp_evidence.data.download import ByteProgress, FetchError, download, work_folders
from csp_evidence.data.readers.policeuk import EXPECTED_COLUMNS
from csp_evidence.data.sources import POLICEUK_STREET_ASB, LockEntry, month_entry, read_lock, source, write_lock

SOURCE_ID = POLICEUK_STREET_ASB
FORCE = "metropolitan"
FIRST_MONTH = "2010-12"  # the first month of street-level data on data.police.uk
ARCHIVE_MONTHS = 36  # months in one police.uk archive, ending with the archive's own month
PRE_PANDEMIC_YEARS = 5  # the Covid counterfactual's fitting period
_MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
_MEMBER = re.compile(rf"(?:^|/)(?P<month>{_MONTH})-{FORCE}-street\.csv$")
Step = Callable[[str], None]


@dataclass(frozen=True)
class MonthFile:
    """One month's street file as fetched: its month, where it is kept, what was done, and its sha256."""

    month: str
    path: Path
    action: str  # 'present', 'downloaded', 'copied' or 'updated'
    sha256: str


# --------------------------------------------------------------------------- months and archives


MAX_MONTHS = 600  # fifty years: more months than any pack asks for


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ('YYYY-MM'), in order; an error when `last` is before `first` or the range
    is longer than MAX_MONTHS."""
    for m in (first, last):
        if not re.fullmatch(_MONTH, str(m), re.ASCII):
            raise ValueError(f"month {str(m)[:40]!r} is not of the form YYYY-MM")
    if last < first:
        raise ValueError(f"the months {first} to {last} run backwards")
    start, end = int(first[:4]) * 12 + int(first[5:]) - 1, int(last[:4]) * 12 + int(last[5:]) - 1
    if end - start + 1 > MAX_MONTHS:
        raise ValueError(f"{first} to {last} is {end - start + 1:,} months, more than the {MAX_MONTHS} allowed")
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(start, end + 1)]


def parse_months(text: str) -> list[str]:
    """A month range as a user types it: '2017-04:2022-03', or one month '2020-04'; only months police.uk can hold
    (from FIRST_MONTH to this month)."""
    first, _, last = str(text).partition(":")
    months = month_range(first.strip(), (last or first).strip())
    this_month = f"{dt.date.today():%Y-%m}"
    if months[0] < FIRST_MONTH or months[-1] > this_month:
        raise ValueError(
            f"data.police.uk holds months from {FIRST_MONTH} to the latest published, not {months[0]} to {months[-1]}"
        )
    return months


def months_for_params(financial_years: Sequence[str], covid_start: str) -> list[str]:
    """The months a pack needs: from the earlier of the first financial year's April and the start of the
    PRE_PANDEMIC_YEARS before `covid_start`, to the end of the last financial year."""
    fy_months = [financial_year_months(fy) for fy in financial_years]
    start = pd.Timestamp(f"{covid_start}-01") - pd.DateOffset(years=PRE_PANDEMIC_YEARS)
    first = min(start, min(m.min() for m in fy_months))
    last = max(m.max() for m in fy_months)
    return month_range(f"{first:%Y-%m}", f"{last:%Y-%m}")


def archive_months(archive: str) -> list[str]:
    """The months an archive holds: the ARCHIVE_MONTHS ending with its own month."""
    end = pd.Timestamp(f"{archive}-01")
    return month_range(f"{end - pd.DateOffset(months=ARCHIVE_MONTHS - 1):%Y-%m}", archive)


def archives_for(months: Iterable[str]) -> list[str]:
    """The fewest archives holding `months`: the one ending with the latest month wanted, then the one ending
    with the latest month it does not hold, and so on (newest first)."""
    left = sorted(set(months))
    chosen = []
    while left:
        archive = left[-1]
        chosen.append(archive)
        held = set(archive_months(archive))
        left = [m for m in left if m not in held]
    return chosen


def archive_url(archive: str, base_url: str | None = None) -> str:
    """The URL of a police.uk archive: the registry's pattern, or `base_url` + 'YYYY-MM.zip'."""
    if base_url:
        return f"{base_url.rstrip('/')}/{archive}.zip"
    return source(SOURCE_ID).url.format(month=archive)


def member_month(name: str) -> str | None:
    """The month of a Metropolitan Police street file by its name ('2020-04/2020-04-metropolitan-street.csv',
    or the file alone), else None (other forces, outcomes and stop-and-search files)."""
    m = _MEMBER.search(name.replace("\\", "/"))
    return m.group("month") if m else None


# --------------------------------------------------------------------------- checking one month's file


def check_street_file(path: Path, month: str, origin: str) -> None:
    """Check a month's file before it is kept: the official header, and the month in every row (a file with one row
    of another month is never locked: the reader, ``readers.policeuk``, would refuse it at every pack).

    The text itself (UTF-8, no NUL byte, no overlong line) was checked as it was copied (``archives``); this catches
    a wrong, empty or mislabelled file at fetch time, naming `origin` (the archive member or file it came from).
    """
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if header is None:
            raise FetchError(f"{origin}: the street file for {month} is empty")
        if tuple(c.strip() for c in header) != EXPECTED_COLUMNS:
            raise FetchError(
                f"{origin}: not a data.police.uk street file: the header is {header[:6]}..., expected "
                f"{list(EXPECTED_COLUMNS)}"
            )
        for row in rows:
            if len(row) > 1 and row[1] != month:
                raise FetchError(
                    f"{origin}: line {rows.line_num}: a row of month {row[1][:20]!r} in the file for {month}: "
                    "refused, nothing kept"
                )


# --------------------------------------------------------------------------- reading months out of archives and folders


def _extract_members(archive: Path, wanted: set[str], staging: Path, on_step: Step | None) -> dict[str, Path]:
    """Copy the wanted months' Metropolitan street members of `archive` into `staging` (streamed, CRC-checked)."""
    found: dict[str, Path] = {}
    try:
        with archives.open_archive(archive) as zf:  # names checked: none unsafe, none twice
            for info in zf.infolist():
                month = member_month(info.filename)
                if month is None or month not in wanted or month in found:
                    continue
                if on_step:
                    on_step(f"extracting {info.filename}")
                target = staging / f"{month}-{FORCE}-street.csv"
                archives.extract_member(zf, info, target, archive)  # bounded, CRC- and text-checked as it streams
                check_street_file(target, month, f"{archive.name}: {info.filename}")
                found[month] = target
    except (zipfile.BadZipFile, zlib.error, EOFError, zipfile.LargeZipFile) as exc:
        raise FetchError(
            f"{archive}: not a whole zip archive ({exc}): the download is corrupt or truncated. Nothing was "
            "kept; run the command again to download it afresh"
        ) from exc
    return found


def _from_files(paths: Iterable[Path], wanted: set[str] | None, staging: Path, on_step: Step | None) -> dict[str, Path]:
    """The months in a user's zips and monthly CSVs, copied into `staging` and checked."""
    found: dict[str, Path] = {}
    for path in sorted(paths):
        if path.suffix.lower() == ".zip":
            months = _zip_months(path)
            want = months if wanted is None else months & wanted
            found |= {m: p for m, p in _extract_members(path, want - set(found), staging, on_step).items()}
            continue
        month = member_month(path.name)
        if month is None or month in found or (wanted is not None and month not in wanted):
            continue
        if on_step:
            on_step(f"copying {path}")
        target = staging / path.name
        archives.copy_file(path, target)  # a regular file, bounded and text-checked
        check_street_file(target, month, str(path))
        found[month] = target
    return found


def _zip_months(path: Path) -> set[str]:
    with archives.open_archive(path) as zf:
        return {m for m in (member_month(n) for n in zf.namelist()) if m}


def _user_files(from_path: Path) -> list[Path]:
    if not from_path.exists():
        raise FetchError(f"{from_path}: no such file or folder (--from)")
    if from_path.is_dir():  # walked without following links; a link out of the folder is refused
        named = [p for p in archives.walk_files(from_path) if p.suffix.lower() == ".zip" or member_month(p.name)]
        for path in named:
            archives.regular_file(path)  # never a FIFO or a device, which could hang or never end
        return named
    if from_path.suffix.lower() == ".zip" or member_month(from_path.name):
        archives.regular_file(from_path)
        return [from_path]
    raise FetchError(
        f"{from_path}: expected a police.uk archive or download (.zip), a folder, or a file named "
        f"YYYY-MM-{FORCE}-street.csv"
    )


def _missing(months: Iterable[str], found: dict[str, Path], where: str) -> None:
    gone = [m for m in sorted(months) if m not in found]
    if gone:
        shown = ", ".join(gone[:12]) + (f" and {len(gone) - 12} more" if len(gone) > 12 else "")
        raise FetchError(
            f"{where} holds no Metropolitan Police street file for {len(gone)} month(s) asked for: {shown}. "
            "A missing month is never read as zero: nothing was kept; provide those months or ask for fewer "
            "(--months FIRST:LAST)"
        )


# --------------------------------------------------------------------------- fetching and locking


def present_months(lock: dict[str, LockEntry] | None = None) -> dict[str, Path]:
    """The months locked for this source whose file is in data/raw/ (not checked here: `verified_months` does)."""
    lock = read_lock() if lock is None else lock
    src = source(SOURCE_ID)
    prefix = f"{SOURCE_ID}/"
    out = {}
    for entry_id in sorted(lock):
        if entry_id.startswith(prefix):
            month = entry_id[len(prefix) :]
            out[month] = raw_dir() / src.month_file(month)
    return out


def fetch_policeuk(
    months: Sequence[str] | None = None,
    *,
    from_path: str | Path | None = None,
    base_url: str | None = None,
    update: bool = False,
    on_bytes: Callable[[str], ByteProgress] | None = None,
    on_step: Step | None = None,
) -> list[MonthFile]:
    """Bring the Metropolitan Police street files of `months` into data/raw/ and lock each month.

    From police.uk archives (downloaded, resumable, to data/downloads/policeuk/; `base_url` replaces
    https://data.police.uk/data/archive), or from `from_path` (a zip, a folder or one CSV; all its months when
    `months` is None). A month already in data/raw/ with its locked sha256 is kept. A month whose new bytes
    differ from the lock is refused unless `update`. Nothing is moved or locked until every month is whole.
    `on_bytes(label)` returns the byte-progress callback of one download.
    """
    if months is None and from_path is None:
        raise ValueError("fetch_policeuk: give the months, or a path to take them from")
    lock = read_lock()
    src = source(SOURCE_ID)
    wanted = None if months is None else sorted(set(months))
    results: list[MonthFile] = []
    if wanted is not None and not update:  # months already here and locked are kept as they are
        for month in list(wanted):
            entry = lock.get(month_entry(SOURCE_ID, month))
            target = raw_dir() / src.month_file(month)
            if entry and target.is_file() and sha256_of(target) == entry.sha256:
                results.append(MonthFile(month, target, "present", entry.sha256))
                wanted.remove(month)
        if not wanted:
            return results
    work, staging = work_folders("policeuk")
    archives: list[Path] = []
    try:
        if from_path is not None:
            origin = Path(from_path).expanduser()
            found = _from_files(_user_files(origin), None if wanted is None else set(wanted), staging, on_step)
            if wanted is None:
                if not found:
                    raise FetchError(f"{origin} holds no file named YYYY-MM-{FORCE}-street.csv")
                wanted = sorted(found)
            _missing(wanted, found, str(origin))
            action = "copied"
        else:
            assert wanted is not None
            found = {}
            for archive in archives_for(wanted):
                url = archive_url(archive, base_url)
                path = work / f"{archive}.zip"
                if not path.is_file():
                    download(url, path, on_bytes(f"{archive}.zip") if on_bytes else None)
                want = set(archive_months(archive)) & set(wanted) - set(found)
                try:
                    found |= _extract_members(path, want, staging, on_step)
                except FetchError:
                    path.unlink(missing_ok=True)  # a corrupt archive is downloaded afresh next time
                    raise
                _missing(want, found, f"the police.uk archive {url}")
                archives.append(path)
            action = "downloaded"
        results += _commit(found, wanted, lock, update, action)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for path in archives:  # kept until every month was in place: an interrupted run downloads nothing twice
        path.unlink(missing_ok=True)
    return sorted(results, key=lambda r: r.month)


def _commit(
    found: dict[str, Path], months: Sequence[str], lock: dict[str, LockEntry], update: bool, action: str
) -> list[MonthFile]:
    """Check every staged month against the lock, then move them into data/raw/ and rewrite the lock, all or nothing
    (``files.move_all_into_place``: on any error data/raw/ and the lock are left as they were)."""
    src = source(SOURCE_ID)
    today = dt.date.today().isoformat()
    lock = dict(lock)
    moves, results = [], []
    for month in months:
        path = found[month]
        got = sha256_of(path)
        entry_id = month_entry(SOURCE_ID, month)
        entry = lock.get(entry_id)
        if entry is not None and entry.sha256 != got and not update:
            raise FetchError(
                f"{src.month_file(month)} ({entry_id}): sha256 {got} does not match the lock ({entry.sha256}). "
                "police.uk republishes months when forces revise them: run with --update to accept the new bytes "
                "and rewrite data/sources.lock. Nothing was kept"
            )
        target = archives.confined(raw_dir(), src.month_file(month), entry_id)
        moves.append((path, target))
        if entry is None or entry.sha256 != got:
            lock[entry_id] = LockEntry(got, path.stat().st_size, today)
            results.append(MonthFile(month, target, "updated" if entry else action, got))
        else:
            results.append(MonthFile(month, target, action, got))
    commit(moves, lock, write_lock)  # all or nothing, also after SIGKILL (``data.commit``)
    return results
