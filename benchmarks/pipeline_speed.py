"""Time the ways of building the evidence pack, side by side in one run on one machine, with peak memory.

    (a) naive: the chapter notebooks executed one after another with `jupyter nbconvert --execute`
    (b) `csp pack` cold: no previous outputs and no cached tidy tables
    (c) `csp pack` again with nothing changed (incremental: notebooks and site reused)
    (d) `csp pack --all-boroughs` cold: 32 borough packs and the London index

Usage (from the project folder, with the data fetched or CSP_DATA_MIRROR set):

    .venv/bin/python benchmarks/pipeline_speed.py [--skip-all-boroughs] [--json benchmarks/results.json]

Peak memory is the largest resident set of any process a step started (the kernels included), from
getrusage(RUSAGE_CHILDREN), measured per step in a fresh child so the steps do not mask each other.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGETS = {
    "b_vs_a": "(b) at least 2x faster than (a)",
    "c_vs_b": "(c) under 10% of (b)",
    "d_vs_b": "(d) no more than 10x (b)",
}


def _measure(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command and everything it starts."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); rc = subprocess.call(sys.argv[1:]); wall = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(f'{wall} {peak} {rc}')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], env=env, cwd=env["CSP_PROJECT_DIR"], capture_output=True, text=True
    )
    wall, peak, rc = out.stdout.strip().splitlines()[-1].split()
    if rc != "0":
        raise SystemExit(f"{' '.join(cmd)} failed (exit {rc}):\n{out.stderr[-3000:]}")
    return float(wall), float(peak)


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
    parser.add_argument("--skip-all-boroughs", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="csp-bench-"))
    project, outputs = _project_copy(work), work / "outputs"
    env = os.environ | {"CSP_OUTPUTS_DIR": str(outputs), "CSP_PROJECT_DIR": str(project), "MPLBACKEND": "Agg"}
    if env.get("CSP_DATA_MIRROR"):  # the steps run in the copy's folder: a relative mirror path must not move
        env["CSP_DATA_MIRROR"] = str(Path(env["CSP_DATA_MIRROR"]).resolve())
    subprocess.run([str(BIN / "csp"), "fetch"], env=env, cwd=project, check=True, capture_output=True)
    notebooks = sorted((project / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    results: dict[str, dict] = {}

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
    results["a_naive_nbconvert"] = dict(zip(("seconds", "peak_mib"), _measure(cmd, env), strict=False))

    _clear_caches(project)
    results["b_pack_cold"] = dict(zip(("seconds", "peak_mib"), _measure([str(BIN / "csp"), "pack"], env), strict=False))
    results["c_pack_unchanged"] = dict(
        zip(("seconds", "peak_mib"), _measure([str(BIN / "csp"), "pack"], env), strict=False)
    )
    if not args.skip_all_boroughs:
        _clear_caches(project)
        for pack in [outputs / "tower-hamlets", *(outputs / ".packs").glob("tower-hamlets-*")]:  # the link, its packs
            pack.unlink() if pack.is_symlink() else shutil.rmtree(pack, ignore_errors=True)
        results["d_all_boroughs_cold"] = dict(
            zip(("seconds", "peak_mib"), _measure([str(BIN / "csp"), "pack", "--all-boroughs"], env), strict=False)
        )

    a, b, c = (results[k]["seconds"] for k in ("a_naive_nbconvert", "b_pack_cold", "c_pack_unchanged"))
    ratios = {"b_vs_a": a / b, "c_vs_b": c / b}
    if "d_all_boroughs_cold" in results:
        ratios["d_vs_b"] = results["d_all_boroughs_cold"]["seconds"] / b
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "notebooks": [nb.name for nb in notebooks],
        "results": results,
        "ratios": ratios,
    }
    print(f"{'step':<24}{'seconds':>10}{'peak MiB':>10}")
    for name, r in results.items():
        print(f"{name:<24}{r['seconds']:>10.1f}{r['peak_mib']:>10.0f}")
    print(
        f"(a)/(b) = {ratios['b_vs_a']:.2f}x   (c)/(b) = {100 * ratios['c_vs_b']:.1f}%"
        + (f"   (d)/(b) = {ratios['d_vs_b']:.1f}x" if "d_vs_b" in ratios else "")
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
