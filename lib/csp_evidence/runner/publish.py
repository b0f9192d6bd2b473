"""Publishing a run in one atomic step, and tidying what interrupted runs left in the outputs folder.

``outputs/<run>`` is a symbolic link to a whole pack in ``outputs/.packs/<run>-<stamp>/``. A run is built in
a staging folder (``outputs/.staging-<run>-*``), moved into ``.packs/`` under a new name, and published by
renaming a new link onto ``outputs/<run>``: one ``rename``, atomic in the file system's journal, so a reader,
a SIGKILL or a power loss finds the last good pack or the new one, whole, and never nothing. Older versions
are removed after the swap. A pack folder from before this layout (a real folder at ``outputs/<run>``) is
moved into ``.packs/`` and linked (in one atomic exchange of the two names where the file system allows).

Every run, under its own lock, recovers what an interrupted swap left: the link put back when it is missing
(the newest whole version), unpublished versions, staging folders, temporary links and the previous layout's
``.old-*`` folders removed. The same is done for other run names whose lock nobody holds (a live run's
files are never touched), and their stale lock files go. ``failed/`` keeps the last ``KEEP_FAILED`` failed
runs of each run name.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from csp_evidence.core.files import (
    exchange,
    fsync_dir,
    fsync_tree,
    give_normal_modes,
    normal_mode,
    replace_symlink,
)
from csp_evidence.core.params import FAILED_RUNS, reserved_run_name

PACKS = ".packs"  # outputs/.packs/<run>-<stamp>/: the published versions (outputs/<run> links to one)
KEEP_FAILED = 5  # failed runs kept under outputs/failed/ for each run name, the newest
LOCK_WAIT = 2.0  # seconds a run waits for its lock: long enough for another run's tidying, short for a refusal

_STAMP = r"\d{8}T\d{12}Z?"  # UTC (Z); packs of earlier versions have no Z
# A run name is any file name (a newline included: re.DOTALL), so every leftover of every run is found.
_LEFTOVER = (  # what interrupted runs leave in the outputs folder, by the run name they belong to
    re.compile(r"\.staging-(?P<name>.+)-[a-z0-9_]{8}", re.DOTALL),  # a staging folder (tempfile.mkdtemp)
    re.compile(r"\.old-(?P<name>.+?)-\.staging-(?P=name)-[a-z0-9_]{8}", re.DOTALL),  # the previous layout's swap
    re.compile(r"\.(?P<name>.+)\.link-[0-9a-f]{8}", re.DOTALL),  # a new link not yet renamed onto the published name
    re.compile(r"\.(?P<name>.+)\.lock", re.DOTALL),  # a run's lock file
)
_VERSION = re.compile(rf"(?P<name>.+)-{_STAMP}", re.DOTALL)


class RunError(RuntimeError):
    """A run could not complete; the message names the run, notebook and cell."""


@contextmanager
def interrupt_deferred() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block until the block is done, then hand it to the handler that was
    there before (which raises KeyboardInterrupt, sets a batch worker's flag, or ignores it). Only the main
    thread can hold it, and only a handler Python knows can be put back; otherwise nothing is held."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous in (None, signal.SIG_IGN):
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            signal.raise_signal(signal.SIGINT)


def run_lock(target: Path) -> FileLock:
    """Hold the run folder's lock, or refuse naming it: two builds of one folder never interleave."""
    lock = FileLock(str(target.parent / f".{target.name}.lock"))
    try:
        lock.acquire(timeout=LOCK_WAIT)
    except Timeout:
        raise RunError(
            f"another run is already building {target} (lock {lock.lock_file}); wait for it to finish"
        ) from None
    return lock


def release_lock(lock: FileLock, target: Path) -> None:
    """Release a run's lock; its file goes too when the run has no published pack (e.g. refused params), so that
    lock files do not pile up. It is removed while held: a run waiting on the old file sees it gone and retries."""
    try:
        if not target.exists():
            Path(lock.lock_file).unlink(missing_ok=True)
    finally:
        lock.release()


def new_stage(root: Path, name: str) -> Path:
    """A staging folder for a run of `name` in `root`, with the mode a plain mkdir gives (mkdtemp's is 0700)."""
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=root))
    os.chmod(stage, normal_mode(directory=True))
    return stage


def versions(root: Path, name: str) -> list[Path]:
    """The pack versions of run `name` in `root/.packs/`, oldest first."""
    packs = root / PACKS
    if not packs.is_dir():
        return []
    pattern = re.compile(rf"{re.escape(name)}-{_STAMP}", re.DOTALL)
    return sorted(p for p in packs.iterdir() if pattern.fullmatch(p.name))


