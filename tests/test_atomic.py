"""Atomic writes: the reader sees the old file or the new one, never half of one, and no temporary
file is left behind."""
from __future__ import annotations

import os

import pytest

from drnet_lite.atomic import atomic_path, atomic_write, write_text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "old")

    def half_then_fail(handle):
        handle.write(b"ne")
        raise KeyboardInterrupt  # Ctrl-C in the middle of writing

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_path_renames_on_success_and_keeps_the_suffix_for_format_sniffing_writers(tmp_path):
    target = tmp_path / "sub" / "clip.avi"
    with atomic_path(target, keep_suffix=True) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".avi" and tmp != target
        assert not target.exists()
        tmp.write_bytes(b"frames")
    assert target.read_bytes() == b"frames"
    assert sorted(p.name for p in target.parent.iterdir()) == ["clip.avi"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_atomic_path_removes_its_temporary_on_error(tmp_path):
    target = tmp_path / "clip.avi"
    with pytest.raises(RuntimeError):
        with atomic_path(target, keep_suffix=True) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("encoder failed")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_as_target_is_refused_with_a_hint(tmp_path):
    with pytest.raises(IsADirectoryError, match="give a file name"):
        write_text(tmp_path, "x")
