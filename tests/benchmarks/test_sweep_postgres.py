"""Sweeps on a database server: a real PostgreSQL server on the loopback address, two sweep workers in their
own processes sharing one study, and a worker killed mid-trial whose trial the heartbeat marks failed.

The server is the distribution's (`postgresql`, which .ci/run installs); without it the tests skip, unless
HRM_BENCH_REQUIRE_POSTGRES=1 (set by .ci/run) makes that a failure. The driver is the `postgres` extra's.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest

pytestmark = pytest.mark.slow

SWEEP = ["-m", "benchmarks.sweep", "--task", "maze", "--arm", "hrm", "--scale", "smoke", "--space", "N=1:2,T=1:2",
         "--study", "shared", "--set", "train.progress=0"]
TRIALS_PER_WORKER = 2


def _server_binaries() -> Path | None:
    for candidate in [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))]:
        if candidate and Path(candidate).with_name("pg_ctl").exists():
            return Path(candidate).parent
    return None


def _unavailable(reason: str):
    if os.environ.get("HRM_BENCH_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here (HRM_BENCH_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A fresh PostgreSQL cluster on 127.0.0.1 with a database `optuna`; stopped and removed afterwards.

    PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user the
    distribution's package creates, in a folder that user owns."""
    pytest.importorskip("psycopg", reason="the postgres extra's driver (pip install -e '.[postgres]')")
    binaries = _server_binaries()
    if binaries is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl); install the distribution's postgresql")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="hrm-bench-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root, and there is no `postgres` user to run the server as")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8")
    run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
        "-o", f"-h 127.0.0.1 -p {port} -k {folder}", "start")
    try:
        import sqlalchemy

        server = f"postgresql+psycopg://bench@127.0.0.1:{port}"
        engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("CREATE DATABASE optuna"))
        engine.dispose()
        yield f"{server}/optuna"
    finally:
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def _worker(tmp_path, url: str, name: str, *extra: str) -> subprocess.Popen:
    environment = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen([sys.executable, *SWEEP, "--storage", url, "--out", str(tmp_path / name),
                             "--set", f"train.cache_dir={tmp_path / 'cache'}", *extra],
                            stdout=log, stderr=subprocess.STDOUT, env=environment)


def _log(tmp_path, name: str) -> str:
    return (tmp_path / f"{name}.log").read_text()[-3000:]


def test_two_workers_share_one_study_without_losing_or_repeating_a_trial(tmp_path, postgres_url):
    workers = [_worker(tmp_path, postgres_url, f"worker{k}", "--trials", str(TRIALS_PER_WORKER),
                       "--sampler-seed", str(k)) for k in (1, 2)]
    for k, worker in enumerate(workers, 1):
        assert worker.wait(timeout=600) == 0, _log(tmp_path, f"worker{k}")
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    numbers = sorted(trial.number for trial in study.trials)
    assert numbers == list(range(2 * TRIALS_PER_WORKER))
    assert all(trial.state == optuna.trial.TrialState.COMPLETE for trial in study.trials)
    assert len({trial._trial_id for trial in study.trials}) == 2 * TRIALS_PER_WORKER
    for k in (1, 2):  # each worker summarised the whole shared study
        assert "# Sweep `shared`" in (tmp_path / f"worker{k}" / "summary.md").read_text()


def test_a_worker_killed_mid_trial_has_its_trial_marked_failed_by_the_heartbeat(tmp_path, postgres_url):
    study_name = "shared-killed"
    sweep = ["--study", study_name, "--heartbeat", "1"]
    killed = _worker(tmp_path, postgres_url, "killed", *sweep, "--trials", "1", "--set", "train.steps=100000")
    deadline = time.monotonic() + 300
    running = []
    while not running and time.monotonic() < deadline:
        assert killed.poll() is None, _log(tmp_path, "killed")
        time.sleep(1)
        try:
            study = optuna.load_study(study_name=study_name, storage=postgres_url)
        except KeyError:  # the worker has not created the study yet
            continue
        running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    assert running, "the first worker never started its trial"
    time.sleep(2)  # a heartbeat or two recorded
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    time.sleep(3)  # longer than the grace period (2 heartbeats)
    survivor = _worker(tmp_path, postgres_url, "survivor", *sweep, "--trials", "1", "--sampler-seed", "5")
    assert survivor.wait(timeout=600) == 0, _log(tmp_path, "survivor")
    trials = {trial.number: trial.state for trial in optuna.load_study(study_name=study_name,
                                                                      storage=postgres_url).trials}
    assert trials == {running[0].number: optuna.trial.TrialState.FAIL, running[0].number + 1:
                      optuna.trial.TrialState.COMPLETE}
