"""The run's guarantees: a failing notebook is named, kept for debugging, and never replaces the last good pack."""

import os
import signal

import nbformat
import pytest
import yaml
from conftest import ROOT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from csp_evidence.runner.pipeline import RunError, run
from csp_evidence.runner.publish import PACKS, publish

_publish = publish

pytestmark = pytest.mark.realdata


def site_config_without_chapters(path):
    """The project's _quarto.yml declaring no chapter notebooks: a test project has its own."""
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    config["project"]["render"] = [p for p in config["project"]["render"] if not p.endswith(".ipynb")]
    sidebar = config["website"]["sidebar"]
    sidebar["contents"] = [i for i in sidebar["contents"] if not i["href"].endswith(".ipynb")]
    path.write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture
def project(tmp_path, monkeypatch, fetched):
    """A project sharing the real data/ but with its own notebooks and outputs."""
    for shared in ("data", "site"):
        (tmp_path / shared).symlink_to(ROOT / shared)
    site_config_without_chapters(tmp_path / "_quarto.yml")
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "th.yml").write_text((ROOT / "params" / "tower-hamlets.yml").read_text())
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("CSP_OUTPUTS_DIR", str(tmp_path / "outputs"))
    return tmp_path


@pytest.fixture
def swap(tmp_path):
    """A published pack and a staged run beside it, as `_publish` finds them."""
    target, stage = tmp_path / "th", tmp_path / ".staging-th"
    for folder, text in ((target, "old"), (stage, "new")):
        (folder / "notebooks").mkdir(parents=True)
        (folder / "notebooks" / f"{text}.ipynb").write_text(text)
    return target, stage


def _notebook(path, *sources):
    """A minimal chapter: a parameters cell, then the given code cells."""
    nb = new_notebook(cells=[new_markdown_cell("# A chapter"), new_code_cell('borough = "x"\noutput_dir = "."')])
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.cells.extend(new_code_cell(s) for s in sources)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_failing_notebook_is_named_kept_and_last_pack_untouched(project):
    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    run(project / "params" / "th.yml")
    published = project / "outputs" / "th"
    before = sorted(p.name for p in (published / "notebooks").iterdir())
    assert before == ["00_ok.ipynb"]

    _notebook(project / "notebooks" / "01_bad.ipynb", "x = 1", "raise ValueError('planted failure')")
    with pytest.raises(RunError) as err:
        run(project / "params" / "th.yml")
    message = str(err.value)
    assert "01_bad.ipynb" in message and "planted failure" in message and "cell" in message
    assert sorted(p.name for p in (published / "notebooks").iterdir()) == before
    failed = list((project / "outputs" / "failed").glob("th-*/notebooks/01_bad.ipynb"))
    assert len(failed) == 1
    kept = nbformat.read(failed[0], as_version=4)
    assert any(o.get("ename") == "ValueError" for c in kept.cells if c.cell_type == "code" for o in c.outputs)
    assert not list((project / "outputs").glob(".staging-*"))


def test_a_notebook_whose_kernel_dies_is_named_with_its_cell(project):
    _notebook(project / "notebooks" / "00_dies.ipynb", "x = 1", "import os\nos.kill(os.getpid(), 9)", "y = 2")
    with pytest.raises(RunError) as err:
        run(project / "params" / "th.yml")
    message = str(err.value)
    # cells: title, parameters, injected parameters, x = 1, the fatal one
    assert "00_dies.ipynb could not run at cell 5 of 6 (`import os`)" in message and "DeadKernelError" in message
    assert list((project / "outputs" / "failed").glob("th-*/notebooks/00_dies.ipynb"))


def test_a_second_run_on_the_same_output_refuses(project):
    from filelock import FileLock

    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    (project / "outputs").mkdir()
    with FileLock(str(project / "outputs" / ".th.lock")):
        with pytest.raises(RunError, match="another run is already building"):
            run(project / "params" / "th.yml")


