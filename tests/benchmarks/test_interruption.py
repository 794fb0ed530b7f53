"""SIGTERM during a real run: every finished case is written, the console says how to resume, resume ends it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

ROOT = Path(__file__).resolve().parents[2]


def _command(out: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.run", "--scale", "smoke", "--suite", "accuracy", "--tasks", "sudoku",
            "--arms", "transformer,hrm,hrm-bptt,trm", "--out", str(out), "--set", f"train.cache_dir={cache}",
            "--set", "train.steps=40", "--set", "train.eval_interval=10", *extra]


@pytest.mark.slow
def test_sigterm_after_the_first_finished_case_keeps_it_and_resume_finishes_the_run(tmp_path, data_cache):
    out = tmp_path / "run"
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(_command(out, data_cache), cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 240
    for line in process.stderr:  # the first case finished, then stop the run in the middle of the second
        lines.append(line)
        if "sudoku/hrm/0: step 10/40" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    err = "".join(lines) + process.stderr.read()
    assert process.wait(timeout=120) == 130, err
    records = json.loads((out / "results.json").read_text())["records"]
    assert [(r["arm"], r["status"]) for r in records][:1] == [("transformer", "ok")], err
    assert len(records) < 4
    assert "records finished so far are in" in err and f"--resume --out {out}" in err
    runs = _runs(tmp_path)  # the finished case FINISHED, the one training when stopped KILLED, none left RUNNING
    assert runs["sudoku · transformer · seed 0"] == ["FINISHED"] and runs["sudoku · hrm · seed 0"] == ["KILLED"]
    assert [status for name, statuses in runs.items() for status in statuses if name.startswith("run · ")] == ["KILLED"]

    finished = subprocess.run(_command(out, data_cache, "--resume"), cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    resumed = json.loads((out / "results.json").read_text())["records"]
    assert [r["arm"] for r in resumed] == ["transformer", "hrm", "hrm-bptt", "trm"]
    assert resumed[0]["metrics"]["exact_accuracy"] == records[0]["metrics"]["exact_accuracy"]
    assert _runs(tmp_path)["sudoku · hrm · seed 0"] == ["KILLED", "FINISHED"]


@pytest.mark.slow
def test_sigterm_with_parallel_workers_ends_the_cases_in_training_killed(tmp_path, data_cache):
    out = tmp_path / "run"
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "OMP_NUM_THREADS": "1"}
    command = _command(out, data_cache, "--set", "train.workers=2", "--set", "train.steps=200")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 240
    for line in process.stderr:  # both workers are training once the first case has finished
        lines.append(line)
        if "] accuracy: sudoku / " in line or time.monotonic() > deadline:
            break
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    err = "".join(lines) + process.stderr.read()
    assert process.wait(timeout=120) == 130, err
    statuses = [status for name, found in _runs(tmp_path).items() if "seed" in name for status in found]
    assert "RUNNING" not in statuses and "FINISHED" in statuses and "KILLED" in statuses, (statuses, err)


def _runs(folder: Path) -> dict[str, list[str]]:
    """Each run name in the store, with the statuses of its runs in the order they started."""
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    found: dict[str, list[str]] = {}
    runs = client.search_runs([client.get_experiment_by_name("hrm-bench").experiment_id], order_by=["start_time"])
    for run in runs:
        found.setdefault(run.info.run_name, []).append(run.info.status)
    return found
