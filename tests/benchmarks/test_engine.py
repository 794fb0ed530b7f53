"""The training engine: resume equality, evaluation callbacks, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.engine import _batches
from benchmarks.errors import BenchmarkError
from benchmarks.suites.accuracy import run_case
from tasks.dataset import from_arrays


class Stop(Exception):
    """Raised from on_eval to interrupt a run, as an Optuna pruner or a killed job would."""


def _comparable(metrics: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in metrics.items() if not name.endswith("wall_s")}


def test_resumed_run_ends_with_the_same_metrics_as_an_uninterrupted_run(smoke_config, cpu, tmp_path):
    config = smoke_config("train.steps=6", "train.eval_interval=2", "train.log_interval=1")
    whole = run_case(config, "sudoku", "hrm", 0, device=cpu, out_dir=tmp_path / "whole")

    def interrupt(step, metrics):
        if step == 4:
            raise Stop

    with pytest.raises(Stop):
        run_case(config, "sudoku", "hrm", 0, device=cpu, out_dir=tmp_path / "part", on_eval=interrupt)
    assert torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)["step"] == 4
    calls = []
    resumed = run_case(config, "sudoku", "hrm", 0, device=cpu, out_dir=tmp_path / "part", resume=True,
                       on_eval=lambda step, metrics: calls.append(step))
    assert calls == [6]
    assert _comparable(resumed.metrics) == _comparable(whole.metrics)
    assert resumed.series["train_loss"] == whole.series["train_loss"]  # (step, value) pairs, replayed exactly
    assert resumed.series["test_exact_accuracy"] == whole.series["test_exact_accuracy"]


def test_on_eval_is_called_at_every_evaluation_with_the_test_metrics(smoke_config, cpu):
    config = smoke_config("train.steps=4", "train.eval_interval=2")
    seen = []
    result = run_case(config, "sudoku", "hrm", 0, device=cpu, on_eval=lambda step, m: seen.append((step, m)))
    assert [step for step, _ in seen] == [2, 4]
    assert seen[-1][1]["exact_accuracy"] == result.metrics["exact_accuracy"]
    assert {"token_accuracy", "exact_accuracy", "mean_segments", "q_halt_accuracy"} <= set(seen[-1][1])


def test_same_seed_gives_the_same_run_and_another_seed_a_different_one(smoke_config, cpu):
    config = smoke_config("train.steps=3", "train.eval_interval=0")
    first = run_case(config, "sudoku", "hrm", 0, device=cpu)
    again = run_case(config, "sudoku", "hrm", 0, device=cpu)
    other = run_case(config, "sudoku", "hrm", 1, device=cpu)
    assert first.series["train_loss"] == again.series["train_loss"]
    assert first.series["train_loss"] != other.series["train_loss"]


def test_case_result_counts_block_applications_per_example(smoke_config, cpu):
    config = smoke_config("train.steps=2", "train.eval_interval=0")
    result = run_case(config, "sudoku", "hrm", 0, device=cpu)
    model = result.model_config
    assert result.block_applications_per_segment == model.H_cycles * (model.L_cycles * model.L_layers + model.H_layers)
    assert result.block_applications == result.block_applications_per_segment * result.metrics["mean_segments"]
    assert result.metrics["steps_trained"] == 2


def test_too_few_groups_for_one_batch_names_the_groups_not_only_the_examples():
    inputs = np.ones((12, 4), dtype=np.int64)
    dataset = from_arrays(inputs, inputs, group_indices=np.array([0, 4, 8, 12]), vocab_size=3)
    with pytest.raises(BenchmarkError, match=r"each of the split's 3 groups.*one batch \(8; the split has 12 examples"):
        next(_batches(dataset, 8, seed=0, epoch=0, position=0))
