"""Build packs for many boroughs in one command: in parallel across cores (a process pool) or on a Dask cluster.

One failing borough never stops the others: its error is collected, its partly executed run is kept under
outputs/failed/, and a summary is returned. A London index page links every borough's pack.
"""

from __future__ import annotations

import dataclasses
import html
import re
import signal
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from csp_evidence.core.files import atomic_write_text
from csp_evidence.core.params import LONDON_INDEX, Params, load_params
from csp_evidence.core.paths import outputs_dir
from csp_evidence.data import geo
from csp_evidence.report.headlines import read_headlines
from csp_evidence.runner.kernels import thread_kernels
from csp_evidence.runner.pipeline import prepare, run


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


def _worker_start() -> None:
    signal.signal(signal.SIGINT, _on_interrupt)


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
) -> BatchResult:
    """Build every borough's pack, `jobs` at a time, then the London index; never stops at a failure."""
    if not params_list:
        raise ValueError("no boroughs to build")
    prepare(params_list[0])  # the tidy parquet caches are built once here, before the workers start
    result = BatchResult()
    if scheduler == "processes":
        with ProcessPoolExecutor(
            max_workers=max(1, jobs), mp_context=get_context("spawn"), initializer=_worker_start
        ) as pool:
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
    result.outcomes.sort(key=lambda o: o.borough)
    result.index = write_london_index(outputs_dir(), result.outcomes)
    return result


# Headline measures of the chapters shown in the London index: (chapter, key of its measures, measure, column label).
INDEX_MEASURES = (
    ("02_hate_crime", "strands", "Racist and religious hate crime", "Racist and religious hate crime per 1,000"),
    ("04_violence_exploitation", "special_measures", "Domestic abuse", "Domestic abuse per 1,000"),
    ("04_violence_exploitation", "special_measures", "Knife crime", "Knife crime per 1,000"),
)


def _measure_cells(outputs: Path, o: BoroughOutcome) -> str:
    """The INDEX_MEASURES rates of a built borough (empty cells where a chapter gave none or the count is small)."""
    cells = []
    for chapter, key, name, _ in INDEX_MEASURES:
        m = (read_headlines(outputs / o.name, chapter).get(key) or {}).get(name) or {}
        rate = None if m.get("small") else m.get("rate")
        cells.append(f"<td>{rate:.2f}</td>" if isinstance(rate, (int, float)) else "<td></td>")
    return "".join(cells)


def _plan_period_cell(outputs: Path, o: BoroughOutcome) -> str:
    """Each priority's plan-period verdict relative to London (chapter 06), or an empty cell."""
    verdicts = read_headlines(outputs / o.name, "06_plan_period").get("priorities") or {}
    text = "; ".join(f"{priority}: {verdict}" for priority, verdict in verdicts.items())
    return f"<td>{html.escape(text)}</td>"


def london_index_html(outputs: Path, outcomes: Sequence[BoroughOutcome]) -> str:
    """A page linking every borough's pack with its headline figures; all text from data is escaped."""
    rows = []
    for o in outcomes:
        head = read_headlines(outputs / o.name, "00_overview") if o.status == "built" else {}
        name = html.escape(o.borough)
        link = f'<a href="../{html.escape(o.name)}/site/index.html">{name}</a>' if o.status == "built" else name
        if head:
            cells = (
                f"<td>{head['total_offences']:,}</td><td>{head['rank']}</td>"
                f"<td>{head['rate_per_1000']:.1f}</td>{_measure_cells(outputs, o)}{_plan_period_cell(outputs, o)}<td>built</td>"
            )
        else:
            cells = (
                f'<td colspan="{4 + len(INDEX_MEASURES)}"></td>'
                f"<td>{html.escape(o.status)}: {html.escape(o.error[:300])}</td>"
            )
        rows.append(f'<tr><th scope="row">{link}</th>{cells}</tr>')
    built = [o for o in outcomes if o.status == "built"]
    year = next((read_headlines(outputs / o.name, "00_overview").get("headline_year") for o in built), "")
    strand_year = next((read_headlines(outputs / o.name, "02_hate_crime").get("strand_year") for o in built), None)
    special_year = next(
        (read_headlines(outputs / o.name, "04_violence_exploitation").get("special_year") for o in built), None
    )
    measure_heads = "".join(f'<th scope="col">{html.escape(label)}</th>' for *_, label in INDEX_MEASURES)
    flagged = (
        f" Racist and religious hate crime ({html.escape(str(strand_year or year))}), domestic abuse and knife "
        f"crime ({html.escape(str(special_year or year))}) are offences the Metropolitan Police flag as such "
        "(MPS hate crime or special crime dashboard data), per 1,000 residents; a blank is a count under the "
        "small-number threshold or a chapter that gave none."
    )
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>London evidence packs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:Arial,Helvetica,sans-serif;margin:2rem;max-width:72rem}}table{{border-collapse:collapse}}
th,td{{padding:.3rem .8rem;border-bottom:1px solid #ccc;text-align:left}}</style></head>
<body><h1>Community Safety Partnership evidence packs: London boroughs</h1>
<p>One pack per borough, built by csp-evidence from official open data. Figures are police-recorded offences in
{html.escape(str(year))} (Metropolitan Police, CRIS-era extracts), rank among the 32 boroughs (1 = most offences)
and offences per 1,000 residents (ONS mid-year estimates).{flagged} The plan period column gives each priority's
change over the CSP plan's years against the rest of London's (improved, worsened, mixed or no clear change; chapter
6 of each pack, in the crime series its params choose).</p>
<table><caption>Evidence packs by borough</caption><thead><tr><th scope="col">Borough</th><th scope="col">Offences</th>
<th scope="col">Rank</th><th scope="col">Per 1,000</th>{measure_heads}<th scope="col">Plan period against London</th>
<th scope="col">Pack</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>
"""


def write_london_index(outputs: Path, outcomes: Sequence[BoroughOutcome]) -> Path:
    """Write outputs/london/index.html atomically."""
    target = outputs / LONDON_INDEX / "index.html"
    return atomic_write_text(target, london_index_html(outputs, outcomes))


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
