"""The tidy-table cache: keyed by the source bytes and by the code that reads and checks them."""

import pandas as pd
import pytest

from conftest import ROOT
from csp_evidence import datasets


@pytest.mark.realdata
def test_a_change_to_the_readers_rebuilds_the_cached_table(tmp_path, monkeypatch, fetched):
    # a table cached before a new check was added must be read (and checked) again, not served from the cache
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw").symlink_to(ROOT / "data" / "raw")
    (tmp_path / "data" / "sources.lock").symlink_to(ROOT / "data" / "sources.lock")
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    builds = []

    def build(paths):
        builds.append(paths)
        return pd.DataFrame({"n": [len(builds)]})

    first = datasets._cached("probe", ("gla_borough_profiles",), build)
    again = datasets._cached("probe", ("gla_borough_profiles",), build)
    assert len(builds) == 1 and again.equals(first)  # the second read came from the cache
    monkeypatch.setattr(datasets, "_readers_fingerprint", lambda: "a reader changed")
    assert datasets._cached("probe", ("gla_borough_profiles",), build)["n"].tolist() == [2]
    assert len(list((tmp_path / "data" / "interim").glob("probe-*.parquet"))) == 2
