"""The police.uk chapter for CSPs outside London, end to end on synthetic archives of three forces served from
127.0.0.1: a CSP of two authorities (Dartford and Gravesham), a Welsh CSP (Cwm Taf), rows across force boundaries,
the 2011-to-2021 LSOA switch, and the planted effects (Gravesham's burglary doubling, Cwm Taf's lockdown ASB
surge) recovered. Expected counts come from the synthetic files, counted here with the csv module."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import Counter
from pathlib import Path

import pytest
from conftest import MIRROR
from synthetic_forces import LSOAS, SWITCH, archive, months, street_csv
from synthetic_sources import Server, mirrored_project
from test_area_city import CACHES

from csp_evidence.analysis import area_crime
from csp_evidence.chapters import area as chapter
from csp_evidence.core.params import load_params
from csp_evidence.data import policeuk_forces

pytestmark = pytest.mark.realdata  # the placing needs the ONS lookups of the mirror
ROOT = Path(__file__).resolve().parents[1]
MONTHS = months("2021-01", "2022-12")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    with mirrored_project(tmp_path_factory, MIRROR, ROOT, CACHES) as root:
        with Server({"/archive/2022-12.zip": archive("2022-12", MONTHS)}) as server:
            policeuk_forces.fetch_forces(MONTHS, ["kent", "south-wales"], base_url=f"{server.url}/archive")
        yield root


def _params(root: Path, name: str, text: str):
    path = root / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return load_params(path)


def _by_hand(lads: tuple[str, ...], year: str) -> Counter:
    """Rows of every force's synthetic files of a year in the authorities' LSOAs (either vintage)."""
    codes = {c for lad in lads for vintage in LSOAS[lad] for c in vintage}
    out: Counter = Counter()
    for month in months(f"{year}-01", f"{year}-12"):
        for force in ("kent", "south-wales", "essex"):
            text = street_csv(force, month, crlf=month >= SWITCH).decode()
            out.update(r["Crime type"] for r in csv.DictReader(io.StringIO(text)) if r["LSOA code"] in codes)
    return out


def test_a_csp_of_two_authorities_against_its_force_area(project):
    section = chapter.area_section(
        _params(project, "dg", "area: Dartford and Gravesham\nheadline_period: '2022'\ncomparison: force\n")
    )
    assert section.group.kind == "force" and section.group.name == "Kent" and section.group_forces_missing == ()
    table = section.changes.set_index("measure")
    now, before = _by_hand(("Dartford", "Gravesham"), "2022"), _by_hand(("Dartford", "Gravesham"), "2021")
    for measure in ("Burglary", "Shoplifting", "Anti-social behaviour", "Violence and sexual offences"):
        assert table.at[measure, "current"] == now[measure] and table.at[measure, "previous"] == before[measure]
    # Essex's rows in Dartford count in Dartford and Gravesham: they are in the hand count, and more than Kent's alone
    assert table.at["Burglary", "current"] > 0
    # planted: Gravesham's burglary doubled in 2022 (the CSP's by half), beyond chance, and beyond the rest of Kent
    assert table.at["Burglary", "significant"] and 30 < table.at["Burglary", "pct_change"] < 75
    assert not table.at["Shoplifting", "significant"]
    group = section.against_group.set_index("measure")
    assert group.at["Burglary", "relative_significant"] and group.at["Burglary", "ratio_of_ratios"] > 1.2
    assert group.at["Burglary", "rank"] == 1  # the largest rise among the Kent CSPs with figures
    # Kent's rows in Thurrock (Essex's force area) are counted there, never here
    elsewhere = section.elsewhere.set_index("authority")["rows"]
    assert "Thurrock" in elsewhere.index and elsewhere["no LSOA"] == 4 * 12
    assert chapter.group_table(section) is not None


def test_the_2011_to_2021_switch_keeps_the_series_whole(project):
    """Files before 2022 use 2011 codes and after it 2021 codes: each authority's months all count."""
    section = chapter.area_section(_params(project, "dg2", "area: Dartford and Gravesham\nheadline_period: '2022'\n"))
    table = section.changes.set_index("measure")
    assert (
        table.at["Violence and sexual offences", "previous"] > 0
        and table.at["Violence and sexual offences", "current"] > 0
    )
    ratio = table.at["Violence and sexual offences", "current"] / table.at["Violence and sexual offences", "previous"]
    assert 0.8 < ratio < 1.25  # no step at the switch: nothing planted on violence


def test_a_welsh_csp_and_its_lockdown_asb_surge(project):
    section = chapter.area_section(
        _params(project, "cwm", "area: Cwm Taf\nheadline_period: '2022'\ncomparison: force\n")
    )
    assert section.area.country_name == "Wales" and section.group.name == "South Wales"
    table = section.changes.set_index("measure")
    now, before = (
        _by_hand(("Merthyr Tydfil", "Rhondda Cynon Taf"), "2022"),
        _by_hand(("Merthyr Tydfil", "Rhondda Cynon Taf"), "2021"),
    )
    assert table.at["Anti-social behaviour", "current"] == now["Anti-social behaviour"]
    # planted: ASB at 2.5 times its level in 2021's three lockdown months, so 2022 is about 27% lower
    assert (
        table.at["Anti-social behaviour", "significant"] and -40 < table.at["Anti-social behaviour", "pct_change"] < -15
    )
    assert before["Anti-social behaviour"] > now["Anti-social behaviour"]
    assert section.rate_caveat == ""  # a CSP of many residents: rates without the caveat


