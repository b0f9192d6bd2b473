"""`csp fetch` against hostile archives, servers and paths: each case ends in one `csp fetch failed:` line naming the
archive, member or URL, with data/raw/ and data/sources.lock byte for byte as before and no partial file left.

The servers are started on 127.0.0.1 by the tests. The archives are built here: a zip bomb, duplicate and unsafe
member names, an unsupported compression method, an encrypted member, text in the wrong encoding, and so on.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import gzip
import io
import json
import os
import signal
import struct
import threading
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from synthetic_sources import HEADER, RELEASE_PAGE, moj_zip, street_csv

from csp_evidence import cli
from csp_evidence.data import download, street_archive
from csp_evidence.data.fetch import fetch_source, locked_months, verified_file
from csp_evidence.data.sources import read_lock

MONTH = "2021-01"  # the month each police.uk case asks for: archive 2021-01.zip
LOCKED = "2020-12"  # a month locked before each case: it must be untouched
MEMBER = f"{MONTH}/{MONTH}-metropolitan-street.csv"


# --------------------------------------------------------------------------- set-up


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with one police.uk month and the MoJ file locked, so that 'as before' is not an empty folder."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "sources.lock").write_text(json.dumps({"sources": {}}))
    monkeypatch.setenv("CSP_PROJECT_DIR", str(root))
    monkeypatch.delenv("CSP_DATA_MIRROR", raising=False)
    fetch_source(
        "policeuk",
        from_path=_write(
            tmp_path / "locked.zip", _zip([(f"{LOCKED}/{LOCKED}-metropolitan-street.csv", street_csv(LOCKED))])
        ),
    )
    fetch_source("moj_reoffending", from_path=_write(tmp_path / "moj.zip", moj_zip()))
    return root


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, (2021, 1, 1, 0, 0, 0)), data, compress_type=method)
    return buf.getvalue()


def _state(root: Path) -> tuple[dict[str, bytes], bytes]:
    """Every file under data/raw/ (hidden ones too) with its bytes, and the lock's bytes."""
    raw = root / "data" / "raw"
    files = {str(p.relative_to(raw)): p.read_bytes() for p in raw.rglob("*") if p.is_file()} if raw.exists() else {}
    return files, (root / "data" / "sources.lock").read_bytes()


def _visible(state: tuple[dict[str, bytes], bytes]) -> tuple[dict[str, bytes], bytes]:
    """`_state` without hidden files (the kept copies and temporary files a fetch clears)."""
    files, lock = state
    return {k: v for k, v in files.items() if not any(p.startswith(".") for p in k.split("/"))}, lock


def _leftovers(root: Path) -> list[str]:
    """Partial files: anything in data/downloads/ but a resumable .part, hidden files in data/ and data/raw/."""
    downloads = root / "data" / "downloads"
    left = [p for p in downloads.rglob("*") if not p.is_dir() and p.suffix != ".part"] if downloads.exists() else []
    left += list(downloads.glob("*/.staging-*")) if downloads.exists() else []
    left += [p for p in (root / "data").iterdir() if p.name.startswith(".") and p.name != ".fetch.lock"]
    left += list((root / "data" / "raw").rglob(".*"))
    return sorted(str(p.relative_to(root)) for p in left)


def _fails(capsys, argv: list[str], *names: str) -> str:
    """Run `csp` with `argv`: it fails with exactly one `csp fetch failed:` line naming each of `names`."""
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("csp fetch failed:") == 1 and "Traceback" not in err, err
    line = err[err.index("csp fetch failed:") :].splitlines()
    message = " ".join(part.strip() for part in line)
    for name in names:
        assert name in message, f"{name!r} is not named in: {message}"
    return message


def _refused(capsys, project: Path, argv: list[str], *names: str) -> str:
    before = _state(project)
    message = _fails(capsys, argv, *names)
    assert _state(project) == before, "data/raw/ or the lock changed"
    assert _leftovers(project) == []
    return message


@contextlib.contextmanager
def _within(seconds: int):
    """Fail the test instead of hanging (a FIFO, /dev/zero) when the code under test never returns."""

    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


Route = Callable[[BaseHTTPRequestHandler], None]


