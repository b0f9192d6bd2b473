"""What a run guarantees against kills, leftovers, a deleted chapter, unreadable files and a web server's user."""

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from test_pipeline import _notebook, project  # noqa: F401  (the fixture)

from csp_evidence.cli import main
from csp_evidence.core.files import atomic_write_text
from csp_evidence.runner.pipeline import RunError, run

KILLED_CHILD = """
import os, signal, sys
from pathlib import Path
try:
    from csp_evidence.runner.publish import publish
except ImportError:  # before publishing had its own module
    from csp_evidence.runner.pipeline import _publish as publish

kill_at, calls = int(os.environ["KILL_AT"]), [0]

def killed_before(call):
    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return call(*args, **kwargs)
    return wrapped

for name in ("rename", "replace", "symlink", "unlink", "rmdir"):  # every step that changes a name
    setattr(os, name, killed_before(getattr(os, name)))
publish(Path(sys.argv[1]), Path(sys.argv[2]))
"""


def _pack(folder: Path, text: str) -> Path:
    for sub in ("notebooks", "tables"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "notebooks" / "00_a.ipynb").write_text(text)
    (folder / "tables" / "00-x.csv").write_text(text)
    return folder


def _contents(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("layout", ["linked", "folder of an earlier version"])
def test_a_kill_at_any_step_of_publishing_leaves_a_whole_pack_and_the_next_run_tidies_up(tmp_path, layout):
    old, new = _contents(_pack(tmp_path / "old", "old")), _contents(_pack(tmp_path / "new", "new"))
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    kill_at, finished, killed = 0, False, []
    while not finished:
        kill_at += 1
        assert kill_at < 60, "publishing never finished"
        root = tmp_path / f"kill-{kill_at}" / "outputs"
        root.mkdir(parents=True)
        target = root / "th"
        if layout == "linked":
            first = Path(tempfile.mkdtemp(prefix=".staging-th-", dir=root))
            shutil.copytree(tmp_path / "old", first, dirs_exist_ok=True)
            from csp_evidence.runner.publish import publish

            publish(first, target)
        else:
            shutil.copytree(tmp_path / "old", target)
        stage = Path(tempfile.mkdtemp(prefix=".staging-th-", dir=root))
        shutil.copytree(tmp_path / "new", stage, dirs_exist_ok=True)
        child = subprocess.run(
            [sys.executable, "-c", KILLED_CHILD, str(stage), str(target)],
            env=env | {"KILL_AT": str(kill_at)},
            capture_output=True,
            text=True,
        )
        finished = child.returncode == 0
        assert finished or child.returncode == -signal.SIGKILL, child.stderr
        assert target.is_dir(), f"killed before step {kill_at}: {target} is gone"
        assert _contents(target) in (old, new), f"killed before step {kill_at}: {target} holds a mixed pack"
        killed.append(target)
    assert _contents(killed[-1]) == new

    from csp_evidence.runner.publish import PACKS, recover, versions

    for step, target in enumerate(killed, 1):
        recover(target)  # what every run does first, holding the lock
        assert _contents(target) in (old, new)
        assert sorted(p.name for p in target.parent.iterdir()) == [PACKS, "th"], f"killed before step {step}"
        assert target.is_symlink() and len(versions(target.parent, "th")) == 1
    assert kill_at > 3  # the kill came at every step of the swap in turn


def test_a_run_moves_a_pack_folder_of_an_earlier_version_aside_and_links_it(project):
    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    params = project / "params" / "th.yml"
    run(params)
    target = project / "outputs" / "th"
    version = target.resolve()
    target.unlink()  # as earlier versions published it: a real folder, with a site build a kill left behind
    version.rename(target)
    (target / ".site-build-abcd1234").mkdir()
    assert run(params).reused == ["00_ok"]  # its outputs are the last good run's
    assert target.is_symlink() and not (target / ".site-build-abcd1234").exists()
    assert sorted(p.name for p in (project / "outputs").iterdir()) == [".packs", ".th.lock", "th"]


def test_a_run_clears_what_interrupted_runs_left_never_a_live_runs_and_keeps_five_failed_runs(project):
    from filelock import FileLock

    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    params = project / "params" / "th.yml"
    run(params)
    out = project / "outputs"
    for left in (".staging-th-abcd1234", ".old-th-.staging-th-abcd1234", ".staging-gone-x1y2z3w4"):
        (out / left / "notebooks").mkdir(parents=True)  # killed runs of th and of a run nobody runs now
    (out / ".gone.lock").touch()
    (out / ".refused.lock").touch()  # a run refused for its params
    (out / ".th.link-0123abcd").symlink_to(".packs/th-20250101T000000000000")  # a link never renamed into place
    (out / ".staging-live-abcd1234").mkdir()  # a live run's, below: its lock is held
    failed = out / "failed"
    for day in range(1, 8):
        (failed / f"th-2025010{day}T000000").mkdir(parents=True)
    (failed / "th-x-20250101T000000").mkdir()  # another run name's
    _notebook(project / "notebooks" / "01_bad.ipynb", "raise ValueError('planted failure')")
    with FileLock(str(out / ".live.lock")):
        with pytest.raises(RunError, match="planted failure"):
            run(params)
        left = sorted(p.name for p in out.iterdir())
    assert left == [".live.lock", ".packs", ".staging-live-abcd1234", ".th.lock", "failed", "th"]
    kept = sorted(p.name for p in failed.iterdir())
    assert len(kept) == 6 and kept[:4] == [f"th-2025010{day}T000000" for day in (4, 5, 6, 7)]
    assert kept[4].startswith("th-20") and kept[4] > "th-2026" and kept[5] == "th-x-20250101T000000"


def test_a_deleted_chapter_notebook_is_an_error_naming_it(project, capsys):
    config_path = project / "_quarto.yml"
    config = yaml.safe_load(config_path.read_text())
    config["project"]["render"] += ["00_ok.ipynb", "05_confidence.ipynb"]
    config_path.write_text(yaml.safe_dump(config))
    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    params = project / "params" / "th.yml"
    with pytest.raises(
        RunError, match=r"chapter notebook\(s\) 05_confidence\.ipynb listed in _quarto\.yml are missing"
    ):
        run(params)
    assert main(["run", "--params", str(params)]) == 1
    assert "csp run failed: chapter notebook(s) 05_confidence.ipynb" in capsys.readouterr().err
    assert not (project / "outputs" / "th").exists()


def test_a_published_pack_has_the_modes_of_a_plain_write_and_another_user_can_read_it(project, monkeypatch):
    outputs = Path(tempfile.mkdtemp())  # outside pytest's private (0700) folders, for the other user
    try:
        os.chmod(outputs, 0o755)
        monkeypatch.setenv("CSP_OUTPUTS_DIR", str(outputs / "outputs"))
        _notebook(
            project / "notebooks" / "00_ok.ipynb",
            "import pathlib\npathlib.Path(output_dir, 'tables').mkdir(exist_ok=True)\n"
            "pathlib.Path(output_dir, 'tables', '00-x.csv').write_text(borough)",
        )
        umask = os.umask(0o022)
        try:
            run(project / "params" / "th.yml", render_site=True, engine="smalldocs")
            written = atomic_write_text(outputs / "atomic.txt", "x")
        finally:
            os.umask(umask)
        assert stat.S_IMODE(written.stat().st_mode) == 0o644
        pack = (outputs / "outputs" / "th").resolve()
        modes = {p.relative_to(pack).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [pack, *pack.rglob("*")]}
        wrong = {path: oct(mode) for path, mode in modes.items() if mode != (0o755 if path == "." else 0o644)}
        wrong = {p: m for p, m in wrong.items() if not ((pack / p).is_dir() and m == "0o755")}
        assert not wrong and "manifest.json" in modes and "site/index.html" in modes
        if os.geteuid() == 0:  # read the site as a web server's user would
            page = outputs / "outputs" / "th" / "site" / "index.html"
            pid = os.fork()
            if pid == 0:  # the child: drop to 'nobody', read, and say how it went in the exit code
                try:
                    os.setgid(65534)
                    os.setuid(65534)
                    with open(page, encoding="utf-8") as fh:
                        os._exit(0 if "Tower Hamlets" in fh.read() else 2)
                except BaseException:
                    os._exit(1)
            assert os.waitpid(pid, 0)[1] == 0, f"user nobody cannot read {page}"
    finally:
        shutil.rmtree(outputs, ignore_errors=True)


def test_an_unreadable_mirror_or_raw_file_is_a_message_naming_it(tmp_path, monkeypatch, capsys):
    from csp_evidence.data import fetch as fetching
    from csp_evidence.data.sources import SOURCES

    first = SOURCES[0]
    (tmp_path / "data").mkdir()
    shutil.copy2(ROOT / "data" / "sources.lock", tmp_path / "data" / "sources.lock")
    mirror = tmp_path / "mirror"
    (mirror / first.file).parent.mkdir(parents=True)
    (mirror / first.file).write_text("locked bytes")
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))

    def unreadable(source, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(source))

    with monkeypatch.context() as patch:
        patch.setattr(fetching.shutil, "copyfile", unreadable)
        assert main(["fetch", "--mirror", str(mirror)]) == 1
    err = capsys.readouterr().err
    assert "csp fetch failed:" in err and str(mirror / first.file) in err and "Permission denied" in err

    raw = tmp_path / "data" / "raw" / first.file
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text("present")
    monkeypatch.setattr(fetching, "sha256_of", unreadable)
    assert main(["fetch", "--mirror", str(mirror)]) == 1
    err = capsys.readouterr().err
    assert "csp fetch failed:" in err and str(raw) in err and "Permission denied" in err


