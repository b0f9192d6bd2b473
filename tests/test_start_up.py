"""`csp` starts without the statistics the run may not use: an unchanged rebuild pays only for what it checks."""

from __future__ import annotations

import subprocess
import sys


def test_csp_start_up_imports_no_statistics():
    # the pipeline chooses a pack's chapters (runner.area_packs) without importing chapters.area, whose
    # analysis imports scipy.stats (about half a CPU-second on every `csp` start)
    probe = "import sys, csp_evidence.cli; print(sorted(m for m in sys.modules if m.startswith(('scipy.stats', 'csp_evidence.chapters.area'))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
