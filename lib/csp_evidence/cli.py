"""The `csp` command: fetch the locked data, run the notebooks, render the site, or all three (`pack`)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from csp_evidence import __version__
from csp_evidence.core.params import ParamsError, load_params
from csp_evidence.data import geography, policeuk_forces
from csp_evidence.data.commit import fetching
from csp_evidence.data.fetch import FetchError, fetch, fetch_source, mirror_dir
from csp_evidence.data.readers.errors import SourceFormatError
from csp_evidence.data.sources import SOURCES, LockFileError, read_lock
from csp_evidence.data.street_archive import months_for_params, parse_months
from csp_evidence.runner import area_packs, batch
from csp_evidence.runner.batch import build_many, params_for_batch
from csp_evidence.runner.pipeline import RunError, notebook_paths, render_published, run
from csp_evidence.website.render import RenderError
from csp_evidence.website.summary import SUMMARY_HTML, SUMMARY_PDF, pdf_unavailable_reason

console = Console(stderr=True, markup=False)  # paths, names and errors print as written; markup only where asked
DEFAULT_PARAMS = "params/tower-hamlets.yml"


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _download_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _source_months(args: argparse.Namespace) -> list[str] | None:
    """The months `csp fetch --source policeuk` brings: --months, else those the params need, else (with --from)
    every month the path holds."""
    if args.months:
        try:
            return parse_months(args.months)
        except ValueError as exc:
            raise FetchError(f"--months {args.months}: {exc}; expected FIRST:LAST, e.g. 2017-04:2022-03") from None
    if args.from_path:
        return None
    params = load_params(args.params)
    return months_for_params(params.financial_years, params.covid_start)


def _area_fetch(args: argparse.Namespace) -> int | None:
    """`csp fetch --source policeuk` for params naming an area outside the MPS boroughs: the street files of the
    forces policing it and every force's reduced month (``data.policeuk_forces``); None for a borough's params."""
    if args.source not in ("policeuk", "policeuk_street_asb") or not args.params:
        return None
    params = load_params(args.params)
    if not params.area:
        return None
    try:
        area, _ = geography.params_area(params)
    except ValueError as exc:
        raise ParamsError(str(exc)) from None
    if area.borough is not None:
        return None
    forces = policeuk_forces.area_forces(area)
    months = (
        parse_months(args.months)
        if args.months
        else policeuk_forces.months_for_area(params.headline_period, params.periods)
        if params.headline_period
        else months_for_params(params.financial_years, params.covid_start)
    )
    console.print(f"{area.name}: forces {', '.join(forces)}; months {months[0]} to {months[-1]} ({len(months)})")
    got = policeuk_forces.fetch_forces(
        months, forces, from_path=args.from_path, base_url=args.url, update=args.update, on_step=console.print
    )
    actions = sorted({r.action for r in got})
    console.print(f"policeuk: {len(got)} month(s) in data/raw, locked in data/sources.lock ({', '.join(actions)}).")
    return 0


def cmd_fetch_source(args: argparse.Namespace) -> int:
    area = _area_fetch(args)
    if area is not None:
        return area
    months = _source_months(args) if args.source in ("policeuk", "policeuk_street_asb") else None
    if months:
        console.print(f"Months wanted: {months[0]} to {months[-1]} ({len(months)})")
    with _download_progress() as progress:
        tasks: dict[str, TaskID] = {}

        def on_bytes(label: str):
            task = tasks.setdefault(label, progress.add_task(f"downloading {label}", total=None))

            def update(done: int, total: int | None) -> None:
                progress.update(task, completed=done, total=total)

            return update

        def on_step(message: str) -> None:
            progress.console.print(message)

        results = fetch_source(
            args.source,
            from_path=args.from_path,
            url=args.url,
            months=months,
            update=args.update,
            on_bytes=on_bytes,
            on_step=on_step,
        )
    counts: dict[str, int] = {}
    for r in results:
        counts[r.action] = counts.get(r.action, 0) + 1
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    console.print(f"{args.source}: {len(results)} file(s) in data/raw, locked in data/sources.lock ({summary}).")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    with fetching():  # one fetch at a time on a project, whichever path it takes; a killed one's commit put right
        return _fetch_command(args)


def _fetch_command(args: argparse.Namespace) -> int:
    if getattr(args, "source", None):
        return cmd_fetch_source(args)
    with _progress() as progress:
        locked = [sid for sid in read_lock() if sid not in {s.id for s in SOURCES}]  # optional files and months
        task = progress.add_task("Fetching sources", total=None if args.update else len(SOURCES) + len(locked))

        def done(result):
            progress.update(task, advance=1, description=f"{result.action}: {Path(result.path).name}")

        fetch(mirror=args.mirror, update=args.update, on_progress=done)
    console.print(f"data/raw holds the locked files{' (lock updated)' if args.update else ''}.")
    return 0


def _run(args: argparse.Namespace, render_site: bool) -> int:
    names = args.notebook or None
    total = len(notebook_paths(names))
    with _progress() as progress:
        task = progress.add_task(f"Running notebooks for {args.params}", total=total)
        result = run(
            args.params,
            names,
            render_site=render_site,
            engine=args.engine,
            jobs=args.jobs,
            force=args.force,
            on_notebook_done=lambda name, how: progress.update(task, advance=1, description=f"{how}: {name}"),
        )
    console.print(
        f"Executed {len(result.notebooks)} notebook(s), reused {len(result.reused)} unchanged, into {result.run_dir}"
    )
    if result.site:
        console.print(f"Site: {result.site / 'index.html'}")
        _say_summary(result.site)
    return 0


def _say_summary(site: Path) -> None:
    """Name the board summary PDF, or say plainly why there is none (never a silent skip)."""
    if (site / SUMMARY_PDF).is_file():
        console.print(f"Board summary: {site / SUMMARY_PDF}")
    else:
        why = pdf_unavailable_reason() or "the site was reused from a build that made none"
        console.print(f"No board summary PDF ({why}); the printable page is {site / SUMMARY_HTML}")


def cmd_run(args: argparse.Namespace) -> int:
    return _run(args, render_site=False)


def cmd_render(args: argparse.Namespace) -> int:
    site = render_published(args.params, engine=args.engine)
    console.print(f"Site: {site / 'index.html'}")
    _say_summary(site)
    return 0


def _area_from_mirror(args: argparse.Namespace) -> None:
    """`csp pack` for an area outside the MPS boroughs whose police.uk months are not locked: fetch them from the
    mirror's police.uk folder (the archive's layout) when there is one, as `csp fetch --source policeuk --from`."""
    params = load_params(args.params)
    try:
        if not area_packs.is_area_pack(params) or not params.headline_period:
            return
        area, _ = geography.params_area(params)
    except ValueError as exc:
        raise ParamsError(str(exc)) from None
    months = policeuk_forces.months_for_area(params.headline_period, params.periods)
    forces = policeuk_forces.area_forces(area)
    if policeuk_forces.present(months, forces) == months:
        return
    mirror = mirror_dir(args.mirror)
    if mirror is None or not (mirror / "policeuk").is_dir():
        return  # the run then says which months to fetch
    console.print(f"{area.name}: police.uk files of {', '.join(forces)} from {mirror / 'policeuk'}")
    policeuk_forces.fetch_forces(months, forces, from_path=mirror / "policeuk")


def _pack_csps(args: argparse.Namespace) -> int:
    """`csp pack --all-csps --force-area NAME | --region NAME`: a pack for each CSP of the group, from the template
    params' periods, each run named after its CSP; a failure is reported and the others still build."""
    if bool(args.force_area) == bool(args.region):
        raise ParamsError("--all-csps needs one of --force-area NAME or --region NAME")
    template = load_params(args.params)
    if not template.headline_period:
        raise ParamsError(f"{args.params}: --all-csps needs params with headline_period (a police.uk area's params)")
    try:
        csps = geography.csps_of(force=args.force_area or None, region=args.region or None)
    except ValueError as exc:
        raise ParamsError(str(exc)) from None
    failed = 0
    packs = []
    for code, name in csps:
        params = dataclasses.replace(template, area=code, borough="", title="", name=batch.slug(name))
        if not (area_pack := _quiet_area_pack(params)):
            console.print(f"{name}: an MPS borough, built by `csp pack --all-boroughs`; skipped")
            continue
        packs.append((name, area_pack))
    outcomes: dict[str, batch.BoroughOutcome] = {}
    if args.scheduler == "dask" and packs:  # on a Dask cluster (--dask-address) or a local one of --jobs workers
        result = build_many(
            [p for _, p in packs],
            jobs=args.jobs,
            engine=args.engine,
            force=args.force,
            scheduler="dask",
            dask_address=args.dask_address,
            london_index=False,
        )
        outcomes = {o.name: o for o in result.outcomes}
    for name, area_pack in packs:
        outcome = outcomes.get(area_pack.name) or batch.build_one(area_pack, args.engine, args.force)
        failed += outcome.status != "built"
        console.print(f"{name}: {outcome.status}{'' if outcome.status == 'built' else ': ' + str(outcome.error)}")
    console.print(f"Built {len(csps) - failed} of {len(csps)} pack(s) into outputs/")
    return 1 if failed else 0


