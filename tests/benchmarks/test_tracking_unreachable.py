"""A store that cannot be reached or written costs one warning line and seconds, never a stall or a traceback.

Each case runs a tracker in a fresh Python process, as the runner would: open a run, log to it, end it, and
report `tracker.error` and the wall time from creating the tracker to the run's end. Run as root (which
writes through file modes), the read-only cases make the child drop to an unprivileged user once it has
imported what the tracker uses (the interpreter's own files may be readable by root alone).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from benchmarks.tracking import Tracker

REPO = Path(__file__).resolve().parents[2]
LIMIT_S = 15.0  # from creating the tracker to the end of its run
PROCESS_LIMIT_S = 30.0  # the whole child, which also starts Python and imports MLflow (seconds on a busy machine)
NOBODY = 65534

CHILD = """
import fcntl, json, os, sqlite3, sys, time
import mlflow.entities, mlflow.tracking, sqlalchemy.engine
from benchmarks.tracking import Tracker
if sys.argv[2]:  # the user to become
    user = int(sys.argv[2])
    os.setgroups([]); os.setresgid(user, user, user); os.setresuid(user, user, user)
started = time.perf_counter()
tracker = Tracker(sys.argv[1])
with tracker.run("unreachable") as run:
    run.log_params({"a": 1})
    run.log_metrics({"x": 1.0}, step=1)
    run.set_tags({"t": "v"})
print(json.dumps({"error": tracker.error, "run_id": run.run_id, "wall_s": time.perf_counter() - started}))
"""


def run_tracker(uri: str, workdir: Path, read_only: bool = False) -> tuple[dict, list[str], float]:
    """Run CHILD on `uri`; (its report, its stderr lines, the whole process's wall time)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MLFLOW_") and key != "PYTEST_CURRENT_TEST"}
    env.update(PYTHONPATH=str(REPO), HOME=str(workdir), OMP_NUM_THREADS="1")
    user = str(NOBODY) if read_only and os.geteuid() == 0 else ""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, uri, user], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=60)
    wall = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr.strip().splitlines(), wall


def assert_tracking_failed_quietly(report: dict, stderr: list[str], wall: float, *expected: str) -> None:
    assert report["run_id"] is None and report["error"].startswith("starting run unreachable failed on ")
    assert any(text in report["error"] for text in expected), report["error"]
    assert report["wall_s"] < LIMIT_S and wall < PROCESS_LIMIT_S, (report["wall_s"], wall)
    assert len(stderr) == 1 and stderr[0].startswith("warning: MLflow tracking is off"), stderr
    print(f"{report['wall_s']:.3f} s in the tracker, {wall:.1f} s for the process: {report['error'][:120]}")


@pytest.fixture
def workdir():
    """A folder every user can enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="tracking-"))
    path.chmod(0o755)
    yield path
    for folder in (path, *(child for child in path.rglob("*") if child.is_dir())):
        folder.chmod(0o755)
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def existing_store(tmp_path_factory) -> Path:
    """An initialised MLflow SQLite store with the experiment in it."""
    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    tracker = Tracker(f"sqlite:///{path}", artifact_root=path.parent / "mlartifacts")
    with tracker.run("setup"):
        pass
    assert tracker.error is None
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_closed_port_turns_tracking_off_within_seconds(workdir):
    report, stderr, wall = run_tracker(f"http://127.0.0.1:{free_port()}", workdir)
    assert_tracking_failed_quietly(report, stderr, wall, "Connection refused")


def test_a_server_that_accepts_but_never_answers_turns_tracking_off_within_seconds(workdir):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []

    def accept_and_stay_silent():
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:  # the listening socket was closed: the test is over
                return

    thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
    thread.start()
    try:
        report, stderr, wall = run_tracker(f"http://127.0.0.1:{server.getsockname()[1]}", workdir)
    finally:
        server.close()
        for connection in accepted:
            connection.close()
        thread.join(timeout=5)
    assert accepted, "the tracker never connected"
    assert_tracking_failed_quietly(report, stderr, wall, "timed out", "Read timed out")


def test_a_read_only_store_file_turns_tracking_off_within_seconds(workdir, existing_store):
    store = workdir / "mlflow.db"
    shutil.copy(existing_store, store)
    store.chmod(0o444)
    report, stderr, wall = run_tracker(f"sqlite:///{store}", workdir, read_only=True)
    assert_tracking_failed_quietly(report, stderr, wall, "readonly")


def test_a_new_store_in_a_read_only_folder_turns_tracking_off_within_seconds(workdir):
    folder = workdir / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    report, stderr, wall = run_tracker(f"sqlite:///{folder / 'mlflow.db'}", workdir, read_only=True)
    assert_tracking_failed_quietly(report, stderr, wall, "unable to open database file")
    assert not (folder / "mlflow.db").exists()


def test_an_existing_store_in_a_read_only_folder_turns_tracking_off_within_seconds(workdir, existing_store):
    folder = workdir / "read-only"
    folder.mkdir()
    shutil.copy(existing_store, folder / "mlflow.db")
    (folder / "mlflow.db").chmod(0o666)  # writable itself, but SQLite cannot create its journal beside it
    folder.chmod(0o555)
    report, stderr, wall = run_tracker(f"sqlite:///{folder / 'mlflow.db'}", workdir, read_only=True)
    assert_tracking_failed_quietly(report, stderr, wall, "readonly", "unable to open database file")


def test_an_unknown_scheme_turns_tracking_off_within_seconds(workdir):
    report, stderr, wall = run_tracker("unknown-scheme://nowhere", workdir)
    assert_tracking_failed_quietly(report, stderr, wall, "unknown-scheme")
