"""Bring the locked source files into data/raw/: copy from a mirror folder or download from the official URL.

Every file is checked against the sha256 in data/sources.lock before it is moved into place, and is
written atomically (a temporary file in the same folder, then a rename), so data/raw/ never holds a
partial or unverified file. A mirror is a folder laid out like data/raw/ (CI uses ../shared/data); it
is given by ``--mirror`` or the environment variable ``CSP_DATA_MIRROR``.

One fetch runs at a time on a project (``commit.fetching``), and new bytes with a new lock are committed all or
nothing, also across SIGKILL (``commit.commit``); every path from the lock or the registry must resolve inside
data/raw/ (``archives.confined``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from csp_evidence.core.files import atomic_write, sha256_of
from csp_evidence.core.paths import downloads_dir, raw_dir
from csp_evidence.data import archives, moj_release, policeuk_forces, street_archive
from csp_evidence.data.commit import commit, fetching, recover_if_needed
from csp_evidence.data.download import ByteProgress, FetchError
from csp_evidence.data.sources import (
    AREA_SOURCES,
    OPTIONAL_SOURCES,
    SOURCE_ALIASES,
    SOURCES,
    LockEntry,
    Source,
    entry_month,
    locked_file,
    month_entry,
    read_lock,
    source,
    write_lock,
)

__all__ = ["FetchError", "FetchResult", "fetch", "fetch_source", "mirror_dir", "optional_file", "verified_file"]

MIRROR_ENV = "CSP_DATA_MIRROR"


class _NotInMirror(LookupError):
    """The mirror folder has no copy of a source's file."""


@dataclass(frozen=True)
class FetchResult:
    """What happened to one source: 'present' (already valid), 'copied', 'downloaded', 'made' (a derived table
    rebuilt from locked files) or 'updated'."""

    source_id: str
    path: Path
    action: str
    sha256: str


def mirror_dir(mirror: str | Path | None = None) -> Path | None:
    """The mirror folder from the argument or $CSP_DATA_MIRROR, or None; a missing folder is an error."""
    value = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    origin = "--mirror" if mirror is not None else MIRROR_ENV
    try:
        is_dir = path.is_dir()
    except OSError as exc:
        raise FetchError(f"the data mirror {path} (from {origin}) cannot be read ({exc.strerror or exc})") from None
    if not is_dir:
        raise FetchError(f"the data mirror {path} (from {origin}) is not a folder")
    return path


def _unreadable(src: Source, exc: OSError) -> FetchError:
    """An OSError while bringing in `src` (an unreadable mirror or raw file, a full disk) as a message naming it."""
    where = exc.filename or src.file
    return FetchError(f"{src.file} ({src.id}): cannot read or write {where} ({exc.strerror or exc})")


def _mismatch(src: Source, where: str, got: str, want: str, file: str = "") -> FetchError:
    return FetchError(
        f"{file or src.file} ({src.id}) from {where}: sha256 {got} does not match the lock ({want}). "
        "The file is corrupt, truncated or a different extract. Replace it with the locked file, or run "
        "`csp fetch --update` to accept new upstream bytes and rewrite data/sources.lock."
    )


def _copy_from_mirror(src: Source, mirror: Path, target: Path, want: str | None, file: str = "") -> str:
    origin = mirror / (file or src.file)
    if not origin.is_file():
        raise _NotInMirror(origin)
    got = ""

    def copy_verified(tmp: Path) -> None:
        nonlocal got
        try:
            shutil.copyfile(origin, tmp)
        except OSError as exc:
            if exc.filename is None:  # a full disk while writing: name the file written and the one read
                raise OSError(exc.errno, exc.strerror, str(target), None, str(origin)) from None
            raise
        got = sha256_of(tmp)
        if want is not None and got != want:
            raise _mismatch(src, f"the mirror ({origin})", got, want, file)

    atomic_write(target, copy_verified, suffix=".part")
    return got


def _download(src: Source, target: Path, want: str | None) -> str:
    import pooch  # imported here: a download is the rare path

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        try:
            fetched = pooch.retrieve(src.url, known_hash=None, fname=target.name, path=tmp_dir, progressbar=False)
        except Exception as exc:  # network errors come in many types (requests, urllib3, OSError)
            root: BaseException = exc
            while root.__context__ is not None and root.__context__ is not root:
                root = root.__context__
            raise ConnectionError(f"{src.url}: {type(root).__name__}: {str(root)[:120]}") from exc
        got = sha256_of(fetched)
        if want is not None and got != want:
            raise _mismatch(src, src.url, got, want)
        os.replace(fetched, target)  # verified, and in the same folder: one rename
        return got
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _entry_ids(src: Source, lock: dict[str, LockEntry], update: bool, mirror: Path | None) -> list[str]:
    """The lock entries a source has: its own id, or for a monthly source one per month (those locked, and with
    `update` those found in the mirror, or in data/raw/ when there is no mirror)."""
    if not src.monthly:
        return [src.id]
    prefix = f"{src.id}/"  # this source's own months (the Met's, or one force's month of police.uk for any force)
    months = {entry[len(prefix) :] for entry in lock if entry.startswith(prefix)}
    if update:
        root = mirror or raw_dir()
        for path in root.glob(src.month_file("*")):
            month = street_archive.member_month(path.name)
            if month and path.parent.name == month:
                months.add(month)
    return [month_entry(src.id, m) for m in sorted(months)]


