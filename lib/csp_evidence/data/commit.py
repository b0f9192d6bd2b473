"""Moving fetched files into data/raw/ together with the new data/sources.lock: all of it or none of it, also after
SIGKILL or a power loss at any step.

A commit is written down before it starts. The new lock is written to ``data/.sources.lock.new``, every file that is
replaced or removed is kept under a hidden name beside it (a hard link, ``.NAME.kept-XXXXXXXX``), and a journal,
``data/.fetch-commit.json``, lists the moves, the removals, the kept copies and the new lock; it is written
atomically and made durable before the first rename. Then the files are moved in, the stale ones removed and the
lock renamed into place, and the journal is deleted last. When a step fails (a full disk), the journal is marked
"back" and every change is undone from the kept copies.

Every ``csp fetch`` starts by holding ``data/.fetch.lock`` and reading a journal a killed fetch left: marked
"forward", the moves still staged are made and the lock put in place (the fetch had passed the point of no return);
marked "back", the kept copies are put back. Either way ``data/raw/`` and the lock end old or new, never mixed, and
the leftovers are cleared: kept copies, temporary lock files, ``data/downloads/*/.staging-*`` folders, and
temporary files of copies and downloads under ``data/raw/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from filelock import FileLock, Timeout

from csp_evidence.core.files import atomic_write_text, fsync_dir, keep_copy, move_into_place
from csp_evidence.core.paths import downloads_dir, lock_path, raw_dir
from csp_evidence.data.download import FetchError

JOURNAL = ".fetch-commit.json"
NEW_LOCK = ".sources.lock.new"
_TEMP = r"[a-z0-9_]{8}"  # the random part of tempfile's names
_RAW_LEFTOVERS = re.compile(rf"^\..+\.kept-[0-9a-f]{{8}}$|^\.download-{_TEMP}$|^\..+\.{_TEMP}\.part$")
_DATA_LEFTOVERS = re.compile(
    rf"^\.sources\.lock\.{_TEMP}$|^\.sources\.lock\.new$|^\.\.sources\.lock\.new\.{_TEMP}$|^\.sources\.lock\.kept-[0-9a-f]{{8}}$"
)
_DATA_LEFTOVERS_JOURNAL = re.compile(rf"^\.{re.escape(JOURNAL)}\.{_TEMP}$")
_DOWNLOAD_LEFTOVERS = re.compile(rf"^\.staging-{_TEMP}$|^\.update-{_TEMP}$")
WAIT = 600  # seconds a fetch, or a reader, waits for a live fetch to finish
_held: dict[str, FileLock] = {}


def _data() -> Path:
    return lock_path().parent


def _journal() -> Path:
    return _data() / JOURNAL


def _lock_of(path: Path) -> FileLock:
    key = str(path)
    if key not in _held:
        _held[key] = FileLock(key)  # reentrant: a fetch that calls another (fetch -> fetch_source) holds it once
    return _held[key]


@contextlib.contextmanager
def fetching() -> Iterator[None]:
    """Hold data/.fetch.lock for one fetch, after putting right what a killed one left (`recover`)."""
    data = _data()
    data.mkdir(parents=True, exist_ok=True)
    lock = _lock_of(data / ".fetch.lock")
    try:
        lock.acquire(timeout=WAIT)  # packs built side by side may each fetch a missing file: one at a time
    except Timeout:
        raise FetchError(
            f"another csp fetch is running on this project (it has held {data / '.fetch.lock'} for over {WAIT} s); "
            "wait for it to finish"
        ) from None
    try:
        if lock.lock_counter == 1:
            recover()
        yield
    finally:
        lock.release()


def recover_if_needed() -> None:
    """Complete or undo a commit a killed fetch left (a journal is there), waiting for a live fetch's commit."""
    if not _journal().exists():
        return
    lock = _lock_of(_data() / ".fetch.lock")
    try:
        lock.acquire(timeout=WAIT)
    except Timeout:
        raise FetchError(f"a csp fetch holds {_data() / '.fetch.lock'} and has not finished its commit") from None
    try:
        recover()
    finally:
        lock.release()


def recover() -> None:
    """Finish or undo the commit a journal describes, then clear every leftover of killed fetches (the caller holds
    data/.fetch.lock, so no live fetch owns them)."""
    journal = _journal()
    if journal.exists():
        try:
            plan = json.loads(journal.read_text(encoding="utf-8"))
            steps = _Plan.from_json(plan)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FetchError(
                f"{journal}: the record of an interrupted fetch cannot be read ({exc}); data/raw/ may be part "
                "updated: delete the journal and run `csp fetch` to check every file against the lock"
            ) from None
        steps.back() if plan.get("direction") == "back" else steps.forward()
        steps.finish()
    _clear_leftovers()


