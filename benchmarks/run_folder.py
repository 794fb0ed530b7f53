"""The output folder of one run: writable, held by one live run at a time, and resumable only as itself.

- `check_writable` turns a folder that cannot be written (a file in its place, no permission) into one
  clear error before any work starts.
- `hold` takes an exclusive lock on `<folder>/.lock` (`fcntl.flock`; the operating system releases it when
  the holding process ends, however it ends) and writes the holder's pid and host into it, so a second run
  into the same `--out` is refused naming the live one.
- `start` writes `run.json`, the run's manifest: the resolved settings (those that change what the run
  computes), the selection (suites, tasks, arms, seeds, device) and their hash. A new run refuses a folder
  that already holds one; `--resume` refuses a folder without one, and one made with other settings, naming
  every setting that differs.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.errors import BenchmarkError
from benchmarks.training_state import settings_differences
from tasks.files import write_text_atomic

MANIFEST = "run.json"
LOCK = ".lock"
# Settings that change how a run goes, not what it computes: a resumed run may change them.
OPERATIONAL_SETTINGS = ("train.progress", "train.workers", "train.threads", "train.cache_dir")


def settings_hash(settings: dict[str, Any]) -> str:
    """A short digest of a settings document (stable: keys sorted, no whitespace)."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_settings(config: dict[str, Any], selection: dict[str, Any]) -> dict[str, Any]:
    """What a run computes from: its resolved config without the operational settings, and its selection."""
    kept = {section: dict(values) if isinstance(values, dict) else values for section, values in config.items()
            if section != "overrides"}  # the resolved values say what the overrides changed
    for key in OPERATIONAL_SETTINGS:
        section, _, name = key.partition(".")
        kept.get(section, {}).pop(name, None)
    return json.loads(json.dumps({"config": kept, "selection": selection}, default=str))  # as run.json holds it


def check_writable(folder: Path, what: str, setting: str) -> None:
    """BenchmarkError naming `folder` when it (or a file inside it) cannot be created and written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BenchmarkError(f"{what} {folder} is a file, not a folder; choose another {setting}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise BenchmarkError(f"{what} {folder} is not writable ({error.strerror or error}); choose another "
                             f"{setting}") from None


@contextlib.contextmanager
def hold(folder: Path) -> Iterator[None]:
    """Hold `folder` for this process for the duration of the block; BenchmarkError when a live run holds it."""
    import fcntl

    path = Path(folder) / LOCK
    handle = open(path, "a+")  # noqa: SIM115  (held open for the whole run: the lock lives with the descriptor)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BenchmarkError(f"{folder} is in use by a live run ({holder}); wait for it to end or choose "
                                 "another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        yield
    finally:
        handle.close()


def start(folder: Path, settings: dict[str, Any], command: str, *, resume: bool) -> str:
    """Check `folder` against `settings` (see the module docstring), write the manifest; returns the hash."""
    path = Path(folder) / MANIFEST
    digest = settings_hash(settings)
    if path.is_file():
        if not resume:
            raise BenchmarkError(f"{folder} already holds a run ({MANIFEST}); continue it with --resume, or choose "
                                 f"another --out (or remove the folder to start afresh)")
        try:
            saved = json.loads(path.read_text())
            saved_settings = saved["settings"]
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as error:
            raise BenchmarkError(f"{path} is damaged ({type(error).__name__}); cannot tell what the run in "
                                 f"{folder} was made with") from None
        differences = settings_differences(saved_settings, settings)
        if differences:
            raise BenchmarkError(f"--resume: the run in {folder} was made with other settings "
                                 f"({'; '.join(differences)}); resume with its settings or choose another --out")
        return digest
    if resume:
        raise BenchmarkError(f"--resume: {folder} holds no run ({MANIFEST} is missing); check the --out path")
    manifest = {"settings_hash": digest, "command": command, "settings": settings,
                "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    write_text_atomic(path, json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
    return digest
