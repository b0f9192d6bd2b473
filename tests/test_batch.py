"""Many boroughs in one command: parallel, one failure never stops the others, and a London index."""

import dataclasses

import pytest

from csp_evidence.batch import all_borough_params, build_many, london_index_html, BoroughOutcome
from csp_evidence.params import load_params
from test_pipeline import _notebook, project  # noqa: F401  (the fixture)

pytestmark = pytest.mark.realdata

FAILS_FOR_HACKNEY = "if borough == 'Hackney':\n    raise RuntimeError('planted failure for Hackney')"
WRITES_HEADLINES = (
    "from csp_evidence.headlines import write_headlines\n"
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
