"""Each run's manifest, and what it lets the next run reuse.

A pack's ``manifest.json`` records, for each notebook, the key of its inputs (the notebook, the params, the locked
data, the plan tables, the library and the software environment) and the sha256 of every file it wrote, and the
key of the site. A later run reuses a notebook's outputs, hard-linked from the last good pack, while its key is
unchanged and every one of its files is there as written; the site is kept while it shows those same outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csp_evidence import __version__
from csp_evidence.core.environment import software
from csp_evidence.core.files import atomic_write_text, digest_of, sha256_of, source_fingerprint
from csp_evidence.core.params import Params
from csp_evidence.core.paths import PACKAGE, lock_path, output_prefix, quarto_config, site_pages_dir
from csp_evidence.data.plan import plan_files

MANIFEST = "manifest.json"  # per run: each notebook's input key and output files, and the site's key


def link_or_copy(src: str, dst: str) -> None:
    """Hard-link an unchanged output into the new run (outputs are replaced, never edited, so links are safe)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def library_fingerprint() -> str:
    """sha256 over the library's source files and version: a change to the code re-executes the notebooks."""
    return hashlib.sha256(f"{__version__}|{source_fingerprint(PACKAGE, ('.',))}".encode()).hexdigest()


def _inputs_digest(*parts: bytes | str) -> str:
    return digest_of(parts)


def software_json() -> str:
    return json.dumps(software(), sort_keys=True)


def inputs_key() -> str:
    """What every notebook depends on besides itself and its params: the locked data, the plan tables, the library
    and the software environment (a package upgraded, say numpy, can move a figure: the notebooks run again).

    A warm kernel is reused only while this is unchanged, so it never serves new inputs from old in-memory tables.
    """
    plans = b"".join(p.name.encode() + p.read_bytes() for p in plan_files())
    return _inputs_digest(lock_path().read_bytes(), plans, library_fingerprint(), software_json())


def notebook_key(notebook: Path, params: Params, inputs: str) -> str:
    """What a notebook's outputs depend on: the notebook, the params, and `inputs` (the run's `inputs_key()`:
    locked data, plan tables, library)."""
    return _inputs_digest(notebook.read_bytes(), json.dumps(params.notebook_parameters(), sort_keys=True), inputs)


def site_key(outputs: dict[str, dict[str, str]], title: str, engine: str) -> str:
    """What the site depends on: the sha256 of every file each notebook wrote (`outputs`, as in the manifest),
    the title, the site's pages and configuration, the renderer, the library that drives it and the software
    environment (which the sources page lists)."""
    pages = b"".join(p.read_bytes() for p in sorted(site_pages_dir().glob("*")))
    return _inputs_digest(
        json.dumps(outputs, sort_keys=True),
        title,
        quarto_config().read_bytes(),
        pages,
        engine,
        library_fingerprint(),
        software_json(),
    )


def outputs_of(folder: Path, stem: str) -> dict[str, str]:
    """The files a notebook wrote, with their sha256: its executed copy, headline JSON, and figures/tables
    named '<NN>-*' (``paths.output_prefix``: '00w-*' for 00_where beside 00_overview)."""
    number = output_prefix(stem)
    files = [f"notebooks/{stem}.ipynb", f"notebooks/{stem}.json"]
    for sub in ("figures", "tables"):
        files += (
            [f"{sub}/{p.name}" for p in sorted((folder / sub).glob(f"{number}-*"))] if (folder / sub).is_dir() else []
        )
    return {f: sha256_of(folder / f) for f in files if (folder / f).is_file()}


def read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_manifest(folder: Path, manifest: dict) -> None:
    """Replace `folder`'s manifest atomically."""
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2))


def reuse(previous: Path, stage: Path, files: dict[str, str] | list[str]) -> bool:
    """Link a notebook's outputs from the last good run into the stage, if every one is there as written (a
    file edited or lost since, e.g. a table opened and saved in a spreadsheet, means the notebook runs again).
    A manifest from before digests were kept lists only the files: those are trusted if present, as then."""
    if not files or not all((previous / f).is_file() for f in files):
        return False
    if isinstance(files, dict) and not all(sha256_of(previous / f) == digest for f, digest in files.items()):
        return False
    for f in files:
        (stage / f).parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(str(previous / f), str(stage / f))
    return True


@dataclass
class Carried:
    """What a run takes over from the last good pack: the notebooks reused (their keys and checked files) and
    those that must run."""

    to_run: list[Path] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # reused notebook -> the key its outputs were made with
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # reused notebook -> its files' digests
    reused: list[str] = field(default_factory=list)


def carry_over(
    paths: Sequence[Path],
    selected: set[str],
    keys: dict[str, str],
    published: dict,
    target: Path,
    stage: Path,
    *,
    force: bool = False,
    on_reused: Callable[[str], None] | None = None,
) -> Carried:
    """Link into `stage` the outputs of every notebook whose inputs are unchanged since the published pack
    `target` (whose manifest is `published`) or that was not `selected`, and list the notebooks that must run:
    those selected and changed, and any chapter of the published pack whose outputs cannot be reused (edited,
    lost, or no manifest)."""
    previous = published.get("notebooks", {})
    carried = Carried()
    for nb in paths:
        old = previous.get(nb.stem, {})
        unchanged = old.get("key") == keys[nb.stem] and not force
        keep_old = nb.stem not in selected or unchanged
        if keep_old and reuse(target, stage, old.get("files", [])):
            carried.reused.append(nb.stem)
            carried.keys[nb.stem] = old["key"]  # outputs of those inputs, even if the inputs changed since
            if isinstance(old["files"], dict):
                carried.files[nb.stem] = old["files"]  # checked against these digests just now
            if on_reused and nb.stem in selected:
                on_reused(nb.stem)
        elif nb.stem in selected or (target / "notebooks" / f"{nb.stem}.ipynb").is_file():
            carried.to_run.append(nb)  # rather than leave the pack without the chapter
    return carried


def new_manifest(params: Params, keys: dict[str, str], carried: Carried, stage: Path, engine: str) -> dict[str, Any]:
    """The manifest of the run staged in `stage`: params, library, software, each notebook's key and files (as
    checked when reused, else hashed now) and the key of the site those outputs make."""
    manifest: dict[str, Any] = {
        "params": params.notebook_parameters(),
        "library": __version__,
        "software": software(),
        "notebooks": {
            stem: {
                "key": carried.keys.get(stem, keys[stem]),
                "files": carried.files[stem] if stem in carried.files else outputs_of(stage, stem),
            }
            for stem in keys
            if (stage / "notebooks" / f"{stem}.ipynb").is_file()
        },
    }
    manifest["site_key"] = site_key(
        {k: v["files"] for k, v in manifest["notebooks"].items()}, params.display_title, engine
    )
    return manifest
