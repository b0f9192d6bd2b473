"""Synthetic police.uk archives and MoJ data-tool zips in the official layouts, and a loopback HTTP server for them.

The police.uk archive ``YYYY-MM.zip`` holds ``YYYY-MM/YYYY-MM-<force>-street.csv`` for the 36 months to YYYY-MM
(with other forces' and the outcomes files beside them); street files have the official header, empty Crime ID
for ASB, 'No Location' rows with no LSOA, and some LSOAs outside London. ASB counts carry a planted lockdown
surge: `SURGE` times the usual level in the lockdown months in `SURGE_BOROUGH`, `LONDON_SURGE` elsewhere.
The MoJ zip holds ``PRSQ_Geographic_data_*.csv`` as the 'CSV format of data tools' attachment does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csp_evidence.data.fetch import fetch

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
    "Last outcome category,Context"
)
BOROUGHS = ("Hackney", "Tower Hamlets", "Camden", "Bromley", "Newham", "Barnet")
SURGE_BOROUGH = "Hackney"
SURGE = 2.5  # ASB in the lockdown months, times the usual level, in SURGE_BOROUGH
LONDON_SURGE = 1.3  # ... and in the other boroughs
LOCKDOWN_MONTHS = {
    *(f"2020-{m:02d}" for m in (3, 4, 5, 6)),
    "2020-11",
    "2020-12",
    *(f"2021-{m:02d}" for m in (1, 2, 3)),
}
BASE_ASB = {"Hackney": 60, "Tower Hamlets": 80, "Camden": 55, "Bromley": 40, "Newham": 70, "Barnet": 45}
CRIME_TYPES = ("Violence and sexual offences", "Burglary", "Other theft")
# A real LSOA of each borough (its 001A, the same code in the 2011 and 2021 sets): rows are placed by their code.
LSOA_CODES = {
    "Hackney": "E01001808",
    "Tower Hamlets": "E01004222",
    "Camden": "E01000907",
    "Bromley": "E01000779",
    "Newham": "E01003543",
    "Barnet": "E01000248",
}
NO_LOCATION_ROWS = 3  # a month
OUTSIDE_ROWS = 2  # a month: LSOAs in Epping Forest and the City of London


def months(first: str, last: str) -> list[str]:
    return [f"{m:%Y-%m}" for m in pd.date_range(f"{first}-01", f"{last}-01", freq="MS")]


def asb_expected(borough: str, month: str) -> float:
    """The planted mean ASB count of a borough and month: a level, a summer peak, and the lockdown surge."""
    m = int(month[5:])
    season = 1 + 0.2 * np.cos(2 * np.pi * (m - 7) / 12)
    surge = (SURGE if borough == SURGE_BOROUGH else LONDON_SURGE) if month in LOCKDOWN_MONTHS else 1.0
    return BASE_ASB[borough] * season * surge


def street_csv(month: str, seed: int = 0, drop_borough: str | None = None) -> bytes:
    """One month's Metropolitan Police street file, as police.uk publishes it (UTF-8, CRLF-free, one header)."""
    rng = np.random.default_rng(int(month.replace("-", "")) * 10 + seed)
    out = io.StringIO()
    out.write(HEADER + "\n")
    writer = csv.writer(out, lineterminator="\n")
    n = 0

    def row(crime_type: str, lsoa_code: str, lsoa_name: str, location: str = "On or near High Street") -> None:
        nonlocal n
        n += 1
        asb = crime_type == "Anti-social behaviour"
        cid = "" if asb else hashlib.sha256(f"{month}-{n}".encode()).hexdigest()
        outcome = "" if asb else "Investigation complete; no suspect identified"
        lon, lat = ("", "") if not lsoa_code else ("-0.07", "51.52")
        writer.writerow(
            [
                cid,
                month,
                "Metropolitan Police Service",
                "Metropolitan Police Service",
                lon,
                lat,
                location,
                lsoa_code,
                lsoa_name,
                crime_type,
                outcome,
                "",
            ]
        )

    for borough in BOROUGHS:
        if borough == drop_borough:
            continue
        lsoa = (LSOA_CODES[borough], f"{borough} 001A")
        for _ in range(rng.poisson(asb_expected(borough, month))):
            row("Anti-social behaviour", *lsoa)
        for crime_type in CRIME_TYPES:
            for _ in range(rng.poisson(20)):
                row(crime_type, *lsoa)
    for _ in range(NO_LOCATION_ROWS):
        row("Other theft", "", "", "No Location")
    row("Anti-social behaviour", "E01021768", "Epping Forest 001A")
    row("Burglary", "E01000001", "City of London 001A")
    return out.getvalue().encode("utf-8")