def test_a_region_whose_forces_are_not_all_held_is_not_compared(project):
    section = chapter.area_section(
        _params(project, "cwm2", "area: Cwm Taf\nheadline_period: '2022'\ncomparison: region\n")
    )
    assert section.against_group is None
    assert set(section.group_forces_missing) == {"dyfed-powys", "gwent", "north-wales"}
    assert any("No comparison with Wales" in p.text for p in chapter.key_points(section))
    assert area_crime.ALL_CRIME in set(section.changes["measure"])


def test_pack_all_csps_of_a_force_area(project, monkeypatch, capsys):
    """`csp pack --all-csps --force-area Kent`: one pack a CSP of Kent (as the ONS lookup lists them), each named
    after its CSP, from the template's periods; an unknown force area is named with the choices."""
    from csp_evidence import cli
    from csp_evidence.runner import batch

    lookup = MIRROR / "other" / "ons_lookup_LAD23_CSP23_PFA23_December_2023.csv"
    with lookup.open(encoding="utf-8-sig", newline="") as f:
        kent = sorted({r["CSP23NM"] for r in csv.DictReader(f) if r["PFA23NM"] == "Kent"})
    built = []

    def build_one(params, engine="auto", force=False):
        built.append(params)
        return batch.BoroughOutcome(params.name, params.area, "built")

    monkeypatch.setattr(batch, "build_one", build_one)
    monkeypatch.setattr(cli, "cmd_fetch", lambda args: 0)
    template = project / "kent.yml"
    template.write_text("area: Maidstone\nheadline_period: '2022'\ncomparison: force\n", encoding="utf-8")
    assert cli.main(["pack", "--params", str(template), "--all-csps", "--force-area", "kent"]) == 0
    assert sorted(geo_name for geo_name in (p.name for p in built)) == sorted(batch.slug(n) for n in kent)
    assert {p.headline_period for p in built} == {"2022"} and all(p.area.startswith("E22") for p in built)
    assert cli.main(["pack", "--params", str(template), "--all-csps", "--force-area", "Kentish"]) == 1
    assert "unknown force area 'Kentish'" in capsys.readouterr().err


def test_cli_fetch_source_policeuk_for_an_area(project, capsys):
    """`csp fetch --source policeuk --params P` for a CSP outside London fetches its force's months for the params'
    periods (2021 and 2022 here), and names the forces and months it fetched."""
    from csp_evidence import cli
    from csp_evidence.data.sources import read_lock

    params = project / "cwm-fetch.yml"
    params.write_text("area: Cwm Taf\nheadline_period: '2022'\n", encoding="utf-8")
    with Server({"/archive/2022-12.zip": archive("2022-12", MONTHS)}) as server:
        code = cli.main(["fetch", "--source", "policeuk", "--params", str(params), "--url", f"{server.url}/archive"])
    captured = capsys.readouterr()
    out = captured.out + captured.err  # the command's console writes to stderr
    assert code == 0, out
    assert "Cwm Taf: forces south-wales; months 2021-01 to 2022-12 (24)" in " ".join(out.split())
    lock = read_lock()
    assert all(f"policeuk_force_street/{m}/south-wales" in lock for m in MONTHS)


def test_pack_all_csps_on_dask_builds_them_through_the_batch(project, monkeypatch, capsys):
    """`csp pack --all-csps --scheduler dask`: the CSPs' packs go to the batch on Dask (--jobs workers), without a
    London index, and each CSP's outcome is reported; a failed one makes the exit status 1."""
    from csp_evidence import cli
    from csp_evidence.runner import batch

    calls = []

    def build_many(params_list, **kwargs):
        calls.append((list(params_list), kwargs))
        outcomes = [batch.BoroughOutcome(p.name, "", "built") for p in params_list]
        outcomes[-1] = dataclasses.replace(outcomes[-1], status="failed", error="planted")
        return batch.BatchResult(outcomes)

    monkeypatch.setattr(cli, "build_many", build_many)
    monkeypatch.setattr(batch, "build_one", lambda *a, **k: pytest.fail("built one after another"))
    monkeypatch.setattr(cli, "cmd_fetch", lambda args: 0)
    template = project / "kent-dask.yml"
    template.write_text("area: Maidstone\nheadline_period: '2022'\ncomparison: force\n", encoding="utf-8")
    argv = ["pack", "--params", str(template), "--all-csps", "--force-area", "kent", "--scheduler", "dask"]
    assert cli.main([*argv, "--jobs", "3"]) == 1
    [(packs, kwargs)] = calls
    assert kwargs["scheduler"] == "dask" and kwargs["jobs"] == 3 and kwargs["london_index"] is False
    assert batch.slug("Maidstone") in {p.name for p in packs}
    assert "Tunbridge Wells: failed: planted" in capsys.readouterr().err  # the console writes to stderr
