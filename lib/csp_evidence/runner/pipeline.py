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

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import nbformat

from csp_evidence import __version__
from csp_evidence.chapters import area as area_chapter
from csp_evidence.core.environment import software
from csp_evidence.core.files import atomic_write, atomic_write_text, digest_of, sha256_of, source_fingerprint
from csp_evidence.core.params import (
    Params,
    ParamsError,
    check_against_data,
    load_params,
    reserved_run_name,
)
from csp_evidence.core.paths import (
    PACKAGE,
    lock_path,
    notebooks_dir,
    output_prefix,
    outputs_dir,
    quarto_config,
    site_pages_dir,
)
from csp_evidence.data import datasets, geo
from csp_evidence.data.plan import plan_files
from csp_evidence.runner.kernels import KernelPool
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

MANIFEST = "manifest.json"  # per run: each notebook's input key and output files, and the site's key


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
    if area_chapter.is_area_pack(params):  # a CSP outside the MPS boroughs: its police.uk months must be locked
        try:
            area_chapter.area_section(params)
        except (area_chapter.AreaDataMissing, ValueError) as exc:
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


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link an unchanged output into the new run (outputs are replaced, never edited, so links are safe)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def library_fingerprint() -> str:
    """sha256 over the library's source files and version: a change to the code re-executes the notebooks."""
    return hashlib.sha256(f"{__version__}|{source_fingerprint(PACKAGE, ('.',))}".encode()).hexdigest()


def _inputs_digest(*parts: bytes | str) -> str:
    return digest_of(parts)


def inputs_key() -> str:
    """What every notebook depends on besides itself and its params: the locked data, the plan tables, the library
    and the software environment (a package upgraded, say numpy, can move a figure: the notebooks run again).

    A warm kernel is reused only while this is unchanged, so it never serves new inputs from old in-memory tables.
    """
    plans = b"".join(p.name.encode() + p.read_bytes() for p in plan_files())
    return _inputs_digest(lock_path().read_bytes(), plans, library_fingerprint(), _software_json())


def notebook_key(notebook: Path, params: Params, inputs: str) -> str:
    """What a notebook's outputs depend on: the notebook, the params, and `inputs` (the run's `inputs_key()`:
    locked data, plan tables, library)."""
    return _inputs_digest(notebook.read_bytes(), json.dumps(params.notebook_parameters(), sort_keys=True), inputs)


def site_key(outputs: dict[str, dict[str, str]], title: str, engine: str) -> str:
    """What the site depends on: the sha256 of every file each notebook wrote (`outputs`, as in the manifest),
    the title, the site's pages and configuration, the renderer, the library that drives it and the software
    environment (which the sources page lists)."""
    pages = b"".join(p.read_bytes() for p in sorted(site_pages_dir().glob("*")))
    return _inputs_digest(
        json.dumps(outputs, sort_keys=True),
        title,
        quarto_config().read_bytes(),
        pages,
        engine,
        library_fingerprint(),
        _software_json(),
    )


def _software_json() -> str:
    return json.dumps(software(), sort_keys=True)


def _outputs_of(folder: Path, stem: str) -> dict[str, str]:
    """The files a notebook wrote, with their sha256: its executed copy, headline JSON, and figures/tables
    named '<NN>-*' (``paths.output_prefix``: '00w-*' for 00_where beside 00_overview)."""
    number = output_prefix(stem)
    files = [f"notebooks/{stem}.ipynb", f"notebooks/{stem}.json"]
    for sub in ("figures", "tables"):
        files += (
            [f"{sub}/{p.name}" for p in sorted((folder / sub).glob(f"{number}-*"))] if (folder / sub).is_dir() else []
        )
    return {f: sha256_of(folder / f) for f in files if (folder / f).is_file()}


def _read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _reuse(previous: Path, stage: Path, files: dict[str, str] | list[str]) -> bool:
    """Link a notebook's outputs from the last good run into the stage, if every one is there as written (a
    file edited or lost since, e.g. a table opened and saved in a spreadsheet, means the notebook runs again).
    A manifest from before digests were kept lists only the files: those are trusted if present, as then."""
    if not files or not all((previous / f).is_file() for f in files):
        return False
    if isinstance(files, dict) and not all(sha256_of(previous / f) == digest for f, digest in files.items()):
        return False
    for f in files:
        (stage / f).parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(str(previous / f), str(stage / f))
    return True


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
                copy_function=_link_or_copy,
                dirs_exist_ok=True,
            )
            manifest = _read_manifest(stage)
            manifest.pop("site_key", None)
            render(stage, params.display_title, engine=engine)
            if manifest.get("notebooks"):
                shown = {stem: _outputs_of(stage, stem) for stem in manifest["notebooks"]}  # as the site shows them
                manifest["site_key"] = site_key(shown, params.display_title, engine)
            _write_manifest(stage, manifest)
            publish(stage, target)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return target / "site"
    finally:
        release_lock(lock, target)


