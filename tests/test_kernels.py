"""Warm kernels: notebooks run one after another on one kernel must not see each other's state."""

from __future__ import annotations

import json

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError

from csp_evidence.runner.kernels import KernelPool, WarmKernel


def _notebook(path, *cells: str):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("label = 'default'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _outputs(path) -> list[str]:
    nb = json.loads(path.read_text())
    return ["".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


@pytest.fixture
def kernel():
    k = WarmKernel()
    yield k
    k.close()


def test_second_notebook_gets_a_fresh_session_on_the_same_kernel(tmp_path, kernel):
    messy = _notebook(
        tmp_path / "messy.ipynb",
        "import os, warnings, matplotlib\n"
        "left_behind = 42\n"
        "matplotlib.rcParams['lines.linewidth'] = 9.0\n"
        "warnings.simplefilter('error')\n"
        "os.environ['CSP_LEFT_BEHIND'] = '1'\n"
        "import sys; sys.path.insert(0, '/nowhere')\n"
        "import pandas; pandas.set_option('display.max_rows', 3)\n"
        "os.chdir('/')",
    )
    check = _notebook(
        tmp_path / "check.ipynb",
        "import os, sys, warnings, matplotlib, pandas\n"
        "print('left_behind' in globals(), matplotlib.rcParams['lines.linewidth'], "
        "warnings.filters[0][0] == 'error', os.getcwd() == START, label, 'CSP_LEFT_BEHIND' in os.environ, "
        "'/nowhere' in sys.path, pandas.get_option('display.max_rows'))",
    )
    env = {"CSP_TEST": "1"}
    kernel.execute(messy, tmp_path / "messy-out.ipynb", {"label": "first"}, cwd=tmp_path, env=env)
    # START is injected as a parameter: the folder the kernel started in
    kernel.execute(
        check, tmp_path / "check-out.ipynb", {"label": "second", "START": str(tmp_path)}, cwd=tmp_path, env=env
    )
    assert _outputs(tmp_path / "check-out.ipynb") == ["False 1.5 False True second False False 60\n"]
    assert kernel.starts == 1
    counts = [
        c["execution_count"]
        for c in json.loads((tmp_path / "check-out.ipynb").read_text())["cells"]
        if c["cell_type"] == "code"
    ]
    assert counts == list(range(1, len(counts) + 1))  # numbered as in a fresh kernel


def test_a_failing_notebook_discards_the_kernel_and_the_next_starts_fresh(tmp_path, kernel):
    failing = _notebook(tmp_path / "failing.ipynb", "state = 'dirty'", "raise ValueError('planted failure')")
    check = _notebook(tmp_path / "check.ipynb", "print('state' in globals())")
    env = {"CSP_TEST": "1"}
    with pytest.raises(PapermillExecutionError, match="planted failure") as err:
        kernel.execute(failing, tmp_path / "failing-out.ipynb", {}, cwd=tmp_path, env=env)
    assert err.value.exec_count == 3  # papermill still names the cell (after the injected parameters)
    assert kernel.km is None
    kernel.execute(check, tmp_path / "check-out.ipynb", {}, cwd=tmp_path, env=env)
    assert _outputs(tmp_path / "check-out.ipynb") == ["False\n"]
    assert kernel.starts == 2


def test_another_folder_or_project_setting_gets_another_kernel(tmp_path, kernel):
    nb = _notebook(tmp_path / "nb.ipynb", "import os; print(os.environ.get('CSP_PROJECT_DIR'))")
    other = tmp_path / "other"
    other.mkdir()
    kernel.execute(nb, tmp_path / "a.ipynb", {}, cwd=tmp_path, env={"CSP_PROJECT_DIR": "one", "UNRELATED": "x"})
    kernel.execute(nb, tmp_path / "b.ipynb", {}, cwd=tmp_path, env={"CSP_PROJECT_DIR": "one", "UNRELATED": "y"})
    assert kernel.starts == 1  # unrelated variables do not restart it
    kernel.execute(nb, tmp_path / "c.ipynb", {}, cwd=tmp_path, env={"CSP_PROJECT_DIR": "two"})
    kernel.execute(nb, tmp_path / "d.ipynb", {}, cwd=other, env={"CSP_PROJECT_DIR": "two"})
    assert kernel.starts == 3
    assert _outputs(tmp_path / "c.ipynb") == ["two\n"]
    kernel.execute(nb, tmp_path / "e.ipynb", {}, cwd=other, env={"CSP_PROJECT_DIR": "two"}, key="new library")
    assert kernel.starts == 4  # the pipeline's key (library and locked data) changed


def test_a_dying_kernel_fails_the_notebook_keeps_it_and_the_next_starts_fresh(tmp_path, kernel):
    dying = _notebook(tmp_path / "dying.ipynb", "print('ran before the crash')", "import os; os._exit(1)")
    with pytest.raises(Exception) as err:
        kernel.execute(dying, tmp_path / "dying-out.ipynb", {}, cwd=tmp_path, env={})
    assert "DeadKernel" in type(err.value).__name__ or "died" in str(err.value).lower()
    assert _outputs(tmp_path / "dying-out.ipynb") == ["ran before the crash\n"]  # the partial notebook is kept
    check = _notebook(tmp_path / "check.ipynb", "print('fine')")
    kernel.execute(check, tmp_path / "check-out.ipynb", {}, cwd=tmp_path, env={})
    assert _outputs(tmp_path / "check-out.ipynb") == ["fine\n"]
    assert kernel.starts == 2


def test_a_hung_cell_times_out(tmp_path, kernel, monkeypatch):
    from nbclient.exceptions import CellTimeoutError

    from csp_evidence.runner import kernels

    monkeypatch.setattr(kernels, "CELL_TIMEOUT", 2)
    hung = _notebook(tmp_path / "hung.ipynb", "import time; time.sleep(60)")
    with pytest.raises(CellTimeoutError):
        kernel.execute(hung, tmp_path / "hung-out.ipynb", {}, cwd=tmp_path, env={})


def test_pool_lends_each_kernel_to_one_thread_at_a_time():
    with KernelPool(2) as pool:
        with pool.kernel() as first, pool.kernel() as second:
            assert first is not second
        with pool.kernel() as again:
            assert again in pool.kernels
