"""Build packs for many boroughs in one command: in parallel across cores (a process pool) or on a Dask cluster.

One failing borough never stops the others: its error is collected, its partly executed run is kept under
outputs/failed/, and a summary is returned. A London index page links every borough's pack.

A worker process dies with the batch: killed (even by SIGKILL, which runs no clean-up), the parent takes its
workers with it, so none goes on building and publishing packs nobody asked for, or waits for work forever holding
its memory. On Linux the kernel sends each worker SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``);
everywhere a watchdog thread in each worker checks its parent every ``WATCH_PARENT`` seconds. A worker's notebook
kernels watch the worker in turn (ipykernel's parent poller) and exit after it.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from csp_evidence.core.files import atomic_write_text
from csp_evidence.core.params import LONDON_INDEX, Params, load_params
from csp_evidence.core.paths import outputs_dir, site_pages_dir
from csp_evidence.data import geo
from csp_evidence.runner.kernels import thread_kernels
from csp_evidence.runner.pipeline import prepare, run
from csp_evidence.website.london import CSV_NAME, BoroughPack, london_page


@dataclass(frozen=True)
class BoroughOutcome:
    """How one borough's pack went: 'built' with the notebooks executed and reused, or 'failed' with the error."""

    name: str
    borough: str
    status: str
    executed: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()
    error: str = ""


@dataclass
class BatchResult:
    outcomes: list[BoroughOutcome] = field(default_factory=list)
    index: Path | None = None

    @property
    def failed(self) -> list[BoroughOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def slug(borough: str) -> str:
    """'Kingston upon Thames' -> 'kingston-upon-thames'."""
    return re.sub(r"[^a-z0-9]+", "-", borough.lower()).strip("-")


def all_borough_params(template: Params) -> list[Params]:
    """The template's params for each of the 32 MPS boroughs, each run named after its borough."""
    return [dataclasses.replace(template, borough=b, name=slug(b), title="") for b in geo.mps_boroughs()]


_interrupted = False  # set in a batch worker by Ctrl-C: boroughs handed to it afterwards are not started


def _on_interrupt(signum, frame):
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


WATCH_PARENT = 0.5  # seconds between a worker's checks that the batch that started it is alive
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Make this process end when `parent` (the process that started it) does: a parent-death signal on Linux, and
    a watchdog thread everywhere; if the parent is already gone, end now."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (AttributeError, OSError):  # a C library without prctl: the watchdog alone
            pass
    if os.getppid() != parent:  # died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="csp-watch-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_PARENT)
    os.kill(os.getpid(), signal.SIGKILL)  # no clean-up to wait for: the batch that wanted the work is gone


def _worker_start(parent: int) -> None:
    die_with_parent(parent)
    signal.signal(signal.SIGINT, _on_interrupt)


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """The batch's pool of `jobs` worker processes (spawned: no state inherited from the parent), each of which
    dies with this process."""
    return ProcessPoolExecutor(
        max_workers=max(1, jobs), mp_context=get_context("spawn"), initializer=_worker_start, initargs=(os.getpid(),)
    )


def build_one(params: Params, engine: str = "auto", force: bool = False) -> BoroughOutcome:
    """Build one borough's pack (notebooks one at a time: the batch is parallel across boroughs).

    The notebooks run on this worker's warm kernel, kept from one borough to the next.
    """
    if _interrupted:
        return BoroughOutcome(params.name, params.borough, "failed", error="interrupted before it started")
    try:
        result = run(params, render_site=True, engine=engine, jobs=1, force=force, kernels=thread_kernels())
    except Exception as exc:  # the batch reports every failure and goes on
        detail = str(exc) or traceback.format_exc(limit=3)
        return BoroughOutcome(params.name, params.borough, "failed", error=f"{type(exc).__name__}: {detail}")
    return BoroughOutcome(params.name, params.borough, "built", tuple(result.notebooks), tuple(result.reused))


def _collect(
    finished, cancel: Callable[[], object], result: BatchResult, on_done: Callable[[BoroughOutcome], None] | None
) -> None:
    """Gather each borough's outcome as it finishes (processes or Dask alike); on a failure of the batch
    itself or Ctrl-C, `cancel` the boroughs not yet started and re-raise."""
    try:
        for future in finished:
            outcome = future.result()
            result.outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    except BaseException:
        cancel()
        raise


def build_many(
    params_list: Sequence[Params],
    *,
    jobs: int = 2,
    engine: str = "auto",
    force: bool = False,
    scheduler: str = "processes",
    dask_address: str | None = None,
    on_done: Callable[[BoroughOutcome], None] | None = None,
    london_index: bool = True,
) -> BatchResult:
    """Build every borough's pack, `jobs` at a time, then the London index (unless `london_index` is False: the
    packs of CSPs outside London); never stops at a failure."""
    if not params_list:
        raise ValueError("no boroughs to build")
    prepare(params_list[0])  # the tidy parquet caches are built once here, before the workers start
    result = BatchResult()
    if scheduler == "processes":
        with worker_pool(jobs) as pool:
            futures = [pool.submit(build_one, p, engine, force) for p in params_list]
            # on Ctrl-C the boroughs not yet started are cancelled; the pool then waits for the running ones
            _collect(as_completed(futures), lambda: [f.cancel() for f in futures], result, on_done)
    elif scheduler == "dask":
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed

        cluster = (
            None
            if dask_address
            else LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, dashboard_address=None)
        )
        with Client(dask_address or cluster) as client:
            futures = client.map(build_one, list(params_list), engine=engine, force=force, pure=False)
            _collect(dask_completed(futures), lambda: client.cancel(futures), result, on_done)
        if cluster is not None:
            cluster.close()
    else:
        raise ValueError(f"scheduler must be 'processes' or 'dask', got {scheduler!r}")
    result.outcomes.sort(key=lambda o: (o.borough, o.name))
    result.index = write_london_index(outputs_dir(), result.outcomes) if london_index else None
    return result


