"""Timing target: 30x30 mazes with shortest path > 110 (the paper's Maze-Hard filter) per minute, one core.

Measure with `OMP_NUM_THREADS=1 python -m pytest tests/perf/test_perf_maze.py --benchmark-enable -m slow`;
the rate per minute is the batch's accepted mazes divided by the benchmark's mean time.
The default (not slow) case times the screening on small mazes as a smoke test.
"""

import numpy as np
import pytest

from tasks.maze.generate import generate_batch
from tasks.maze.grid import is_optimal
from tasks.maze.task import GENERATION_BATCH


def _rate(benchmark, height, width, min_path_length, rounds):
    rng = np.random.default_rng(0)
    found = []

    def batch():
        mazes = generate_batch(rng, GENERATION_BATCH, height, width, min_path_length)
        found.append(len(mazes.lengths))
        return mazes

    mazes = benchmark.pedantic(batch, rounds=rounds, iterations=1, warmup_rounds=0)
    assert is_optimal(mazes.inputs, mazes.labels, mazes.lengths).all()
    if benchmark.stats:  # absent under --benchmark-disable
        benchmark.extra_info["mazes_per_minute"] = sum(found) / len(found) / benchmark.stats.stats.mean * 60
    return sum(found)


def test_perf_maze_generation_small(benchmark):
    assert _rate(benchmark, 10, 10, 20, rounds=1) > 0


@pytest.mark.slow
def test_perf_maze_generation_30x30_path_over_110(benchmark):
    assert _rate(benchmark, 30, 30, 111, rounds=20) > 0