def _clear_leftovers() -> None:
    raw, data, downloads = raw_dir(), _data(), downloads_dir()
    if raw.is_dir():
        for folder, dirs, files in os.walk(raw):
            for name in [*files, *dirs]:
                if _RAW_LEFTOVERS.match(name):
                    _remove(Path(folder) / name)
    for path in data.iterdir() if data.is_dir() else []:
        if _DATA_LEFTOVERS.match(path.name) or _DATA_LEFTOVERS_JOURNAL.match(path.name):
            _remove(path)
    if downloads.is_dir():
        for path in [*downloads.glob(".update-*"), *downloads.glob("*/.staging-*")]:
            if _DOWNLOAD_LEFTOVERS.match(path.name):
                _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class _Plan:
    """The steps of one commit: (staged, target, kept copy or None) moves, (removed, kept) removals, and the lock."""

    def __init__(
        self,
        moves: list[tuple[Path, Path, Path | None]],
        removes: list[tuple[Path, Path]],
        lock_kept: Path | None,
        dirs: list[Path],
    ):
        self.moves, self.removes, self.lock_kept, self.dirs = moves, removes, lock_kept, dirs

    @classmethod
    def from_json(cls, plan: dict) -> _Plan:
        moves = [(Path(s), _inside_raw(Path(t)), Path(k) if k else None) for s, t, k in plan["moves"]]
        removes = [(_inside_raw(Path(p)), Path(k)) for p, k in plan["remove"]]
        for kept in [k for *_, k in moves if k] + [k for _, k in removes]:
            _inside_raw(kept)
        dirs = [_inside_raw(Path(d)) for d in plan["dirs"]]
        return cls(moves, removes, Path(plan["lock_kept"]) if plan.get("lock_kept") else None, dirs)

    def to_json(self, direction: str) -> str:
        return json.dumps(
            {
                "direction": direction,
                "moves": [[str(s), str(t), str(k) if k else None] for s, t, k in self.moves],
                "remove": [[str(p), str(k)] for p, k in self.removes],
                "lock_kept": str(self.lock_kept) if self.lock_kept else None,
                "dirs": [str(d) for d in self.dirs],
            },
            indent=1,
        )

    def forward(self) -> None:
        """Make every step not yet made (each is skipped once done, so this can be repeated after a kill)."""
        for staged, target, _kept in self.moves:
            if staged.exists():
                move_into_place(staged, target)
        for path, _kept in self.removes:
            path.unlink(missing_ok=True)
        new_lock = _data() / NEW_LOCK
        if new_lock.exists():
            os.replace(new_lock, lock_path())

    def back(self) -> None:
        """Undo every step made (repeatable too): new files out, kept copies and the old lock back."""
        for _staged, target, kept in reversed(self.moves):
            if kept is None:
                target.unlink(missing_ok=True)
            elif kept.exists():
                os.replace(kept, target)
        for path, kept in reversed(self.removes):
            if kept.exists():
                os.replace(kept, path)
        if self.lock_kept is not None and self.lock_kept.exists():
            os.replace(self.lock_kept, lock_path())
        (_data() / NEW_LOCK).unlink(missing_ok=True)
        for folder in self.dirs:  # deepest first; one that is not empty stays
            with contextlib.suppress(OSError):
                folder.rmdir()

    def finish(self) -> None:
        """Delete the kept copies, then the journal, and make the change durable."""
        for kept in [k for *_, k in self.moves if k] + [k for _, k in self.removes] + [self.lock_kept]:
            if kept is not None:
                kept.unlink(missing_ok=True)
        _journal().unlink(missing_ok=True)
        for folder in {t.parent for _, t, _ in self.moves} | {_data()}:
            if folder.is_dir():
                fsync_dir(folder)


def _inside_raw(path: Path) -> Path:
    if not path.resolve().is_relative_to(raw_dir().resolve()):
        raise ValueError(f"{path} is not under {raw_dir()}")
    return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(
    moves: Sequence[tuple[Path, Path]],
    entries: dict,
    write_lock: Callable[[dict, Path], object],
    remove: Iterable[Path] = (),
) -> None:
    """Move each staged file onto its target in data/raw/, remove the files of `remove` and replace the lock with
    `entries` (written by ``write_lock(entries, path)``): all or nothing, also across SIGKILL (see the module)."""
    new_lock = _data() / NEW_LOCK
    try:
        write_lock(entries, new_lock)  # a full disk here changes nothing
    except OSError as exc:
        new_lock.unlink(missing_ok=True)
        if exc.filename is None:  # name the file that could not be written
            raise OSError(exc.errno, exc.strerror, str(lock_path())) from None
        raise
    except BaseException:
        new_lock.unlink(missing_ok=True)
        raise
    plan = _Plan([], [], None, [])
    try:
        made = {d for _, t in moves for d in Path(t).parents if not d.exists()}
        plan.dirs = sorted(made, key=lambda d: len(d.parts), reverse=True)
        for staged, target in moves:
            _inside_raw(target)
            plan.moves.append((Path(staged), Path(target), keep_copy(target) if target.exists() else None))
        for path in remove:
            if Path(path).exists():
                plan.removes.append((_inside_raw(Path(path)), keep_copy(Path(path))))
        plan.lock_kept = keep_copy(lock_path()) if lock_path().exists() else None
        for path in [*(Path(staged) for staged, _ in moves), new_lock]:  # on disk before the point of no return
            _fsync(path)
        atomic_write_text(_journal(), plan.to_json("forward"))
        fsync_dir(_data())
    except BaseException:
        plan.finish()  # nothing was moved yet: the kept copies and the new lock go
        new_lock.unlink(missing_ok=True)
        raise
    try:
        plan.forward()
    except BaseException as exc:
        try:
            atomic_write_text(_journal(), plan.to_json("back"))
            plan.back()
            plan.finish()
        except OSError as undo:
            exc.add_note(f"could not undo the fetch ({undo}); the next `csp fetch` finishes it from {_journal()}")
        raise
    plan.finish()
