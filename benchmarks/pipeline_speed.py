"""Time the ways of building the evidence pack, side by side in one run on one machine, with peak memory.

    (a) naive: every chapter notebook of the default pack (those the site's _quarto.yml lists) executed one after
        another with `jupyter nbconvert --execute`
    (b) `csp pack` cold: no previous outputs and no cached tidy tables
    (c) `csp pack` again with nothing changed (incremental: notebooks and site reused)
    (d) `csp pack --all-boroughs` cold: 32 borough packs and the London index
    (e) `csp pack --params params/city-of-london.yml` cold: one police.uk CSP pack (chapter 07), its police.uk
        months fetched from the mirror beforehand (the fetch is timed apart, as `fetch_policeuk`)
    (f) the same again with nothing changed
    (g) DASK_PACKS police.uk packs (the City's params under as many names, each a cold pack) on a local
        `distributed` cluster of DASK_WORKERS workers, through runner.batch.build_many (what
        `csp pack --all-csps --scheduler dask` runs); from it, the per-pack cost on one worker and the projection of
        `csp pack --all-csps` for every CSP of England and Wales (ALL_CSPS) on 2 cores and on N workers

Usage (from the project folder, with the data fetched or CSP_DATA_MIRROR set):

    .venv/bin/python benchmarks/pipeline_speed.py [--skip-all-boroughs] [--skip-naive] [--json benchmarks/results.json]

(`--skip-all-boroughs --skip-naive` is the quick check that the benchmark runs: (b), (c), (e), (f), (g);
`--skip-csps` leaves out (e) to (g).)

Beside each step's wall-clock seconds it records the CPU seconds of everything the step started (user + system,
the kernels included) and the machine's load (os.getloadavg, 1-minute average, before and after the step): on a
shared machine the wall-clock figures move with the other work and the CPU seconds much less, so a busy run is
visible and its ratios can be read with that in mind. Peak memory is the largest resident set of any process a
step started (the kernels included), from getrusage(RUSAGE_CHILDREN), measured per step in a fresh child so the
steps do not mask each other; the target is under 1 GiB for every step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGETS = {
    "b_vs_a": "(b) at least 3x faster than (a)",
    "c_vs_b": "(c) under 5% of (b)",
    "d_vs_b": "(d) no more than 10x (b)",
    "peak_mib": "every step's peak memory under 1024 MiB",
}
PEAK_LIMIT_MIB = 1024
ALL_CSPS = 314  # the CSPs of England and Wales (ONS LAD23-CSP23-PFA23 lookup, December 2023)
DASK_WORKERS, DASK_PACKS = 2, 4
PROJECTED_WORKERS = (2, 8, 32, 100)
CITY = "params/city-of-london.yml"
DASK_PROBE = """
import dataclasses, sys
from csp_evidence.core.params import load_params
from csp_evidence.runner.batch import build_many
city = load_params(sys.argv[1])
packs = [dataclasses.replace(city, name=f"city-of-london-dask-{i}") for i in range(int(sys.argv[2]))]
result = build_many(packs, jobs=int(sys.argv[3]), scheduler="dask", london_index=False)
failed = [o for o in result.outcomes if o.status != "built"]
sys.exit(f"failed: {failed}" if failed else 0)
"""


def _measure(cmd: list[str], env: dict) -> dict[str, float | list[float]]:
    """Wall seconds, CPU seconds, peak RSS (MiB) of a command and everything it starts, and the machine's
    1-minute load average before and after it."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); rc = subprocess.call(sys.argv[1:]); wall = time.perf_counter() - t\n"
        "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(f'{wall} {use.ru_utime + use.ru_stime} {use.ru_maxrss / 1024} {rc}')\n"
    )
    load_before = os.getloadavg()[0]
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], env=env, cwd=env["CSP_PROJECT_DIR"], capture_output=True, text=True
    )
    wall, cpu, peak, rc = out.stdout.strip().splitlines()[-1].split()
    if rc != "0":
        raise SystemExit(f"{' '.join(cmd)} failed (exit {rc}):\n{out.stderr[-3000:]}")
    return {
        "seconds": float(wall),
        "cpu_seconds": float(cpu),
        "peak_mib": float(peak),
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def chapters(project: Path) -> list[Path]:
    """The chapter notebooks of the default pack: those the site's _quarto.yml lists, in its order."""
    config = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))
    return [project / page for page in config["project"]["render"] if page.endswith(".ipynb")]