def _packs(outcomes: Sequence[BoroughOutcome]) -> list[BoroughPack]:
    return [BoroughPack(o.name, o.borough, o.status == "built", o.error) for o in outcomes]


def london_index_html(outputs: Path, outcomes: Sequence[BoroughOutcome]) -> str:
    """The London page: a tile map and a sortable table of every borough's pack (website.london)."""
    return london_page(outputs, _packs(outcomes))[0]


def _theme(outputs: Path, outcomes: Sequence[BoroughOutcome]) -> Path | None:
    """The packs' Bootstrap theme, from the first built pack's site (Quarto's or smalldocs's folder)."""
    for o in outcomes:
        for rel in ("site_libs/themes/default.min.css", "site_libs/bootstrap/bootstrap.min.css"):
            found = outputs / o.name / "site" / rel
            if o.status == "built" and found.is_file():
                return found
    return None


def write_london_index(outputs: Path, outcomes: Sequence[BoroughOutcome]) -> Path:
    """Write outputs/london/: index.html (tile map and table), the CSV behind it, and the packs' styles; each file
    atomically."""
    folder = outputs / LONDON_INDEX
    theme = _theme(outputs, outcomes)
    page, table = london_page(outputs, _packs(outcomes), theme=theme is not None)
    atomic_write_text(folder / "styles.css", (site_pages_dir() / "styles.css").read_text(encoding="utf-8"))
    if theme is not None:
        atomic_write_text(folder / "theme.css", theme.read_text(encoding="utf-8"))
    atomic_write_text(folder / CSV_NAME, table)
    return atomic_write_text(folder / "index.html", page)


def params_for_batch(params_path: str | Path, all_boroughs: bool) -> list[Params]:
    """One Params per borough: every MPS borough from the template file, or only the file's own borough."""
    template = load_params(params_path)
    return all_borough_params(template) if all_boroughs else [template]


__all__ = [
    "BatchResult",
    "BoroughOutcome",
    "all_borough_params",
    "build_many",
    "build_one",
    "slug",
    "write_london_index",
    "params_for_batch",
]
