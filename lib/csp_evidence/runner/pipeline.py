"""Execute the chapter notebooks with papermill for one params file, and publish the run atomically.

A run is built in a staging folder beside ``outputs/<run>/`` and published only when every notebook has run
(and, for a pack, the site has been built), by one atomic rename of the link ``outputs/<run>`` (``publish``): a
failed, interrupted or killed run never touches the last good pack. A failed run's folder, with the partly
executed notebook, is kept under ``outputs/failed/`` for debugging. A lock file stops two runs from writing the
same output folder at once. The chapters are those the site's ``_quarto.yml`` lists: a missing one is an error.
Notebooks run on warm kernels (``kernels``): one kernel per parallel job executes notebook after notebook,
reset to a fresh session before each, instead of a kernel started and imports repeated for every notebook.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from csp_evidence.core.files import atomic_write
from csp_evidence.core.params import (
    Params,
    ParamsError,
    check_against_data,
    load_params,
    reserved_run_name,
)
from csp_evidence.core.paths import notebooks_dir, outputs_dir, quarto_config
from csp_evidence.data import datasets, geo
from csp_evidence.report.published import negative_figures
from csp_evidence.runner import area_packs
from csp_evidence.runner.kernels import KernelPool
from csp_evidence.runner.manifest import (
    Carried,
    carry_over,
    inputs_key,
    link_or_copy,
    new_manifest,
    notebook_key,
    outputs_of,
    read_manifest,
    site_key,
    write_manifest,
)
from csp_evidence.runner.publish import (
    RunError,
    keep_failed,
    new_stage,
    publish,
    recover,
    release_lock,
    run_lock,
    tidy_outputs,
)
from csp_evidence.website.render import RenderError, declared_chapters, executed_notebooks, quarto_available, render

# Kernels run side by side, one per core: numerical libraries must not start a thread per core each, or
# their busy-waiting threads oversubscribe the machine (a chapter measured 12x slower that way).
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class RunResult:
    """Where a finished run's outputs are, and the notebooks it executed."""

    params: Params
    run_dir: Path
    notebooks: list[str] = field(default_factory=list)  # executed this time
    reused: list[str] = field(default_factory=list)  # unchanged inputs: outputs carried over
    site: Path | None = None


def notebook_paths(names: Sequence[str] | None = None) -> list[Path]:
    """The chapter notebooks in reading order (all of notebooks/*.ipynb, or those named).

    Every chapter the site's _quarto.yml lists must be there: a deleted notebook is an error naming it, never a
    pack published without its chapter."""
    folder = notebooks_dir()
    try:
        declared = declared_chapters()
    except RenderError as exc:
        raise RunError(str(exc)) from None
    missing = [name for name in declared if not (folder / name).is_file()]
    if missing:
        raise RunError(
            f"chapter notebook(s) {', '.join(missing)} listed in {quarto_config().name} are missing from {folder}: "
            "restore them (e.g. `git checkout notebooks/`), or take the chapter out of the site's configuration"
        )
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if names is None:
        return found
    by_name = {p.stem: p for p in found} | {p.name: p for p in found}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise RunError(f"unknown notebook(s) {unknown}; available: {', '.join(p.stem for p in found)}")
    return [by_name[n] for n in names]


def prepare(params: Params) -> None:
    """Check the params against the data, and build the shared tidy tables once (cached as parquet)."""
    if area_packs.is_area_pack(params):  # a CSP outside the MPS boroughs: its police.uk months must be locked
        try:
            area_packs.check_area_data(params)
        except ValueError as exc:
            raise RunError(f"run {params.name!r}: {exc}") from None
        return
    crime = datasets.recorded_crime()
    years = datasets.population()["year"]
    check_against_data(
        params,
        crime["month"].unique(),
        "MPS recorded crime (CRIS-era extracts)",
        geo.mps_boroughs(),
        population_years=(int(years.min()), int(years.max())),
    )
    datasets.recorded_crime_extract_2020()
    datasets.recorded_crime_connect()  # the CONNECT-era series, its revisions and each month's extract
    datasets.connect_revisions()
    datasets.connect_vintages()


