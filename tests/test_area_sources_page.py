"""The sources page lists the police.uk files of other forces for a CSP's pack outside London, never a borough's."""

from __future__ import annotations

import json

from csp_evidence.data.sources import LockEntry, write_lock
from csp_evidence.website.render import sources_page


def test_area_sources_listed_only_for_an_area_pack(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    write_lock(
        {
            "policeuk_force_street/2025-12/city-of-london": LockEntry("a" * 64, 10, "2026-12-04"),
            "policeuk_reduced/2025-12": LockEntry("b" * 64, 20, "2026-12-04"),
        }
    )
    area_run, borough_run = tmp_path / "city", tmp_path / "hackney"
    for run, params in ((area_run, {"area": "City of London", "borough": ""}), (borough_run, {"borough": "Hackney"})):
        run.mkdir()
        (run / "manifest.json").write_text(json.dumps({"params": params}))
    page = sources_page(area_run)
    assert "`policeuk/2025-12/2025-12-city-of-london-street.csv`" in page and "`" + "a" * 64 + "`" in page
    assert "`policeuk/reduced/2025-12-reduced.csv`" in page
    assert "city-of-london-street" not in sources_page(borough_run) and "reduced" not in sources_page(borough_run)
