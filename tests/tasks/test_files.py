"""Atomic writes: a reader sees the old file or the new one, never a half-written one."""

from __future__ import annotations

import pytest

from tasks.files import atomic_path, write_text_atomic


def test_an_atomic_write_replaces_the_file_and_leaves_no_temporary_behind(tmp_path):
    path = tmp_path / "sub" / "results.json"
    write_text_atomic(path, "old")
    write_text_atomic(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / "report.md"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_two_writes_in_progress_use_distinct_temporary_names_with_the_files_suffix(tmp_path):
    with atomic_path(tmp_path / "figure.png") as first, atomic_path(tmp_path / "figure.png") as second:
        assert first != second and first.suffix == second.suffix == ".png"
        first.write_text("a")
        second.write_text("b")
    assert (tmp_path / "figure.png").read_text() == "a"  # the last rename wins, whole
