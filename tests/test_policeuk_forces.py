"""`csp fetch --source policeuk` for any force: synthetic archives of three forces served from 127.0.0.1; the area's
forces' street files kept, every force's month reduced while the archive streams, all or nothing, resumable."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from synthetic_forces import FORCES, archive, months, street_csv
from synthetic_sources import Server

from csp_evidence.data import policeuk_forces
from csp_evidence.data.download import FetchError
from csp_evidence.data.readers import policeuk
from csp_evidence.data.sources import read_lock

MONTHS = months("2021-01", "2022-12")


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sources.lock").write_text(json.dumps({"sources": {}}))
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("CSP_DATA_MIRROR", raising=False)
    return tmp_path


def _state(root):
    raw = root / "data" / "raw"
    files = {str(p.relative_to(raw)): p.read_bytes() for p in raw.rglob("*") if p.is_file()} if raw.exists() else {}
    return files, (root / "data" / "sources.lock").read_bytes()


def _by_hand(force: str, month: str) -> Counter:
    rows = csv.DictReader(io.StringIO(street_csv(force, month, crlf=month >= "2022-01").decode()))
    return Counter((r["LSOA code"], r["Crime type"]) for r in rows)


def test_keeps_the_areas_forces_and_reduces_every_force(project):
    with Server({"/archive/2022-12.zip": archive("2022-12", MONTHS)}) as server:
        got = policeuk_forces.fetch_forces(MONTHS, ["kent"], base_url=f"{server.url}/archive")
        assert len(server.requests) == 1  # one archive holds the 24 months
    assert [r.month for r in got] == MONTHS and {r.action for r in got} == {"downloaded"}
    assert all(r.reduced_forces == tuple(sorted(FORCES)) for r in got)
    raw = project / "data" / "raw" / "policeuk"
    kept = sorted(p.name for p in raw.glob("*/*-street.csv"))
    assert kept == [f"{m}-kent-street.csv" for m in MONTHS]  # Essex's and South Wales's files are not kept
    assert (raw / "2022-05" / "2022-05-kent-street.csv").read_bytes() == street_csv("kent", "2022-05", crlf=True)
    lock = read_lock()
    assert len([e for e in lock if e.startswith("policeuk_force_street/")]) == 24
    assert len([e for e in lock if e.startswith("policeuk_reduced/")]) == 24
    for month in ("2021-03", "2022-07"):
        table = policeuk.read_reduced(raw / "reduced" / f"{month}-reduced.csv")
        for force in FORCES:
            sel = table[table["force"] == force]
            assert sel.groupby(["lsoa", "crime_type"])["count"].sum().to_dict() == dict(_by_hand(force, month))
        assert int(table.loc[table["lsoa"] == "", "count"].sum()) == 4 * len(FORCES)  # no-location rows per force
    # a second run finds every month present and downloads nothing
    with Server({}) as server:
        again = policeuk_forces.fetch_forces(MONTHS, ["kent"], base_url=f"{server.url}/archive")
        assert server.requests == [] and {r.action for r in again} == {"present"}


def test_a_force_missing_from_a_month_is_named_and_nothing_is_kept(project):
    gap = [m for m in MONTHS if m != "2022-06"]
    full = archive("2022-12", gap)
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(full)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("2022-06/2022-06-essex-street.csv", street_csv("essex", "2022-06"))  # Kent's month is absent
    before = _state(project)
    with Server({"/archive/2022-12.zip": buf.getvalue()}) as server:
        with pytest.raises(FetchError, match=r"no street file for 1 month\(s\) asked for: 2022-06 \(kent\)"):
            policeuk_forces.fetch_forces(MONTHS, ["kent"], base_url=f"{server.url}/archive")
    assert _state(project) == before
    # the archive stays in data/downloads/ to be read again, not downloaded again
    assert (project / "data" / "downloads" / "policeuk" / "2022-12.zip").is_file()


def test_a_bad_row_in_a_dropped_forces_file_is_named(project):
    bad = street_csv("essex", "2022-02").replace(b"Shoplifting", b"Shop lifting", 1)
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("2022-02/2022-02-kent-street.csv", street_csv("kent", "2022-02"))
        zf.writestr("2022-02/2022-02-essex-street.csv", bad)
    before = _state(project)
    with Server({"/archive/2022-02.zip": buf.getvalue()}) as server:
        with pytest.raises(FetchError, match=r"2022-02-essex-street.csv, line \d+, column 'Crime type'.*Shop lifting"):
            policeuk_forces.fetch_forces(["2022-02"], ["kent"], base_url=f"{server.url}/archive")
    assert _state(project) == before


def test_from_a_folder_in_the_archive_layout(project, tmp_path):
    folder = tmp_path / "download"
    for month in ("2022-01", "2022-02"):
        (folder / month).mkdir(parents=True)
        for force in ("kent", "south-wales"):
            (folder / month / f"{month}-{force}-street.csv").write_bytes(street_csv(force, month))
    got = policeuk_forces.fetch_forces(["2022-01", "2022-02"], ["south-wales"], from_path=folder)
    assert [r.reduced_forces for r in got] == [("kent", "south-wales")] * 2 and got[0].action == "copied"
    assert policeuk_forces.locked_reduced_months() == ["2022-01", "2022-02"]


def test_force_identifiers_of_the_ons_force_areas():
    assert policeuk_forces.force_slug("Devon & Cornwall") == "devon-and-cornwall"
    assert policeuk_forces.force_slug("Metropolitan Police") == "metropolitan"
    assert policeuk_forces.force_slug("London, City of") == "city-of-london"
    assert policeuk_forces.force_slug("Dyfed-Powys") == "dyfed-powys"
    assert policeuk_forces.months_for_area("12 months to 2025-12")[0] == "2024-01"