def _quiet_area_pack(params):

    return params if area_packs.is_area_pack(params) else None


def cmd_pack(args: argparse.Namespace) -> int:
    cmd_fetch(args)
    if args.all_csps:
        return _pack_csps(args)
    if not args.all_boroughs:
        _area_from_mirror(args)
    if args.all_boroughs or args.scheduler == "dask":
        return _pack_many(args)
    return _run(args, render_site=True)


def _pack_many(args: argparse.Namespace) -> int:
    params_list = params_for_batch(args.params, args.all_boroughs)
    with _progress() as progress:
        task = progress.add_task(f"Building {len(params_list)} pack(s)", total=len(params_list))

        def done(outcome):
            how = (
                f"{len(outcome.executed)} run, {len(outcome.reused)} reused" if outcome.status == "built" else "FAILED"
            )
            progress.update(task, advance=1, description=f"{outcome.borough}: {how}")

        result = build_many(
            params_list,
            jobs=args.jobs,
            engine=args.engine,
            force=args.force,
            scheduler=args.scheduler,
            dask_address=args.dask_address,
            on_done=done,
        )
    built = len(result.outcomes) - len(result.failed)
    console.print(f"Built {built} of {len(result.outcomes)} pack(s); London index: {result.index}")
    for failure in result.failed:
        console.print(
            f"[red]failed[/] {escape(failure.borough)}: {escape(str(failure.error))}",
            markup=True,
            soft_wrap=True,
            highlight=False,
        )
    return 1 if result.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="csp", description="Build Community Safety Partnership evidence packs.")
    parser.add_argument("--version", action="version", version=f"csp-evidence {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_fetch(p):
        p.add_argument(
            "--mirror", help="folder laid out like data/raw/ to copy sources from (default: $CSP_DATA_MIRROR)"
        )
        p.add_argument("--update", action="store_true", help="accept new upstream bytes and rewrite data/sources.lock")

    def with_run(p):
        p.add_argument("--params", default=DEFAULT_PARAMS, help=f"params YAML file (default {DEFAULT_PARAMS})")
        p.add_argument("--notebook", action="append", help="run only this notebook (repeatable), e.g. 00_overview")
        p.add_argument(
            "--jobs",
            type=int,
            default=2,
            help="notebooks executed at once; with --all-boroughs, boroughs built at once (default 2)",
        )
        p.add_argument("--force", action="store_true", help="execute every notebook even if its inputs are unchanged")
        p.add_argument(
            "--engine",
            choices=["auto", "quarto", "smalldocs"],
            default="auto",
            help="site renderer: Quarto if on PATH, else smalldocs (default auto)",
        )

    p = sub.add_parser("fetch", help="bring the locked source files into data/raw/")
    with_fetch(p)
    p.add_argument(
        "--source",
        choices=["policeuk", "moj_reoffending", "policeuk_street_asb", "moj_proven_reoffending"],
        help="fetch one source the mirror lacks from its publisher and lock it: police.uk street files "
        "(the months the params need) or the MoJ proven reoffending geographic data",
    )
    p.add_argument(
        "--from",
        dest="from_path",
        metavar="PATH",
        help="with --source: take the files from PATH (a downloaded archive or zip, a folder, a CSV or xlsx)",
    )
    p.add_argument("--url", help="with --source: another police.uk archive folder, or another MoJ release page or zip")
    p.add_argument("--months", help="with --source policeuk: the months to fetch, FIRST:LAST (e.g. 2017-04:2022-03)")
    p.add_argument("--params", default=DEFAULT_PARAMS, help="with --source policeuk: the params whose months to fetch")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("run", help="execute the notebooks into outputs/<run>/")
    with_run(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("render", help="build the site outputs/<run>/site/ from an executed run")
    p.add_argument("--params", default=DEFAULT_PARAMS)
    p.add_argument("--engine", choices=["auto", "quarto", "smalldocs"], default="auto")
    p.set_defaults(func=cmd_render)
    p = sub.add_parser("pack", help="fetch + run + render")
    with_fetch(p)
    with_run(p)
    p.add_argument(
        "--all-boroughs",
        action="store_true",
        help="build a pack for each of the 32 boroughs from the params file, plus outputs/london/index.html",
    )
    p.add_argument(
        "--all-csps",
        action="store_true",
        help="build a pack for each CSP of a force area (--force-area) or region (--region) from the params' periods",
    )
    p.add_argument("--force-area", help="with --all-csps: the police force area ('Kent', 'devon-and-cornwall')")
    p.add_argument("--region", help="with --all-csps: the region ('South East', 'Wales')")
    p.add_argument(
        "--scheduler",
        choices=["processes", "dask"],
        default="processes",
        help="run boroughs in a local process pool (default) or on Dask (dask.distributed); with --all-csps, "
        "dask builds the CSPs' packs on the cluster (default: one after another)",
    )
    p.add_argument("--dask-address", help="address of an existing Dask scheduler (default: start a local cluster)")
    p.set_defaults(func=cmd_pack)
    return parser


def _failed(command: str, message: str) -> int:
    # the message may quote notebook code or data ('df[cols]'): printed as written, never as markup
    console.print(f"[bold red]csp {command} failed:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FetchError, ParamsError, RunError, SourceFormatError, RenderError, LockFileError) as exc:
        return _failed(args.command, str(exc))
    except OSError as exc:  # one the layers below did not put in their own words: its file and reason, no traceback
        return _failed(args.command, f"{exc.filename or ''}{': ' if exc.filename else ''}{exc.strerror or exc}")
    except KeyboardInterrupt:
        console.print(
            "Interrupted: no pack was half-written. Each pack is either its new version, published whole, "
            "or its last good version, unchanged."
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
