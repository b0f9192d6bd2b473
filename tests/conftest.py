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


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "realdata" in item.keywords and not HAVE_MIRROR:
            item.add_marker(pytest.mark.skip(reason=f"the data mirror {MIRROR} is absent"))
