"""police.uk for any force: keep the street files of the forces that police an area, and reduce every force's month.

An archive ``YYYY-MM.zip`` holds every force's street file of 36 months (about 150 MB a month). `fetch_forces` goes
through each archive (or a folder or zip the user has) member by member: the street files of the forces asked for
(``area_forces``: those of the area's police force areas, by the ONS lookup) are kept whole, and every force's
street file, kept or not, is streamed through ``readers.policeuk.reduce_street_stream`` into a small table of the
month (LSOA code x crime type x outcome group, the rows with no LSOA counted per force), so a CSP can be set
against its force area, region, or England and Wales without keeping every force's CSVs.

Files and the lock: ``policeuk/YYYY-MM/YYYY-MM-<force>-street.csv`` (entry ``policeuk_force_street/YYYY-MM/<force>``)
and ``policeuk/reduced/YYYY-MM-reduced.csv`` (entry ``policeuk_reduced/YYYY-MM``). As for the Met's files
(``street_archive``), nothing is moved or locked until every month asked for is whole, a month already locked is
kept, new bytes for a locked month are refused unless `update`, and archives stay in data/downloads/ until the
commit, so an interrupted run downloads nothing twice.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from csp_evidence.core.files import atomic_write, sha256_of
from csp_evidence.core.paths import raw_dir
from csp_evidence.core.periods import period_months, previous_period
from csp_evidence.data import archives as checked
from csp_evidence.data import street_archive
from csp_evidence.data.commit import commit
from csp_evidence.data.download import ByteProgress, FetchError, download, work_folders
from csp_evidence.data.readers import policeuk
from csp_evidence.data.sources import LockEntry, locked_file, month_entry, read_lock, source, write_lock


class Area(Protocol):
    """What these functions need of a ``geography.Area``: its police force area's ONS name."""

    @property
    def force_name(self) -> str: ...


FORCE_SOURCE = "policeuk_force_street"
REDUCED_SOURCE = "policeuk_reduced"
Step = Callable[[str], None]

# police.uk's force identifiers (the <force> of its file names) by the ONS police force area's name.
_SPECIAL = {
    "Metropolitan Police": "metropolitan",
    "London, City of": "city-of-london",
    "City of London": "city-of-london",
}


def force_slug(pfa_name: str) -> str:
    """police.uk's identifier of a police force area ('Devon & Cornwall' -> 'devon-and-cornwall')."""
    if pfa_name in _SPECIAL:
        return _SPECIAL[pfa_name]
    return re.sub(r"[^a-z0-9]+", "-", pfa_name.replace("&", "and").casefold()).strip("-")


def area_forces(area: Area) -> tuple[str, ...]:
    """The police.uk forces that police an area (``geography.Area``): its police force area's (one: no CSP spans
    two force areas in the ONS lookup)."""
    return (force_slug(area.force_name),)


def force_title(area: Area) -> str:
    """The police force of an area as a sentence names it: 'City of London Police', 'Kent Police'."""
    slug = force_slug(area.force_name)
    named = {"metropolitan": "the Metropolitan Police Service", "city-of-london": "the City of London Police"}
    return named.get(slug, f"{area.force_name} Police")


def force_entry(month: str, force: str) -> str:
    return month_entry(FORCE_SOURCE, f"{month}/{force}")


def reduced_entry(month: str) -> str:
    return month_entry(REDUCED_SOURCE, month)


@dataclass(frozen=True)
class ForceMonth:
    """What was done for one month: the forces kept, the forces reduced, and the action ('present', 'downloaded',
    'copied' or 'updated')."""

    month: str
    kept: tuple[str, ...]
    reduced_forces: tuple[str, ...]
    action: str


class _Month:
    """One month being read: the kept files staged, and the reduced tables of each force."""

    def __init__(self) -> None:
        self.kept: dict[str, Path] = {}
        self.reduced: dict[str, pd.DataFrame] = {}


def _member(name: str) -> tuple[str, str] | None:
    return policeuk.street_file_force(name.replace("\\", "/").rsplit("/", 1)[-1])


