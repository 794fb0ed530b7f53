"""Timing targets: one training step of every arm at the core issue's benchmark configuration.

d=128, 4 heads, 2+2 layers, N=T=2, seq 81, vocab 11, one puzzle id, batch 32, 2 threads; each arm at its
registry defaults over that config (so `trm` runs its own L_layers=2, T=3, n=6, 16 prefix positions, and
`transformer`/`transformer-deep` a single segment). AdamW as in the HRM case, so `hrm` matches it.
Measure with `OMP_NUM_THREADS=2 python -m pytest tests/perf/test_perf_arms.py --benchmark-enable -m slow`;
enabled, each case runs 1 warm-up and 10 timed steps; by default (`--benchmark-disable`) one step, as a
smoke test. The cases are marked slow (seconds each on 2 cores), so `-m 'not slow'` skips them locally.
`hrm-compiled` is the hrm case with `model.compile`; it compiles in the warm-up step, which is not timed.
"""

import pytest
import torch
from model_helpers import benchmark_config, random_batch

from baselines.registry import ARMS, arm_config, build_arm
from hrm.config import OptimConfig
from hrm.optim import build_optimizers
from hrm.training import training_step


@pytest.fixture
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


CASES = [pytest.param(name, False, id=name) for name in ARMS] + [pytest.param("hrm", True, id="hrm-compiled")]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "compiled"), CASES)
def test_perf_arm_training_step(benchmark, two_threads, name, compiled):
    torch.manual_seed(0)
    config = arm_config(name, benchmark_config(compile=compiled))
    model = build_arm(name, config)
    optimizers = build_optimizers(model, OptimConfig(optimizer="adamw"))
    batch = random_batch(config, batch_size=32)
    state = {"carry": model.initial_carry(batch)}

    def step():
        state["carry"], output = training_step(model, optimizers, state["carry"], batch)
        return output

    output = benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)
    assert torch.isfinite(output.loss)