def _execute(notebook: Path, stage: Path, params: Params, kernels: KernelPool, inputs: str) -> None:
    """Execute one notebook with papermill on a warm kernel from `kernels`; failures become a RunError.

    `inputs` is the run's `inputs_key()`: a kernel that served other library code or data is replaced.
    """
    from papermill.exceptions import PapermillExecutionError

    out = stage / "notebooks" / notebook.name
    parameters = params.notebook_parameters() | {"output_dir": str(stage)}
    try:
        with kernels.kernel() as kernel:
            kernel.execute(notebook, out, parameters, cwd=notebook.parent, key=inputs)
    except PapermillExecutionError as exc:
        raise RunError(
            f"run {params.name!r}: notebook {notebook.name} failed in cell {exc.exec_count} ({exc.ename}: {exc.evalue})"
        ) from exc
    except Exception as exc:  # a dead kernel, a missing kernel or parameters cell, an unreadable notebook
        raise RunError(
            f"run {params.name!r}: notebook {notebook.name} could not run{_stopped_at(out)} "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    _as_published(out, stage, outputs_dir() / params.name, notebook)


def _as_published(executed: Path, stage: Path, target: Path, notebook: Path) -> None:
    """Write the executed notebook as it is published: the staging folder (a random name) becomes the run's
    folder relative to notebooks/, papermill's input and output paths are relative to the project, and the
    injected cell has a fixed id, so the notebook holds no machine path and two builds of the same inputs give the
    same notebook (timings aside)."""
    import nbformat  # here, not at the top: its validator costs seconds of start-up a run that executes nothing

    nb = nbformat.read(executed, as_version=4)
    output_dir = Path(os.path.relpath(target, notebook.parent)).as_posix()
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace(str(stage), output_dir)
            cell.id = "injected-parameters"  # papermill gives the cell a random id
    run_info = nb.metadata.get("papermill", {})
    if "parameters" in run_info:
        run_info["parameters"]["output_dir"] = output_dir
    root = notebook.parents[1]
    for key, path in (("input_path", notebook), ("output_path", target / "notebooks" / notebook.name)):
        if key in run_info:
            run_info[key] = Path(os.path.relpath(path, root)).as_posix()
    atomic_write(executed, lambda tmp: nbformat.write(nb, str(tmp)))


def _stopped_at(executed: Path) -> str:
    """' at cell N of M (`its first line`)': the cell an executed notebook had reached when it stopped without a
    cell error (a dead kernel, a timeout), counting every cell of the executed copy (markdown and the injected
    parameters included; such a cell has no execution count); '' when there is no partly executed copy."""
    import nbformat

    try:
        cells = nbformat.read(executed, as_version=4).cells
    except Exception:  # nothing was written, or not a notebook: the error says the rest
        return ""
    started = [n for n, cell in enumerate(cells, 1) if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not started:
        return ""
    source = cells[started[-1] - 1].source
    first = next(
        (line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")), ""
    )
    return f" at cell {started[-1]} of {len(cells)} (`{first[:60]}`)"


def _engine(engine: str) -> str:
    if engine == "auto":
        return "quarto" if quarto_available() else "smalldocs"
    return engine


def render_published(params: Params | str | Path, engine: str = "auto") -> Path:
    """Build the site of the published run (`csp render`) and record which outputs it shows, so that a later run
    that changes nothing keeps it. The site is built in a new version of the pack (its other files hard-linked
    from the published one) and published whole: the pack and its site are never seen half-changed."""
    params = params if isinstance(params, Params) else load_params(params)
    target = outputs_dir() / params.name
    lock = run_lock(target)
    try:
        recover(target)  # first: an interrupted publish may have left the pack without its published link
        executed_notebooks(target)  # a run that was never executed: say so before making anything
        tidy_outputs(target.parent, params.name)
        engine = _engine(engine)
        stage = new_stage(target.parent, params.name)
        try:
            shutil.copytree(
                target,
                stage,
                ignore=lambda folder, names: [
                    n for n in names if n.startswith(".") or folder == str(target) and n == "site"
                ],
                copy_function=link_or_copy,
                dirs_exist_ok=True,
            )
            manifest = read_manifest(stage)
            manifest.pop("site_key", None)
            render(stage, params.display_title, engine=engine)
            if manifest.get("notebooks"):
                shown = {stem: outputs_of(stage, stem) for stem in manifest["notebooks"]}  # as the site shows them
                manifest["site_key"] = site_key(shown, params.display_title, engine)
            write_manifest(stage, manifest)
            publish(stage, target)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return target / "site"
    finally:
        release_lock(lock, target)


def _execute_all(
    to_run: Sequence[Path],
    stage: Path,
    params: Params,
    inputs: str,
    jobs: int,
    kernels: KernelPool | None,
    done: Callable[[str], None],
) -> None:
    """Execute `to_run` into `stage`, `jobs` at a time, on `kernels` (or on kernels started for these notebooks
    and shut down after them); `done(stem)` as each finishes, in order. On a failure or Ctrl-C queued notebooks
    never start and running ones stop at once."""
    own_kernels = kernels is None and bool(to_run)
    pool_of_kernels = KernelPool(min(max(1, jobs), len(to_run))) if own_kernels else kernels
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {
            pool.submit(_execute, nb, stage, params, cast(KernelPool, pool_of_kernels), inputs): nb for nb in to_run
        }
        for future, nb in futures.items():
            future.result()
            done(nb.stem)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        if pool_of_kernels is not None:
            pool_of_kernels.interrupt()
        raise
    finally:
        pool.shutdown(wait=True)
        if own_kernels and pool_of_kernels is not None:
            pool_of_kernels.shutdown()


def _check_figures(stage: Path, params: Params) -> None:
    """Refuse a run whose headline figures hold a count, rate, rank or p-value below zero (report.published)."""
    for path in sorted((stage / "notebooks").glob("*.json")):
        try:
            figures = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RunError(
                f"run {params.name!r}: notebook {path.stem} wrote headline figures that cannot be read ({exc})"
            ) from None
        bad = list(negative_figures(figures))
        if bad:
            raise RunError(
                f"run {params.name!r}: notebook {path.stem} gives {len(bad)} figure(s) that cannot be negative "
                f"({'; '.join(bad[:5])}): a fault in the data or the code, so the run is not published"
            )


def _finish_site(
    manifest: dict,
    published: dict,
    target: Path,
    stage: Path,
    params: Params,
    engine: str,
    render_site: bool,
    force: bool,
) -> Path | None:
    """Keep the published site when it shows these very outputs (by `csp run` too), else build it when asked,
    else publish none (and no site key); write the manifest. The site's place, or None."""
    site = None
    if not force and published.get("site_key") == manifest["site_key"] and (target / "site" / "index.html").is_file():
        shutil.copytree(target / "site", stage / "site", copy_function=link_or_copy)
        site = target / "site"
    elif render_site:
        write_manifest(stage, manifest)  # the sources page shows the software it records
        render(stage, params.display_title, engine=engine)
        site = target / "site"
    else:
        del manifest["site_key"]
    write_manifest(stage, manifest)
    return site


def _build(
    params: Params,
    paths: list[Path],
    all_paths: list[Path],
    stage: Path,
    target: Path,
    options: dict,
    kernels: KernelPool | None,
    on_notebook_done: Callable[[str, str], None] | None,
) -> RunResult:
    """Build the run in `stage`: carry over unchanged outputs, execute the rest, keep or build the site."""
    selected = {p.stem for p in paths}
    engine = _engine(options["engine"])
    published = read_manifest(target) if target.is_dir() else {}  # read once: notebooks and site key
    inputs = inputs_key()  # once per run: the lock, plan tables and library source are read once
    keys = {p.stem: notebook_key(p, params, inputs) for p in all_paths}
    result = RunResult(params, target)

    def progress(stem: str, how: str) -> None:
        if on_notebook_done and stem in selected:  # progress counts the notebooks asked for
            on_notebook_done(stem, how)

    carried: Carried = carry_over(
        all_paths,
        selected,
        keys,
        published,
        target,
        stage,
        force=options["force"],
        on_reused=lambda stem: progress(stem, "reused"),
    )
    result.reused = carried.reused
    if carried.to_run:  # unchanged notebooks were run on these same params and data, which were checked then
        prepare(params)

    def executed(stem: str) -> None:
        result.notebooks.append(stem)
        progress(stem, "executed")

    _execute_all(carried.to_run, stage, params, inputs, options["jobs"], kernels, executed)
    _check_figures(stage, params)
    manifest = new_manifest(params, keys, carried, stage, engine)
    result.site = _finish_site(
        manifest, published, target, stage, params, engine, options["render_site"], options["force"]
    )
    return result


def _as_published_already(stage: Path, target: Path, result: RunResult) -> bool:
    """Whether the staged run is the published pack again: nothing executed, and its manifest (every notebook's
    key and the digests its files were just checked against, and the site's key) is the published one. Then the
    published pack is left as it is, not published again file by file."""
    return not result.notebooks and target.is_symlink() and read_manifest(stage) == read_manifest(target)


def run(
    params: Params | str | Path,
    notebooks: Sequence[str] | None = None,
    *,
    render_site: bool = False,
    engine: str = "auto",
    jobs: int = 2,
    force: bool = False,
    on_notebook_done: Callable[[str, str], None] | None = None,
    kernels: KernelPool | None = None,
) -> RunResult:
    """Execute the notebooks for one params file into outputs/<run>/ (and render the site when asked).

    A notebook whose inputs (notebook, params, locked data, plan tables, library) are unchanged since the
    last good run is reused, not executed again, unless `force` or unless one of its output files changed
    since; notebooks not named in `notebooks` keep their previous outputs. The site is kept when it was built
    from these same notebooks; otherwise a run without `render_site` publishes no site (a site of the old
    notebooks would disagree with the new ones): `csp render` builds it. `on_notebook_done(name, 'executed' |
    'reused')` reports progress. Notebooks run on warm kernels (`kernels`, or `jobs` of them started for this
    run and shut down after it), each reset to a fresh session before a notebook.
    """
    params = params if isinstance(params, Params) else load_params(params)
    if reserved_run_name(params.name):
        raise ParamsError(f"run name {params.name!r} is kept for the outputs folder's own use; choose another")
    for name, value in SINGLE_THREADED.items():  # inherited by the kernels papermill starts
        os.environ.setdefault(name, value)
    try:
        params = area_packs.with_borough(params)
        paths = area_packs.chapters_for(params, notebook_paths(notebooks))
        all_paths = area_packs.chapters_for(params, notebook_paths()) if notebooks is not None else paths
    except ValueError as exc:  # an area no CSP or borough has
        raise ParamsError(str(exc)) from None
    root = outputs_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / params.name
    options = {"engine": engine, "jobs": jobs, "force": force, "render_site": render_site}
    lock = run_lock(target)
    try:
        recover(target)  # what an interrupted run of this name left
        tidy_outputs(root, params.name)  # and runs of other names that nobody runs now
        stage = new_stage(root, params.name)
        (stage / "notebooks").mkdir()
        try:
            result = _build(params, paths, all_paths, stage, target, options, kernels, on_notebook_done)
        except BaseException as exc:  # includes KeyboardInterrupt: nothing half-written is published
            if isinstance(exc, RunError):
                kept = keep_failed(stage, root, params.name)
                state = f"{target} is unchanged" if target.is_dir() else f"nothing is published at {target} yet"
                raise RunError(f"{exc}\nThe partly executed run is kept in {kept}; {state}.") from exc
            shutil.rmtree(stage, ignore_errors=True)
            raise
        if _as_published_already(stage, target, result):
            shutil.rmtree(stage, ignore_errors=True)
            return result
        try:
            publish(stage, target)
        except BaseException:  # the old pack is still published; the run is back in the stage
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return result
    finally:
        release_lock(lock, target)