def _read_zip(
    archive: Path, wanted: set[str], forces: set[str], staging: Path, found: dict[str, _Month], on_step: Step | None
) -> None:
    """Every force's street member of the wanted months of `archive`: kept (the forces asked for) and reduced."""
    try:
        with checked.open_archive(archive) as zf:  # names checked: none unsafe, none twice
            for info in zf.infolist():
                named = _member(info.filename)
                if named is None or info.is_dir():
                    continue
                month, force = named
                if month not in wanted or force in found.setdefault(month, _Month()).reduced:
                    continue
                origin = f"{archive.name}: {info.filename}"
                if force in forces:
                    if on_step:
                        on_step(f"extracting {info.filename}")
                    target = staging / month / f"{month}-{force}-street.csv"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    checked.extract_member(zf, info, target, archive)  # bounded, CRC- and text-checked
                    found[month].kept[force] = target
                    found[month].reduced[force] = policeuk.reduce_street_file(target, month, force)
                else:
                    if on_step:
                        on_step(f"reducing {info.filename}")
                    with checked.open_member(zf, info, archive) as src:  # bounded and text-checked as it streams
                        found[month].reduced[force] = policeuk.reduce_street_stream(src, origin, month, force)
    except (zipfile.BadZipFile, zlib.error, EOFError, zipfile.LargeZipFile) as exc:
        raise FetchError(
            f"{archive}: not a whole zip archive ({exc}): the download is corrupt or truncated. Nothing was "
            "kept; run the command again to download it afresh"
        ) from exc
    except policeuk.PoliceUkFormatError as exc:
        raise FetchError(f"{archive}: {exc}. Nothing was kept") from exc


def _read_files(
    paths: Iterable[Path],
    wanted: set[str],
    forces: set[str],
    staging: Path,
    found: dict[str, _Month],
    step: Step | None,
) -> None:
    for path in sorted(paths):
        if path.suffix.lower() == ".zip":
            _read_zip(path, wanted, forces, staging, found, step)
            continue
        named = _member(path.name)
        if named is None:
            continue
        month, force = named
        if month not in wanted or force in found.setdefault(month, _Month()).reduced:
            continue
        if step:
            step(f"reading {path}")
        try:
            if force in forces:
                target = staging / month / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                checked.copy_file(path, target)  # a regular file, bounded and text-checked
                found[month].kept[force] = target
                found[month].reduced[force] = policeuk.reduce_street_file(target, month, force)
            else:
                with checked.open_file(path) as src:
                    found[month].reduced[force] = policeuk.reduce_street_stream(src, str(path), month, force)
        except policeuk.PoliceUkFormatError as exc:
            raise FetchError(f"{exc}. Nothing was kept") from exc


def _user_files(from_path: Path) -> list[Path]:
    if not from_path.exists():
        raise FetchError(f"{from_path}: no such file or folder (--from)")
    if from_path.is_dir():  # walked without following links; a link out of the folder is refused
        named = [p for p in checked.walk_files(from_path) if p.suffix.lower() == ".zip" or _member(p.name)]
    else:
        named = [from_path]
    for path in named:
        checked.regular_file(path)  # never a FIFO or a device, which could hang or never end
    return named


def _write_reduced(month: str, parts: dict[str, pd.DataFrame], staging: Path) -> Path:
    """One month's reduced table as CSV, rows in a fixed order (the same files give the same bytes)."""
    table = pd.concat([parts[f] for f in sorted(parts)], ignore_index=True)
    table = table.sort_values(["force", "lsoa", "crime_type"], ignore_index=True)
    target = staging / "reduced" / f"{month}-reduced.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n"))
    return target


def present(months: Sequence[str], forces: Sequence[str], lock: dict[str, LockEntry] | None = None) -> list[str]:
    """The months whose reduced table and every asked-for force's file are in data/raw/ with their locked sha256."""
    lock = read_lock() if lock is None else lock
    out = []
    for month in months:
        ids = [reduced_entry(month), *(force_entry(month, f) for f in forces)]
        if all(_intact(i, lock) for i in ids):
            out.append(month)
    return out