def test_unchanged_inputs_reuse_outputs_and_changes_re_execute(project):
    nb = project / "notebooks" / "00_ok.ipynb"
    _notebook(
        nb,
        "import pathlib\npathlib.Path(output_dir, 'tables').mkdir(exist_ok=True)\n"
        "pathlib.Path(output_dir, 'tables', '00-x.csv').write_text(borough)",
    )
    params = project / "params" / "th.yml"
    first = run(params)
    assert first.notebooks == ["00_ok"] and first.reused == []
    second = run(params)
    assert second.notebooks == [] and second.reused == ["00_ok"]
    assert (project / "outputs" / "th" / "tables" / "00-x.csv").read_text() == "Tower Hamlets"
    params.write_text(params.read_text().replace("Tower Hamlets", "Hackney"))
    third = run(params)
    assert third.notebooks == ["00_ok"]
    assert (project / "outputs" / "th" / "tables" / "00-x.csv").read_text() == "Hackney"
    _notebook(nb, "print('changed')")
    assert run(params).notebooks == ["00_ok"]
    assert run(params, force=True).notebooks == ["00_ok"]


def test_a_run_that_changes_nothing_leaves_the_published_pack_as_it_is(project):
    # nothing to execute and nothing to change: the same version stays published, no new one is written
    _notebook(project / "notebooks" / "00_a.ipynb", "print('A')")
    params = project / "params" / "th.yml"
    run(params)
    published = os.readlink(project / "outputs" / "th")
    again = run(params)
    assert again.reused == ["00_a"] and again.notebooks == []
    assert os.readlink(project / "outputs" / "th") == published
    assert sorted(p.name for p in (project / "outputs").iterdir() if not p.name.endswith(".lock")) == [PACKS, "th"]
    (project / "notebooks" / "00_a.ipynb").unlink()
    _notebook(project / "notebooks" / "00_a.ipynb", "print('B')")  # a change: a new version is published
    assert run(params).notebooks == ["00_a"] and os.readlink(project / "outputs" / "th") != published


def test_an_output_edited_since_its_run_is_rebuilt_not_reused(project):
    # e.g. a published table opened and saved in a spreadsheet: the next run must not carry it as the notebook's
    nb = project / "notebooks" / "00_ok.ipynb"
    _notebook(
        nb,
        "import pathlib\npathlib.Path(output_dir, 'tables').mkdir(exist_ok=True)\n"
        "pathlib.Path(output_dir, 'tables', '00-x.csv').write_text(borough)",
    )
    params = project / "params" / "th.yml"
    run(params)
    table = project / "outputs" / "th" / "tables" / "00-x.csv"
    table.write_text("edited by hand")
    again = run(params)
    assert again.notebooks == ["00_ok"] and again.reused == []
    assert table.read_text() == "Tower Hamlets"


def test_a_kept_failed_run_shares_no_file_with_the_published_pack(project):
    _notebook(
        project / "notebooks" / "00_ok.ipynb",
        "import pathlib\n"
        "pathlib.Path(output_dir, 'tables').mkdir(exist_ok=True)\n"
        "pathlib.Path(output_dir, 'tables', '00-x.csv').write_text(borough)",
    )
    run(project / "params" / "th.yml")
    _notebook(project / "notebooks" / "01_bad.ipynb", "raise ValueError('planted failure')")
    with pytest.raises(RunError):
        run(project / "params" / "th.yml")
    kept = next((project / "outputs" / "failed").glob("th-*/tables/00-x.csv"))  # reused from the pack
    kept.write_text("edited while debugging")
    assert (project / "outputs" / "th" / "tables" / "00-x.csv").read_text() == "Tower Hamlets"


def test_a_run_that_changes_nothing_keeps_the_site_and_a_changed_one_drops_it(project):
    from csp_evidence.runner.pipeline import render_published

    nb = project / "notebooks" / "00_ok.ipynb"
    _notebook(nb, "print(borough)")
    params = project / "params" / "th.yml"
    site = project / "outputs" / "th" / "site" / "index.html"
    run(params, render_site=True, engine="smalldocs")
    assert site.is_file()
    assert run(params, engine="smalldocs").reused == ["00_ok"] and site.is_file()  # `csp run`, nothing changed
    _notebook(nb, "print('changed', borough)")
    run(params, engine="smalldocs")
    assert not site.exists()  # a site of the old notebook would disagree with the new one
    render_published(params, engine="smalldocs")  # `csp render`
    assert site.is_file()
    assert run(params, engine="smalldocs").reused == ["00_ok"] and site.is_file()


