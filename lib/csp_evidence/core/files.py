"""Writing files so that a reader never sees half of one, and hashing them.

Every file the project writes goes through ``atomic_write``: the bytes go to a temporary file beside the target,
which replaces the target in one rename only when the write succeeded.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
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
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


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