def _intact(entry_id: str, lock: dict[str, LockEntry]) -> bool:
    entry = lock.get(entry_id)
    target = checked.confined(raw_dir(), locked_file(entry_id, entry), entry_id)
    return entry is not None and target.is_file() and sha256_of(target) == entry.sha256


def fetch_forces(
    months: Sequence[str],
    forces: Sequence[str],
    *,
    from_path: str | Path | None = None,
    base_url: str | None = None,
    update: bool = False,
    on_bytes: Callable[[str], ByteProgress] | None = None,
    on_step: Step | None = None,
) -> list[ForceMonth]:
    """Keep the street files of `forces` for `months` and every force's reduced month, locked, all or nothing.

    From the police.uk archives holding the months (downloaded, resumable; `base_url` replaces
    https://data.police.uk/data/archive), or from `from_path` (a zip, a folder in the archive's layout, or files).
    A month needs each of `forces`' street files; the reduced table holds whichever forces' files were there (an
    archive: all of them), named in its `force` column. A month missing, or a force's file of it, is an error
    naming it, and nothing is kept.
    """
    if not months or not forces:
        raise ValueError("fetch_forces: give the months and the forces")
    lock = read_lock()
    wanted = sorted(set(months))
    results: list[ForceMonth] = []
    if not update:
        for month in present(wanted, forces, lock):
            results.append(ForceMonth(month, tuple(forces), (), "present"))
            wanted.remove(month)
        if not wanted:
            return results
    work, staging = work_folders("policeuk")
    archives: list[Path] = []
    found: dict[str, _Month] = {}
    force_set = set(forces)
    try:
        if from_path is not None:
            origin = Path(from_path).expanduser()
            _read_files(_user_files(origin), set(wanted), force_set, staging, found, on_step)
            where, action = str(origin), "copied"
        else:
            for archive in street_archive.archives_for(wanted):
                path = work / f"{archive}.zip"
                if not path.is_file():
                    download(
                        street_archive.archive_url(archive, base_url),
                        path,
                        on_bytes(f"{archive}.zip") if on_bytes else None,
                    )
                want = set(street_archive.archive_months(archive)) & set(wanted)
                try:
                    _read_zip(path, want, force_set, staging, found, on_step)
                except FetchError:
                    path.unlink(missing_ok=True)  # a corrupt archive is downloaded afresh next time
                    raise
                archives.append(path)
            where, action = "the police.uk archives", "downloaded"
        _check_complete(wanted, forces, found, where)
        results += _commit(wanted, forces, found, staging, lock, update, action)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for path in archives:
        path.unlink(missing_ok=True)
    return sorted(results, key=lambda r: r.month)


def _check_complete(months: Sequence[str], forces: Sequence[str], found: dict[str, _Month], where: str) -> None:
    gone = []
    for month in months:
        lacking = [f for f in forces if f not in found.get(month, _Month()).kept]
        if lacking:
            gone.append(f"{month} ({', '.join(lacking)})")
    if gone:
        shown = ", ".join(gone[:12]) + (f" and {len(gone) - 12} more" if len(gone) > 12 else "")
        raise FetchError(
            f"{where} holds no street file for {len(gone)} month(s) asked for: {shown}. A missing month is never "
            "read as zero: nothing was kept; provide those months or ask for fewer (--months FIRST:LAST)"
        )


