"""`csp fetch --source policeuk | moj_reoffending`: archives and release zips served by a loopback HTTP server in
the official layouts; download, resume, extraction, checks, the lock per month, and clear errors that leave
data/raw/ and data/sources.lock as they were."""

from __future__ import annotations

import errno
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from synthetic_sources import RELEASE_PAGE, Server, moj_csv, moj_zip, months, police_archive

from csp_evidence import cli
from csp_evidence.data import moj_release, street_archive
from csp_evidence.data.download import FetchError, download
from csp_evidence.data.fetch import fetch, fetch_source, locked_months, verified_file
from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.sources import read_lock

FIRST, LAST = "2017-04", "2022-03"
ALL = months(FIRST, LAST)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project: a lock with no sources, no data/raw, no mirror."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sources.lock").write_text(json.dumps({"sources": {}}))
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("CSP_DATA_MIRROR", raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def archives():
    """The two archives holding 2017-04 to 2022-03 (2022-03.zip: from 2019-04; 2019-03.zip: to 2019-03)."""
    return {
        "/archive/2022-03.zip": police_archive("2022-03", ALL),
        "/archive/2019-03.zip": police_archive("2019-03", ALL),
    }


def _state(root):
    raw = root / "data" / "raw"
    files = sorted(str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file()) if raw.exists() else []
    return files, (root / "data" / "sources.lock").read_text()


def _bytes(root):
    """Every file under data/raw/ (hidden ones too) with its bytes, and the lock's bytes: to compare byte for byte."""
    raw = root / "data" / "raw"
    files = {str(p.relative_to(raw)): p.read_bytes() for p in raw.rglob("*") if p.is_file()} if raw.exists() else {}
    return files, (root / "data" / "sources.lock").read_bytes()


def _disk_full_on_second_move(monkeypatch, root):
    """Make the second move of a staged file into data/raw/ fail as a full disk would (os.replace raises ENOSPC)."""
    raw, real, moves = str(root / "data" / "raw"), os.replace, []

    def replace(src, dst, *args, **kwargs):
        if str(dst).startswith(raw) and not Path(src).name.startswith("."):  # not a temporary or kept file
            moves.append(dst)
            if len(moves) == 2:
                raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return moves


def test_archives_cover_the_months_with_the_fewest_downloads():
    assert street_archive.archives_for(ALL) == ["2022-03", "2019-03"]
    assert street_archive.archive_months("2022-03")[0] == "2019-04"
    assert street_archive.member_month("2020-04/2020-04-metropolitan-street.csv") == "2020-04"
    assert street_archive.member_month("2020-04/2020-04-kent-street.csv") is None
    assert street_archive.member_month("2020-04/2020-04-metropolitan-outcomes.csv") is None
    assert street_archive.archive_url("2022-03") == "https://data.police.uk/data/archive/2022-03.zip"


def test_policeuk_downloads_extracts_and_locks_each_month(project, archives):
    with Server(archives) as server:
        results = fetch_source("policeuk", months=ALL, url=f"{server.url}/archive")
    assert [r.action for r in results] == ["downloaded"] * len(ALL)
    raw = project / "data" / "raw" / "policeuk"
    assert (raw / "2020-04" / "2020-04-metropolitan-street.csv").is_file()
    assert sorted(p.name for p in raw.iterdir()) == ALL  # only the Met street files, one folder a month
    assert locked_months("policeuk_street_asb") == ALL
    lock = json.loads((project / "data" / "sources.lock").read_text())["sources"]
    assert lock["policeuk_street_asb/2020-04"]["file"] == "policeuk/2020-04/2020-04-metropolitan-street.csv"
    path, _ = verified_file("policeuk_street_asb/2020-04")
    assert path.name == "2020-04-metropolitan-street.csv"
    assert not list((project / "data" / "downloads" / "policeuk").glob("*.zip"))  # archives removed once kept
    # a second run downloads nothing: every month is present and matches its lock
    with Server(archives) as server:
        again = fetch_source("policeuk", months=ALL, url=f"{server.url}/archive")
        assert server.requests == []
    assert {r.action for r in again} == {"present"}


def test_an_interrupted_download_resumes_from_where_it_stopped(project, archives):
    with Server(archives) as server:
        server.truncate.add("/archive/2022-03.zip")
        before = _state(project)
        with pytest.raises(FetchError, match=r"2022-03\.zip.*(interrupted|stopped).*run the same command again"):
            fetch_source("policeuk", months=months("2019-04", "2022-03"), url=f"{server.url}/archive")
        assert _state(project) == before  # nothing in data/raw, lock unchanged
        part = project / "data" / "downloads" / "policeuk" / "2022-03.zip.part"
        assert 0 < part.stat().st_size < len(archives["/archive/2022-03.zip"])
        fetch_source("policeuk", months=months("2019-04", "2022-03"), url=f"{server.url}/archive")
        ranges = [r for p, r in server.requests if p == "/archive/2022-03.zip"]
    assert ranges[0] is None and ranges[1] == f"bytes={part.stat().st_size if part.exists() else ranges[1][6:-1]}-"
    assert locked_months("policeuk_street_asb") == months("2019-04", "2022-03")


def test_a_server_that_ignores_ranges_restarts_cleanly(project, tmp_path):
    body = police_archive("2020-06", months("2020-01", "2020-06"))
    target = tmp_path / "a.zip"
    with Server({"/a.zip": body}) as server:
        server.truncate.add("/a.zip")
        server.no_range.add("/a.zip")
        with pytest.raises(FetchError):
            download(f"{server.url}/a.zip", target)
        download(f"{server.url}/a.zip", target)
    assert target.read_bytes() == body


def test_a_corrupt_archive_is_named_and_changes_nothing(project):
    bad = police_archive("2022-03", ALL)
    middle = len(bad) // 2
    bad = bad[:middle] + b"\x00" * 50 + bad[middle + 50 :]  # damaged bytes inside a member
    with Server({"/archive/2022-03.zip": bad}) as server:
        before = _state(project)
        with pytest.raises(FetchError, match=r"2022-03\.zip.*(corrupt|zip)"):
            fetch_source("policeuk", months=months("2019-04", "2022-03"), url=f"{server.url}/archive")
    assert _state(project) == before
    assert not (project / "data" / "downloads" / "policeuk" / "2022-03.zip").exists()  # downloaded afresh next time


def test_a_truncated_archive_that_the_server_calls_whole_is_refused(project):
    body = police_archive("2022-03", ALL)
    with Server({"/archive/2022-03.zip": body[: len(body) // 2]}) as server:
        before = _state(project)
        with pytest.raises(FetchError, match=r"2022-03\.zip.*not a whole zip"):
            fetch_source("policeuk", months=months("2019-04", "2022-03"), url=f"{server.url}/archive")
    assert _state(project) == before


def test_a_missing_month_is_named_and_nothing_is_kept(project):
    have = [m for m in ALL if m != "2020-07"]
    with Server({"/archive/2022-03.zip": police_archive("2022-03", have)}) as server:
        before = _state(project)
        with pytest.raises(FetchError, match=r"1 month\(s\) asked for: 2020-07.*never read as zero"):
            fetch_source("policeuk", months=months("2019-04", "2022-03"), url=f"{server.url}/archive")
    assert _state(project) == before


def test_from_a_downloaded_archive_a_folder_or_one_file(project, tmp_path, archives):
    zipped = tmp_path / "2022-03.zip"
    zipped.write_bytes(archives["/archive/2022-03.zip"])
    got = fetch_source("policeuk", from_path=zipped, months=months("2021-01", "2021-03"))
    assert [r.source_id for r in got] == [f"policeuk_street_asb/{m}" for m in months("2021-01", "2021-03")]
    folder = tmp_path / "monthly"
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(folder, [n for n in zf.namelist() if n.startswith("2021-04/")])
    fetch_source("policeuk", from_path=folder)  # every month the folder holds
    assert locked_months("policeuk_street_asb") == months("2021-01", "2021-04")
    with pytest.raises(FetchError, match="a file named YYYY-MM-metropolitan-street.csv"):
        fetch_source("policeuk", from_path=tmp_path / "monthly" / "2021-04" / "2021-04-kent-street.csv")


def test_changed_bytes_of_a_locked_month_need_update(project, tmp_path, archives):
    zipped = tmp_path / "2022-03.zip"
    zipped.write_bytes(archives["/archive/2022-03.zip"])
    fetch_source("policeuk", from_path=zipped, months=["2021-01"])
    revised = tmp_path / "2021-01-metropolitan-street.csv"
    revised.write_bytes((project / "data/raw/policeuk/2021-01/2021-01-metropolitan-street.csv").read_bytes() + b"")
    text = revised.read_text().splitlines()
    revised.write_text("\n".join(text[:-1]) + "\n")  # police.uk revised the month: one row fewer
    before = _state(project)
    with pytest.raises(FetchError, match=r"2021-01.*does not match the lock.*--update"):
        fetch_source("policeuk", from_path=revised)
    assert _state(project) == before
    assert fetch_source("policeuk", from_path=revised, update=True)[0].action == "updated"


def _revised(path: Path, month: str, archives, tmp_path) -> Path:
    """`month`'s street file of the 2022-03 archive with its last row dropped (police.uk revised the month)."""
    with zipfile.ZipFile(_write(tmp_path / "whole.zip", archives["/archive/2022-03.zip"])) as zf:
        lines = zf.read(f"{month}/{month}-metropolitan-street.csv").decode().splitlines()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines[:-1]) + "\n")
    return path


def test_a_policeuk_update_that_fails_part_way_leaves_raw_and_the_lock_as_they_were(
    project, tmp_path, archives, monkeypatch
):
    zipped = _write(tmp_path / "2022-03.zip", archives["/archive/2022-03.zip"])
    fetch_source("policeuk", from_path=zipped, months=["2021-01"])
    folder = tmp_path / "revised"  # 2021-01 revised (replaces a locked file), 2021-02 new (its folder is made)
    _revised(folder / "2021-01-metropolitan-street.csv", "2021-01", archives, tmp_path)
    _revised(folder / "2021-02-metropolitan-street.csv", "2021-02", archives, tmp_path)
    before = _bytes(project)
    with monkeypatch.context() as patch:
        moves = _disk_full_on_second_move(patch, project)
        with pytest.raises(OSError, match="No space left"):
            fetch_source("policeuk", from_path=folder, update=True)
        assert len(moves) == 2  # the first month was moved in, then put back
    assert _bytes(project) == before
    assert not (project / "data/raw/policeuk/2021-02").exists()
    # the lock is written last: when that fails, the months moved in are taken out again
    with monkeypatch.context() as patch:
        patch.setattr(street_archive, "write_lock", _full_disk)
        with pytest.raises(OSError, match="No space left"):
            fetch_source("policeuk", from_path=folder, update=True)
    assert _bytes(project) == before
    got = fetch_source("policeuk", from_path=folder, update=True)
    assert [(r.source_id[-7:], r.action) for r in got] == [("2021-01", "updated"), ("2021-02", "copied")]
    assert locked_months("policeuk_street_asb") == ["2021-01", "2021-02"]
    assert not [p for p in (project / "data" / "raw").rglob(".*")]  # no kept copies left behind


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_fetch_update_that_fails_part_way_leaves_raw_and_the_lock_as_they_were(
    project, tmp_path, archives, monkeypatch
):
    mirror = tmp_path / "mirror"
    with zipfile.ZipFile(_write(tmp_path / "a.zip", archives["/archive/2022-03.zip"])) as zf:
        zf.extractall(mirror / "policeuk", [n for n in zf.namelist() if n[:7] in ("2020-03", "2020-04")])
    fetch(["policeuk_street_asb"], mirror=mirror, update=True)
    for month in ("2020-03", "2020-04"):  # both months revised upstream
        _revised(mirror / "policeuk" / month / f"{month}-metropolitan-street.csv", month, archives, tmp_path)
    before = _bytes(project)
    with monkeypatch.context() as patch:
        moves = _disk_full_on_second_move(patch, project)
        with pytest.raises(OSError, match="No space left"):
            fetch(["policeuk_street_asb"], mirror=mirror, update=True)
        assert len(moves) == 2
    assert _bytes(project) == before
    assert {r.action for r in fetch(["policeuk_street_asb"], mirror=mirror, update=True)} == {"updated"}
    assert _bytes(project) != before


def test_mirror_months_are_locked_by_update_and_copied_by_fetch(project, tmp_path, archives, monkeypatch):
    mirror = tmp_path / "mirror"
    with zipfile.ZipFile(_write(tmp_path / "a.zip", archives["/archive/2022-03.zip"])) as zf:
        zf.extractall(mirror / "policeuk", [n for n in zf.namelist() if n[:7] in ("2020-03", "2020-04")])
    results = fetch(["policeuk_street_asb"], mirror=mirror, update=True)
    assert [r.source_id for r in results] == ["policeuk_street_asb/2020-03", "policeuk_street_asb/2020-04"]
    assert "policeuk_street_asb/2020-04" in read_lock()
    # a fresh data/raw: `csp fetch` copies the locked months from the mirror and checks them
    shutil.rmtree(project / "data" / "raw")
    assert {r.action for r in fetch(["policeuk_street_asb"], mirror=mirror)} == {"copied"}
    # a damaged mirror month is named
    path = project / "data/raw/policeuk/2020-04/2020-04-metropolitan-street.csv"
    path.unlink()
    (mirror / "policeuk/2020-04/2020-04-metropolitan-street.csv").write_text("damaged")
    with pytest.raises(FetchError, match=r"policeuk/2020-04/2020-04-metropolitan-street\.csv.*does not match"):
        fetch(["policeuk_street_asb"], mirror=mirror)


def _write(path, data):
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- MoJ


def test_moj_follows_the_release_page_to_the_csv_zip_and_locks_it(project):
    files = {"/release/": RELEASE_PAGE.encode(), "/media/def/CSV_format_of_data_tools_Jan22_Mar22.zip": moj_zip()}
    with Server(files) as server:
        results = fetch_source("moj_reoffending", url=f"{server.url}/release/")
    assert [(r.source_id, r.action) for r in results] == [("moj_proven_reoffending", "downloaded")]
    kept = project / "data" / "raw" / "moj" / "PRSQ_Geographic_data_April 2011 to March 2022.csv"
    assert kept.is_file() and verified_file("moj_proven_reoffending")[0] == kept
    assert not list((project / "data" / "downloads" / "moj").glob("*.zip"))


def test_moj_zip_url_and_from_path(project, tmp_path):
    with Server({"/tools.zip": moj_zip()}) as server:
        assert fetch_source("moj_reoffending", url=f"{server.url}/tools.zip")[0].action == "downloaded"
    zipped = _write(tmp_path / "tools.zip", moj_zip())
    assert fetch_source("moj_reoffending", from_path=zipped)[0].action == "present"


def test_moj_bad_file_is_refused_naming_it_and_changes_nothing(project, tmp_path):
    bad = moj_zip(
        b"Geography,Category,Adult / Juvenile,Cohort,offenders,reoffenders,reoffences\n"
        b"Hackney,UTLA total,Adult,Apr 2019 to Mar 2020,100,120,130\n"
    )
    before = _state(project)
    with pytest.raises(SourceFormatError, match=r"PRSQ_Geographic_data.*reoffenders <= offenders"):
        fetch_source("moj_reoffending", from_path=_write(tmp_path / "bad.zip", bad))
    with pytest.raises(FetchError, match=r"corrupt or truncated"):
        fetch_source("moj_reoffending", from_path=_write(tmp_path / "cut.zip", moj_zip()[:200]))
    with Server({"/page/": b"<html><a href='/x.ods'>tables</a></html>"}) as server:
        with pytest.raises(FetchError, match=r"no link to the 'CSV format of data tools' zip"):
            fetch_source("moj_reoffending", url=f"{server.url}/page/")
    assert _state(project) == before


def test_moj_older_excel_tool(project, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["Proven reoffending geographical data tool"])
    sheet.append(["Geography", "Category", "Adult/Juvenile", "Cohort", "Offenders", "Reoffenders", "Reoffences"])
    sheet.append(["Tower Hamlets", "UTLA total", "Adult", "Apr 2012 to Mar 2013", 1200, 360, 1300])
    sheet.append(["Tower Hamlets", "UTLA total", "Adult", "Apr 2015 to Mar 2016", 999, 1, 1])  # in the CSV too
    path = tmp_path / "Geographical_data_tool_Apr09_Mar21.xlsx"
    book.save(path)
    result = fetch_source("moj_reoffending", from_path=path)
    assert [(r.source_id, r.path.name) for r in result] == [("moj_proven_reoffending_tool", path.name)]
    assert read_lock()["moj_proven_reoffending_tool"].file == f"moj/{path.name}"


def test_cli_fetch_source_names_the_problem_without_a_traceback(project, capsys):
    assert cli.main(["fetch", "--source", "policeuk", "--months", "2020-13:2021-01"]) == 1
    assert "--months 2020-13:2021-01" in capsys.readouterr().err
    assert cli.main(["fetch", "--source", "moj_reoffending", "--from", "/nonexistent.zip"]) == 1
    assert "/nonexistent.zip: no such file" in capsys.readouterr().err


def test_moj_update_to_a_release_under_another_name_replaces_the_old_file(project, tmp_path, monkeypatch):
    fetch_source("moj_reoffending", from_path=_write(tmp_path / "march.zip", moj_zip()))
    old = project / "data/raw/moj/PRSQ_Geographic_data_April 2011 to March 2022.csv"
    new = project / "data/raw/moj/PRSQ_Geographic_data_April 2011 to June 2022.csv"
    june = _write(tmp_path / "june.zip", moj_zip(moj_csv(latest_th_rate=0.25), "April 2011 to June 2022"))
    with pytest.raises(FetchError, match="--update"):
        fetch_source("moj_reoffending", from_path=june)
    before = _bytes(project)
    with monkeypatch.context() as patch:  # the lock cannot be written: the new file goes, the old one stays
        patch.setattr(moj_release, "write_lock", _full_disk)
        with pytest.raises(OSError, match="No space left"):
            fetch_source("moj_reoffending", from_path=june, update=True)
    assert _bytes(project) == before
    got = fetch_source("moj_reoffending", from_path=june, update=True)
    assert [(r.action, r.path) for r in got] == [("updated", new)]
    assert sorted(p.name for p in (project / "data/raw/moj").iterdir()) == [new.name]
    assert not old.exists() and read_lock()["moj_proven_reoffending"].file == f"moj/{new.name}"
    assert verified_file("moj_proven_reoffending")[0] == new
