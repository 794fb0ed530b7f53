"""Timing target: evaluation at paper size on CPU, the inner loop of `python -m benchmarks.evaluate`.

HRM at the paper's Sudoku-Extreme size (d=512, 8 heads, 4+4 layers, N=T=2, a 512-wide puzzle embedding,
27 M parameters), 16 9x9 puzzles in one batch, 4 segments with per-segment scoring (`evaluate_split` with
`per_segment=True`, what the command runs), 2 threads. A segment costs the same at every depth, so the
command's examples/s at its default 16 segments is 16 x 4 / (16 x the median). Measure with
`OMP_NUM_THREADS=2 python -m pytest tests/perf/test_perf_evaluate.py --benchmark-enable -m slow`; enabled it runs
1 warm-up and 3 timed rounds, by default (`--benchmark-disable`) one, as a smoke test.
"""

import numpy as np
import pytest
import torch

from benchmarks.evaluation import evaluate_split
from hrm.config import ModelConfig
from hrm.model import build_hrm
from tasks.dataset import from_arrays
from tasks.registry import get_task, task_config

EXAMPLES, SEGMENTS = 16, 4


@pytest.mark.slow
def test_perf_paper_size_evaluation(benchmark):
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=11, seq_len=81, num_puzzle_identifiers=1, puzzle_emb_dim=512, hidden_size=512,
                         num_heads=8, H_layers=4, L_layers=4, H_cycles=2, L_cycles=2, halt_max_steps=16)
    model = build_hrm(config)
    rng = np.random.default_rng(0)
    dataset = from_arrays(rng.integers(1, 11, (EXAMPLES, 81)), rng.integers(2, 11, (EXAMPLES, 81)), vocab_size=11)
    task = get_task("sudoku", task_config("sudoku", {"size": 9}))

    def evaluate():
        return evaluate_split(model, dataset, task, batch_size=EXAMPLES, halt_max_steps=SEGMENTS, mode="fixed",
                              device=torch.device("cpu"), per_segment=True)

    try:
        evaluation = benchmark.pedantic(evaluate, rounds=3, iterations=1, warmup_rounds=1)
    finally:
        torch.set_num_threads(threads)
    assert evaluation.segment_exact.shape == (SEGMENTS,) and evaluation.metrics["examples"] == EXAMPLES