def _commit(
    months: Sequence[str],
    forces: Sequence[str],
    found: dict[str, _Month],
    staging: Path,
    lock: dict[str, LockEntry],
    update: bool,
    action: str,
) -> list[ForceMonth]:
    today = dt.date.today().isoformat()
    lock = dict(lock)
    moves: list[tuple[Path, Path]] = []
    results = []
    for month in months:
        staged = [(force_entry(month, f), found[month].kept[f]) for f in forces]
        staged.append((reduced_entry(month), _write_reduced(month, found[month].reduced, staging)))
        changed = False
        for entry_id, path in staged:
            got = sha256_of(path)
            entry = lock.get(entry_id)
            file = source(entry_id).month_file(entry_id.split("/", 1)[1])
            if entry is not None and entry.sha256 != got and not update:
                raise FetchError(
                    f"{file} ({entry_id}): sha256 {got} does not match the lock ({entry.sha256}). police.uk "
                    "republishes months when forces revise them: run with --update to accept the new bytes and "
                    "rewrite data/sources.lock. Nothing was kept"
                )
            moves.append((path, checked.confined(raw_dir(), file, entry_id)))
            if entry is None or entry.sha256 != got:
                lock[entry_id] = LockEntry(got, path.stat().st_size, today, file)
                changed = changed or entry is not None
        results.append(
            ForceMonth(month, tuple(forces), tuple(sorted(found[month].reduced)), "updated" if changed else action)
        )
    commit(moves, lock, write_lock)  # all or nothing, also after SIGKILL (``data.commit``)
    return results


def rebuild_reduced(month: str, target: Path, lock: dict[str, LockEntry]) -> str:
    """Make a locked month's reduced table at `target` again from that month's locked street files in data/raw/.

    The reduced table is derived, so no mirror holds it: it is rebuilt from the forces' street files locked for the
    month and kept only when its sha256 is the locked one (a table once reduced from a whole archive, which holds
    forces whose files were not kept, cannot be rebuilt: the error says to fetch it again). Returns the sha256.
    """
    entry_id = reduced_entry(month)
    entry = lock.get(entry_id)
    if entry is None:
        raise FetchError(f"{entry_id} is not in data/sources.lock: run `csp fetch --source policeuk --params ...`")
    prefix = f"{FORCE_SOURCE}/{month}/"
    forces = sorted(e[len(prefix) :] for e in lock if e.startswith(prefix))
    parts = {}
    for force in forces:
        path, _ = verified(force_entry(month, force))
        parts[force] = policeuk.reduce_street_file(path, month, force)
    if not parts:
        raise FetchError(f"{entry_id}: no street file of {month} is locked to make it from")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".reduced-", dir=target.parent) as t:
        made = _write_reduced(month, parts, Path(t))
        got = sha256_of(made)
        if got != entry.sha256:
            raise FetchError(
                f"{target} ({entry_id}): rebuilt from the locked street files of {', '.join(forces)}, its sha256 "
                f"{got} does not match the lock ({entry.sha256}); it was reduced from other files (a whole "
                "archive): run `csp fetch --source policeuk --params ...` with that archive. Nothing was kept"
            )
        atomic_write(target, lambda tmp: shutil.copyfile(made, tmp))
    return got


def locked_reduced_months(lock: dict[str, LockEntry] | None = None) -> list[str]:
    """The months whose reduced table is locked."""
    lock = read_lock() if lock is None else lock
    prefix = f"{REDUCED_SOURCE}/"
    return sorted(e[len(prefix) :] for e in lock if e.startswith(prefix))


def verified(entry_id: str) -> tuple[Path, str]:
    """The path and sha256 of one locked entry of these sources, checked against the lock (an error names it)."""
    lock = read_lock()
    entry = lock.get(entry_id)
    if entry is None:
        raise FetchError(f"{entry_id} is not in data/sources.lock: run `csp fetch --source policeuk --params ...`")
    target = checked.confined(raw_dir(), locked_file(entry_id, entry), entry_id)
    if not target.is_file():
        raise FetchError(f"{target} ({entry_id}) is locked but missing: run `csp fetch --source policeuk` again")
    got = sha256_of(target)
    if got != entry.sha256:
        raise FetchError(f"{target} ({entry_id}): sha256 {got} does not match the lock ({entry.sha256})")
    return target, got


def months_for_area(headline_period: str, periods: Sequence[str] = ()) -> list[str]:
    """The months a police.uk area's pack needs: those of its periods and of the 12 months before the headline."""
    labels = {*periods, headline_period, previous_period(headline_period)}
    months = sorted({f"{m:%Y-%m}" for label in labels for m in period_months(label)})
    return street_archive.month_range(months[0], months[-1])
