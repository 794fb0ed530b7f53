"""Processes that start together on a new SQLite store are all tracked (the store is set up once, locked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

from benchmarks.tracking import EXPERIMENT

REPO = Path(__file__).resolve().parents[2]
PROCESSES = 2

# Each child imports everything first, says it is ready, waits for the go file, then makes its tracker's first
# call: the moment at which MLflow creates the schema of a new store.
CHILD = """
import json, os, sys, time
from pathlib import Path
import mlflow.tracking, sqlalchemy.engine
from benchmarks.tracking import Tracker
uri, folder, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
(folder / f"ready-{name}").touch()
while not (folder / "go").exists():
    time.sleep(0.001)
tracker = Tracker(uri, artifact_root=folder / "mlartifacts")
with tracker.run(name) as run:
    run.log_metrics({"x": 1.0}, step=1)
print(json.dumps({"error": tracker.error, "run_id": run.run_id}))
"""


def test_processes_starting_together_on_a_new_sqlite_store_are_all_tracked(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    names = [f"process-{index}" for index in range(PROCESSES)]
    children = [subprocess.Popen([sys.executable, "-c", CHILD, uri, str(tmp_path), name], cwd=tmp_path, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in names]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{name}").exists() for name in names):
        assert time.monotonic() < deadline and all(child.poll() is None for child in children), "a child died"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    reports = []
    for child in children:
        stdout, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stderr
        reports.append(json.loads(stdout))
    assert [report["error"] for report in reports] == [None] * PROCESSES, [report["error"] for report in reports]
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])
    assert sorted(run.info.run_id for run in runs) == sorted(report["run_id"] for report in reports)
    assert {run.info.run_name: run.info.status for run in runs} == dict.fromkeys(names, "FINISHED")
    assert all(run.data.metrics == {"x": 1.0} for run in runs)