def test_a_params_file_that_cannot_be_read_is_a_message_naming_it(tmp_path, capsys):
    too_long = tmp_path / ("x" * 300 + ".yml")
    assert main(["run", "--params", str(too_long)]) == 1
    assert f"csp run failed: params file {too_long} cannot be read (File name too long)" in capsys.readouterr().err
    latin1 = tmp_path / "latin1.yml"
    latin1.write_bytes("borough: Hackn\xe9y\n".encode("latin-1"))
    assert main(["run", "--params", str(latin1)]) == 1
    assert f"csp run failed: {latin1}: not UTF-8 text" in capsys.readouterr().err


def test_a_full_disk_while_the_site_is_staged_is_a_message_and_the_pack_is_intact(project, monkeypatch, capsys):
    from csp_evidence.website import render as rendering

    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    params = project / "params" / "th.yml"
    run(params)
    target = project / "outputs" / "th"
    before = _contents(target)
    copy2 = shutil.copy2

    def disk_full(src, dst, *args, **kwargs):
        if ".site-build-" in str(dst):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return copy2(src, dst, *args, **kwargs)

    monkeypatch.setattr(rendering.shutil, "copy2", disk_full)
    assert main(["render", "--params", str(params), "--engine", "smalldocs"]) == 1
    err = capsys.readouterr().err
    assert "csp render failed: could not stage the site:" in err and "00_ok.ipynb: No space left on device" in err
    assert _contents(target) == before and not (target / "site").exists()
    assert not list((project / "outputs").glob(".staging-*"))
    assert json.loads((target / "manifest.json").read_text())["notebooks"]
