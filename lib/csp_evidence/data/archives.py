"""Reading archives and text files that come from servers and folders the project does not control.

police.uk archives and the MoJ's data-tool zips are downloaded from the network, and ``--from`` takes whatever
path a user gives. Every member or file read from them goes through here, so that one set of rules holds on both
paths:

- **Names are confined.** A member's name never becomes a path by itself: absolute names, ``..``, drive letters,
  backslashes and NUL bytes are refused (`unsafe_name`), and a path built from the lock, the registry or an
  archive must resolve inside its folder (`confined`).
- **One member per name.** An archive naming a member twice is refused, never read as whichever comes first.
- **Sizes are bounded.** A member expands to at most `MEMBER_BYTES` and to at most `MAX_RATIO` times its
  compressed size (a zip bomb stops at the limit, with nothing kept); the bytes are counted as they stream,
  not taken from the member's header.
- **Only what can be read.** Encrypted members and compression methods other than stored, deflate, bzip2 and
  LZMA are refused with a message saying what to do.
- **Text is checked as it streams.** UTF-8 (a BOM allowed), no NUL byte, no line longer than `MAX_LINE`; UTF-16
  or Latin-1 text is refused naming the member and the byte.
- **Only regular files.** ``--from`` refuses devices, FIFOs and sockets, and links that lead out of the folder
  given; a folder is walked without following links, so a link loop cannot hang it.

Every refusal is a ``FetchError`` naming the archive and member (or the file), raised before anything is kept.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from csp_evidence.data.download import FetchError

MEMBER_BYTES = 512 * 2**20  # a Met month's street file is about 25 MB, every force's month together about 150 MB
MAX_RATIO = 200  # expanded / compressed: CSV deflates about 5 to 15 times; a zip bomb a thousand times and more
RATIO_FROM = 2**20  # ... checked once a member has expanded past this (a tiny member may compress badly)
MAX_LINE = 64 * 2**10  # bytes in one line of a CSV: a street row is about 300; Python's csv refuses fields > 128 KiB
BLOCK = 1 << 20
READABLE_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "LZMA",
}
_METHOD_NAMES = {9: "deflate64", 10: "PKWARE implode", 93: "Zstandard", 95: "xz", 96: "JPEG", 97: "WavPack", 98: "PPMd"}


# --------------------------------------------------------------------------- paths


def unsafe_name(name: str) -> str | None:
    """Why a relative path from an archive or the lock may not be used as one (absolute, ``..``, a drive letter, a
    backslash, a NUL byte or empty), else None."""
    if not name or "\x00" in name:
        return "an empty name or one holding a NUL byte"
    if "\\" in name:
        return "a backslash in the name"
    if name.startswith("/") or (len(name) > 1 and name[0].isalpha() and name[1] == ":"):
        return "an absolute name"
    if ".." in PurePosixPath(name).parts:
        return "'..' in the name"
    return None


def confined(root: Path, relative: str, what: str) -> Path:
    """`root`/`relative`, refused (FetchError naming `what`) unless it stays inside `root`, also through links."""
    why = unsafe_name(relative)
    if why:
        raise FetchError(f"{what}: the path {shown(relative)} is refused ({why}): it would lead outside {root}")
    path = root / relative
    base = root.resolve()
    try:
        inside = path.resolve().is_relative_to(base)
    except (OSError, RuntimeError) as exc:  # a link loop
        raise FetchError(f"{what}: the path {path} cannot be resolved ({exc})") from None
    if not inside:
        raise FetchError(f"{what}: the path {path} leads outside {root} (through a symbolic link): refused")
    return path


# --------------------------------------------------------------------------- archives


def shown(name: str) -> str:
    """A name from an archive as a message shows it: as it is when printable, else quoted with escapes."""
    return name[:300] if name.isprintable() else repr(name[:300])


def open_archive(path: Path) -> zipfile.ZipFile:
    """Open a zip for reading, refusing a file that is not a regular file or not a zip, and an archive with unsafe
    or duplicate member names; the error names the archive and the member."""
    regular_file(path, "the archive")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise FetchError(f"{path}: not a zip archive (it starts {magic!r}): the download is not the archive asked for")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise FetchError(f"{path}: not a whole zip archive ({exc}): the file is corrupt or truncated") from None
    try:
        seen: set[str] = set()
        for info in zf.infolist():
            name = info.filename
            why = unsafe_name(name)
            if why:
                raise FetchError(f"{path}: member {shown(name)} is refused ({why}); the archive is not used")
            key = name.rstrip("/").lower()
            if key in seen:
                raise FetchError(
                    f"{path}: member {shown(name)} appears twice: which copy is the data is unclear; the archive is not used"
                )
            seen.add(key)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_readable(archive: Path, info: zipfile.ZipInfo) -> None:
    where = f"{archive.name}: {info.filename}"
    if info.flag_bits & 0x1:
        raise FetchError(f"{where}: the member is encrypted; csp reads only unencrypted archives")
    if info.compress_type not in READABLE_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise FetchError(
            f"{where}: compressed with {method}, which csp cannot read (only "
            f"{', '.join(READABLE_METHODS.values())}); unpack the archive with another tool and pass the folder "
            "with --from"
        )
    if info.file_size > MEMBER_BYTES:
        raise FetchError(f"{where}: the member says it expands to {info.file_size:,} bytes, over the limit {_mb()}")


def extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, archive: Path, text: bool = True) -> int:
    """Stream one member to `target`, checked as it goes (size, ratio, CRC, and as text when `text`); return its
    size. On any refusal `target` is removed and the FetchError names the archive and member."""
    _check_readable(archive, info)
    where = f"{archive.name}: {info.filename}"
    try:
        with zf.open(info) as src:
            return _copy_checked(src, target, where, text, compressed=max(info.compress_size, 1))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        target.unlink(missing_ok=True)
        raise FetchError(
            f"{archive}: member {info.filename} cannot be read ({exc}): the archive is corrupt or truncated. "
            "Nothing was kept"
        ) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- files a user gives


def regular_file(path: Path, what: str = "--from") -> os.stat_result:
    """The stat of `path`, refused unless it is a regular file (a link is followed): never a device, FIFO or
    socket, which could block or never end."""
    try:
        info = path.stat()
    except OSError as exc:
        raise FetchError(f"{path}: cannot be read ({what}: {exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(info.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "not a regular file"
        )
        raise FetchError(f"{path}: {kind}, not a regular file ({what}): refused")
    return info


def walk_files(folder: Path) -> Iterator[Path]:
    """Every file under `folder`, links not followed into folders (a link loop ends), each link to a file checked to
    lead inside `folder` (FetchError naming it otherwise)."""
    base = folder.resolve()
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            path = Path(root) / name
            if path.is_symlink():
                try:
                    real = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    continue  # a dangling link or a loop: nothing to read
                if not real.is_relative_to(base):
                    raise FetchError(f"{path}: a symbolic link to {real}, outside the folder given (--from): refused")
                if real.is_dir():
                    continue
            yield path


def copy_file(path: Path, target: Path, text: bool = True) -> int:
    """Copy a user's file to `target`, checked as `extract_member` checks a member; return its size."""
    info = regular_file(path)
    if info.st_size > MEMBER_BYTES:
        raise FetchError(f"{path}: {info.st_size:,} bytes, over the limit of {_mb()} for one file (--from)")
    try:
        with open(path, "rb") as src:
            return _copy_checked(src, target, str(path), text, compressed=None)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- the checked copy