class Server:
    """A loopback server whose paths answer with planted faults (`routes`: path -> function of the handler)."""

    def __init__(self, routes: dict[str, Route]):
        self.routes, self.hits = routes, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def body(data: bytes, status: int = 200, headers: dict[str, str] | None = None, length: int | None = None) -> Route:
    def answer(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(data) if length is None else length))
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()
        h.close_connection = True

    return answer


def _police(url: str) -> list[str]:
    return ["fetch", "--source", "policeuk", "--months", MONTH, "--url", f"{url}/archive"]


def _serve_archive(capsys, project: Path, data: bytes, *names: str) -> str:
    with Server({f"/archive/{MONTH}.zip": body(data)}) as server:
        message = _refused(capsys, project, _police(server.url), *names)
    assert not (project / "data" / "downloads" / "policeuk" / f"{MONTH}.zip").exists()  # downloaded afresh next time
    return message


# --------------------------------------------------------------------------- archives


def test_members_named_outside_the_folder_are_refused_and_never_written(capsys, project, tmp_path):
    for name in (f"../{MEMBER}", f"/tmp/{MEMBER}", f"{MONTH}/..\\..\\{MONTH}-metropolitan-street.csv"):
        _serve_archive(capsys, project, _zip([(name, street_csv(MONTH))]), f"{MONTH}.zip", name)
    assert not list(tmp_path.rglob(f"{MONTH}-metropolitan-street.csv"))
    assert not Path(f"/tmp/{MEMBER}").exists()


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_duplicate_member_is_refused_not_read_as_the_first(capsys, project):
    data = _zip([(MEMBER, street_csv(MONTH)), (MEMBER, street_csv(MONTH, seed=1))])
    assert "appears twice" in _serve_archive(capsys, project, data, f"{MONTH}.zip", MEMBER)


def test_a_zip_bomb_stops_at_the_ratio_and_the_size_limits(capsys, project, monkeypatch):
    from csp_evidence.data import archives

    row = street_csv(MONTH).splitlines()[1] + b"\n"
    bomb = _zip([(MEMBER, HEADER.encode() + b"\n" + row * 400_000)])  # ~100 MB from ~0.2 MB
    assert len(bomb) < 2_000_000
    assert "times its compressed size" in _serve_archive(capsys, project, bomb, f"{MONTH}.zip", MEMBER)
    monkeypatch.setattr(archives, "MEMBER_BYTES", 30_000)  # a member larger than the limit, at an ordinary ratio
    assert "limit" in _serve_archive(capsys, project, _zip([(MEMBER, street_csv(MONTH))]), f"{MONTH}.zip", MEMBER)


