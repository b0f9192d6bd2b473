"""Fetching locked sources: from a mirror, with sha256 checks, atomic writes and clear errors."""

import hashlib
import json

import pytest

from csp_evidence import cli
from csp_evidence.data.fetch import FetchError, fetch, verified_file
from csp_evidence.data.sources import locked_file, read_lock, source

SID = "gla_borough_profiles"
BYTES = b"Code,Area_name,Inner/_Outer_London\r\nE09000030,Tower Hamlets,Inner London\r\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder whose lock names one source, and a mirror holding its bytes."""
    (tmp_path / "data").mkdir()
    lock = {
        "sources": {
            SID: {
                "file": source(SID).file,
                "sha256": hashlib.sha256(BYTES).hexdigest(),
                "bytes": len(BYTES),
                "retrieved": "2025-11-24",
            }
        }
    }
    (tmp_path / "data" / "sources.lock").write_text(json.dumps(lock))
    mirror = tmp_path / "mirror"
    (mirror / source(SID).file).parent.mkdir(parents=True)
    (mirror / source(SID).file).write_bytes(BYTES)
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("CSP_DATA_MIRROR", raising=False)
    return tmp_path, mirror


def test_copies_from_mirror_then_skips_present_file(project):
    root, mirror = project
    assert [r.action for r in fetch([SID], mirror=mirror)] == ["copied"]
    assert (root / "data" / "raw" / source(SID).file).read_bytes() == BYTES
    assert [r.action for r in fetch([SID], mirror=mirror)] == ["present"]


def test_mirror_from_environment(project, monkeypatch):
    root, mirror = project
    monkeypatch.setenv("CSP_DATA_MIRROR", str(mirror))
    assert fetch([SID])[0].action == "copied"


def test_corrupt_mirror_file_is_named_and_nothing_is_written(project):
    root, mirror = project
    (mirror / source(SID).file).write_bytes(BYTES[:-5])  # truncated
    with pytest.raises(FetchError, match=r"gla_london-borough-profiles\.csv.*does not match the lock"):
        fetch([SID], mirror=mirror)
    raw = root / "data" / "raw" / "other"
    assert not raw.exists() or list(raw.iterdir()) == []  # no partial or unverified file left behind


def test_corrupt_file_in_data_raw_is_refused_when_used(project):
    root, mirror = project
    fetch([SID], mirror=mirror)
    (root / "data" / "raw" / source(SID).file).write_bytes(b"tampered")
    with pytest.raises(FetchError, match=r"data/raw.*gla_london-borough-profiles\.csv.*does not match"):
        verified_file(SID)


def test_offline_without_mirror_names_missing_files_and_how_to_provide_them(project, monkeypatch):
    import pooch

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(FetchError) as err:
        fetch([SID])
    text = str(err.value)
    assert "gla_london-borough-profiles.csv" in text and "CSP_DATA_MIRROR" in text and "download failed" in text


def test_update_accepts_new_bytes_and_rewrites_lock(project):
    root, mirror = project
    new = BYTES + b"E09000012,Hackney,Inner London\r\n"
    (mirror / source(SID).file).write_bytes(new)
    with pytest.raises(FetchError):
        fetch([SID], mirror=mirror)
    result = fetch([SID], mirror=mirror, update=True)
    assert result[0].action == "updated"
    assert read_lock()[SID].sha256 == hashlib.sha256(new).hexdigest()
    assert fetch([SID], mirror=mirror)[0].action == "present"


def test_missing_mirror_folder_is_an_error(project, tmp_path):
    with pytest.raises(FetchError, match="not a folder"):
        fetch([SID], mirror=tmp_path / "nowhere")


def test_cli_fetch_exits_non_zero_naming_the_corrupt_file(tmp_path, monkeypatch, capsys):
    """The real lock, a mirror whose copy of one official file is corrupted: `csp fetch` names that file."""
    from conftest import HAVE_MIRROR, MIRROR, ROOT

    if not HAVE_MIRROR:
        pytest.skip("needs the data mirror")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sources.lock").write_text((ROOT / "data" / "sources.lock").read_text())
    bad_mirror = tmp_path / "mirror"
    for sid, entry in read_lock(ROOT / "data" / "sources.lock").items():
        if sid.startswith("policeuk_reduced/"):  # derived: made again from the street files, in no mirror
            continue
        target = bad_mirror / locked_file(sid, entry)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((MIRROR / locked_file(sid, entry)).read_bytes())
    victim = bad_mirror / source("mps_borough_recent").file
    victim.write_bytes(victim.read_bytes().replace(b"Hackney", b"Hackmey", 1))
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    assert cli.main(["fetch", "--mirror", str(bad_mirror)]) == 1
    err = capsys.readouterr().err
    assert "mps_borough_crime_recent_202202_202401.csv" in err and "does not match the lock" in err


@pytest.mark.parametrize(
    "text, match",
    [
        ("{not json", r"sources\.lock: cannot read the lock file"),
        (
            '{"sources": {"x": {"sha256": "ab", "bytes": "many", "retrieved": "2024-01-01"}}}',
            r"sources\.lock: entry 'x' needs sha256, bytes and retrieved",
        ),
        ("[1, 2]", r"sources\.lock: expected a JSON object with a 'sources' mapping"),
    ],
)
def test_cli_names_a_damaged_lock_file_without_a_traceback(tmp_path, monkeypatch, capsys, text, match):
    import re

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sources.lock").write_text(text)
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    assert cli.main(["fetch", "--mirror", str(tmp_path)]) == 1
    err = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert re.search(match, err) and "Traceback" not in err
