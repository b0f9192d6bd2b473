"""The project's folders, in one place: every module asks here instead of building paths itself.

The project folder is $CSP_PROJECT_DIR, else the nearest folder upwards from the working directory that holds
``data/sources.lock``, else the checkout this package is installed from. Outputs go to $CSP_OUTPUTS_DIR when set.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # lib/csp_evidence
LOCK_NAME = "sources.lock"


def project_dir() -> Path:
    """The project folder: $CSP_PROJECT_DIR, else the nearest folder upwards holding data/sources.lock."""
    env = os.environ.get("CSP_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "data" / LOCK_NAME).is_file():
            return folder
    here = PACKAGE.parents[1]
    if (here / "data" / LOCK_NAME).is_file():
        return here
    raise FileNotFoundError(
        f"cannot find the csp-evidence project folder (one holding data/{LOCK_NAME}) from "
        f"{Path.cwd()}; run from inside the project or set CSP_PROJECT_DIR"
    )


def lock_path() -> Path:
    """data/sources.lock: the sha256 and retrieval date of every source file."""
    return project_dir() / "data" / LOCK_NAME


def raw_dir() -> Path:
    """data/raw/: the fetched source files (git-ignored)."""
    return project_dir() / "data" / "raw"


def interim_dir() -> Path:
    """data/interim/: the parquet cache of tidy tables (git-ignored)."""
    return project_dir() / "data" / "interim"


def downloads_dir() -> Path:
    """data/downloads/: downloads in progress and archives being read (git-ignored; safe to delete)."""
    return project_dir() / "data" / "downloads"


def plan_dir() -> Path:
    """data/plan/: the figures each CSP plan quotes, and the plan's definitions."""
    return project_dir() / "data" / "plan"


def notebooks_dir() -> Path:
    """notebooks/: one chapter notebook each."""
    return project_dir() / "notebooks"


def site_pages_dir() -> Path:
    """site/: the website's static pages (methods)."""
    return project_dir() / "site"


def quarto_config() -> Path:
    """_quarto.yml: the website's configuration."""
    return project_dir() / "_quarto.yml"


def outputs_dir() -> Path:
    """outputs/ (or $CSP_OUTPUTS_DIR): executed notebooks, figures, tables and sites."""
    return Path(os.environ.get("CSP_OUTPUTS_DIR") or project_dir() / "outputs")


def output_prefix(stem: str, stems: list[str] | None = None) -> str:
    """The prefix of a chapter notebook's figure and table files, '<prefix>-*': its number ('01_asb_neighbourhood':
    '01'); a chapter that shares its number with one sorting before it adds its name's initial ('00_where' after
    '00_overview': '00w'), so that no two chapters claim each other's files. `stems`: the chapter notebooks (default:
    those in notebooks/)."""
    number, _, name = stem.partition("_")
    if stems is None:
        stems = sorted(p.stem for p in notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    sharing = sorted({s for s in stems if s.partition("_")[0] == number} | {stem})
    return number if sharing[0] == stem else f"{number}{name[:1]}"
