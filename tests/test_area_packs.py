"""Which pack a params file asks for (runner.area_packs): the police.uk chapter for a CSP outside London, the
borough chapters for a London borough named by `area`, and a clear error before any notebook runs when the
police.uk months are not locked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import MIRROR
from synthetic_sources import mirrored_project
from test_area_city import CACHES, POLICEUK

from csp_evidence.core.params import load_params
from csp_evidence.data import policeuk_forces
from csp_evidence.data.sources import read_lock, write_lock
from csp_evidence.runner import area_packs
from csp_evidence.runner.pipeline import RunError, prepare

pytestmark = pytest.mark.realdata  # the areas are read from the mirror's ONS lookups
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [Path(f"notebooks/{stem}.ipynb") for stem in ("00_overview", "00_where", "03_hate", "07_area_policeuk")]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    with mirrored_project(tmp_path_factory, MIRROR, ROOT, CACHES) as root:
        yield root


def _params(root: Path, name: str, text: str):
    path = root / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return load_params(path)


def test_a_csp_outside_the_mps_boroughs_gets_the_police_uk_chapter_alone(project):
    city = load_params(ROOT / "params" / "city-of-london.yml")
    assert area_packs.is_area_pack(city) and area_packs.with_borough(city) == city
    assert [nb.stem for nb in area_packs.chapters_for(city, NOTEBOOKS)] == ["07_area_policeuk"]


def test_a_borough_named_by_area_reads_as_the_borough_and_gets_every_other_chapter(project):
    hackney = _params(project, "hackney", "area: Hackney\nheadline_period: '2025'\n")
    assert not area_packs.is_area_pack(hackney)
    assert area_packs.with_borough(hackney).borough == "Hackney"
    assert [nb.stem for nb in area_packs.chapters_for(hackney, NOTEBOOKS)] == ["00_overview", "00_where", "03_hate"]


def test_the_run_stops_before_any_notebook_until_the_months_are_locked_then_goes_on(project):
    city = load_params(ROOT / "params" / "city-of-london.yml")
    lock = read_lock()  # the repository locks the City's months: a project without them
    write_lock({k: v for k, v in lock.items() if not k.startswith(("policeuk_force_street/", "policeuk_reduced/"))})
    shutil.rmtree(project / "data" / "raw" / "policeuk", ignore_errors=True)
    with pytest.raises(RunError, match=r"2024-01 to 2025-12 are not all locked: run `csp fetch --source policeuk"):
        prepare(city)
    for cache in CACHES:
        cache.cache_clear()
    policeuk_forces.fetch_forces(
        policeuk_forces.months_for_area(city.headline_period), ["city-of-london"], from_path=POLICEUK
    )
    prepare(city)  # the months locked: no error