def test_render_after_an_interrupted_publish_renders_the_last_good_pack(project):
    from csp_evidence.runner.pipeline import render_published

    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    params = project / "params" / "th.yml"
    run(params, engine="smalldocs")
    published = project / "outputs" / "th"
    executed = (published / "notebooks" / "00_ok.ipynb").read_bytes()
    published.unlink()  # killed between removing the old link and making the new one
    site = render_published(params, engine="smalldocs")
    assert site.joinpath("index.html").is_file() and published.is_symlink()
    assert (published / "notebooks" / "00_ok.ipynb").read_bytes() == executed


def test_ctrl_c_while_publishing_is_held_until_the_new_pack_is_published(swap, monkeypatch):
    target, stage = swap
    tmp_path = target.parent
    rename = os.rename

    def rename_then_ctrl_c(src, dst):  # Ctrl-C just after each rename of the swap
        done = rename(src, dst)
        os.kill(os.getpid(), signal.SIGINT)
        return done

    monkeypatch.setattr(os, "rename", rename_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        _publish(stage, target)
    assert (target / "notebooks" / "new.ipynb").read_text() == "new"  # the new pack is in place
    assert sorted(p.name for p in tmp_path.iterdir()) == [PACKS, "th"]  # the old one gone, nothing left aside
    assert len(list((tmp_path / PACKS).iterdir())) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_held_ctrl_c_goes_to_the_handler_that_was_there(tmp_path, monkeypatch):
    # A batch worker's own handler only sets a flag: a Ctrl-C held while publishing must reach it, not become
    # a KeyboardInterrupt; an ignored Ctrl-C stays ignored.

    rename = os.rename

    def rename_then_ctrl_c(src, dst):
        done = rename(src, dst)
        os.kill(os.getpid(), signal.SIGINT)
        return done

    seen = []
    for handler in (lambda signum, frame: seen.append(signum), signal.SIG_IGN):
        stage, target = tmp_path / f".staging-{len(seen)}", tmp_path / "th"
        (stage / "notebooks").mkdir(parents=True)
        previous = signal.signal(signal.SIGINT, handler)
        try:
            with monkeypatch.context() as patch:
                patch.setattr(os, "rename", rename_then_ctrl_c)
                _publish(stage, target)
            assert signal.getsignal(signal.SIGINT) is handler
        except KeyboardInterrupt:
            pytest.fail("a Ctrl-C held while publishing became a KeyboardInterrupt despite the handler in place")
        finally:
            signal.signal(signal.SIGINT, previous)
        assert (target / "notebooks").is_dir()
    assert seen == [signal.SIGINT]  # the first publish has one rename (no old pack): held, then handed over once


def test_a_failed_swap_of_the_link_leaves_the_old_pack_published(swap, monkeypatch):
    target, stage = swap
    tmp_path = target.parent
    replace = os.replace

    def fail_on_link(src, dst):
        if ".link-" in os.fspath(src):
            raise PermissionError("a file in the pack is open elsewhere")
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_link)
    with pytest.raises(PermissionError):
        _publish(stage, target)
    assert (target / "notebooks" / "old.ipynb").read_text() == "old"  # still published
    assert (stage / "notebooks" / "new.ipynb").read_text() == "new"  # the run is back where it was staged
    assert sorted(p.name for p in tmp_path.iterdir()) == [PACKS, ".staging-th", "th"]  # no temporary link left


def test_interrupted_run_publishes_nothing(project, monkeypatch):
    from csp_evidence.runner import pipeline

    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    run(project / "params" / "th.yml")
    published = project / "outputs" / "th" / "notebooks" / "00_ok.ipynb"
    before = published.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(project / "params" / "th.yml", force=True)
    assert published.read_bytes() == before
    assert not list((project / "outputs").glob(".staging-*"))


