"""A clean clone brings an area's locked police.uk months like any locked source: the street files from the mirror,
each reduced month made again from them and checked against its locked sha256 (no mirror holds a derived table);
and the City of London's months are committed, so its pack never adds to data/sources.lock."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from synthetic_forces import archive, months, street_csv
from synthetic_sources import Server

from csp_evidence.core.params import load_params
from csp_evidence.data import geography, policeuk_forces
from csp_evidence.data.download import FetchError
from csp_evidence.data.fetch import fetch, verified_file
from csp_evidence.data.sources import read_lock

MONTHS = months("2021-11", "2022-02")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sources.lock").write_text(json.dumps({"sources": {}}))
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("CSP_DATA_MIRROR", raising=False)
    return tmp_path


def _mirror(root: Path) -> Path:
    """A mirror laid out like data/raw/ holding Kent's street files only (as the shared mirror holds the City's)."""
    for month in MONTHS:
        path = root / "mirror" / "policeuk" / month / f"{month}-kent-street.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(street_csv("kent", month, crlf=month >= "2022-01"))
    return root / "mirror"


def _raw(root: Path) -> dict[str, bytes]:
    raw = root / "data" / "raw"
    return {str(p.relative_to(raw)): p.read_bytes() for p in raw.rglob("*") if p.is_file()}


def test_a_clean_clone_fetches_the_street_files_and_makes_the_reduced_months_again(project, monkeypatch):
    mirror = _mirror(project)
    policeuk_forces.fetch_forces(MONTHS, ["kent"], from_path=mirror / "policeuk")
    locked, lock_bytes = _raw(project), (project / "data" / "sources.lock").read_bytes()
    assert len(locked) == 2 * len(MONTHS)
    shutil.rmtree(project / "data" / "raw")  # a clean clone: the lock, no files

    got = fetch(["policeuk_reduced"], mirror=mirror)  # the street files come first, then the tables made from them
    actions = {r.source_id: r.action for r in got}
    assert actions[policeuk_forces.force_entry("2022-01", "kent")] == "copied"
    assert actions[policeuk_forces.reduced_entry("2022-01")] == "made"
    assert _raw(project) == locked  # the same bytes, the reduced tables included
    assert (project / "data" / "sources.lock").read_bytes() == lock_bytes  # the lock untouched

    shutil.rmtree(project / "data" / "raw")  # a reader asking for one reduced month brings what it needs
    monkeypatch.setenv("CSP_DATA_MIRROR", str(mirror))  # as a notebook's kernel has it
    path, _ = verified_file(policeuk_forces.reduced_entry("2021-12"))
    assert path.read_bytes() == locked["policeuk/reduced/2021-12-reduced.csv"]


def test_a_reduced_month_of_a_whole_archive_is_not_made_from_the_kept_files(project):
    with Server({"/archive/2022-02.zip": archive("2022-02", MONTHS)}) as server:
        policeuk_forces.fetch_forces(MONTHS, ["kent"], base_url=f"{server.url}/archive")  # reduces all three forces
    shutil.rmtree(project / "data" / "raw")
    with pytest.raises(FetchError, match=r"policeuk_reduced/2021-11.*does not match the lock"):
        fetch(["policeuk_reduced"], mirror=_mirror(project))
    assert not (project / "data" / "raw" / "policeuk" / "reduced" / "2021-11-reduced.csv").exists()


def test_the_city_of_londons_months_are_locked_in_the_repository(monkeypatch):
    monkeypatch.setenv("CSP_PROJECT_DIR", str(ROOT))
    params = load_params(ROOT / "params" / "city-of-london.yml")
    area, _ = geography.params_area(params)
    wanted = policeuk_forces.months_for_area(params.headline_period, params.periods)
    lock = read_lock(ROOT / "data" / "sources.lock")
    for month in wanted:  # else `csp pack --params params/city-of-london.yml` would add them and dirty the tree
        assert policeuk_forces.reduced_entry(month) in lock
        assert all(policeuk_forces.force_entry(month, f) in lock for f in policeuk_forces.area_forces(area))
