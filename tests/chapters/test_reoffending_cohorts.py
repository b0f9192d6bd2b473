"""Chapter 03 and the audit on an MoJ data-tool zip fetched through a loopback HTTP server: adult and juvenile
rates by cohort, reoffences per reoffender, the change through the Covid years, London and England beside the
borough, and the plan's adult rate (26%) and its rise (11%) checked."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from conftest import MIRROR, ROOT
from synthetic_sources import RELEASE_PAGE, Server, mirrored_project, moj_csv, moj_zip

from csp_evidence.chapters import audit, reoffending
from csp_evidence.data import datasets
from csp_evidence.data.fetch import fetch_source
from csp_evidence.report import reoffending_words


@contextmanager
def _project_with_moj(tmp_path_factory, zipped: bytes):
    """A project holding the mirror's locked files and the MoJ zip `zipped`, fetched from a release page over a
    loopback HTTP server; yields the proven reoffending table."""
    with mirrored_project(tmp_path_factory, MIRROR, ROOT, (datasets.proven_reoffending,)):
        files = {"/release/": RELEASE_PAGE.encode(), "/media/def/CSV_format_of_data_tools_Jan22_Mar22.zip": zipped}
        with Server(files) as server:
            fetch_source("moj_reoffending", url=f"{server.url}/release/")
        yield datasets.proven_reoffending()


@pytest.fixture(scope="module")
def proven(tmp_path_factory):
    """The MoJ file with the plan's figures: Tower Hamlets' adult rate 26.0% in 2020/21, 11% up on 23.4%."""
    with _project_with_moj(tmp_path_factory, moj_zip()) as table:
        yield table


def test_the_plans_adult_rate_and_its_rise_are_checked(proven):
    rate = audit.audit_figure("Tower Hamlets", "adult_reoffending_rate")
    assert rate["recomputed"] == pytest.approx(26.0) and rate["verdict"] == audit.MATCHES
    assert "Apr 2020 to Mar 2021" in rate["period"] and "Wilson interval" in rate["note"]
    change = audit.audit_figure("Tower Hamlets", "adult_reoffending_change")
    assert change["recomputed"] == pytest.approx(100 * (0.26 / 0.234 - 1), abs=0.01)
    assert change["verdict"] == audit.MATCHES and "+2.6 percentage points" in change["note"]


def test_figures_that_differ_from_the_plans_are_said_to_differ(tmp_path_factory):
    # the file gives 30.0% for 2020/21, not the plan's 26%, and so a rise of 28% on 23.4%, not the plan's 11%
    with _project_with_moj(tmp_path_factory, moj_zip(moj_csv(latest_th_rate=0.30))):
        rate = audit.audit_figure("Tower Hamlets", "adult_reoffending_rate")
        change = audit.audit_figure("Tower Hamlets", "adult_reoffending_change")
    assert rate["recomputed"] == pytest.approx(30.0) and rate["plan_value"] == pytest.approx(26.0)
    assert rate["verdict"] == audit.DIFFERS
    assert change["recomputed"] == pytest.approx(100 * (0.30 / 0.234 - 1), abs=0.01)
    assert change["verdict"] == audit.DIFFERS


def test_cohorts_with_intervals_per_reoffender_and_the_covid_years(proven):
    table = reoffending.reoffending_table(proven, "Tower Hamlets")
    latest = table[table["cohort"] == "Apr 2020 to Mar 2021"].set_index("age_group")
    assert latest.loc["Adult", "rate"] == pytest.approx(0.26)
    assert latest.loc["Adult", "ci_low"] < 0.26 < latest.loc["Adult", "ci_high"]
    assert latest.loc["Adult", "per_reoffender"] == pytest.approx(3.5, abs=0.01)
    covid = reoffending.covid_cohort_table(proven, "Tower Hamlets")
    assert set(covid["geography"]) == {"Tower Hamlets", "London", "England"}
    th = covid[(covid["geography"] == "Tower Hamlets") & (covid["age_group"] == "Adult")].iloc[-1]
    assert th["change_pp"] == pytest.approx(2.6) and th["base_cohort"] == "Apr 2019 to Mar 2020"
    text = reoffending_words.covid_cohort_findings(covid, "Tower Hamlets")
    assert "23.4% (Apr 2019 to Mar 2020 cohort) to 26.0%" in text and "London 24.0% to 23.0%" in text
    assert "3.50 proven reoffences each (adults)" in reoffending_words.per_reoffender_sentence(table, "Tower Hamlets")


def test_chapter_03_sets_the_plans_reoffending_figures_beside_the_data_as_the_audit_does(proven):
    rows = {r["figure_id"]: r for r in reoffending.plan_rows("Tower Hamlets")}
    assert list(rows) == ["adult_reoffending_rate", "adult_reoffending_change"]
    for figure_id, row in rows.items():
        assert row == audit.audit_figure("Tower Hamlets", figure_id)
    text = reoffending.plan_sentences(list(rows.values()))
    assert "quotes 26%; the data give 26% for cohort Apr 2020 to Mar 2021: the same at the precision" in text
    assert reoffending.plan_rows("Hackney") == []  # no plan table: nothing to set beside the data