def test_corrupt_source_stops_the_run_and_keeps_the_pack(tmp_path, monkeypatch, fetched):
    """A source file changed after the last good pack: the run refuses, naming the file; the pack stays."""
    import shutil

    (tmp_path / "site").symlink_to(ROOT / "site")
    site_config_without_chapters(tmp_path / "_quarto.yml")
    shutil.copytree(ROOT / "data", tmp_path / "data", ignore=shutil.ignore_patterns("interim"))
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "th.yml").write_text((ROOT / "params" / "tower-hamlets.yml").read_text())
    (tmp_path / "notebooks").mkdir()
    _notebook(tmp_path / "notebooks" / "00_ok.ipynb", "print(borough)")
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("CSP_OUTPUTS_DIR", str(tmp_path / "outputs"))
    monkeypatch.delenv("CSP_DATA_MIRROR", raising=False)
    from csp_evidence.data import datasets
    from csp_evidence.data.fetch import FetchError

    for cached in (
        datasets.recorded_crime,
        datasets.borough_lookup,
        datasets.population,
        datasets.recorded_crime_extract_2020,
    ):
        cached.cache_clear()
    run(tmp_path / "params" / "th.yml")
    published = tmp_path / "outputs" / "th" / "notebooks" / "00_ok.ipynb"
    before = published.read_bytes()
    raw = tmp_path / "data" / "raw" / "mps" / "mps_borough_crime_recent_202202_202401.csv"
    raw.write_bytes(raw.read_bytes()[:-1000])  # truncated
    for cached in (datasets.recorded_crime, datasets.borough_lookup):
        cached.cache_clear()
    try:
        with pytest.raises(FetchError, match="mps_borough_crime_recent_202202_202401.csv.*does not match the lock"):
            run(tmp_path / "params" / "th.yml", force=True)
        assert published.read_bytes() == before
    finally:
        for cached in (
            datasets.recorded_crime,
            datasets.borough_lookup,
            datasets.population,
            datasets.recorded_crime_extract_2020,
        ):
            cached.cache_clear()


def test_partial_run_then_full_run_re_executes_a_changed_notebook(project):
    """A notebook changed but left out of a partial run must run in the next full run (its old key is kept)."""
    a, b = project / "notebooks" / "00_a.ipynb", project / "notebooks" / "01_b.ipynb"
    _notebook(a, "print('A')")
    _notebook(b, "print('B v1')")
    params = project / "params" / "th.yml"
    run(params)
    _notebook(b, "print('B v2')")
    assert run(params, ["00_a"]).reused == ["00_a", "01_b"]  # 01_b not selected: old outputs carried over
    full = run(params)
    assert full.notebooks == ["01_b"] and full.reused == ["00_a"]
    published = nbformat.read(project / "outputs" / "th" / "notebooks" / "01_b.ipynb", as_version=4)
    assert "B v2" in "".join(o.get("text", "") for c in published.cells if c.cell_type == "code" for o in c.outputs)


def test_partial_run_re_executes_an_unselected_notebook_whose_output_was_edited(project):
    # `--notebook 01_b` must not publish a pack without 00_a because one of 00_a's tables was edited
    a, b = project / "notebooks" / "00_a.ipynb", project / "notebooks" / "01_b.ipynb"
    _notebook(
        a,
        "import pathlib\npathlib.Path(output_dir, 'tables').mkdir(exist_ok=True)\n"
        "pathlib.Path(output_dir, 'tables', '00-x.csv').write_text(borough)",
    )
    _notebook(b, "print('B')")
    params = project / "params" / "th.yml"
    run(params)
    table = project / "outputs" / "th" / "tables" / "00-x.csv"
    table.write_text("edited")
    progress = []
    partial = run(params, ["01_b"], on_notebook_done=lambda name, how: progress.append((name, how)))
    assert partial.notebooks == ["00_a"] and partial.reused == ["01_b"]
    assert progress == [("01_b", "reused")]  # progress counts the notebooks asked for, and only those
    assert table.read_text() == "Tower Hamlets"
    notebooks = project / "outputs" / "th" / "notebooks"
    assert sorted(p.name for p in notebooks.glob("*.ipynb")) == ["00_a.ipynb", "01_b.ipynb"]
    (project / "outputs" / "th" / "manifest.json").unlink()  # lost: nothing can be reused, nothing is dropped
    assert sorted(run(params, ["01_b"]).notebooks) == ["00_a", "01_b"]
    assert sorted(p.name for p in notebooks.glob("*.ipynb")) == ["00_a.ipynb", "01_b.ipynb"]
    _notebook(project / "notebooks" / "02_new.ipynb", "print('new')")  # never run: a partial run leaves it out
    assert run(params, ["01_b"]).notebooks == [] and not (notebooks / "02_new.ipynb").exists()


