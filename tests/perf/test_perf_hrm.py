"""Timing target: one HRM training step at the issue's benchmark configuration (batch 32, 2 threads).

Measure with `OMP_NUM_THREADS=2 python -m pytest tests/perf/test_perf_hrm.py --benchmark-enable` (the thread
count comes from the environment); by default pytest runs the step once (`--benchmark-disable`) as a smoke test.
"""

import torch

from hrm.config import OptimConfig
from hrm.fixtures import benchmark_config, random_batch, training_step
from hrm.model import build_hrm
from hrm.optim import build_optimizers


def test_perf_hrm_training_step(benchmark):
    torch.manual_seed(0)
    config = benchmark_config()
    model = build_hrm(config)
    optimizers = build_optimizers(model, OptimConfig(optimizer="adamw"))
    batch = random_batch(config, batch_size=32)
    state = {"carry": model.initial_carry(batch)}

    def step():
        state["carry"], output = training_step(model, optimizers, state["carry"], batch)
        return output

    output = benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)
    assert torch.isfinite(output.loss)