def test_an_archive_that_is_not_a_zip_or_is_truncated_is_named(capsys, project):
    _serve_archive(capsys, project, b"<html>Service unavailable</html>", f"{MONTH}.zip", "not a zip")
    whole = _zip([(MEMBER, street_csv(MONTH))])
    _serve_archive(capsys, project, whole[: len(whole) // 2], f"{MONTH}.zip")


def _patched(data: bytes, name: str, method: int | None = None, flags: int | None = None) -> bytes:
    """`data` (a zip) with member `name`'s compression method or flag bits changed in both of its headers."""
    out = bytearray(data)
    encoded = name.encode()
    for signature, name_at, method_at, flags_at in ((b"PK\x03\x04", 30, 8, 6), (b"PK\x01\x02", 46, 10, 8)):
        at = out.find(signature)
        while at >= 0:
            if out[at + name_at : at + name_at + len(encoded)] == encoded:
                if method is not None:
                    out[at + method_at : at + method_at + 2] = struct.pack("<H", method)
                if flags is not None:
                    out[at + flags_at : at + flags_at + 2] = struct.pack("<H", flags)
            at = out.find(signature, at + 1)
    return bytes(out)


def test_unsupported_compression_and_encryption_are_one_line_errors_and_the_archive_is_not_reused(capsys, project):
    stored = _zip([(MEMBER, street_csv(MONTH))], zipfile.ZIP_STORED)
    deflate64 = _patched(stored, MEMBER, method=9)
    message = _serve_archive(capsys, project, deflate64, f"{MONTH}.zip", MEMBER, "deflate64")
    assert "--from" in message
    _serve_archive(capsys, project, _patched(stored, MEMBER, flags=0x1), f"{MONTH}.zip", MEMBER, "encrypted")
    with Server({f"/archive/{MONTH}.zip": body(stored)}) as server:  # the next run downloads afresh, and succeeds
        assert cli.main(_police(server.url)) == 0
        assert [p for p, _ in server.hits] == [f"/archive/{MONTH}.zip"]
    assert locked_months("policeuk_street_asb") == [LOCKED, MONTH]


def test_a_member_with_the_wrong_header_is_named(capsys, project):
    data = _zip([(MEMBER, b"Month,Count\n2021-01,5\n")])
    assert "header" in _serve_archive(capsys, project, data, f"{MONTH}.zip", MEMBER)


def test_a_row_of_another_month_anywhere_in_the_file_is_refused(capsys, project):
    lines = street_csv(MONTH).decode().splitlines(keepends=True)
    assert len(lines) > 200
    lines[150] = lines[150].replace(f",{MONTH},", ",2020-06,", 1)
    message = _serve_archive(capsys, project, _zip([(MEMBER, "".join(lines).encode())]), f"{MONTH}.zip", MEMBER)
    assert "line 151" in message and "2020-06" in message


@pytest.mark.parametrize(
    "case, text, said",
    [
        ("a NUL byte", lambda t: t.replace(b"On or near", b"On\x00or near", 1), "NUL byte"),
        ("a line of megabytes", lambda t: t + b"," + b"x" * 3_000_000 + b"\n", "longer than"),
        ("a 10 MB field", lambda t: t + b'"' + b"y" * 10_000_000 + b'"\n', "longer than"),
        ("UTF-16", lambda t: t.decode().encode("utf-16"), "UTF-16"),
        ("Latin-1", lambda t: t.replace(b"High Street", "Høgh Street".encode("latin-1"), 1), "not UTF-8"),
    ],
)
def test_text_that_is_not_a_street_file_is_refused_naming_the_member(capsys, project, case, text, said):
    data = _zip([(MEMBER, text(street_csv(MONTH)))])
    assert said in _serve_archive(capsys, project, data, f"{MONTH}.zip", MEMBER)


def test_a_full_disk_while_extracting_names_the_file_being_written(capsys, project, monkeypatch):
    real_open = builtins.open

    class Full(io.RawIOBase):
        def __init__(self, fh):
            self.fh = fh

        def writable(self):
            return True

        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self.fh.close()

    full = [".staging-"]

    def full_open(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        if ("w" in mode or "a" in mode) and full[0] in str(file):
            return Full(fh)
        return fh

    with Server({f"/archive/{MONTH}.zip": body(_zip([(MEMBER, street_csv(MONTH))]))}) as server:
        monkeypatch.setattr(builtins, "open", full_open)
        message = _refused(capsys, project, _police(server.url), "No space left", ".staging-", MEMBER)
        assert f"{MONTH}-metropolitan-street.csv" in message
        full[0] = ".zip.part"  # the download itself
        _refused(capsys, project, _police(server.url), "No space left", f"policeuk/{MONTH}.zip.part", "run the same")


@pytest.mark.realdata
def test_the_real_police_uk_street_files_in_the_mirror_pass_every_check(tmp_path):
    from conftest import MIRROR

    from csp_evidence.data import archives

    files = sorted((MIRROR / "policeuk").glob("*/*-street.csv"))
    assert len(files) > 30  # 2016-04 to 2017-03, 2019-01, 2023-10 to 2025-12 (SOURCES.md)
    for path in files:
        copy = tmp_path / path.name
        assert archives.copy_file(path, copy) == path.stat().st_size
        street_archive.check_street_file(copy, path.parent.name, str(path))  # every row's month, CRLF and LF alike


# --------------------------------------------------------------------------- servers


def test_http_errors_name_the_url_and_a_429_says_how_long_to_wait(capsys, project):
    routes = {
        "/a/archive/2021-01.zip": body(b"gone", 404),
        "/b/archive/2021-01.zip": body(b"oops", 500),
        "/c/archive/2021-01.zip": body(b"slow down", 429, {"Retry-After": "3600"}),
    }
    with Server(routes) as server:
        for path, code in (("a", "404"), ("b", "500"), ("c", "429")):
            argv = ["fetch", "--source", "policeuk", "--months", MONTH, "--url", f"{server.url}/{path}/archive"]
            message = _refused(capsys, project, argv, f"{server.url}/{path}/archive/2021-01.zip", code)
    assert "3600 second(s)" in message


def _redirect(to: str) -> Route:
    def answer(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return answer


def test_a_redirect_loop_and_a_release_page_redirected_to_another_host_are_refused(capsys, project):
    with Server({}) as server:
        server.routes[f"/archive/{MONTH}.zip"] = _redirect(f"{server.url}/archive/{MONTH}.zip")
        _refused(capsys, project, _police(server.url), f"{MONTH}.zip", "redirect")
        server.routes[f"/archive/{MONTH}.zip"] = _redirect("file:///etc/passwd")  # never read from the disk
        _refused(capsys, project, _police(server.url), f"{MONTH}.zip", "file:///etc/passwd")
        other = f"http://other-host.invalid:{server.httpd.server_address[1]}"  # another host (.invalid never resolves)
        server.routes["/release/"] = _redirect(f"{other}/elsewhere/")
        server.routes["/elsewhere/"] = body(RELEASE_PAGE.encode())
        argv = ["fetch", "--source", "moj_reoffending", "--url", f"{server.url}/release/"]
        _refused(capsys, project, argv, f"{server.url}/release/", "another host", "other-host.invalid")


def test_content_length_lies_are_caught(capsys, project):
    data = _zip([(MEMBER, street_csv(MONTH))])
    with Server({f"/archive/{MONTH}.zip": body(data, length=len(data) + 1000)}) as server:  # says more than it sends
        _refused(capsys, project, _police(server.url), f"{MONTH}.zip", "of 1")
    (project / "data" / "downloads" / "policeuk" / f"{MONTH}.zip.part").unlink()
    with Server({f"/archive/{MONTH}.zip": body(data, length=len(data) // 2)}) as server:  # says less
        _refused(capsys, project, _police(server.url), f"{MONTH}.zip")


def test_a_stalled_download_times_out_and_the_next_run_resumes_from_the_part(capsys, project, monkeypatch):
    filler = (f"{MONTH}/{MONTH}-kent-street.csv", bytes(range(256)) * 1500)  # several blocks, so a part is kept
    data = _zip([filler, (MEMBER, street_csv(MONTH))], zipfile.ZIP_STORED)
    assert len(data) > 4 * download.BLOCK
    stalled = threading.Event()

    def stall_then_serve(h: BaseHTTPRequestHandler) -> None:
        rng = h.headers.get("Range")
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        h.send_response(206 if rng else 200)
        if rng:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.send_header("Content-Length", str(len(data) - start))
        h.end_headers()
        if not stalled.is_set():
            h.wfile.write(data[: len(data) * 2 // 3])
            h.wfile.flush()
            stalled.wait(10)  # the client gives up first
            return
        h.wfile.write(data[start:])

    monkeypatch.setattr(download, "TIMEOUT", 1)
    with Server({f"/archive/{MONTH}.zip": stall_then_serve}) as server:
        _refused(capsys, project, _police(server.url), f"{MONTH}.zip", "interrupted", "timed out")
        part = project / "data" / "downloads" / "policeuk" / f"{MONTH}.zip.part"
        kept = part.stat().st_size
        assert kept >= download.BLOCK
        stalled.set()
        assert cli.main(_police(server.url)) == 0
        assert server.hits[-1][1].get("Range") == f"bytes={kept}-"
    assert locked_months("policeuk_street_asb") == [LOCKED, MONTH]


def test_a_gzip_response_is_decoded_and_identity_is_asked_for(capsys, project):
    data = moj_zip(period="April 2011 to June 2022")
    packed = gzip.compress(data)
    with Server({"/tools.zip": body(packed, headers={"Content-Encoding": "gzip"})}) as server:
        code = cli.main(["fetch", "--source", "moj_reoffending", "--url", f"{server.url}/tools.zip", "--update"])
        assert code == 0, capsys.readouterr().err
        assert server.hits[0][1].get("Accept-Encoding") == "identity"
    assert read_lock()["moj_proven_reoffending"].file == "moj/PRSQ_Geographic_data_April 2011 to June 2022.csv"
    with Server({"/tools.zip": body(packed[:-20], headers={"Content-Encoding": "gzip"}, length=len(packed))}) as s:
        _refused(capsys, project, ["fetch", "--source", "moj_reoffending", "--url", f"{s.url}/tools.zip"], "tools.zip")


def test_release_pages_of_unclosed_links_or_many_megabytes_are_read_in_time_or_refused(capsys, project):
    unclosed = b"<html><body>" + b'<a href="/media/x/table.zip">Table ' * 40_000  # ~1.4 MB, no </a>
    no_end = b"<html><body>" + b'<a href="/media/x/table.zip" ' * 40_000  # no '>' either
    routes = {"/release/": body(unclosed), "/open/": body(no_end), "/huge/": body(b"<p>" + b"x" * 9_000_000)}
    with Server(routes) as server:
        for page in ("release", "open"):
            with _within(60):
                argv = ["fetch", "--source", "moj_reoffending", "--url", f"{server.url}/{page}/"]
                message = _refused(capsys, project, argv)
            assert f"{server.url}/{page}/" in message and "CSV format of data tools" in message
        with _within(60):
            _refused(
                capsys, project, ["fetch", "--source", "moj_reoffending", "--url", f"{server.url}/huge/"], "/huge/"
            )


def test_an_moj_zip_with_two_data_csvs_is_refused_naming_both(capsys, project, tmp_path):
    two = _zip(
        [
            ("PRSQ_Geographic_data_April 2011 to March 2022.csv", b"old"),
            ("PRSQ_Geographic_data_April 2011 to June 2022.csv", b"new"),
        ]
    )
    path = _write(tmp_path / "two.zip", two)
    _refused(
        capsys,
        project,
        ["fetch", "--source", "moj_reoffending", "--from", str(path), "--update"],
        "two.zip",
        "March 2022",
        "June 2022",
    )


# --------------------------------------------------------------------------- --from and --months


def test_from_a_device_a_fifo_or_a_link_out_of_the_folder_is_refused_never_hangs(capsys, project, tmp_path):
    zero = tmp_path / "zero" / f"{MONTH}-metropolitan-street.csv"
    zero.parent.mkdir()
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo" / f"{MONTH}.zip"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    outside = _write(tmp_path / "outside" / f"{MONTH}-metropolitan-street.csv", street_csv(MONTH))
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / outside.name).symlink_to(outside)
    sparse = tmp_path / "sparse" / f"{MONTH}-metropolitan-street.csv"  # 600 MB that take no room
    sparse.parent.mkdir()
    with open(sparse, "wb") as fh:
        fh.truncate(600 * 2**20)
    argv = ["fetch", "--source", "policeuk", "--from"]
    with _within(60):
        _refused(capsys, project, [*argv, str(sparse)], str(sparse), "over the limit")
        _refused(capsys, project, [*argv, str(zero)], str(zero), "device")
        _refused(capsys, project, [*argv, str(zero.parent)], str(zero), "device")
        _refused(capsys, project, [*argv, str(fifo)], str(fifo), "FIFO")
        _refused(capsys, project, [*argv, str(fifo.parent)], str(fifo), "FIFO")
        _refused(capsys, project, ["fetch", "--source", "moj_reoffending", "--from", str(fifo)], str(fifo), "FIFO")
        _refused(capsys, project, [*argv, str(linked)], str(linked / outside.name), "outside the folder")


def test_from_a_folder_with_a_link_loop_ends_and_a_link_to_a_file_given_itself_is_followed(capsys, project, tmp_path):
    folder = tmp_path / "loop"
    _write(folder / MONTH / f"{MONTH}-metropolitan-street.csv", street_csv(MONTH))
    (folder / "again").symlink_to(".")
    (folder / MONTH / "up").symlink_to("..")
    with _within(60):
        assert cli.main(["fetch", "--source", "policeuk", "--from", str(folder)]) == 0, capsys.readouterr().err
    assert locked_months("policeuk_street_asb") == [LOCKED, MONTH]
    real = _write(tmp_path / "elsewhere" / "2021-02-metropolitan-street.csv", street_csv("2021-02"))
    given = tmp_path / "given" / real.name  # the path given is a link: the user chose it, so it is followed
    given.parent.mkdir()
    given.symlink_to(real)
    assert cli.main(["fetch", "--source", "policeuk", "--from", str(given)]) == 0, capsys.readouterr().err
    assert verified_file("policeuk_street_asb/2021-02")[0].read_bytes() == real.read_bytes()


@pytest.mark.parametrize(
    "months", ["2019-13", "2020-06:2020-01", "1000-01:1000-02", "2011-01:2900-12", "x" * 5000, "２０２０-01"]
)
def test_malformed_reversed_ancient_or_huge_month_ranges_are_one_line_errors(capsys, project, months):
    with Server({}) as server:
        _refused(
            capsys, project, ["fetch", "--source", "policeuk", "--months", months, "--url", server.url], "--months"
        )
        assert server.hits == []


# --------------------------------------------------------------------------- the lock's paths


def test_a_lock_path_out_of_data_raw_is_refused_and_nothing_outside_is_touched(capsys, project, tmp_path):
    victim = _write(tmp_path / "victim" / "important.txt", b"keep me")
    lock = json.loads((project / "data" / "sources.lock").read_text())
    lock["sources"]["moj_proven_reoffending"]["file"] = "../../../victim/important.txt"
    (project / "data" / "sources.lock").write_text(json.dumps(lock))
    zipped = _write(tmp_path / "june.zip", moj_zip(period="April 2011 to June 2022"))
    argv = ["fetch", "--source", "moj_reoffending", "--from", str(zipped), "--update"]
    _refused(capsys, project, argv, "moj_proven_reoffending", "../../../victim/important.txt")
    assert victim.read_bytes() == b"keep me"
    lock["sources"]["moj_proven_reoffending"]["file"] = str(victim)  # an absolute path
    (project / "data" / "sources.lock").write_text(json.dumps(lock))
    _refused(capsys, project, argv, str(victim))
    assert victim.read_bytes() == b"keep me"


def test_a_folder_in_data_raw_linked_outside_is_refused(capsys, project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "data" / "raw" / "policeuk" / MONTH).symlink_to(elsewhere, target_is_directory=True)
    path = _write(tmp_path / "in" / f"{MONTH}-metropolitan-street.csv", street_csv(MONTH))
    _refused(capsys, project, ["fetch", "--source", "policeuk", "--from", str(path)], "outside")
    assert list(elsewhere.iterdir()) == []


# --------------------------------------------------------------------------- leftovers


def test_staging_folders_and_temporary_files_killed_fetches_left_are_cleared(capsys, project, tmp_path):
    data = project / "data"
    left = [
        data / "downloads" / "policeuk" / ".staging-ab12cd34" / "2021-01-metropolitan-street.csv",
        data / "downloads" / "moj" / ".staging-zz99yy88" / "x.csv",
        data / "downloads" / ".update-a1b2c3d4" / "mps" / "x.csv",
        data / ".sources.lock.k3j4h5g6",
        data / "raw" / "policeuk" / LOCKED / f".{LOCKED}-metropolitan-street.csv.kept-0a1b2c3d",
        data / "raw" / "moj" / ".PRSQ_x.csv.q1w2e3r4.part",
    ]
    for path in left:
        _write(path, b"left by a killed fetch")
    kept_part = _write(data / "downloads" / "policeuk" / "2022-03.zip.part", b"resumable")
    path = _write(tmp_path / "in" / f"{MONTH}-metropolitan-street.csv", street_csv(MONTH))
    assert cli.main(["fetch", "--source", "policeuk", "--from", str(path)]) == 0
    assert [p for p in left if p.exists()] == [] and kept_part.exists()  # a download to resume is kept
    assert _leftovers(project) == []


def test_a_second_fetch_while_one_runs_waits_then_is_refused_naming_the_lock(capsys, project, tmp_path, monkeypatch):
    from csp_evidence.data import commit
    from csp_evidence.data.commit import fetching

    monkeypatch.setattr(commit, "WAIT", 0.5)

    path = _write(tmp_path / "in" / f"{MONTH}-metropolitan-street.csv", street_csv(MONTH))
    done = threading.Event()
    holding = threading.Event()

    def hold():
        with fetching():
            holding.set()
            done.wait(30)

    other = threading.Thread(target=hold)
    other.start()
    holding.wait(30)
    try:
        _refused(capsys, project, ["fetch", "--source", "policeuk", "--from", str(path)], ".fetch.lock")
    finally:
        done.set()
        other.join()
    assert cli.main(["fetch", "--source", "policeuk", "--from", str(path)]) == 0  # once the other one is done
    assert locked_months(street_archive.SOURCE_ID) == [LOCKED, MONTH]


# --------------------------------------------------------------------------- a kill during the commit

KILLED_FETCH = """
import os, shutil, signal, sys
from pathlib import Path
from csp_evidence.data.fetch import fetch_source  # imported once; each kill is a fork of this process

source, given, project, root = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
for kill_at in range(1, 80):
    copy = root / f"kill-{kill_at}"
    shutil.copytree(project, copy, symlinks=True)
    pid = os.fork()
    if pid == 0:
        os.environ["CSP_PROJECT_DIR"] = str(copy)
        calls = [0]

        def killed_before(call):
            def wrapped(*args, **kwargs):
                calls[0] += 1
                if calls[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
                return call(*args, **kwargs)
            return wrapped

        for name in ("rename", "replace", "link", "unlink", "rmdir"):  # every step that changes a name
            setattr(os, name, killed_before(getattr(os, name)))
        try:
            fetch_source(source, from_path=given, update=True)
        except BaseException as exc:
            print(f"step {kill_at}: {exc!r}", file=sys.stderr)
            os._exit(1)
        os._exit(0)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if status == 0:
        print(kill_at)
        break
    assert status == -signal.SIGKILL, f"step {kill_at} ended with {status}"
"""


@pytest.mark.parametrize("source", ["policeuk", "moj_reoffending"])
def test_a_kill_at_any_step_of_an_update_leaves_old_or_new_after_the_next_run(
    capsys, project, tmp_path, monkeypatch, source
):
    import subprocess
    import sys

    from synthetic_sources import moj_csv

    if source == "policeuk":  # the locked month revised (one row fewer, a file replaced), and a new month
        folder = tmp_path / "revised"
        lines = street_csv(LOCKED).splitlines(keepends=True)
        _write(folder / f"{LOCKED}-metropolitan-street.csv", b"".join(lines[:-1]))
        _write(folder / f"{MONTH}-metropolitan-street.csv", street_csv(MONTH))
        given, check = folder, ["fetch", "--source", "policeuk", "--months", LOCKED, "--url", "http://127.0.0.1:9/"]
    else:  # a newer release under another name: the new file in, the old one removed
        given = _write(tmp_path / "june.zip", moj_zip(moj_csv(latest_th_rate=0.25), "April 2011 to June 2022"))
        check = ["fetch", "--source", "moj_reoffending", "--from", str(given)]
    old = _state(project)
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("CSP_PROJECT_DIR", None)
    root = tmp_path / "kills"
    root.mkdir()
    child = subprocess.run(
        [sys.executable, "-c", KILLED_FETCH, source, str(given), str(project), str(root)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert child.returncode == 0, child.stderr
    kill_at = int(child.stdout.split()[-1])  # the first step it was not killed at: it finished
    states = [(step, root / f"kill-{step}") for step in range(1, kill_at + 1)]
    new = _state(states[-1][1])
    assert new != old
    seen = set()
    visible = [_visible(old), _visible(new)]
    for step, copy in states:
        monkeypatch.setenv("CSP_PROJECT_DIR", str(copy))
        if source == "policeuk" and step % 2:  # a pack reading a source first finishes a commit a kill cut short
            verified_file(f"policeuk_street_asb/{LOCKED}")
            assert _visible(_state(copy)) in visible, f"killed before step {step}: a pack read a mixed set"
        code = cli.main(check)  # the next run: it finds the old set (and refuses the new bytes) or the new one
        got = _state(copy)
        if source == "moj_reoffending" and got == old:
            assert code == 1 and "--update" in capsys.readouterr().err, f"killed before step {step}"
        else:
            assert code == 0, f"killed before step {step}: {capsys.readouterr().err}"
        assert got in (old, new), f"killed before step {step}: data/raw/ and the lock are mixed"
        assert _leftovers(copy) == [], f"killed before step {step}"
        seen.add("new" if got == new else "old")
    assert seen == {"old", "new"} and kill_at > 5  # the kill came before and after the point of no return


def test_a_member_read_as_a_stream_is_checked_as_it_goes(tmp_path, monkeypatch):
    """For a reader that reduces members as they stream (every force's files): the same checks, no file kept."""
    import csv

    from csp_evidence.data import archives
    from csp_evidence.data.download import FetchError

    row = street_csv(MONTH).splitlines()[1] + b"\n"
    path = _write(
        tmp_path / "a.zip",
        _zip(
            [(MEMBER, street_csv(MONTH)), ("bomb.csv", HEADER.encode() + b"\n" + row * 400_000), ("l1.csv", b"\xe9\n")]
        ),
    )
    with archives.open_archive(path) as zf:
        with archives.open_member(zf, zf.getinfo(MEMBER), path) as fh:
            rows = list(csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")))
        assert rows[0] == HEADER.split(",") and {r[1] for r in rows[1:]} == {MONTH}
        assert len(rows) == street_csv(MONTH).count(b"\n")
        for name, said in (("bomb.csv", "times its compressed size"), ("l1.csv", "not UTF-8")):
            with pytest.raises(FetchError, match=f"a.zip: {name}: .*{said}"):
                with archives.open_member(zf, zf.getinfo(name), path) as fh:
                    for _ in io.TextIOWrapper(fh, encoding="utf-8"):
                        pass


@pytest.mark.parametrize(
    "case, text, said",
    [
        ("UTF-16", lambda t: t.decode().encode("utf-16"), "UTF-16"),
        ("Latin-1", lambda t: t.replace(b"Hackney", "Hackn\xe9y".encode("latin-1"), 1), "not UTF-8"),
        ("a 10 MB field", lambda t: t + b'"' + b"y" * 10_000_000 + b'"\n', "longer than"),
        ("a NUL byte", lambda t: t.replace(b"Hackney", b"Hack\x00ney", 1), "NUL byte"),
    ],
)
def test_an_moj_data_csv_that_is_not_utf8_text_of_rows_is_refused_naming_it(
    capsys, project, tmp_path, case, text, said
):
    from synthetic_sources import moj_csv

    path = _write(tmp_path / "tools.zip", moj_zip(text(moj_csv()), "April 2011 to June 2022"))
    argv = ["fetch", "--source", "moj_reoffending", "--from", str(path), "--update"]
    message = _refused(capsys, project, argv, "tools.zip", "PRSQ_Geographic_data_April 2011 to June 2022.csv")
    assert said in message


def test_every_forces_path_streams_members_through_the_same_checks(capsys, project, tmp_path):
    """police.uk for any force: a bomb or Latin-1 text in a force's member that is reduced, not kept, is refused."""
    from csp_evidence.data.download import FetchError
    from csp_evidence.data.policeuk_forces import fetch_forces

    row = street_csv(MONTH).splitlines()[1] + b"\n"
    kent = (f"{MONTH}/{MONTH}-kent-street.csv", street_csv(MONTH))
    for member, said in (
        (HEADER.encode() + b"\n" + row * 400_000, "times its compressed size"),
        (street_csv(MONTH).replace(b"High Street", "H\xf8gh Street".encode("latin-1"), 1), "not UTF-8"),
    ):
        path = _write(tmp_path / "forces.zip", _zip([kent, (f"{MONTH}/{MONTH}-essex-street.csv", member)]))
        before = _state(project)
        with pytest.raises(FetchError, match=rf"forces.zip: {MONTH}/{MONTH}-essex-street.csv: .*{said}"):
            fetch_forces([MONTH], ["kent"], from_path=path)
        assert _state(project) == before and _leftovers(project) == []