def _write_manifest(folder: Path, manifest: dict) -> None:
    """Replace `folder`'s manifest atomically."""
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2))


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
        params = area_chapter.with_borough(params)
        paths = area_chapter.chapters_for(params, notebook_paths(notebooks))
        all_paths = area_chapter.chapters_for(params, notebook_paths()) if notebooks is not None else paths
    except ValueError as exc:  # an area no CSP or borough has
        raise ParamsError(str(exc)) from None
    selected = {p.stem for p in paths}
    root = outputs_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / params.name
    lock = run_lock(target)
    try:
        recover(target)  # what an interrupted run of this name left
        tidy_outputs(root, params.name)  # and runs of other names that nobody runs now
        engine = _engine(engine)
        published = _read_manifest(target) if target.is_dir() else {}  # read once: notebooks and site key
        previous = published.get("notebooks", {})
        inputs = inputs_key()  # once per run: the lock, plan tables and library source are read once
        keys = {p.stem: notebook_key(p, params, inputs) for p in all_paths}
        stage = new_stage(root, params.name)
        (stage / "notebooks").mkdir()
        result = RunResult(params, target)
        try:
            to_run, reused_keys, reused_files = [], {}, {}
            for nb in all_paths:
                old = previous.get(nb.stem, {})
                unchanged = old.get("key") == keys[nb.stem] and not force
                keep_old = nb.stem not in selected or unchanged
                if keep_old and _reuse(target, stage, old.get("files", [])):
                    result.reused.append(nb.stem)
                    reused_keys[nb.stem] = old["key"]  # outputs of those inputs, even if the inputs changed since
                    if isinstance(old["files"], dict):
                        reused_files[nb.stem] = old["files"]  # checked against these digests just now
                    if on_notebook_done and nb.stem in selected:
                        on_notebook_done(nb.stem, "reused")
                elif nb.stem in selected or (target / "notebooks" / f"{nb.stem}.ipynb").is_file():
                    to_run.append(nb)  # a chapter of the published pack whose outputs cannot be reused (edited,
                    # lost, or no manifest) runs again rather than leave the pack without it
            if to_run:  # unchanged notebooks were run on these same params and data, which were checked then
                prepare(params)
            own_kernels = kernels is None and bool(to_run)
            pool_of_kernels = KernelPool(min(max(1, jobs), len(to_run))) if own_kernels else kernels
            pool = ThreadPoolExecutor(max_workers=max(1, jobs))
            try:
                futures = {
                    pool.submit(_execute, nb, stage, params, cast(KernelPool, pool_of_kernels), inputs): nb
                    for nb in to_run
                }
                for future, nb in futures.items():
                    future.result()
                    result.notebooks.append(nb.stem)
                    if on_notebook_done and nb.stem in selected:  # progress counts the notebooks asked for
                        on_notebook_done(nb.stem, "executed")
            except BaseException:  # a failure or Ctrl-C: queued notebooks never start, running ones stop now
                pool.shutdown(wait=False, cancel_futures=True)
                if pool_of_kernels is not None:
                    pool_of_kernels.interrupt()
                raise
            finally:
                pool.shutdown(wait=True)
                if own_kernels and pool_of_kernels is not None:
                    pool_of_kernels.shutdown()
            manifest: dict[str, Any] = {
                "params": params.notebook_parameters(),
                "library": __version__,
                "software": software(),
                "notebooks": {
                    stem: {
                        "key": reused_keys.get(stem, keys[stem]),
                        "files": reused_files[stem] if stem in reused_files else _outputs_of(stage, stem),
                    }
                    for stem in keys
                    if (stage / "notebooks" / f"{stem}.ipynb").is_file()
                },
            }
            manifest["site_key"] = site_key(
                {k: v["files"] for k, v in manifest["notebooks"].items()}, params.display_title, engine
            )
            site_current = published.get("site_key") == manifest["site_key"]
            if not force and site_current and (target / "site" / "index.html").is_file():
                # the site of these very notebooks: kept, by `csp run` too
                shutil.copytree(target / "site", stage / "site", copy_function=_link_or_copy)
                result.site = target / "site"
            elif render_site:
                _write_manifest(stage, manifest)  # the sources page shows the software it records
                render(stage, params.display_title, engine=engine)
                result.site = target / "site"
            else:
                del manifest["site_key"]
            _write_manifest(stage, manifest)
        except BaseException as exc:  # includes KeyboardInterrupt: nothing half-written is published
            if isinstance(exc, RunError):
                kept = keep_failed(stage, root, params.name)
                raise RunError(f"{exc}\nThe partly executed run is kept in {kept}; {target} is unchanged.") from exc
            shutil.rmtree(stage, ignore_errors=True)
            raise
        try:
            publish(stage, target)
        except BaseException:  # the old pack is still published; the run is back in the stage
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return result
    finally:
        release_lock(lock, target)