def police_archive(archive: str, have: list[str] | set[str], corrupt_month: str | None = None) -> bytes:
    """A police.uk archive YYYY-MM.zip: the months of `have` among the 36 to `archive`, each with the
    Metropolitan street file, the outcomes file and another force's street file."""
    end = pd.Timestamp(f"{archive}-01")
    held = months(f"{end - pd.DateOffset(months=35):%Y-%m}", archive)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for month in held:
            if month not in have:
                continue
            zf.writestr(f"{month}/{month}-kent-street.csv", HEADER + "\n")
            zf.writestr(f"{month}/{month}-metropolitan-outcomes.csv", "Crime ID,Month\n")
            zf.writestr(f"{month}/{month}-metropolitan-street.csv", street_csv(month))
    data = buf.getvalue()
    return data


def moj_csv(boroughs: tuple[str, ...] = ("Tower Hamlets", "Hackney"), latest_th_rate: float = 0.26) -> bytes:
    """A PRSQ_Geographic_data CSV: 12-month cohorts Apr 2015-Mar 2016 to Apr 2020-Mar 2021 for the boroughs,
    London and England, adult and juvenile. Tower Hamlets' adult rate is `latest_th_rate` (26%, the plan's figure)
    in the Apr 2020 to Mar 2021 cohort, and 23.4% in the one before (an 11% rise at 26%)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Geography", "Category", "Adult / Juvenile", "Cohort", "offenders", "reoffenders", "reoffences"])
    rates = {
        "Tower Hamlets": [0.28, 0.27, 0.26, 0.25, 0.234, latest_th_rate],
        "Hackney": [0.30, 0.29, 0.29, 0.28, 0.27, 0.24],
        "London": [0.27, 0.26, 0.26, 0.25, 0.24, 0.23],
        "England": [0.29, 0.28, 0.28, 0.27, 0.26, 0.25],
    }
    sizes = {"Tower Hamlets": 1000, "Hackney": 1100, "London": 60000, "England": 400000}
    for geo in (*boroughs, "London", "England"):
        category = "UTLA total" if geo in boroughs else ("Region" if geo == "London" else "National")
        for k, year in enumerate(range(2015, 2021)):
            for group, scale in (("Adult", 1.0), ("Juvenile", 0.1)):
                n = int(sizes[geo] * scale)
                r = round(n * (rates[geo][k] + (0.08 if group == "Juvenile" else 0)))
                writer.writerow([geo, category, group, f"Apr {year} to Mar {year + 1}", f"{n:,}", r, round(r * 3.5)])
    return out.getvalue().encode("utf-8")


def moj_zip(csv_bytes: bytes | None = None, period: str = "April 2011 to March 2022") -> bytes:
    """The 'CSV format of data tools' zip of the release covering `period` (the data file's name says it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"PRSQ_Geographic_data_{period}.csv", csv_bytes or moj_csv())
        zf.writestr(f"PRSQ_Index_data_{period}.csv", "Index\n")
    return buf.getvalue()


RELEASE_PAGE = """<!DOCTYPE html><html><body><h1>Proven reoffending statistics: January to March 2022</h1>
<a href="/media/abc/prsq-tables.ods">Main tables</a>
<a class="govuk-link" href="/media/def/CSV_format_of_data_tools_Jan22_Mar22.zip">CSV format of data tools</a>
</body></html>"""


class Server:
    """A loopback HTTP server over a dict of path -> bytes, with Range requests and planted faults.

    `truncate` holds paths whose next response announces the whole length and sends half (an interrupted
    download); `no_range` paths ignore Range and send the whole file. `requests` records (path, Range header).
    """

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.truncate: set[str] = set()
        self.no_range: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and self.path not in server.no_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                self.send_header("Content-Length", str(len(part)))
                self.send_header("Content-Type", "text/html" if self.path.endswith("/") else "application/zip")
                self.end_headers()
                if self.path in server.truncate:
                    server.truncate.discard(self.path)
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def mirrored_project(tmp_path_factory, mirror: Path, root_dir: Path, caches: tuple[Callable, ...]) -> Iterator[Path]:
    """A project folder (CSP_PROJECT_DIR) holding the repository's lock and plan tables and the mirror's locked
    files, for a test that then fetches a source over a loopback server; `caches` (lru-cached readers) are cleared
    on the way in and out. Skips when the mirror is absent."""
    if not mirror.is_dir():
        pytest.skip(f"the data mirror {mirror} is absent")
    root = tmp_path_factory.mktemp("project")
    (root / "data").mkdir()
    shutil.copy(root_dir / "data" / "sources.lock", root / "data" / "sources.lock")
    shutil.copytree(root_dir / "data" / "plan", root / "data" / "plan")
    patch = pytest.MonkeyPatch()
    patch.setenv("CSP_PROJECT_DIR", str(root))
    for cache in caches:
        cache.cache_clear()  # type: ignore[attr-defined]
    try:
        fetch(mirror=mirror)
        yield root
    finally:
        for cache in caches:
            cache.cache_clear()  # type: ignore[attr-defined]
        patch.undo()