def _points_into_packs(target: Path) -> Path | None:
    """The entry of the packs folder (as `root/.packs/<entry>`) that the link `target` names, however the link
    is written (`.packs/x`, `../outputs/.packs/x`, an absolute path), whether or not the entry exists; None when
    `target` is no link or names anything outside the packs folder."""
    if not target.is_symlink():
        return None
    packs = target.parent / PACKS
    named = Path(os.path.normpath(target.parent / os.readlink(target)))
    if named.parent == Path(os.path.normpath(packs)):
        return packs / named.name
    try:  # the same folder reached another way: through a link to the outputs folder, say
        same = named.parent.resolve(strict=True) == packs.resolve(strict=True)
    except OSError:
        return None
    return packs / named.name if same else None


def current_version(target: Path) -> Path | None:
    """The version folder `target` links to, or None when it is not a link to a real folder of the packs folder."""
    version = _points_into_packs(target)
    return version if version is not None and version.is_dir() and not version.is_symlink() else None


def check_outputs(target: Path) -> None:
    """Refuse, changing nothing, an outputs folder that a run would write through into somewhere else: a packs
    folder that is a link, or `outputs/<run>` a link to anything but a pack folder in the packs folder (another
    folder, a file, a packs entry that is itself a link). A dangling link into the packs folder is what an
    interrupted run leaves, and `recover` points it at the last good pack."""
    packs = target.parent / PACKS
    if packs.is_symlink() or (packs.exists() and not packs.is_dir()):
        raise RunError(
            f"{packs} is {_what(packs)}, not the folder of published packs: a run will not write through it; "
            "move it aside (nothing was changed)"
        )
    if not target.is_symlink():
        if target.exists() and not target.is_dir():
            raise RunError(
                f"{target} is a file, not a pack: a run will not replace it; move it aside (nothing was changed)"
            )
        return
    entry = _points_into_packs(target)
    if entry is None or entry.is_symlink() or (entry.exists() and not entry.is_dir()):
        shown = entry if entry is not None else os.readlink(target)
        raise RunError(
            f"{target} is a link to {shown}, {'a link' if entry is not None and entry.is_symlink() else 'not a pack'}"
            f" in {packs}: a run will not replace or write through it; remove the link (`rm {target}` removes the "
            "link only) and run again (nothing was changed; earlier packs are kept in the packs folder)"
        )


def _what(path: Path) -> str:
    return f"a link to {os.readlink(path)}" if path.is_symlink() else "a file"


def _new_version(root: Path, name: str) -> Path:
    packs = root / PACKS
    packs.mkdir(exist_ok=True)
    while True:
        version = packs / f"{name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}"
        if not version.exists():
            return version


def _remove(path: Path) -> None:
    """Remove a leftover: a folder with what it holds, or a link or file (never what a link points to)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _link(target: Path, version: Path) -> None:
    """Point `target` at `version` (a relative link: the outputs folder can be moved or copied with its links)."""
    replace_symlink(target, os.path.relpath(version, target.parent))
    fsync_dir(target.parent)


def _migrate(folder: Path, target: Path) -> None:
    """Move a whole pack in a real folder (`target` itself, as earlier versions published it, or their `.old-*`
    copy) into the packs folder and link `target` to it. Where the file system can swap two names atomically,
    the folder and a new link trade places in one step; elsewhere a kill between the two renames leaves `target`
    missing for a moment, and the next run links it again (`recover`)."""
    for leftover in (*folder.glob(".site-build-*"), *folder.glob(".site-old-*")):  # an interrupted render
        shutil.rmtree(leftover, ignore_errors=True)
    give_normal_modes(folder)  # earlier versions published the 0700 of their temporary folder
    version = _new_version(target.parent, target.name)
    if folder == target:
        # a link made in the packs folder under the version's name, holding the path from outputs/ to it: once the
        # two have traded places, it is outputs/<run> pointing at the folder, now at that very path
        os.symlink(os.path.relpath(version, target.parent), version)
        try:
            swapped = exchange(version, target)
        except OSError as exc:
            version.unlink()
            raise RunError(f"could not move the pack {folder} into {version.parent} ({exc.strerror})") from exc
        if swapped:
            fsync_dir(version.parent)
            fsync_dir(target.parent)
            return
        version.unlink()
    try:
        os.rename(folder, version)
    except OSError as exc:
        raise RunError(f"could not move the pack {folder} to {version} ({exc.strerror}); move it by hand") from exc
    fsync_dir(version.parent)
    fsync_dir(target.parent)
    _link(target, version)


def publish(stage: Path, target: Path) -> Path:
    """Publish the whole run in `stage` as `target`: give it the modes of a plain write, make it durable, move it
    into the packs folder, and rename a new link onto `target`; then remove the older versions. A Ctrl-C during
    the swap is held until it is done; on an error before the swap the old pack stays published and the run is
    put back in `stage`. Returns the new version's folder."""
    with interrupt_deferred():
        check_outputs(target)
        if target.is_dir() and not target.is_symlink():
            _migrate(target, target)
        give_normal_modes(stage)
        fsync_tree(stage)
        version = _new_version(target.parent, target.name)
        os.rename(stage, version)
        try:
            fsync_dir(version.parent)
            _link(target, version)
        except BaseException:
            if current_version(target) != version:
                with suppress(OSError):
                    os.rename(version, stage)
            raise
        for old in versions(target.parent, target.name):  # a Ctrl-C waits for this too: nothing is left aside
            if old != version:
                _remove(old)
    return version