def _project_copy(where: Path) -> Path:
    """A copy of the project's inputs (notebooks, params, site, data) so the benchmark never touches the tree."""
    project = where / "project"
    for name in ("notebooks", "params", "site"):
        shutil.copytree(ROOT / name, project / name)
    shutil.copy2(ROOT / "_quarto.yml", project / "_quarto.yml")
    shutil.copytree(ROOT / "data", project / "data", ignore=shutil.ignore_patterns("interim"))
    return project


def _clear_caches(project: Path) -> None:
    shutil.rmtree(project / "data" / "interim", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-all-boroughs", action="store_true", help="leave out (d), the 32 borough packs")
    parser.add_argument("--skip-naive", action="store_true", help="leave out (a), the notebooks one by one")
    parser.add_argument("--skip-csps", action="store_true", help="leave out (e) to (g), the police.uk CSP packs")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="csp-bench-"))
    project, outputs = _project_copy(work), work / "outputs"
    env = os.environ | {"CSP_OUTPUTS_DIR": str(outputs), "CSP_PROJECT_DIR": str(project), "MPLBACKEND": "Agg"}
    if env.get("CSP_DATA_MIRROR"):  # the steps run in the copy's folder: a relative mirror path must not move
        env["CSP_DATA_MIRROR"] = str(Path(env["CSP_DATA_MIRROR"]).resolve())
    subprocess.run([str(BIN / "csp"), "fetch"], env=env, cwd=project, check=True, capture_output=True)
    notebooks = chapters(project)
    results: dict[str, dict] = {}

    if not args.skip_naive:
        _clear_caches(project)
        naive_out = outputs / "naive"
        naive_out.mkdir(parents=True)
        cmd = [
            "bash",
            "-c",
            " && ".join(
                f"{BIN / 'jupyter'} nbconvert --to notebook --execute --output-dir {naive_out} {nb}" for nb in notebooks
            ),
        ]
        results["a_naive_nbconvert"] = _measure(cmd, env)

    _clear_caches(project)
    results["b_pack_cold"] = _measure([str(BIN / "csp"), "pack"], env)
    results["c_pack_unchanged"] = _measure([str(BIN / "csp"), "pack"], env)
    if not args.skip_all_boroughs:
        _clear_caches(project)
        for pack in [outputs / "tower-hamlets", *(outputs / ".packs").glob("tower-hamlets-*")]:  # the link, its packs
            pack.unlink() if pack.is_symlink() else shutil.rmtree(pack, ignore_errors=True)
        results["d_all_boroughs_cold"] = _measure([str(BIN / "csp"), "pack", "--all-boroughs"], env)

    if not args.skip_csps:
        results |= _csp_steps(project, env)

    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "notebooks": [nb.name for nb in notebooks],
        "results": results,
        "ratios": _ratios(results),
        "all_csps_projection": _projection(results),
        "targets": TARGETS,
    }
    _print(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


def _csp_steps(project: Path, env: dict) -> dict[str, dict]:
    """(e) to (g): one police.uk CSP pack cold and unchanged, then DASK_PACKS of them on a local Dask cluster."""
    mirror = env.get("CSP_DATA_MIRROR")
    if not mirror:
        raise SystemExit("the police.uk steps need CSP_DATA_MIRROR (its policeuk/ folder)")
    fetch = [str(BIN / "csp"), "fetch", "--source", "policeuk", "--params", CITY, "--from", f"{mirror}/policeuk"]
    steps = {"fetch_policeuk": _measure(fetch, env)}
    steps["e_policeuk_pack_cold"] = _measure([str(BIN / "csp"), "pack", "--params", CITY], env)
    steps["f_policeuk_pack_unchanged"] = _measure([str(BIN / "csp"), "pack", "--params", CITY], env)
    probe = [sys.executable, "-c", DASK_PROBE, CITY, str(DASK_PACKS), str(DASK_WORKERS)]
    steps["g_policeuk_dask"] = _measure(probe, env) | {"packs": DASK_PACKS, "workers": DASK_WORKERS}
    return steps


def _projection(results: dict[str, dict]) -> dict[str, float | int | dict]:
    """`csp pack --all-csps` for ALL_CSPS packs, from the measured per-pack cost: one after another (the default,
    ALL_CSPS times (e)), and on w Dask workers (ceil(ALL_CSPS / w) rounds of the per-pack cost on one worker,
    (g)'s wall seconds times its workers over its packs). Assumes the per-pack cost constant from CSP to CSP
    and each worker a core of its own; the police.uk months already fetched (the fetch is a cost of its own)."""
    if "g_policeuk_dask" not in results:
        return {}
    g = results["g_policeuk_dask"]
    per_pack = g["seconds"] * g["workers"] / g["packs"]
    return {
        "csps": ALL_CSPS,
        "per_pack_seconds_one_worker": per_pack,
        "one_after_another_seconds": ALL_CSPS * results["e_policeuk_pack_cold"]["seconds"],
        "dask_workers_seconds": {str(w): -(-ALL_CSPS // w) * per_pack for w in PROJECTED_WORKERS},
    }


def _ratios(results: dict[str, dict]) -> dict[str, float | bool]:
    """The targets' ratios, of wall-clock and of CPU seconds ('_cpu'), for the steps that ran: (a)/(b) how many
    times faster the pack is, (c)/(b) the unchanged rebuild's share of a cold pack, (d)/(b) the batch in packs;
    and whether every step's peak memory is under the limit."""
    ratios: dict[str, float | bool] = {}
    for name, top, bottom in (
        ("b_vs_a", "a_naive_nbconvert", "b_pack_cold"),
        ("c_vs_b", "c_pack_unchanged", "b_pack_cold"),
        ("d_vs_b", "d_all_boroughs_cold", "b_pack_cold"),
    ):
        if top in results and bottom in results:
            for unit, suffix in (("seconds", ""), ("cpu_seconds", "_cpu")):
                ratios[name + suffix] = results[top][unit] / results[bottom][unit]
    ratios["peak_under_limit"] = all(r["peak_mib"] < PEAK_LIMIT_MIB for r in results.values())
    return ratios


def _print(report: dict) -> None:
    print(f"{'step':<24}{'seconds':>10}{'CPU s':>10}{'peak MiB':>10}{'load':>14}")
    for name, r in report["results"].items():
        load = "{:.1f} -> {:.1f}".format(*r["load_1min"])
        print(f"{name:<24}{r['seconds']:>10.1f}{r['cpu_seconds']:>10.1f}{r['peak_mib']:>10.0f}{load:>14}")
    ratios = report["ratios"]
    if "b_vs_a" in ratios:
        print(f"(a)/(b) = {ratios['b_vs_a']:.2f}x (CPU {ratios['b_vs_a_cpu']:.2f}x)")
    print(f"(c)/(b) = {100 * ratios['c_vs_b']:.1f}% (CPU {100 * ratios['c_vs_b_cpu']:.1f}%)")
    if "d_vs_b" in ratios:
        print(f"(d)/(b) = {ratios['d_vs_b']:.1f}x (CPU {ratios['d_vs_b_cpu']:.1f}x)")
    print(f"every peak under {PEAK_LIMIT_MIB} MiB: {ratios['peak_under_limit']}")
    if projection := report["all_csps_projection"]:
        print(
            f"csp pack --all-csps, {projection['csps']} CSPs: {projection['per_pack_seconds_one_worker']:.1f} s a pack"
            f" on one Dask worker; one after another {projection['one_after_another_seconds'] / 3600:.1f} h"
        )
        for workers, seconds in projection["dask_workers_seconds"].items():
            print(f"  on {workers} Dask workers: {seconds / 3600:.2f} h")


if __name__ == "__main__":
    main()
