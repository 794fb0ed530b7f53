"""Atomic file writes, shared by the task harnesses and the benchmark runner.

A file is first written under a unique temporary name in its own folder, then renamed over its final name
(`os.replace`, atomic on one filesystem). A reader therefore sees the old file or the new one, never half
of one, and two writers of the same file never interleave their bytes (the last rename wins). A write that
fails or is interrupted removes its temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A unique temporary path beside `path` to write to; renamed to `path` when the block ends normally.

    The temporary name keeps `path`'s suffix, so writers that choose a format from it (matplotlib) work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write `text` to `path` atomically; returns the path."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)
    return Path(path)


def save_figure_atomic(figure, path: Path | str, **savefig_options) -> Path:
    """`figure.savefig(path, ...)` atomically (a matplotlib Figure); returns the path."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, **savefig_options)
    return Path(path)