def _mb() -> str:
    return f"{MEMBER_BYTES / 2**20:,.0f} MB"


class TextCheck:
    """UTF-8 text with no NUL byte and no line over MAX_LINE, checked block by block; errors name `where`."""

    def __init__(self, where: str):
        self.where = where
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.offset = 0
        self.line = 0  # bytes since the last newline
        self.lines = 1

    def feed(self, block: bytes, final: bool = False) -> None:
        if self.offset == 0 and block[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise FetchError(f"{self.where}: UTF-16 text (a byte-order mark), expected UTF-8: refused")
        nul = block.find(b"\x00")
        if nul >= 0:
            raise FetchError(
                f"{self.where}: a NUL byte at byte {self.offset + nul:,} (line {self._line_at(block, nul)})"
            )
        try:
            self.decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            raise FetchError(
                f"{self.where}: not UTF-8 text at byte {self.offset + max(exc.start, 0):,} (line "
                f"{self._line_at(block, max(exc.start, 0))}; Latin-1 or another encoding?): refused"
            ) from None
        last = block.rfind(b"\n")
        if last < 0:
            self.line += len(block)
        else:
            first = block.find(b"\n")
            longest = max(self.line + first, *(len(s) for s in block[first + 1 : last].split(b"\n")))
            if longest > MAX_LINE:
                raise FetchError(
                    f"{self.where}: a line of more than {MAX_LINE:,} bytes near byte {self.offset:,}: not a data "
                    "file of rows: refused"
                )
            self.lines += block.count(b"\n")
            self.line = len(block) - last - 1
        if self.line > MAX_LINE:
            raise FetchError(
                f"{self.where}: line {self.lines:,} is longer than {MAX_LINE:,} bytes: not a data file of rows: refused"
            )
        self.offset += len(block)

    def _line_at(self, block: bytes, index: int) -> int:
        return self.lines + block.count(b"\n", 0, index)


class CheckedReader(io.RawIOBase):
    """A binary stream over `src` that refuses (FetchError naming `where`) as soon as what it has read is over
    MEMBER_BYTES, over MAX_RATIO times `compressed` (when given), or, with `text`, not UTF-8 text of lines
    (`TextCheck`). Wrap it in ``io.TextIOWrapper`` to read rows as they stream (a reduction that keeps no file)."""

    def __init__(self, src: IO[bytes], where: str, text: bool = True, compressed: int | None = None):
        super().__init__()
        self.src, self.where, self.compressed = src, where, compressed
        self.check = TextCheck(where) if text else None
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        block = self.src.read(len(buffer))
        if not block:
            if self.check:
                self.check.feed(b"", final=True)
            return 0
        self.done += len(block)
        if self.done > MEMBER_BYTES:
            raise FetchError(f"{self.where}: expands past the limit of {_mb()} for one file: refused, nothing kept")
        if self.compressed is not None and self.done > RATIO_FROM and self.done > MAX_RATIO * self.compressed:
            raise FetchError(
                f"{self.where}: expands more than {MAX_RATIO} times its compressed size of {self.compressed:,} "
                "bytes (a zip bomb, or a damaged archive): refused, nothing kept"
            )
        if self.check:
            self.check.feed(block)
        buffer[: len(block)] = block
        return len(block)


@contextlib.contextmanager
def open_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path, text: bool = True) -> Iterator[IO[bytes]]:
    """One member of `archive` as a checked binary stream (`CheckedReader`): for a reader that reduces a member as
    it streams instead of extracting it. Errors of the archive itself (a bad CRC, a truncated member) are FetchErrors
    naming the archive and member."""
    _check_readable(archive, info)
    try:
        with zf.open(info) as src:
            yield io.BufferedReader(
                CheckedReader(src, f"{archive.name}: {info.filename}", text, max(info.compress_size, 1)), BLOCK
            )
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise FetchError(
            f"{archive}: member {info.filename} cannot be read ({exc}): the archive is corrupt or truncated. "
            "Nothing was kept"
        ) from None


@contextlib.contextmanager
def open_file(path: Path, text: bool = True) -> Iterator[IO[bytes]]:
    """A user's file (``--from``) as a checked binary stream: a regular file within MEMBER_BYTES, read through
    `CheckedReader`, for a reader that reduces it as it streams."""
    info = regular_file(path)
    if info.st_size > MEMBER_BYTES:
        raise FetchError(f"{path}: {info.st_size:,} bytes, over the limit of {_mb()} for one file (--from)")
    with open(path, "rb") as raw:
        yield io.BufferedReader(CheckedReader(raw, str(path), text), BLOCK)


def _copy_checked(src: IO[bytes], target: Path, where: str, text: bool, compressed: int | None) -> int:
    checked = CheckedReader(src, where, text, compressed)
    try:
        dst = open(target, "wb")
        with dst:
            while block := checked.read(BLOCK):
                dst.write(block)
    except OSError as exc:
        if exc.filename and Path(exc.filename) != target:
            raise
        # a full disk: name the file being written, and where its bytes came from
        raise FetchError(
            f"{target}: cannot be written ({exc.strerror or exc}) while copying {where}; nothing was kept"
        ) from None
    return checked.done