def test_a_manifest_without_digests_is_still_reused(project):
    # packs published before the manifest kept digests: their outputs are trusted if present, as they were then
    import json

    a, b = project / "notebooks" / "00_a.ipynb", project / "notebooks" / "01_b.ipynb"
    _notebook(a, "print('A')")
    _notebook(b, "print('B')")
    params = project / "params" / "th.yml"
    run(params)
    manifest_path = project / "outputs" / "th" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest["notebooks"].values():
        entry["files"] = sorted(entry["files"])
    manifest_path.write_text(json.dumps(manifest))
    partial = run(params, ["01_b"])
    assert partial.reused == ["00_a", "01_b"] and partial.notebooks == []
    assert isinstance(json.loads(manifest_path.read_text())["notebooks"]["00_a"]["files"], dict)


def test_a_site_is_kept_only_while_it_shows_the_published_outputs(project, monkeypatch):
    from csp_evidence.runner import pipeline
    from csp_evidence.runner.manifest import read_manifest
    from csp_evidence.runner.pipeline import render_published

    _notebook(
        project / "notebooks" / "00_a.ipynb",
        "import pathlib\n"
        "pathlib.Path(output_dir, 'tables').mkdir(exist_ok=True)\n"
        "pathlib.Path(output_dir, 'tables', '00-x.csv').write_text(borough)",
    )
    params = project / "params" / "th.yml"
    run(params, render_site=True, engine="smalldocs")
    table, site = project / "outputs" / "th" / "tables" / "00-x.csv", project / "outputs" / "th" / "site"
    table.write_text("edited")
    render_published(params, engine="smalldocs")  # a site showing the edited table
    table.write_text("Tower Hamlets")  # the table as the notebook wrote it: the notebook is reused...
    assert run(params, engine="smalldocs").reused == ["00_a"]
    assert not site.exists()  # ...but the site showed other bytes, so it is not kept
    render_published(params, engine="smalldocs")
    assert run(params, engine="smalldocs").reused == ["00_a"] and site.is_dir()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "render", crash)  # the renderer as the pipeline calls it
    before = read_manifest(project / "outputs" / "th")
    with pytest.raises(KeyboardInterrupt):
        render_published(params, engine="smalldocs")  # stopped mid-render: the pack and its site are unchanged
    assert read_manifest(project / "outputs" / "th") == before and (site / "index.html").is_file()
    assert not list((project / "outputs").glob(".staging-*"))


def test_run_refuses_a_name_that_cannot_name_a_pack_folder(project):
    import dataclasses

    from csp_evidence.core.params import ParamsError, load_params

    params = load_params(project / "params" / "th.yml")
    for name in ("", "../elsewhere", "London", ".hidden"):
        with pytest.raises(ParamsError, match="run name"):
            run(dataclasses.replace(params, name=name))
    assert not (project / "outputs").exists()


def test_ctrl_c_stops_running_notebooks_at_once_and_starts_no_more(project):
    # Ctrl-C during `csp run`: the running notebooks are interrupted in their kernels, queued ones never
    # start, nothing is published and no kernel is left running.
    import subprocess
    import sys
    import time

    for i in range(4):
        _notebook(
            project / "notebooks" / f"0{i}_slow.ipynb",
            f"open('started-{i}', 'w').close()",
            "import time; time.sleep(60)",
        )
    env = os.environ | {"CSP_PROJECT_DIR": str(project), "CSP_OUTPUTS_DIR": str(project / "outputs")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csp_evidence.cli",
            "run",
            "--params",
            str(project / "params" / "th.yml"),
            "--jobs",
            "2",
        ],
        env=env,
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while len(list((project / "notebooks").glob("started-*"))) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert len(list((project / "notebooks").glob("started-*"))) == 2
    proc.send_signal(signal.SIGINT)
    interrupted = time.time()
    try:
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert time.time() - interrupted < 15  # not the 60 s the running cells would take
    assert len(list((project / "notebooks").glob("started-*"))) == 2  # the queued two never started
    assert proc.returncode != 0
    assert not (project / "outputs" / "th").exists()
    assert not list((project / "outputs").glob(".staging-*"))
    kernels = subprocess.run(["pgrep", "-f", "ipykernel_launcher"], capture_output=True, text=True).stdout.split()
    children = [
        pid
        for pid in kernels
        if os.path.exists(f"/proc/{pid}")
        and str(project) in open(f"/proc/{pid}/environ", "rb").read().decode(errors="ignore")
    ]
    assert children == []
