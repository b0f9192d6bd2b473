"""Bring the locked source files into data/raw/: copy from a mirror folder or download from the official URL.

Every file is checked against the sha256 in data/sources.lock before it is moved into place, and is
written atomically (a temporary file in the same folder, then a rename), so data/raw/ never holds a
partial or unverified file. A mirror is a folder laid out like data/raw/ (CI uses ../shared/data); it
is given by ``--mirror`` or the environment variable ``CSP_DATA_MIRROR``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from csp_evidence.core.files import atomic_write, sha256_of
from csp_evidence.core.paths import raw_dir
from csp_evidence.data.sources import (
    OPTIONAL_SOURCES,
    SOURCES,
    LockEntry,
    Source,
    read_lock,
    source,
    write_lock,
)

MIRROR_ENV = "CSP_DATA_MIRROR"


class FetchError(RuntimeError):
    """A source file could not be brought in or did not match the lock."""


class _NotInMirror(LookupError):
    """The mirror folder has no copy of a source's file."""


@dataclass(frozen=True)
class FetchResult:
    """What happened to one source: 'present' (already valid), 'copied', 'downloaded' or 'updated'."""

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


def _mismatch(src: Source, where: str, got: str, want: str) -> FetchError:
    return FetchError(
        f"{src.file} ({src.id}) from {where}: sha256 {got} does not match the lock ({want}). "
        "The file is corrupt, truncated or a different extract. Replace it with the locked file, or run "
        "`csp fetch --update` to accept new upstream bytes and rewrite data/sources.lock."
    )


def _copy_from_mirror(src: Source, mirror: Path, target: Path, want: str | None) -> str:
    origin = mirror / src.file
    if not origin.is_file():
        raise _NotInMirror(origin)
    got = ""

    def copy_verified(tmp: Path) -> None:
        nonlocal got
        shutil.copyfile(origin, tmp)
        got = sha256_of(tmp)
        if want is not None and got != want:
            raise _mismatch(src, f"the mirror ({origin})", got, want)

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
    accepted and the lock is rewritten with their sha256 and today's date.
    """
    lock = read_lock()
    if source_ids is not None:
        wanted = [source(sid) for sid in source_ids]
    else:  # optional sources join once provided and locked (or when --update looks for them)
        wanted = list(SOURCES) + [s for s in OPTIONAL_SOURCES if update or s.id in lock]
    mirror_path = mirror_dir(mirror)
    results: list[FetchResult] = []
    missing: list[tuple[Source, str]] = []
    for src in wanted:
        entry = lock.get(src.id)
        if entry is None and not update:
            raise FetchError(f"{src.id} is registered but not in data/sources.lock; run `csp fetch --update`")
        want = None if update or entry is None else entry.sha256
        target = raw_dir() / src.file
        try:
            if target.is_file() and not update:
                got = sha256_of(target)
                if got == want:
                    results.append(FetchResult(src.id, target, "present", got))
                    if on_progress:
                        on_progress(results[-1])
                    continue
            if mirror_path is not None:
                got, action = _copy_from_mirror(src, mirror_path, target, want), "copied"
            else:
                got, action = _download(src, target, want), "downloaded"
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
            lock[src.id] = LockEntry(got, target.stat().st_size, dt.date.today().isoformat())
            action = "updated"
        results.append(FetchResult(src.id, target, action, got))
        if on_progress:
            on_progress(results[-1])
    if update and not missing:  # a lock is rewritten whole or not at all
        write_lock(lock)
    if missing:
        lines = "\n".join(f"  - {s.file} ({s.id}): {why}; official page {s.page}" for s, why in missing)
        raise FetchError(
            f"{len(missing)} source file(s) could not be brought in:\n{lines}\n"
            f"Provide them by setting {MIRROR_ENV} (or --mirror) to a folder laid out like data/raw/, "
            f"or place the files under {raw_dir()} yourself; either way they are checked against data/sources.lock."
        )
    return results


def verified_file(source_id: str) -> tuple[Path, str]:
    """The local path and sha256 of a source's file, checked against the lock; fetched first when absent."""
    src = source(source_id)
    target = raw_dir() / src.file
    if not target.is_file():
        fetch([source_id])
    entry = read_lock().get(source_id)
    if entry is None:
        raise FetchError(
            f"{src.file} ({source_id}) is present but not in data/sources.lock; run `csp fetch --update` to lock it"
        )
    try:
        want, got = entry.sha256, sha256_of(target)
    except OSError as exc:
        raise _unreadable(src, exc) from None
    if got != want:
        raise _mismatch(src, f"data/raw ({target})", got, want)
    return target, got


def optional_file(source_id: str) -> Path | None:
    """The verified path of an optional source once it is provided and locked; None while it is not."""
    src = source(source_id)
    if source_id not in read_lock():
        return None
    return verified_file(src.id)[0]
