"""The tidy-table cache: keyed by the source bytes and by the code that reads and checks them."""

import pandas as pd
import pytest
from conftest import ROOT

from csp_evidence.data import datasets


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


def test_the_cache_key_covers_the_code_the_readers_import(tmp_path):
    import re
    import shutil

    package = tmp_path / "csp_evidence"
    shutil.copytree(datasets.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    fingerprint = datasets._readers_fingerprint.__wrapped__  # uncached: the files change below
    before = fingerprint(package)
    (package / "report" / "charts.py").write_text("# charts do not read source files\n")
    assert fingerprint(package) == before
    (package / "data" / "readers" / "mps.py").write_text("# a reader changed\n")
    assert fingerprint(package) != before
    # every library module a reader imports is inside CACHE_CODE
    covered = {name.removesuffix(".py").replace("/", ".") for name in datasets.CACHE_CODE}
    for reader in (package / "data" / "readers").glob("*.py"):
        for parent, name in re.findall(r"^\s*from csp_evidence\.([\w.]+) import (\w+)", reader.read_text(), re.M):
            # `from csp_evidence.data import lsoa_places` imports the module data.lsoa_places
            is_module = (package / parent.replace(".", "/") / f"{name}.py").is_file()
            module = f"{parent}.{name}" if is_module else parent
            assert any(module == c or module.startswith(c + ".") for c in covered), (reader.name, module)