def recover(target: Path) -> None:
    """Put right what an interrupted publish of `target` left; call it holding the run's lock.

    A missing (or dangling) published link is pointed at the newest whole version, or at the pack the
    previous layout had renamed aside; a real folder from that layout is moved into the packs folder; versions
    that are not published, staging folders, temporary links and `.old-*` folders are removed.
    """
    check_outputs(target)
    root, name = target.parent, target.name
    leftovers = [p for p in root.iterdir() if any((m := r.fullmatch(p.name)) and m["name"] == name for r in _LEFTOVER)]
    olds = sorted(p for p in leftovers if p.name.startswith(".old-") and p.is_dir() and not p.is_symlink())
    if not target.exists():
        found = [v for v in versions(root, name) if v.is_dir() and not v.is_symlink()]
        if found:
            _link(target, found[-1])
        elif olds:  # killed between the previous layout's two renames: this is the last good pack
            _migrate(olds.pop(), target)
    elif target.is_dir() and not target.is_symlink():
        _migrate(target, target)
    current = current_version(target)
    for old in versions(root, name):
        if old != current:
            _remove(old)
    for leftover in leftovers:
        if not leftover.name.endswith(".lock"):
            _remove(leftover)


def tidy_outputs(root: Path, own: str) -> None:
    """Recover what interrupted runs of other names left in `root`, and remove their stale lock files; a run
    name whose lock is held (a live run) is left alone."""
    names = {m["name"] for p in root.iterdir() for r in _LEFTOVER if (m := r.fullmatch(p.name))}
    if (root / PACKS).is_dir():
        names |= {m["name"] for p in (root / PACKS).iterdir() if (m := _VERSION.fullmatch(p.name))}
    for name in sorted(names - {own}):
        if reserved_run_name(name):
            continue
        lock = FileLock(str(root / f".{name}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            continue  # a live run: its files are its own
        try:
            recover(root / name)
        except RunError:
            continue  # another run's folder that is not as runs leave it: its own run says so, and nothing changes
        finally:
            release_lock(lock, root / name)


def keep_failed(stage: Path, root: Path, name: str) -> Path:
    """Move a failed run under failed/ for debugging, with its own copies of the outputs it reused (they are hard
    links into the published pack, which editing the kept run must never change); keep the newest
    `KEEP_FAILED` failed runs of `name`."""
    for path in stage.rglob("*"):
        if path.is_file() and path.stat().st_nlink > 1:
            copy = path.with_name(f".{path.name}.copy")
            shutil.copy2(path, copy)
            os.replace(copy, path)
    folder = root / FAILED_RUNS
    if folder.is_symlink():
        raise RunError(f"{folder} is {_what(folder)}: a failed run is not written through it; move it aside")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"{name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    failed, n = folder / stamp, 1
    while failed.exists():  # two failures in one second
        failed, n = folder / f"{stamp}-{n}", n + 1
    os.rename(stage, failed)
    pattern = re.compile(rf"{re.escape(name)}-(\d{{8}}T\d{{6}}Z?)(?:-(\d+))?")
    kept = sorted(
        ((m[1], int(m[2] or 0)), p) for p in folder.iterdir() if (m := pattern.fullmatch(p.name)) and p.is_dir()
    )
    for _, old in kept[:-KEEP_FAILED]:
        shutil.rmtree(old, ignore_errors=True)
    return failed
