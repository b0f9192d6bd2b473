"""Shared test setup: where the mirrored official files are, and the data/raw they are fetched into."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_DEFAULT_MIRROR = ROOT.parent / "shared" / "data"
MIRROR = Path(os.environ.get("CSP_DATA_MIRROR") or _DEFAULT_MIRROR)
HAVE_MIRROR = MIRROR.is_dir()

if HAVE_MIRROR:
    # Notebook kernels (nbval, papermill) inherit the environment: they fetch from the same mirror.
    os.environ.setdefault("CSP_DATA_MIRROR", str(MIRROR))
os.environ.setdefault("MPLBACKEND", "Agg")

needs_mirror = pytest.mark.skipif(
    not HAVE_MIRROR, reason=f"the data mirror {MIRROR} is absent (set CSP_DATA_MIRROR to the official files)"
)


@pytest.fixture(scope="session")
def fetched():
    """data/raw/ holds the locked official files (copied from the mirror and verified)."""
    if not HAVE_MIRROR:
        pytest.skip(f"the data mirror {MIRROR} is absent (set CSP_DATA_MIRROR)")
    from csp_evidence.data.fetch import fetch

    fetch(mirror=MIRROR)
    return ROOT / "data" / "raw"


@pytest.fixture(scope="session")
def crime(fetched):
    from csp_evidence.data import datasets

    return datasets.recorded_crime()


def pytest_configure(config):
    # CI and `make reproducible` set CSP_REQUIRE_MIRROR=1: there, tests skipped for want of data would hide a
    # missing mirror behind a green run, so the run stops at once and says why.
    if os.environ.get("CSP_REQUIRE_MIRROR") == "1" and not HAVE_MIRROR:
        raise pytest.UsageError(
            f"CSP_REQUIRE_MIRROR=1 but the data mirror {MIRROR} is absent: set CSP_DATA_MIRROR to a folder of the "
            "official files (laid out like data/raw/)"
        )


# Fixtures that give a test a notebook kernel or a project whose notebooks it runs: such a test executes notebooks.
_KERNEL_FIXTURES = {("kernel", "test_kernels"), ("project", "test_pipeline")}


# Tests that take many seconds of one core, measured (pytest --durations): model fits on long series, repeated
# fits, subprocesses killed at every step. `make test` runs them; `make test-fast` leaves them out.
SLOW = (
    "tests/stats/test_platform_stability.py",
    "tests/stats/test_counterfactual.py::test_counterfactual_",
    "tests/stats/test_counterfactual.py::test_parameter_uncertainty_widens_period_intervals",
    "tests/stats/test_its.py::test_its_false_positive_rate_under_no_effect",
    "tests/stats/test_forecast.py::test_simulated_paths_have_the_forecast_mean_and_variance_and_match_statsmodels",
    "tests/chapters/test_hate.py::test_planted_summer_2020_rise_is_recovered",
    "tests/chapters/test_asb.py::test_section_recovers_a_planted_doubling",
    "tests/chapters/test_asb_borough.py::test_with_five_pre_pandemic_years_the_seasonal_model_is_used",
    "tests/chapters/test_priority_chapters.py::test_knife_and_gun_crime_on_the_real_file",
    "tests/chapters/test_priority_chapters.py::test_priority_table_small_number_rule_on_the_real_data",
    "tests/test_hardening.py::test_a_kill_at_any_step_of_publishing",
    "tests/test_batch_orphans.py",
    "tests/chapters/test_priority_chapters.py::test_planted_rise_in_domestic_abuse_in_the_second_and_third_lockdowns_is_found",
    "tests/test_where.py::test_the_planted_hotspot_is_found_and_no_other_ward_is_listed",
    "tests/test_where.py::test_without_a_hotspot_almost_nothing_is_listed",
    "tests/test_area_forces.py::test_a_csp_of_two_authorities_against_its_force_area",
)
NOTEBOOK_TESTS = ("tests/test_pipeline.py::test_corrupt_source_stops_the_run_and_keeps_the_pack",)


def _executes_notebooks(item) -> bool:
    if item.nodeid.startswith(NOTEBOOK_TESTS):
        return True
    if item.path.suffix == ".ipynb" or item.get_closest_marker("notebooks") is not None:
        return True
    info = getattr(item, "_fixtureinfo", None)
    for name, defs in info.name2fixturedefs.items() if info is not None else ():
        module = getattr(defs[-1].func, "__module__", "") if defs else ""
        if (name, module) in _KERNEL_FIXTURES:
            return True
    return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _executes_notebooks(item):  # `make test-fast` leaves these out
            item.add_marker(pytest.mark.notebooks)
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
        if "realdata" in item.keywords and not HAVE_MIRROR:
            item.add_marker(pytest.mark.skip(reason=f"the data mirror {MIRROR} is absent"))


def pytest_unconfigure(config):
    """End the run (after pytest's own count) with how many tests were skipped and why, one line a reason, e.g. the
    browser tests where Chromium is missing: the last lines of `make test` say what did not run."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    reasons: dict[str, int] = {}
    for report in reporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        reporter.write_line(f"{count} test{'s' if count > 1 else ''} skipped: {reason}", yellow=True)
