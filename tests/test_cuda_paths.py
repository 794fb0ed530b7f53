"""The CUDA branches, run where a GPU is present and skipped cleanly elsewhere (nothing here needs one to pass)."""

from __future__ import annotations

import pytest
import torch
from model_helpers import random_batch, tiny_config

from hrm.config import OptimConfig
from hrm.model import build_hrm
from hrm.optim import build_optimizers
from hrm.training import training_step

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@cuda
def test_a_training_step_on_cuda_runs_in_bf16_autocast_and_tracks_the_cpu_loss():
    config = tiny_config()
    losses = {}
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = build_hrm(config).to(device)
        optimizers = build_optimizers(model, OptimConfig(optimizer="adamw"))
        batch = random_batch(config, 4, device=device)
        carry = model.initial_carry(batch)
        carry, output = training_step(model, optimizers, carry, batch)
        losses[device] = float(output.loss)
        assert torch.isfinite(output.loss)
    assert losses["cuda"] == pytest.approx(losses["cpu"], rel=0.05)  # bf16 forward against fp32


@cuda
def test_a_compiled_training_step_on_cuda_tracks_the_eager_one():
    """`model.compile` under bf16 autocast: the fused kernels round differently, the loss stays close."""
    config = tiny_config()
    batch = random_batch(config, 4, device="cuda")
    losses = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        model = build_hrm(config.replace(compile=compiled)).to("cuda")
        optimizers = build_optimizers(model, OptimConfig(optimizer="adamw"))
        carry = model.initial_carry(batch)
        carry, output = training_step(model, optimizers, carry, batch)
        losses[compiled] = float(output.loss)
    assert losses[True] == pytest.approx(losses[False], rel=0.01)


@cuda
def test_evaluation_on_cuda_matches_cpu_predictions_mostly():
    config = tiny_config()
    torch.manual_seed(0)
    model = build_hrm(config)
    batch = random_batch(config, 8)
    on_cpu = model.evaluate(batch, halt_max_steps=2)
    on_gpu = model.cuda().evaluate({key: value.cuda() for key, value in batch.items()}, halt_max_steps=2)
    agree = (on_gpu.predictions.cpu() == on_cpu.predictions).float().mean()
    assert agree > 0.9 and on_gpu.segments.device.type == "cuda"


@cuda
def test_the_runner_resolves_cuda_and_the_throughput_suite_measures_it(tmp_path, monkeypatch):
    from benchmarks.run import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert main(["--suite", "throughput", "--scale", "smoke", "--tasks", "sudoku", "--arms", "hrm", "--device",
                 "cuda", "--out", str(tmp_path / "run")]) == 0


def test_asking_for_cuda_without_it_is_one_clear_error():
    from benchmarks.context import resolve_device
    from benchmarks.errors import BenchmarkError

    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(BenchmarkError, match="no CUDA device is available"):
            resolve_device("cuda")
