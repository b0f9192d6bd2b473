"""Stream a synthetic month of every police.uk force into the reduced table, against reading it whole with pandas.

A police.uk archive month holds 44 street files (43 forces and the British Transport Police), about 600,000 rows
and 150 MB. `csp fetch --source policeuk` for an area outside London reads every force's file of each month out of
the archive and keeps only a small table (LSOA x crime type x outcome group, ``readers.policeuk
.reduce_street_stream``). This benchmark builds such a month as a zip in the official layout and measures, each in
a fresh child process (so one cannot mask the other's memory):

    (a) streamed: each member inflated and reduced in chunks, never held whole (what the fetch does)
    (b) whole:    each member read by pandas.read_csv into one DataFrame of every row, then counted

Usage: .venv/bin/python benchmarks/policeuk_reduce.py [--rows 600000] [--json benchmarks/policeuk_reduce.json]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import platform
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from csp_evidence.data.readers.policeuk import EXPECTED_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
FORCES = (
    "avon-and-somerset bedfordshire btp cambridgeshire cheshire city-of-london cleveland cumbria derbyshire "
    "devon-and-cornwall dorset durham dyfed-powys essex gloucestershire greater-manchester gwent hampshire "
    "hertfordshire humberside kent lancashire leicestershire lincolnshire merseyside metropolitan norfolk north-wales "
    "north-yorkshire northamptonshire northumbria nottinghamshire south-wales south-yorkshire staffordshire suffolk "
    "surrey sussex thames-valley warwickshire west-mercia west-midlands west-yorkshire wiltshire"
).split()
HEADER = list(EXPECTED_COLUMNS)  # the official street file header, as the reader checks it
TYPES = [
    "Anti-social behaviour",
    "Violence and sexual offences",
    "Other theft",
    "Shoplifting",
    "Criminal damage and arson",
    "Burglary",
    "Vehicle crime",
    "Public order",
    "Drugs",
]
OUTCOMES = ["Investigation complete; no suspect identified", "Unable to prosecute suspect", "Under investigation"]
MONTH = "2025-06"

STREAMED = """
import sys, time, zipfile, resource
from csp_evidence.data.readers.policeuk import reduce_street_stream, street_file_force
t = time.perf_counter(); rows = 0; n = 0
with zipfile.ZipFile(sys.argv[1]) as zf:
    for info in zf.infolist():
        month, force = street_file_force(info.filename)
        with zf.open(info) as f:
            table = reduce_street_stream(f, info.filename, month, force)
        rows += int(table["count"].sum()); n += len(table)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rows, n)
"""
WHOLE = """
import sys, time, zipfile, resource
import pandas as pd
t = time.perf_counter(); frames = []
with zipfile.ZipFile(sys.argv[1]) as zf:
    for info in zf.infolist():
        with zf.open(info) as f:
            frames.append(pd.read_csv(f, dtype=str, keep_default_na=False))
rows = pd.concat(frames, ignore_index=True)
table = rows.groupby(["LSOA code", "Crime type", "Last outcome category"]).size()
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(rows), len(table))
"""
BASELINE = """
import resource, pandas, zipfile
from csp_evidence.data.readers import policeuk
print(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0, 0)
"""


def synthetic_month(path: Path, rows: int, seed: int = 1) -> int:
    """A zip of every force's street file of MONTH (about `rows` rows in all); returns its inflated size in bytes."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(len(FORCES)) * 3)
    inflated = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for k, (force, share) in enumerate(zip(FORCES, shares, strict=True)):
            n = int(rows * share)
            own = 35_000 // len(FORCES)  # a force's rows lie in its own LSOAs, about 800 of England and Wales's 35,000
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(HEADER)
            lsoas = k * own + rng.integers(0, own, n)
            kinds = rng.integers(0, len(TYPES), n)
            name = force.replace("-", " ").title() + " Police"
            for i in range(n):
                asb = kinds[i] == 0
                crime_id = "" if asb else hashlib.sha256(f"{force}{i}".encode()).hexdigest()
                unlocated = i % 50 == 0
                writer.writerow(
                    [
                        crime_id,
                        MONTH,
                        name,
                        name,
                        "" if unlocated else f"-1.{i % 999999:06d}",
                        "" if unlocated else f"52.{i % 999999:06d}",
                        "No Location" if unlocated else f"On or near Street {i % 5000}",
                        "" if unlocated else f"E0{1000000 + int(lsoas[i]):07d}",
                        "" if unlocated else f"Somewhere {int(lsoas[i]) % 300:03d}A",
                        TYPES[kinds[i]],
                        "" if asb else OUTCOMES[i % 3],
                        "",
                    ]
                )
            data = out.getvalue().encode()
            inflated += len(data)
            zf.writestr(f"{MONTH}/{MONTH}-{force}-street.csv", data)
    return inflated


def _child(code: str, archive: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, str(archive)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    wall, peak, rows, table = out.stdout.split()
    return {"seconds": round(float(wall), 2), "peak_mib": round(float(peak)), "rows": int(rows), "table": int(table)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / f"{MONTH}.zip"
        inflated = synthetic_month(archive, args.rows)
        base = _child(BASELINE, archive)
        streamed = _child(STREAMED, archive)
        whole = _child(WHOLE, archive)
    result = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "rows": whole["rows"],
        "inflated_mb": round(inflated / 1e6),
        "imports_peak_mib": base["peak_mib"],
        "streamed": streamed,
        "whole": whole,
    }
    assert streamed["rows"] == whole["rows"], "the reduced table must count every row"
    print(
        f"{whole['rows']:,} rows, {result['inflated_mb']} MB inflated, 44 forces\n"
        f"  (a) streamed into the reduced table: {streamed['seconds']} s, peak {streamed['peak_mib']} MiB "
        f"({streamed['table']:,} rows kept)\n"
        f"  (b) read whole with pandas:          {whole['seconds']} s, peak {whole['peak_mib']} MiB\n"
        f"  the imports alone: peak {base['peak_mib']} MiB"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
