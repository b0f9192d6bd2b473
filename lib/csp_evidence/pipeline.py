"""Execute the chapter notebooks with papermill for one params file, and publish the run atomically.

A run is built in a staging folder beside ``outputs/<run>/`` and moved into place only when every
notebook has run (and, for a pack, the site has been built): a failed or interrupted run never touches
the last good pack. A failed run's folder, with the partly executed notebook, is kept under
``outputs/failed/`` for debugging. A lock file stops two runs from writing the same output folder at once.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from . import datasets, geo
from .params import Params, check_against_data, load_params
from .sources import project_dir


class RunError(RuntimeError):
    """A run could not complete; the message names the run, notebook and cell."""


@dataclass
class RunResult:
    """Where a finished run's outputs are, and the notebooks it executed."""

    params: Params
    run_dir: Path
    notebooks: list[str] = field(default_factory=list)
    site: Path | None = None


def notebook_paths(names: Sequence[str] | None = None) -> list[Path]:
    """The chapter notebooks in reading order (all of notebooks/*.ipynb, or those named)."""
    folder = project_dir() / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if names is None:
        return found
    by_name = {p.stem: p for p in found} | {p.name: p for p in found}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise RunError(f"unknown notebook(s) {unknown}; available: {', '.join(p.stem for p in found)}")
    return [by_name[n] for n in names]


def outputs_dir() -> Path:
    return Path(os.environ.get("CSP_OUTPUTS_DIR") or project_dir() / "outputs")


def prepare(params: Params) -> None:
    """Check the params against the data, and build the shared tidy tables once (cached as parquet)."""
    crime = datasets.recorded_crime()
    check_against_data(params, crime["month"].unique(), "MPS recorded crime (CRIS-era extracts)", geo.mps_boroughs())
    datasets.population()
    datasets.recorded_crime_extract_2020()


def _execute(notebook: Path, stage: Path, params: Params) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = stage / "notebooks" / notebook.name
    parameters = params.notebook_parameters() | {"output_dir": str(stage)}
    try:
        pm.execute_notebook(
            str(notebook), str(out), parameters=parameters, cwd=str(notebook.parent),
            progress_bar=False, kernel_name="python3", log_output=False,
        )
    except PapermillExecutionError as exc:
        raise RunError(
            f"run {params.name!r}: notebook {notebook.name} failed in cell {exc.exec_count} "
            f"({exc.ename}: {exc.evalue})"
        ) from exc


def _keep_failed(stage: Path, params: Params) -> Path:
    failed = outputs_dir() / "failed" / f"{params.name}-{dt.datetime.now():%Y%m%dT%H%M%S}"
    failed.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(stage), failed)
    return failed


def _publish(stage: Path, target: Path) -> None:
    """Swap the staged run into place: rename the old pack aside, the new one in, then delete the old."""
    old = target.parent / f".old-{target.name}-{stage.name}"
    if target.exists():
        target.rename(old)
    stage.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def run(
    params_path: str | Path,
    notebooks: Sequence[str] | None = None,
    *,
    render_site: bool = False,
    engine: str = "auto",
    jobs: int = 2,
    on_notebook_done: Callable[[str], None] | None = None,
) -> RunResult:
    """Execute the notebooks for one params file into outputs/<run>/ (and render the site when asked)."""
    params = load_params(params_path)
    prepare(params)
    paths = notebook_paths(notebooks)
    root = outputs_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / params.name
    lock = FileLock(str(root / f".{params.name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(
            f"another run is already building {target} (lock {lock.lock_file}); wait for it to finish"
        ) from None
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".staging-{params.name}-", dir=root))
        (stage / "notebooks").mkdir()
        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = {pool.submit(_execute, nb, stage, params): nb for nb in paths}
                for future, nb in futures.items():
                    future.result()
                    if on_notebook_done:
                        on_notebook_done(nb.stem)
            if notebooks is not None and target.is_dir():
                _carry_over(target, stage, {p.name for p in paths})
            result = RunResult(params, target, [p.stem for p in paths])
            if render_site:
                from .render import render

                render(stage, params.display_title, engine=engine)
                result.site = target / "site"
            elif (target / "site").is_dir():
                shutil.copytree(target / "site", stage / "site")
        except BaseException as exc:  # includes KeyboardInterrupt: nothing half-written is published
            if isinstance(exc, RunError):
                kept = _keep_failed(stage, params)
                raise RunError(f"{exc}\nThe partly executed run is kept in {kept}; {target} is unchanged.") from exc
            shutil.rmtree(stage, ignore_errors=True)
            raise
        _publish(stage, target)
        return result
    finally:
        lock.release()


def _carry_over(previous: Path, stage: Path, executed: set[str]) -> None:
    """When only some notebooks were run, keep the other chapters' outputs from the previous run."""
    for nb in (previous / "notebooks").glob("*"):
        if nb.name.split(".")[0] + ".ipynb" not in executed and not (stage / "notebooks" / nb.name).exists():
            shutil.copy2(nb, stage / "notebooks" / nb.name)
    for folder in ("tables", "figures"):
        for f in (previous / folder).glob("*") if (previous / folder).is_dir() else []:
            dest = stage / folder / f.name
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dest)
