"""No published figure is negative where it cannot be: a run whose headline figures hold a negative count, rate,
rank or p-value (a wrapped sum put London's rate at -1048577552370367.6 per 1,000) is refused, never published."""

import pytest
from test_pipeline import _notebook, project  # noqa: F401  (the fixture)

from csp_evidence.report.published import negative_figures
from csp_evidence.runner.pipeline import RunError, run


def test_negative_figures_finds_counts_and_rates_below_zero_at_any_depth_and_only_those():
    figures = {
        "total_offences": 100,
        "change_pct": -12.5,  # a change can fall
        "london": {"rate_per_1000": -1048577552370367.6, "z_score": -2.0},
        "strands": [{"count": 3}, {"count": -1, "pct_change": -40.0}],
        "rank": None,
        "p_value": float("nan"),
        "small": True,
    }
    assert list(negative_figures(figures)) == ["london.rate_per_1000 = -1048577552370367.6", "strands[1].count = -1"]
    assert list(negative_figures({"rate": 0.0, "rank": 1, "count": False})) == []


WRITES = """
from csp_evidence.report.headlines import write_headlines
write_headlines(output_dir, "01_figures", {figures!r})
"""


def test_a_run_with_a_negative_rate_is_not_published(project):
    _notebook(project / "notebooks" / "01_figures.ipynb", WRITES.format(figures={"rate_per_1000": 3.5}))
    params = project / "params" / "th.yml"
    run(params)
    target = project / "outputs" / "th"
    before = (target / "notebooks" / "01_figures.json").read_text()
    bad = {"rate_per_1000": 3.5, "london": {"rate_per_1000": -1048577552370367.6}, "change_pct": -3.0}
    _notebook(project / "notebooks" / "01_figures.ipynb", WRITES.format(figures=bad))
    with pytest.raises(RunError, match=r"01_figures gives 1 figure\(s\) that cannot be negative") as err:
        run(params)
    assert "london.rate_per_1000 = -1048577552370367.6" in str(err.value) and "change_pct" not in str(err.value)
    assert "th is unchanged" in str(err.value)
    assert (target / "notebooks" / "01_figures.json").read_text() == before
