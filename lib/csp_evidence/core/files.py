"""Writing files so that a reader never sees half of one, and hashing them.

Every file the project writes goes through ``atomic_write``: the bytes go to a temporary file beside the target,
which replaces the target in one rename only when the write succeeded. Temporary files and folders are made
private (0600, 0700); what is published gets the modes a plain write gives (``normal_mode``: 0666 or 0777 less
the umask), so that another user, e.g. a web server, can read it when the umask allows.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], object], suffix: str = "") -> Path:
    """Call ``write(tmp)`` for a temporary path beside `path`, then move it onto `path` in one rename.

    On any error the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, normal_mode(directory=False))  # mkstemp's 0600 is for the temporary file only
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def move_into_place(path: Path, target: Path) -> None:
    """Move the file `path` onto `target` in one rename; across file systems, copy it to a temporary file beside
    `target` that is renamed onto it (``atomic_write``), then remove `path`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        atomic_write(target, lambda tmp: shutil.copyfile(path, tmp), suffix=".part")
        path.unlink()


def move_all_into_place(
    moves: Sequence[tuple[Path, Path]], remove: Iterable[Path] = (), then: Callable[[], object] | None = None
) -> None:
    """Move each staged file of `moves` (staged, target) onto its target, remove the files of `remove`, then call
    `then` (e.g. write a lock file atomically): all of it, or none of it.

    Each file replaced or removed is first kept under a hidden name beside it (a hard link, else a copy). On any
    error, the files moved in are taken out, the kept ones put back and the folders made for new targets removed,
    and the error is raised: the targets are as they were. The kept files are deleted once all is done.
    """
    remove = [Path(p) for p in remove if Path(p).exists()]
    targets = [Path(t) for _, t in moves]
    kept: list[tuple[Path, Path]] = []  # (original, the copy kept of it)
    created: list[Path] = []  # targets that did not exist before
    new_dirs = sorted(
        {d for t in targets for d in t.parents if not d.exists()}, key=lambda d: len(d.parts), reverse=True
    )
    try:
        for path in [*targets, *remove]:
            if path.exists():
                kept.append((path, keep_copy(path)))
        for staged, target in moves:
            if not target.exists():
                created.append(target)
            move_into_place(Path(staged), target)
        for path in remove:
            path.unlink()
        if then is not None:
            then()
    except BaseException as exc:
        _put_back(created, kept, new_dirs, exc)
        raise
    for _, copy in kept:
        copy.unlink(missing_ok=True)


def keep_copy(path: Path) -> Path:
    """A hard link to `path` under a hidden name beside it (a copy where the file system has no hard links)."""
    copy = path.with_name(f".{path.name}.kept-{secrets.token_hex(4)}")
    try:
        os.link(path, copy)
    except OSError:
        shutil.copy2(path, copy)
    return copy


def _put_back(created: list[Path], kept: list[tuple[Path, Path]], new_dirs: list[Path], exc: BaseException) -> None:
    """Undo a ``move_all_into_place`` that failed with `exc`; what cannot be undone is added to its notes."""
    left = []
    for target in created:
        try:
            target.unlink(missing_ok=True)
        except OSError:
            left.append(f"remove {target}")
    for original, copy in reversed(kept):
        try:
            os.replace(copy, original)
            copy.unlink(missing_ok=True)  # still there when `original` was never replaced: rename does nothing
        except OSError:
            left.append(f"move {copy} back to {original}")
    for folder in new_dirs:  # deepest first; a folder that is not empty stays
        try:
            folder.rmdir()
        except OSError:
            pass
    if left:
        exc.add_note("could not put everything back; by hand: " + "; ".join(left))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically (see ``atomic_write``)."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def digest_of(parts: Iterable[bytes | str]) -> str:
    """Hex sha256 of a sequence of parts, each followed by a NUL so that parts cannot run into each other."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def source_fingerprint(package: Path, parts: Iterable[str]) -> str:
    """sha256 over the Python source of `parts` of `package` (files, or folders read recursively), with paths."""
    digest = hashlib.sha256()
    for name in parts:
        for path in sorted((package / name).rglob("*.py")) if (package / name).is_dir() else [package / name]:
            digest.update(path.relative_to(package).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def current_umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), else set and put back."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def normal_mode(directory: bool, executable: bool = False) -> int:
    """The mode a plain ``open(..., 'w')`` or ``mkdir`` would give: 0666 (0777 for a folder or an executable)
    less the umask."""
    return (0o777 if directory or executable else 0o666) & ~current_umask()


def give_normal_modes(root: Path) -> None:
    """Give `root` and everything under it the modes a plain write would have (``normal_mode``); symbolic links
    are left alone. Files made through mkstemp or mkdtemp (0600, 0700) become readable as the umask allows."""
    dir_mode, file_mode, exec_mode = normal_mode(True), normal_mode(False), normal_mode(False, executable=True)
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, dir_mode)
        for name in files:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                os.chmod(path, exec_mode if mode & stat.S_IXUSR else file_mode)


def fsync_dir(folder: Path) -> None:
    """Make the entries of `folder` (names created, renamed or removed in it) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Make every file and folder under `root` durable: after a power loss it is there whole, or the rename that
    publishes it never happened."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        fsync_dir(Path(folder))


def replace_symlink(link: Path, points_to: str | Path) -> None:
    """Make `link` a symbolic link to `points_to` in one step: a new link under a temporary name beside it is
    renamed onto it, so a reader finds the old target or the new one, never nothing (also after SIGKILL or a
    power loss: rename is atomic in the file system's journal)."""
    tmp = link.parent / f".{link.name}.link-{secrets.token_hex(4)}"
    os.symlink(points_to, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def exchange(first: Path, second: Path) -> bool:
    """Swap the two names `first` and `second` (a folder and a link, say) in one atomic step (Linux renameat2 with
    RENAME_EXCHANGE). False, with nothing changed, where the system or the file system cannot; other errors raise
    OSError."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a C library before glibc 2.28
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    done = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))
