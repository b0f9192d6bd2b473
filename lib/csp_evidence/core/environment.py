"""The software a pack was built with: Python and the exact version of every installed package.

Each pack's manifest records it, the sources page shows it, and a change to it re-executes the notebooks (it is
part of the run's inputs key): the same params, locked data and locked environment give the same pack.
"""

from __future__ import annotations

import platform
from importlib import metadata

from csp_evidence.core.files import sha256_of
from csp_evidence.core.paths import project_dir

LOCK_FILE = "requirements.lock"
# The packages whose versions decide the published figures and pages, shown first on the sources page.
KEY_PACKAGES = ("numpy", "scipy", "pandas", "statsmodels", "matplotlib", "pandera", "papermill", "smalldocs")


def software() -> dict:
    """Python's version, the lock file's sha256 (None outside a checkout) and {package: version} of everything
    installed, sorted by name (the project itself left out: its code is keyed separately)."""
    packages = {
        (dist.metadata["Name"] or "").lower().replace("_", "-"): dist.version for dist in metadata.distributions()
    }
    packages.pop("csp-evidence", None)
    packages.pop("", None)
    lock = project_dir() / LOCK_FILE
    return {
        "python": platform.python_version(),
        "lock_sha256": sha256_of(lock) if lock.is_file() else None,
        "packages": dict(sorted(packages.items())),
    }
