"""The software a pack was built with: Python and the exact version of every installed package.

Each pack's manifest records it, the sources page shows it, and a change to it re-executes the notebooks (it is
part of the run's inputs key): the same params, locked data and locked environment give the same pack.

Reading the metadata of every installed distribution takes about half a second, and a run needs it three times
(the inputs key, the site key, the manifest), a batch three times a borough: the list is read once a process and
read again only when a folder on ``sys.path`` has changed (installing, upgrading or removing a package adds or
removes its ``.dist-info`` folder there), and only the two header fields it needs are read from each file.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from csp_evidence.core.files import sha256_of
from csp_evidence.core.paths import project_dir

LOCK_FILE = "requirements.lock"
# The packages whose versions decide the published figures and pages, shown first on the sources page.
KEY_PACKAGES = ("numpy", "scipy", "pandas", "statsmodels", "matplotlib", "pandera", "papermill", "smalldocs")


def _header(dist: metadata.Distribution, field: str) -> str | None:
    """The first `field` header of a distribution's core metadata (METADATA or PKG-INFO), as
    ``dist.metadata[field]`` gives it, read from the header lines alone rather than by parsing the whole file as
    an e-mail message (the long description included)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    prefix = field.lower() + ":"
    for line in text.splitlines():
        if not line.strip():  # the end of the headers
            break
        if line.lower().startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def installed_packages() -> dict[str, str]:
    """{package: version} of every installed distribution, names lower case with '-' for '_', sorted by name
    (the project itself left out: its code is keyed separately)."""
    packages = {
        (_header(dist, "Name") or "").lower().replace("_", "-"): _header(dist, "Version") or ""
        for dist in metadata.distributions()
    }
    packages.pop("csp-evidence", None)
    packages.pop("", None)
    return dict(sorted(packages.items()))


def _path_state() -> tuple:
    """sys.path and the modification time of each of its folders: what changes when a package is installed."""
    state: list[tuple[str, int | None]] = []
    for entry in sys.path:
        try:
            state.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            state.append((entry, None))
    return tuple(state)


_packages_read: dict[tuple, dict[str, str]] = {}


def software() -> dict:
    """Python's version, the lock file's sha256 (None outside a checkout) and {package: version} of everything
    installed (``installed_packages``, read again only when a folder of sys.path has changed)."""
    state = _path_state()
    if state not in _packages_read:
        _packages_read.clear()
        _packages_read[state] = installed_packages()
    lock = project_dir() / LOCK_FILE
    return {
        "python": platform.python_version(),
        "lock_sha256": sha256_of(lock) if lock.is_file() else None,
        "packages": dict(_packages_read[state]),
    }
