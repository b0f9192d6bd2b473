"""core.files: moving staged files into place, one at a time or all together with the lock written last."""

from __future__ import annotations

import errno
import os

import pytest

from csp_evidence.core import files


def test_a_move_across_file_systems_is_a_copy_renamed_into_place(tmp_path, monkeypatch):
    staged, target = tmp_path / "staged.csv", tmp_path / "raw" / "a" / "kept.csv"
    staged.write_bytes(b"new")
    real = os.replace

    def replace(src, dst):
        if str(src) == str(staged):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    files.move_into_place(staged, target)
    assert target.read_bytes() == b"new" and not staged.exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["kept.csv"]  # no temporary file left


def test_all_or_nothing_puts_back_replaced_and_removed_files(tmp_path):
    raw = tmp_path / "raw"
    (raw / "moj").mkdir(parents=True)
    old, replaced = raw / "moj" / "old.csv", raw / "moj" / "same.csv"
    old.write_bytes(b"old release")
    replaced.write_bytes(b"before")
    staged = [tmp_path / "same.csv", tmp_path / "new.csv"]
    for path in staged:
        path.write_bytes(b"after")

    def lock_fails():
        raise OSError(errno.EACCES, "Permission denied")

    moves = [(staged[0], replaced), (staged[1], raw / "new" / "new.csv")]
    with pytest.raises(OSError, match="Permission denied"):
        files.move_all_into_place(moves, remove=[old], then=lock_fails)
    assert sorted(str(p.relative_to(raw)) for p in raw.rglob("*")) == ["moj", "moj/old.csv", "moj/same.csv"]
    assert old.read_bytes() == b"old release" and replaced.read_bytes() == b"before"
    for path in staged:  # staged again for the next try
        path.write_bytes(b"after")
    files.move_all_into_place(moves, remove=[old])
    assert sorted(str(p.relative_to(raw)) for p in raw.rglob("*")) == ["moj", "moj/same.csv", "new", "new/new.csv"]
    assert replaced.read_bytes() == b"after"
