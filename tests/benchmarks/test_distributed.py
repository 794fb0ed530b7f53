"""`torchrun --nproc_per_node 2 -m benchmarks.run`: data-parallel training on CPU with gloo matches one process
on the same global batch and seed, resumes after an interruption, and refuses what it cannot run.

Tolerance 1e-5 (relative for losses, absolute for weights): two processes average two half-batch gradients
where one process takes the mean over the whole batch, so float32 sums are added in another order (about
1e-7 per step); everything else (sampler, initial weights, exploration draws) is identical.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
CASE = ["--suite", "accuracy", "--scale", "smoke", "--tasks", "sudoku", "--arms", "hrm", "--seeds", "0",
        "--set", "train.steps=12"]
TOLERANCE = 1e-5



def _environment(tmp_path) -> dict[str, str]:
    return {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "OMP_NUM_THREADS": "1"}


def _command(out: Path, cache: Path, processes: int, *extra: str) -> list[str]:
    launcher = [sys.executable, "-m", "benchmarks.run"]
    if processes > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
                    "--standalone", "-m", "benchmarks.run"]
    return [*launcher, *CASE, "--out", str(out), "--set", f"train.cache_dir={cache}", *extra]


def _run(tmp_path, data_cache, name: str, processes: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(_command(tmp_path / name, data_cache, processes, *extra), cwd=ROOT,
                          env=_environment(tmp_path), capture_output=True, text=True, timeout=600)


def _record(folder: Path) -> dict:
    (record,) = json.loads((folder / "results.json").read_text())["records"]
    return record


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    path = folder / "cases" / "accuracy-sudoku-hrm-0" / "checkpoint.pt"
    return torch.load(path, map_location="cpu", weights_only=False)["model"]


def _assert_same_training(one: Path, two: Path) -> None:
    a, b = _record(one), _record(two)
    for name in ("train_loss", "train_lm_loss", "test_token_accuracy", "test_exact_accuracy"):
        steps_a, values_a = zip(*a["series"][name], strict=True)
        steps_b, values_b = zip(*b["series"][name], strict=True)
        assert steps_a == steps_b
        assert values_b == pytest.approx(values_a, rel=TOLERANCE, abs=TOLERANCE), name
    for name in ("exact_accuracy", "token_accuracy", "mean_segments", "examples"):
        assert b["metrics"][name] == pytest.approx(a["metrics"][name], abs=TOLERANCE), name
    weights_a, weights_b = _weights(one), _weights(two)
    assert weights_a.keys() == weights_b.keys()
    for key, value in weights_a.items():
        torch.testing.assert_close(weights_b[key].float(), value.float(), rtol=0, atol=TOLERANCE, msg=key)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory, data_cache):
    folder = tmp_path_factory.mktemp("one")
    done = _run(folder, data_cache, "run", 1)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "run"


@pytest.mark.slow
def test_two_gloo_processes_train_as_one_process_does(tmp_path, data_cache, one_process):
    done = _run(tmp_path, data_cache, "two", 2)
    assert done.returncode == 0, done.stderr[-3000:]
    _assert_same_training(one_process, tmp_path / "two")
    assert (tmp_path / "two" / "report.md").is_file()  # rank 0 wrote the run's files


@pytest.mark.slow
def test_an_interrupted_torchrun_job_resumes_to_the_same_result(tmp_path, data_cache, one_process):
    out = tmp_path / "two"
    process = subprocess.Popen(_command(out, data_cache, 2), cwd=ROOT, env=_environment(tmp_path),
                               stderr=subprocess.PIPE, text=True)
    checkpoint = out / "cases" / "accuracy-sudoku-hrm-0" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the first checkpoint (step 3 of 12) is written: stop the job there
    process.send_signal(signal.SIGTERM)
    err = process.stderr.read()
    process.wait(timeout=120)
    assert checkpoint.exists(), err[-3000:]
    resumed = subprocess.run(_command(out, data_cache, 2, "--resume"), cwd=ROOT, env=_environment(tmp_path),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    _assert_same_training(one_process, out)


def test_what_a_torchrun_job_cannot_do_is_one_error():
    from benchmarks.config import resolve
    from benchmarks.distributed import Ranks, shard
    from benchmarks.errors import BenchmarkError
    from benchmarks.runner import _check_distributed

    two = Ranks(0, 2)
    with pytest.raises(BenchmarkError, match="only --suite accuracy trains data-parallel; run memory"):
        _check_distributed(["accuracy", "memory"], resolve("smoke", []), two)
    with pytest.raises(BenchmarkError, match="leave train.workers at 1"):
        _check_distributed(["accuracy"], resolve("smoke", ["train.workers=2"]), two)
    with pytest.raises(BenchmarkError, match="batch_size 7 does not split over 2 processes"):
        shard({"inputs": torch.zeros(7, 3)}, two)
    rows = shard({"inputs": torch.arange(8)}, Ranks(1, 2))["inputs"]
    assert rows.tolist() == [4, 5, 6, 7]
