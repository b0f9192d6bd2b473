"""Many boroughs in one command: parallel, one failure never stops the others, and a London index."""

import pytest
from test_pipeline import _notebook, project  # noqa: F401  (the fixture)

from csp_evidence.core.params import load_params
from csp_evidence.runner.batch import (
    BoroughOutcome,
    all_borough_params,
    build_many,
    london_index_html,
)
from csp_evidence.website.london import INDEX_MEASURES

pytestmark = pytest.mark.realdata

FAILS_FOR_HACKNEY = "if borough == 'Hackney':\n    raise RuntimeError('planted failure for Hackney')"
WRITES_HEADLINES = (
    "from csp_evidence.report.headlines import write_headlines\n"
    "write_headlines(output_dir, '00_overview', {'headline_year': '2019/20', 'total_offences': 1234, "
    "'rank': 5, 'rate_per_1000': 9.5})"
)


def _three(project):
    template = load_params(project / "params" / "th.yml")
    chosen = [p for p in all_borough_params(template) if p.borough in ("Camden", "Hackney", "Tower Hamlets")]
    assert [p.name for p in chosen] == ["camden", "hackney", "tower-hamlets"]
    return chosen


def test_all_borough_params_cover_the_32_boroughs(project):
    params = all_borough_params(load_params(project / "params" / "th.yml"))
    assert len(params) == 32 and len({p.name for p in params}) == 32


@pytest.mark.parametrize("scheduler", ["processes", "dask"])
def test_batch_builds_the_others_and_reports_the_failure(project, scheduler):
    _notebook(project / "notebooks" / "00_overview.ipynb", FAILS_FOR_HACKNEY, WRITES_HEADLINES)
    result = build_many(_three(project), jobs=2, engine="smalldocs", scheduler=scheduler)
    status = {o.borough: o.status for o in result.outcomes}
    assert status == {"Camden": "built", "Hackney": "failed", "Tower Hamlets": "built"}
    failure = result.failed[0]
    assert "00_overview.ipynb" in failure.error and "planted failure for Hackney" in failure.error
    outputs = project / "outputs"
    assert (outputs / "camden" / "site" / "index.html").is_file()
    assert not (outputs / "hackney").exists() and list((outputs / "failed").glob("hackney-*"))
    index = result.index.read_text()
    assert 'href="../camden/site/index.html"' in index and "1,234" in index and "planted failure" in index


def test_london_index_escapes_text_from_data(tmp_path):
    outcome = BoroughOutcome("x", "<script>alert(1)</script>", "failed", error="<b>bad</b>")
    page = london_index_html(tmp_path, [outcome])
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "&lt;b&gt;bad" in page


def test_ctrl_c_stops_the_batch_at_once_and_publishes_no_unfinished_pack(project):
    # Ctrl-C in the terminal reaches the batch and its workers: the running boroughs' notebooks stop, the
    # boroughs not yet started never start, and no unfinished pack is published.
    import os
    import signal
    import subprocess
    import sys
    import time

    _notebook(
        project / "notebooks" / "00_overview.ipynb",
        "open(f'started-{borough}', 'w').close()",
        "import time; time.sleep(60)",
    )
    from conftest import MIRROR

    env = os.environ | {
        "CSP_PROJECT_DIR": str(project),
        "CSP_OUTPUTS_DIR": str(project / "outputs"),
        "CSP_DATA_MIRROR": str(MIRROR.resolve()),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csp_evidence.cli",
            "pack",
            "--all-boroughs",
            "--engine",
            "smalldocs",
            "--params",
            str(project / "params" / "th.yml"),
        ],
        env=env,
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 90
    while len(list((project / "notebooks").glob("started-*"))) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # as the terminal does: to the whole process group
    interrupted = time.time()
    try:
        proc.wait(timeout=45)
    finally:
        os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None
    assert time.time() - interrupted < 20  # not the 60 s a notebook takes, nor 32 boroughs' worth
    assert len(list((project / "notebooks").glob("started-*"))) == 2
    assert proc.returncode != 0
    packs = [p.name for p in (project / "outputs").iterdir() if p.is_dir() and p.name not in ("failed", "london")]
    assert packs == []


def test_london_index_shows_the_strand_domestic_abuse_and_knife_rates(tmp_path):
    from csp_evidence.report.headlines import write_headlines

    run = tmp_path / "tower-hamlets"
    write_headlines(
        run, "00_overview", {"headline_year": "2019/20", "total_offences": 34693, "rank": 7, "rate_per_1000": 113.1}
    )
    write_headlines(
        run,
        "02_hate_crime",
        {"strand_year": "2019/20", "strands": {"Racist and religious hate crime": {"rate": 2.514, "small": False}}},
    )
    write_headlines(
        run,
        "04_violence_exploitation",
        {
            "special_year": "2019/20",
            "special_measures": {
                "Domestic abuse": {"rate": 11.83, "small": False},
                "Knife crime": {"rate": 2.06, "small": True},
            },
        },
    )
    page = london_index_html(tmp_path, [BoroughOutcome("tower-hamlets", "Tower Hamlets", "built")])
    assert "Racist and religious hate crime per 1,000" in page and "Domestic abuse per 1,000" in page
    assert "<td>2.51</td>" in page and "<td>11.83</td>" in page
    assert "<td>2.06</td>" not in page  # a small count shows no rate


def test_london_index_shows_each_priority_plan_period_verdict(tmp_path):
    from csp_evidence.report.headlines import write_headlines

    run = tmp_path / "hackney"
    write_headlines(
        run, "00_overview", {"headline_year": "2019/20", "total_offences": 30000, "rank": 9, "rate_per_1000": 100.0}
    )
    write_headlines(
        run,
        "06_plan_period",
        {
            "priorities": {"Neighbourhood crime and ASB": "mixed", "Hate & tensions": "improved"},
            "measures": {"All recorded crime": {"ratio_of_ratios": 0.969}},
        },
    )
    page = london_index_html(tmp_path, [BoroughOutcome("hackney", "Hackney", "built")])
    assert "Plan period verdicts by priority" in page and "Plan period against the rest of London" in page
    assert "<td>Neighbourhood crime and ASB: mixed; Hate &amp; tensions: improved</td>" in page
    assert "<td>-3.1%</td>" in page  # the borough's rate ratio 3.1% below the rest of London's
    failed = london_index_html(tmp_path, [BoroughOutcome("camden", "Camden", "failed", "boom")])
    assert f'colspan="{7 + len(INDEX_MEASURES)}"' in failed