def fetch(
    source_ids: Iterable[str] | None = None,
    *,
    mirror: str | Path | None = None,
    update: bool = False,
    on_progress: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Make data/raw/ hold the locked bytes of each source; return what was done for each.

    A file already present with the locked sha256 is kept. Otherwise it is copied from the mirror (when
    one is set) or downloaded from its official URL, and verified. With ``update=True`` new bytes are
    accepted and the lock is rewritten with their sha256 and today's date. A monthly source (police.uk) has
    one lock entry a month; optional sources (police.uk, MoJ) join once locked, or with ``update=True`` when
    the mirror (or, without one, data/raw/) holds them. Without a mirror, a locked optional file that is
    missing is fetched again from its publisher by `fetch_source`'s code.
    """
    with fetching():  # one fetch at a time; what a killed one left is put right first
        return _fetch(source_ids, mirror, update, on_progress)


def _fetch(
    source_ids: Iterable[str] | None,
    mirror: str | Path | None,
    update: bool,
    on_progress: Callable[[FetchResult], None] | None,
) -> list[FetchResult]:
    lock = read_lock()
    if source_ids is not None:
        wanted = [source(sid) for sid in source_ids]
    else:  # optional sources join once provided and locked (or when --update looks for them)
        locked_ids = {sid.split("/")[0] for sid in lock}
        wanted = list(SOURCES) + [s for s in OPTIONAL_SOURCES if update or s.id in locked_ids]
        # police.uk for an area outside the MPS boroughs: its locked months, like any locked source (new months are
        # added by `csp fetch --source policeuk --params ...`, never by --update)
        wanted += [s for s in AREA_SOURCES if s.id in locked_ids and not update]
    if any(s.id == policeuk_forces.REDUCED_SOURCE for s in wanted):  # made from the street files: those first
        wanted = [s for s in wanted if s.id != policeuk_forces.FORCE_SOURCE]
        at = next(i for i, s in enumerate(wanted) if s.id == policeuk_forces.REDUCED_SOURCE)
        wanted.insert(at, source(policeuk_forces.FORCE_SOURCE))
    mirror_path = mirror_dir(mirror)
    results: list[FetchResult] = []
    missing: list[tuple[Source, str]] = []
    again: dict[str, list[str]] = {}  # locked optional entries to fetch again from their publisher

    def done(result: FetchResult) -> None:
        results.append(result)
        if on_progress:
            on_progress(result)

    # with `update`, new bytes are staged in data/downloads/ and moved into data/raw/ with the lock at the end, all
    # or nothing (a failure part way, a disk full say, leaves data/raw/ and the lock as they were)
    staging = Path(tempfile.mkdtemp(prefix=".update-", dir=_made(downloads_dir()))) if update else None
    moves: list[tuple[Path, Path]] = []
    try:
        for src in wanted:
            for entry_id in _entry_ids(src, lock, update, mirror_path):
                entry = lock.get(entry_id)
                if entry is None and not update:
                    raise FetchError(f"{entry_id} is registered but not in data/sources.lock; run `csp fetch --update`")
                want = None if update or entry is None else entry.sha256
                file = locked_file(entry_id, entry)
                target = archives.confined(raw_dir(), file, entry_id)
                dest = target if staging is None else archives.confined(staging, file, entry_id)  # new bytes go first
                try:
                    if target.is_file() and not update:
                        got = sha256_of(target)
                        if got == want:
                            done(FetchResult(entry_id, target, "present", got))
                            continue
                    if src.id == policeuk_forces.REDUCED_SOURCE:  # derived: made again from the street files
                        got, action = policeuk_forces.rebuild_reduced(entry_month(entry_id) or "", target, lock), "made"
                    elif mirror_path is not None:
                        got, action = _copy_from_mirror(src, mirror_path, dest, want, file), "copied"
                    elif src.optional:
                        if update and target.is_file():  # placed by the user: lock what is there
                            got, action, dest = sha256_of(target), "present", target
                        else:
                            if entry is not None:
                                again.setdefault(src.id, []).append(entry_id)
                            continue
                    else:
                        got, action = _download(src, dest, want), "downloaded"
                except OSError as exc:
                    if isinstance(exc, ConnectionError):
                        if src.optional and update:
                            continue
                        missing.append((src, f"download failed ({exc})"))
                        continue
                    raise _unreadable(src, exc) from None
                except _NotInMirror:
                    if src.optional and update:
                        continue
                    missing.append((src, f"not in the mirror {mirror_path}"))
                    continue
                if update and (entry is None or entry.sha256 != got):
                    lock[entry_id] = LockEntry(
                        got, dest.stat().st_size, dt.date.today().isoformat(), entry_file(entry_id, file)
                    )
                    action = "updated"
                if dest != target:
                    moves.append((dest, target))
                done(FetchResult(entry_id, target, action, got))
        if update and not missing:  # data/raw/ and the lock change together or not at all
            commit(moves, lock, write_lock)  # all or nothing, also after SIGKILL (``data.commit``)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    for sid, entry_ids in again.items():  # locked, but neither here nor in a mirror: from the publisher again
        if sid == moj_release.TOOL_SOURCE:  # an earlier release: only the user has it
            missing.append(
                (
                    source(sid),
                    "locked but not in data/raw; add it again with `csp fetch --source moj_reoffending --from PATH`",
                )
            )
            continue
        try:
            for result in fetch_source(sid, months=[entry_month(e) or "" for e in entry_ids]):
                done(result)
        except FetchError as exc:
            missing.append((source(sid), str(exc)))
    if missing:
        lines = "\n".join(f"  - {_shown_file(s)} ({s.id}): {why}; official page {s.page}" for s, why in missing)
        raise FetchError(
            f"{len(missing)} source file(s) could not be brought in:\n{lines}\n"
            f"Provide them by setting {MIRROR_ENV} (or --mirror) to a folder laid out like data/raw/, "
            f"or place the files under {raw_dir()} yourself; either way they are checked against data/sources.lock."
        )
    return results


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shown_file(src: Source) -> str:
    return src.month_file("YYYY-MM") if src.monthly else src.file


def entry_file(entry_id: str, file: str) -> str:
    """The file to record in a lock entry: empty when it is the registry's (the lock file names it anyway)."""
    src = source(entry_id)
    month = entry_month(entry_id)
    return "" if file == (src.month_file(month) if month else src.file) else file


def fetch_source(
    name: str,
    *,
    from_path: str | Path | None = None,
    url: str | None = None,
    months: Sequence[str] | None = None,
    update: bool = False,
    on_bytes: Callable[[str], ByteProgress] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> list[FetchResult]:
    """`csp fetch --source NAME`: bring one optional source from its publisher (or `from_path`) and lock it.

    'policeuk' (``policeuk_street_asb``): the street files of `months` from the police.uk archives (`url`
    replaces the archive folder https://data.police.uk/data/archive), or the months of `from_path`.
    'moj_reoffending' (``moj_proven_reoffending``): the geographic data CSV from the MoJ release page (`url`
    replaces the registry's page, or gives the zip itself), or from `from_path` (a zip, a CSV, or the older
    Excel data tool).
    """
    with fetching():  # one fetch at a time; what a killed one left is put right first
        return _fetch_source(name, from_path, url, months, update, on_bytes, on_step)


def _fetch_source(
    name: str,
    from_path: str | Path | None,
    url: str | None,
    months: Sequence[str] | None,
    update: bool,
    on_bytes: Callable[[str], ByteProgress] | None,
    on_step: Callable[[str], None] | None,
) -> list[FetchResult]:
    src = source(name)
    if src.id == street_archive.SOURCE_ID:
        months_list = [m for m in (months or []) if m] or None
        got = street_archive.fetch_policeuk(
            months_list, from_path=from_path, base_url=url, update=update, on_bytes=on_bytes, on_step=on_step
        )
        return [FetchResult(month_entry(src.id, r.month), r.path, r.action, r.sha256) for r in got]
    if src.id in moj_release.SOURCE_IDS:
        got_moj = moj_release.fetch_moj(from_path=from_path, url=url, update=update, on_bytes=on_bytes, on_step=on_step)
        return [FetchResult(r.source_id, r.path, r.action, r.sha256) for r in got_moj]
    raise FetchError(
        f"--source {name}: only the sources that are not in the mirror are fetched one by one: "
        f"{', '.join(SOURCE_ALIASES)}; the others come with `csp fetch`"
    )


def verified_file(source_id: str) -> tuple[Path, str]:
    """The local path and sha256 of a source's file (or of one month's: 'policeuk_street_asb/2020-04'), checked
    against the lock; fetched first when absent."""
    src = source(source_id)
    recover_if_needed()  # a fetch killed in its commit is finished (or undone) before any file is read
    entry = read_lock().get(source_id)
    file = locked_file(source_id, entry)
    target = archives.confined(raw_dir(), file, source_id)
    if not target.is_file():
        fetch([src.id])
        entry = read_lock().get(source_id)
    if entry is None:
        raise FetchError(
            f"{file} ({source_id}) is present but not in data/sources.lock; run `csp fetch --update` to lock it"
        )
    try:
        want, got = entry.sha256, sha256_of(target)
    except OSError as exc:
        raise _unreadable(src, exc) from None
    if got != want:
        raise _mismatch(src, f"data/raw ({target})", got, want, file)
    return target, got


def optional_file(source_id: str) -> Path | None:
    """The verified path of an optional source once it is provided and locked; None while it is not."""
    src = source(source_id)
    if source_id not in read_lock():
        return None
    return verified_file(src.id)[0]


def locked_months(source_id: str) -> list[str]:
    """The months of a monthly source that are locked (none until `csp fetch --source` or `--update` locks them)."""
    src = source(source_id)
    prefix = f"{src.id}/"
    return sorted(sid[len(prefix) :] for sid in read_lock() if sid.startswith(prefix))
