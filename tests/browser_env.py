"""What the browser tests need, found once: Debian's Chromium, axe-core (from the pinned Python package
axe-playwright-python, which ships axe.min.js: no npm), and Playwright's Python package.

Where one is missing the tests are skipped with the reason (`make test` ends by counting the skipped tests by
reason); with CSP_REQUIRE_BROWSER=1 (CI sets it) they fail instead, so a CI run never passes them silently."""

from __future__ import annotations

import os
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags that keep a headless Chromium on a machine with no internet from reaching out (and failing noisily).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _axe() -> Path:
    if os.environ.get("CSP_AXE_JS"):
        return Path(os.environ["CSP_AXE_JS"])
    try:
        return Path(str(files("axe_playwright_python") / "axe.min.js"))
    except ModuleNotFoundError:
        return Path("axe_playwright_python/axe.min.js (not installed)")


AXE = _axe()


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if CHROMIUM is None:
        return "no Chromium on PATH: `apt-get install chromium` (Debian) to run the browser tests"
    if not AXE.is_file():
        return (
            f"no axe-core at {AXE}: it comes with the axe-playwright-python package of the test extra "
            "(`make .venv/bin/.installed` installs requirements.lock)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (it is in the test extra of pyproject.toml)"
    return None


def need_browser() -> None:
    """Skip (or, with CSP_REQUIRE_BROWSER=1, fail) the calling test or fixture when the browser tests cannot run."""
    why = missing()
    if why:
        if os.environ.get("CSP_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)
