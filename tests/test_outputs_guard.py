"""Outputs that an accident or an attacker pre-creates: a published link written another way, a link to a foreign
folder, a packs entry or the packs folder replaced by a link. A run never deletes the last good pack for it, never
writes through a link, and says truthfully what is published."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from test_pipeline import _notebook, project  # noqa: F401  (the fixture)

from csp_evidence.runner.pipeline import RunError, run
from csp_evidence.runner.publish import PACKS, publish, recover, tidy_outputs, versions


def _stage(root: Path, name: str, text: str) -> Path:
    stage = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=root))
    (stage / "notebooks").mkdir()
    (stage / "notebooks" / "00_a.ipynb").write_text(text)
    return stage


def _published(tmp_path: Path, text: str = "old") -> Path:
    root = tmp_path / "outputs"
    root.mkdir()
    target = root / "th"
    publish(_stage(root, "th", text), target)
    return target


def _text(target: Path) -> str:
    return (target / "notebooks" / "00_a.ipynb").read_text()


@pytest.mark.parametrize("how", ["../outputs/.packs/{v}", "./.packs/{v}", "{abs}", ".packs/../.packs/{v}"])
def test_a_published_link_written_another_way_keeps_the_last_good_pack(tmp_path, how):
    target = _published(tmp_path)
    version = versions(target.parent, "th")[-1]
    target.unlink()  # as `ln -sfn ../outputs/.packs/<current> outputs/th` writes it
    target.symlink_to(how.format(v=version.name, abs=version))
    recover(target)  # what the next run does first
    assert versions(target.parent, "th") == [version] and _text(target) == "old"
    publish(_stage(target.parent, "th", "new"), target)
    assert _text(target) == "new" and len(versions(target.parent, "th")) == 1


def test_a_link_to_a_foreign_folder_is_refused_and_nothing_is_deleted_or_written(tmp_path):
    target = _published(tmp_path)
    version = versions(target.parent, "th")[-1]
    foreign = tmp_path / "foreign"
    (foreign / "notebooks").mkdir(parents=True)
    (foreign / "notebooks" / "00_a.ipynb").write_text("theirs")
    target.unlink()
    target.symlink_to(foreign)
    with pytest.raises(RunError, match=r"is a link to .*foreign, not a pack in .*\.packs.*nothing was changed"):
        recover(target)
    with pytest.raises(RunError, match="not a pack"):
        publish(_stage(target.parent, "th", "new"), target)
    assert versions(target.parent, "th") == [version] and _text(version) == "old"
    assert os.readlink(target) == str(foreign) and sorted(p.name for p in foreign.rglob("*")) == [
        "00_a.ipynb",
        "notebooks",
    ]
    tidy_outputs(target.parent, "another-run")  # another run's tidying leaves it alone too
    assert versions(target.parent, "th") == [version] and os.readlink(target) == str(foreign)


def test_a_packs_entry_or_the_packs_folder_replaced_by_a_link_is_refused(tmp_path):
    target = _published(tmp_path)
    version = versions(target.parent, "th")[-1]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "important.txt").write_text("keep me")
    version.rename(tmp_path / "moved")
    version.symlink_to(foreign)  # the entry outputs/th links to is now a link elsewhere
    with pytest.raises(RunError, match="a link in"):
        recover(target)
    with pytest.raises(RunError, match="a link in"):
        publish(_stage(target.parent, "th", "new"), target)
    assert sorted(p.name for p in foreign.iterdir()) == ["important.txt"]

    packs = target.parent / PACKS
    version.unlink()
    (tmp_path / "moved").rename(version)
    packs.rename(tmp_path / "packs-elsewhere")
    packs.symlink_to(tmp_path / "packs-elsewhere")
    with pytest.raises(RunError, match=r"\.packs is a link to .*not the folder of published packs"):
        publish(_stage(target.parent, "th", "new"), target)
    assert sorted(p.name for p in (tmp_path / "packs-elsewhere").iterdir()) == [version.name]


def test_a_file_in_place_of_the_published_link_is_refused(tmp_path):
    target = _published(tmp_path)
    version = versions(target.parent, "th")[-1]
    target.unlink()
    target.write_text("someone's notes")
    with pytest.raises(RunError, match="is a file, not a pack"):
        recover(target)
    assert versions(target.parent, "th") == [version] and target.read_text() == "someone's notes"


def test_the_leftovers_of_a_run_whose_name_holds_a_newline_are_cleared(tmp_path):
    name = "th\nx"
    root = tmp_path / "outputs"
    root.mkdir()
    target = root / name
    publish(_stage(root, name, "old"), target)
    for left in (f".staging-{name}-abcd1234", f".old-{name}-.staging-{name}-abcd1234"):
        (root / left).mkdir()
    (root / f".{name}.link-0123abcd").symlink_to("nowhere")
    (root / PACKS / f"{name}-20250101T000000000000Z").mkdir()  # an unpublished version
    tidy_outputs(root, "another-run")
    assert sorted(p.name for p in root.iterdir()) == sorted([f".{name}.lock", PACKS, name])
    assert len(versions(root, name)) == 1 and _text(target) == "old"


def test_a_failed_run_after_a_link_rewritten_keeps_the_pack_and_says_so(project):
    _notebook(project / "notebooks" / "00_ok.ipynb", "print(borough)")
    params = project / "params" / "th.yml"
    run(params)
    target = project / "outputs" / "th"
    version = target.resolve()
    target.unlink()
    target.symlink_to(Path("..") / "outputs" / PACKS / version.name)
    _notebook(project / "notebooks" / "01_bad.ipynb", "raise ValueError('planted failure')")
    with pytest.raises(RunError, match=r"planted failure(.|\n)*th is unchanged"):
        run(params)
    assert target.resolve() == version and (target / "notebooks" / "00_ok.ipynb").is_file()


def test_a_failed_first_run_does_not_claim_a_pack_is_unchanged(project):
    _notebook(project / "notebooks" / "00_bad.ipynb", "raise ValueError('planted failure')")
    with pytest.raises(RunError, match=r"nothing is published at .*th yet"):
        run(project / "params" / "th.yml")
