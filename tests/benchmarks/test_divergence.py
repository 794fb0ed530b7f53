"""A training case whose loss or gradient stops being finite ends as diverged, never as an accuracy."""

from __future__ import annotations

import json

import pytest
import torch
from mlflow.tracking import MlflowClient

from benchmarks import compare
from benchmarks.run import EXIT_DIVERGED, main
from benchmarks.suites.accuracy import run_case
from hrm.act import ACTModel


class _InfiniteGradient(torch.autograd.Function):
    """Identity forward, infinite backward: a finite loss with a non-finite gradient."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float("inf")


def _break_training_at(monkeypatch, step: int, how: str) -> None:
    """Make the `step`-th training segment's loss NaN ("loss") or its gradient infinite ("gradient")."""
    original = ACTModel.train_segment
    calls = {"n": 0}

    def train_segment(self, carry, batch):
        carry, output = original(self, carry, batch)
        calls["n"] += 1
        if calls["n"] == step:
            output.loss = output.loss * float("nan") if how == "loss" else _InfiniteGradient.apply(output.loss)
        return carry, output

    monkeypatch.setattr(ACTModel, "train_segment", train_segment)


@pytest.mark.parametrize("how", ["loss", "gradient"])
def test_a_non_finite_loss_or_gradient_ends_the_case_as_diverged_at_that_step(how, smoke_config, cpu, tmp_path,
                                                                           monkeypatch):
    _break_training_at(monkeypatch, 3, how)
    config = smoke_config("train.steps=6", "train.eval_interval=2", "train.log_interval=2")
    result = run_case(config, "sudoku", "hrm", 0, device=cpu, out_dir=tmp_path / "case")
    assert result.diverged_at == 3 and result.status == "diverged"
    assert "exact_accuracy" not in result.metrics and "token_accuracy" not in result.metrics
    assert "DIVERGED at step 3" in result.headline()
    assert torch.load(tmp_path / "case" / "checkpoint.pt", weights_only=False)["diverged_at"] == 3


def test_resuming_a_diverged_case_reports_the_divergence_without_training_again(smoke_config, cpu, tmp_path,
                                                                               monkeypatch):
    _break_training_at(monkeypatch, 2, "loss")
    config = smoke_config("train.steps=6", "train.eval_interval=3")
    run_case(config, "sudoku", "hrm", 0, device=cpu, out_dir=tmp_path / "case")
    monkeypatch.undo()
    resumed = run_case(config, "sudoku", "hrm", 0, device=cpu, out_dir=tmp_path / "case", resume=True)
    assert resumed.diverged_at == 2 and resumed.metrics["steps_trained"] == 2


def test_a_run_with_a_diverged_case_writes_everything_marks_it_and_exits_3(tmp_path, data_cache, tracking_uri,
                                                                          monkeypatch, capsys):
    _break_training_at(monkeypatch, 4, "loss")
    out = tmp_path / "run"
    code = main(["--scale", "smoke", "--suite", "accuracy", "--tasks", "sudoku", "--arms", "hrm,transformer",
                 "--out", str(out), "--set", f"train.cache_dir={data_cache}", "--set", "train.log_interval=1"])
    assert code == EXIT_DIVERGED == 3
    records = json.loads((out / "results.json").read_text())["records"]
    diverged, finished = records
    assert (diverged["arm"], diverged["status"], diverged["diverged_at_step"]) == ("hrm", "diverged", 4)
    assert "exact_accuracy" not in diverged["metrics"]
    assert finished["status"] == "ok" and "exact_accuracy" in finished["metrics"]
    report = (out / "report.md").read_text()
    assert "diverged at step 4" in report
    assert "DIVERGED: accuracy sudoku / hrm / seed 0 at step 4" in capsys.readouterr().err

    client = MlflowClient(tracking_uri)
    runs = {run.info.run_name: run for run in client.search_runs(
        [client.get_experiment_by_name("hrm-bench").experiment_id])}
    assert runs["sudoku · hrm · seed 0"].info.status == "FAILED"
    assert runs["sudoku · hrm · seed 0"].data.tags["status_reason"] == "diverged at step 4"
    assert runs["sudoku · transformer · seed 0"].info.status == "FINISHED"

    base = json.loads((out / "results.json").read_text())
    base["records"][0] = {**finished, "arm": "hrm"}  # the same case, trained without diverging
    comparison = compare.compare(base, json.loads((out / "results.json").read_text()))
    (label,) = comparison.diverged
    assert not comparison.passed() and label.startswith("accuracy/sudoku/hrm seed 0 (")
    assert label.endswith("): diverged at step 4")
    assert "REGRESSED accuracy/sudoku/hrm" in compare.format_comparison(comparison)


def test_a_seed_aggregate_with_a_diverged_seed_is_diverged_and_names_it(smoke_config, tmp_path, data_cache,
                                                                       tracking_uri, monkeypatch):
    _break_training_at(monkeypatch, 2, "loss")  # the first case trained (seed 0) diverges
    out = tmp_path / "run"
    assert main(["--scale", "smoke", "--suite", "accuracy", "--tasks", "sudoku", "--arms", "hrm", "--seeds", "0,1",
                 "--out", str(out), "--set", f"train.cache_dir={data_cache}"]) == EXIT_DIVERGED
    aggregate = json.loads((out / "results.json").read_text())["records"][-1]
    assert aggregate["seed"] is None and aggregate["status"] == "diverged"
    assert aggregate["diverged_at_step"] == [[0, 2]] and aggregate["metrics"]["seeds"] == 1
    assert "diverged (seed 0 at step 2)" in (out / "report.md").read_text()
