"""Downloading large official files: streamed to disk, resumable, and never half-kept.

A download goes to ``<target>.part`` in blocks (never held in memory: a police.uk archive is over a gigabyte),
and is renamed onto `target` only when every byte the server announced has arrived. An interrupted download
keeps its ``.part`` file, and the next call asks the server for the rest (an HTTP ``Range`` request); a server
that ignores ranges sends the whole file again, and the download restarts cleanly from the first byte.

Progress is reported through a callback ``on_bytes(done, total)`` (``total`` None when the server does not
say), so the command line can draw a progress bar while the library prints nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from csp_evidence.core.paths import downloads_dir

BLOCK = 1 << 16  # bytes read and written at a time: what an interruption can lose
TIMEOUT = 60  # seconds without a byte before a download is abandoned (it resumes on the next run)
MAX_REDIRECTS = 30  # as requests allows
MAX_BYTES = 16 * 2**30  # the most one download may be: a police.uk archive of every force's 36 months is about 2 GB
ByteProgress = Callable[[int, int | None], None]


class FetchError(RuntimeError):
    """A source file could not be brought in or did not match the lock."""


class TooLarge(FetchError):
    """A download is (or says it is) larger than its bound."""


def work_folders(kind: str) -> tuple[Path, Path]:
    """data/downloads/<kind>/ (made if need be), where downloads of a source stay to be resumed, and a new staging
    folder inside it for one fetch's files."""
    work = downloads_dir() / kind
    work.mkdir(parents=True, exist_ok=True)
    return work, Path(tempfile.mkdtemp(prefix=".staging-", dir=work))


def _total_from(response: requests.Response, offset: int) -> int | None:
    """The full size of the file from Content-Range ('bytes 100-199/200') or Content-Length plus the offset."""
    content_range = response.headers.get("Content-Range", "")
    m = re.match(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", content_range)
    if m and m.group(3) != "*":
        return int(m.group(3))
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _retry_after(response: requests.Response) -> str:
    wait = response.headers.get("Retry-After", "").strip()[:40]
    if not wait:
        return ""
    return f"; the server asks to wait {wait} second(s) before asking again" if wait.isdigit() else f" until {wait}"


def _get(url: str, headers: dict[str, str], timeout: float | None, same_host: bool) -> requests.Response:
    """GET `url` as a stream. With `same_host`, redirects are followed one by one and one to another host is
    refused before anything is sent there (requests would follow it first and be checked after)."""
    if not same_host:
        return requests.get(url, stream=True, headers=headers, timeout=timeout)
    current = url
    for _hop in range(MAX_REDIRECTS):
        response = requests.get(current, stream=True, headers=headers, timeout=timeout, allow_redirects=False)
        if not response.is_redirect:
            return response
        location = urljoin(current, response.headers.get("Location", ""))
        response.close()
        if urlsplit(location).netloc != urlsplit(url).netloc:
            raise FetchError(
                f"{url}: the server redirected to another host ({location[:200]}): refused; if that address "
                "is the publisher's, pass it with --url"
            )
        current = location
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects: refused")


def download(
    url: str,
    target: Path,
    on_bytes: ByteProgress | None = None,
    timeout: float | None = None,
    max_bytes: int = MAX_BYTES,
    same_host: bool = False,
) -> Path:
    """Stream `url` to `target`, resuming a ``.part`` file left by an interrupted call; return `target`.

    Raises FetchError naming the URL on an HTTP error, a broken connection or a short body (the ``.part`` file
    is kept so that the next call resumes), when the server's answer to a range request does not fit, when the
    body is (or says it is) larger than `max_bytes`, and with `same_host` when a redirect leads to another host.
    The server is asked for the bytes as they are (``Accept-Encoding: identity``); one that compresses anyway
    (gzip, deflate) is decoded and its length checked on the compressed bytes, and such a download restarts
    rather than resumes.
    """
    target = Path(target)
    timeout = TIMEOUT if timeout is None else timeout
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    for _attempt in range(2):  # a second attempt only after a stale .part was discarded
        offset = part.stat().st_size if part.is_file() else 0
        headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
        try:
            response = _get(url, headers, timeout, same_host)
        except requests.RequestException as exc:
            raise FetchError(f"{url}: download failed ({type(exc).__name__}: {str(exc)[:160]})") from exc
        with response:
            if response.status_code == 416 and offset:  # nothing after the .part: it is whole, or stale
                total = _total_from(response, 0)
                if total == offset:
                    os.replace(part, target)
                    return target
                part.unlink()
                continue
            encoded = response.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity")
            if response.status_code == 206 and offset:
                start = re.match(r"bytes\s+(\d+)-", response.headers.get("Content-Range", ""))
                if encoded or not start or int(start.group(1)) != offset:  # not the bytes asked for: start again
                    part.unlink()
                    continue
                mode = "ab"
            elif response.status_code == 200:
                offset, mode = 0, "wb"  # the server sent the whole file: restart from the first byte
            else:
                raise FetchError(
                    f"{url}: download failed (HTTP {response.status_code} {(response.reason or '')[:80]}"
                    f"{_retry_after(response) if response.status_code in (429, 503) else ''})"
                )
            total = _total_from(response, offset)
            wire_total = total if encoded else None  # a compressed body's length is of the bytes on the wire
            total = None if encoded else total
            if total is not None and total > max_bytes:
                raise TooLarge(f"{url}: the server announces {total:,} bytes, over the limit of {max_bytes:,}")
            done = offset
            if on_bytes:
                on_bytes(done, total)
            try:
                fh = open(part, mode)
            except OSError as exc:
                raise FetchError(f"{part}: cannot be written ({exc.strerror or exc}) for {url}") from None
            try:
                with fh:
                    for block in response.iter_content(BLOCK):
                        done += len(block)
                        if done > max_bytes:
                            raise TooLarge(f"{url}: the body runs past the limit of {max_bytes:,} bytes: refused")
                        fh.write(block)
                        if on_bytes:
                            on_bytes(done, total)
            except requests.RequestException as exc:
                kept = f"the part is kept in {part}: run the same command again to resume"
                if encoded:
                    part.unlink(missing_ok=True)  # decoded bytes cannot be resumed by a range of the compressed ones
                    kept = "run the same command again"
                raise FetchError(
                    f"{url}: the download was interrupted after {done:,} of {f'{total:,}' if total else '?'} bytes "
                    f"({type(exc).__name__}: {str(exc)[-120:]}); {kept}"
                ) from exc
            except OSError as exc:  # a full disk: name the file
                raise FetchError(
                    f"{part}: cannot be written ({exc.strerror or exc}) after {done:,} bytes of {url}; run the same "
                    "command again to resume once there is room"
                ) from None
            except FetchError:
                part.unlink(missing_ok=True)
                raise
            wire = response.raw.tell() if encoded else None
        if encoded and wire_total is not None and wire != wire_total:
            part.unlink(missing_ok=True)
            raise FetchError(
                f"{url}: the compressed download stopped after {wire:,} of {wire_total:,} bytes (truncated); run the "
                "same command again"
            )
        if total is not None and done != total:
            raise FetchError(
                f"{url}: the download stopped after {done:,} of {total:,} bytes (truncated); the part is kept in "
                f"{part}: run the same command again to resume"
            )
        os.replace(part, target)
        return target
    raise FetchError(f"{url}: the server's answers to a resumed download do not fit; delete {part} and run again")
