"""The pinned environment: requirements.lock covers pyproject.toml, environment.yml pins the same versions,
and the environment these tests run in is the locked one (a drifted environment fails here)."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK = ROOT / "requirements.lock"
# Conda packages that pip's lock has no counterpart for: the interpreter, pip, and Quarto (not a Python
# package). The interpreter must be the lock's Python.
NOT_IN_LOCK = {"python", "pip", "quarto"}
LOCK_PYTHON = "3.11"

_ENTRY = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


def parse_lock(path: Path = LOCK) -> list[tuple[str, str, Marker | None, list[str]]]:
    """The lock's entries as (canonical name, version, environment marker or None, sha256 hashes)."""
    entries: list[tuple[str, str, Marker | None, list[str]]] = []
    for line in path.read_text().splitlines():
        if m := _ENTRY.match(line):
            marker = Marker(m["marker"]) if m["marker"] else None
            entries.append((canonicalize_name(m["name"]), m["version"], marker, []))
        elif m := re.match(r"^\s+--hash=sha256:([0-9a-f]{64})", line):
            entries[-1][3].append(m[1])
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{path.name}: a line that is neither a pin, a hash nor a comment: {line!r}")
    return entries


def lock_versions() -> dict[str, set[str]]:
    """Every version the lock pins for each package, on any platform."""
    versions: dict[str, set[str]] = {}
    for name, version, _, _ in parse_lock():
        versions.setdefault(name, set()).add(version)
    return versions


def project_requirements() -> list[Requirement]:
    """pyproject.toml's dependencies and its test extra: what the lock is compiled from."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def environment_yml() -> dict[str, str]:
    """environment.yml's packages (conda and pip sections), each with its version spec as written."""
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    specs: dict[str, str] = {}
    for dep in deps:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                if line.startswith("-"):  # `-e .`, the project itself
                    continue
                m = re.match(r"^([A-Za-z0-9._-]+)\s*(.*)$", line)
                specs[canonicalize_name(m[1])] = m[2].strip()
        else:
            m = re.match(r"^([A-Za-z0-9._-]+)\s*(.*)$", dep)
            specs[canonicalize_name(m[1])] = m[2].strip()
    return specs


def _pinned(spec: str) -> str | None:
    """The exact version of a `==X` (or conda `=X`) pin, else None."""
    m = re.fullmatch(r"==?\s*([^\s=<>!~*,|]+)", spec)
    return m[1] if m else None


def test_lock_has_a_hash_for_every_pin():
    entries = parse_lock()
    assert len(entries) > 100
    assert [name for name, _, _, hashes in entries if not hashes] == []


def test_lock_covers_pyproject():
    versions = lock_versions()
    problems = []
    for req in project_requirements():
        pinned = versions.get(canonicalize_name(req.name))
        if not pinned:
            problems.append(f"{req.name} is not in {LOCK.name}")
        elif not all(req.specifier.contains(v, prereleases=True) for v in pinned):
            problems.append(f"{req.name}: the lock pins {sorted(pinned)}, pyproject.toml asks for {req.specifier}")
    assert problems == [], f"{LOCK.name} is out of step with pyproject.toml (run `make lock`): " + "; ".join(problems)


def test_environment_yml_lists_pyproject():
    listed = set(environment_yml()) - NOT_IN_LOCK
    wanted = {canonicalize_name(r.name) for r in project_requirements()}
    assert sorted(wanted - listed) == [], "in pyproject.toml but not in environment.yml"
    assert sorted(listed - wanted) == [], "in environment.yml but not in pyproject.toml"


def test_environment_yml_pins_agree_with_lock():
    specs = environment_yml()
    versions = lock_versions()
    assert specs["python"].lstrip("=") == LOCK_PYTHON
    assert _pinned(specs["quarto"]), "quarto is not pinned in environment.yml"
    problems = []
    for name, spec in sorted(specs.items()):
        if name in NOT_IN_LOCK:
            continue
        version = _pinned(spec)
        if version is None:
            problems.append(f"{name} {spec!r} is not pinned (==)")
        elif versions.get(name) != {version}:
            problems.append(f"{name}: environment.yml {version}, {LOCK.name} {sorted(versions.get(name, []))}")
    assert problems == [], "environment.yml disagrees with the lock: " + "; ".join(problems)


def _in_conda_env() -> bool:
    return (Path(sys.prefix) / "conda-meta").is_dir()


def test_installed_versions_match_lock():
    """In the pip environment of `make`, every locked package applying to this platform is installed at
    the locked version. In a conda environment (environment.yml pins only the packages it lists, conda
    resolves the rest), those listed packages are."""
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" == LOCK_PYTHON, (
        f"{LOCK.name} is for Python {LOCK_PYTHON}; these tests run on {sys.version.split()[0]}"
    )
    only = set(environment_yml()) - NOT_IN_LOCK if _in_conda_env() else None
    checked, problems = 0, []
    for name, version, marker, _ in parse_lock():
        if (marker is not None and not marker.evaluate()) or (only is not None and name not in only):
            continue
        checked += 1
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} {version} is not installed")
            continue
        if installed != version:
            problems.append(f"{name} {installed} is installed, the lock pins {version}")
    assert checked >= len(project_requirements())
    fix = "conda env update -f environment.yml" if only is not None else "rm -r .venv && make test"
    assert problems == [], f"this environment has drifted from {LOCK.name} (rebuild it: {fix}): " + "; ".join(problems)


@pytest.mark.parametrize(
    ("spec", "version"), [("==1.2.0", "1.2.0"), ("=3.11", "3.11"), (">=1.0", None), ("", None), ("==1.*", None)]
)
def test_pinned_reads_exact_pins_only(spec, version):
    assert _pinned(spec) == version


def test_the_recorded_packages_are_those_importlib_reads_from_every_distribution():
    # the manifest's package list is read from the header lines alone: the same names and versions as
    # importlib.metadata's full parse of each file
    from csp_evidence.core.environment import installed_packages

    parsed = {(d.metadata["Name"] or "").lower().replace("_", "-"): d.version for d in metadata.distributions()}
    parsed.pop("csp-evidence", None)
    parsed.pop("", None)
    assert installed_packages() == dict(sorted(parsed.items()))


def _dist_info(folder: Path, name: str, version: str) -> None:
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nName: not-this\n")


def test_a_package_installed_during_the_process_is_recorded(tmp_path, monkeypatch):
    # read once a process, but read again when a folder of sys.path changes (an install adds a .dist-info)
    from csp_evidence.core.environment import software

    def changed(n):  # a folder's time moves on with each change (here set, as a clock tick may be coarse)
        os.utime(tmp_path, ns=(n, n))

    _dist_info(tmp_path, "Planted_Pkg", "1.0")
    changed(1)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert software()["packages"]["planted-pkg"] == "1.0"
    assert software() == software()
    _dist_info(tmp_path, "another_pkg", "2.5")  # another install into the same folder
    changed(2)
    assert software()["packages"]["another-pkg"] == "2.5"
    shutil.rmtree(tmp_path / "Planted_Pkg-1.0.dist-info")  # uninstalled
    changed(3)
    assert "planted-pkg" not in software()["packages"]
