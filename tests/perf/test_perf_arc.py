"""Timing target: ARC voting over one evaluation set's augmented predictions (400 tasks, 100 versions each).

Measure with `OMP_NUM_THREADS=1 python -m pytest tests/perf/test_perf_arc.py --benchmark-enable -m slow`; by default
pytest runs the vote once (`--benchmark-disable`) as a smoke test. At paper scale (1000 versions) the work
grows linearly: ten times these predictions.
"""

import numpy as np
import pytest

from tasks.arc.build import build_split
from tasks.arc.data import ARCTaskData
from tasks.arc.voting import pass_at_k, vote

TASKS, VERSIONS = 400, 100


def synthetic_tasks(rng: np.random.Generator) -> list[ARCTaskData]:
    """Evaluation tasks with random grids of ARC-like sizes, one in twenty with two test inputs."""
    def grid():
        return rng.integers(0, 10, rng.integers(3, 21, 2)).astype(np.uint8)

    return [ARCTaskData(f"t{k:04d}", "evaluation", [(grid(), grid())], [(grid(), grid())] * (1 + (k % 20 == 0)))
            for k in range(TASKS)]


@pytest.mark.slow  # building the 42k-example split takes ~10 s
def test_perf_arc_voting(benchmark):
    rng = np.random.default_rng(0)
    test = build_split(synthetic_tasks(rng), "test", protocol="reference", canvas=30, augmentations=VERSIONS - 1,
                       retries=5, translate=False, seed=0)
    predictions = test.labels.copy()
    noisy = rng.random(len(predictions)) < 0.4  # 40% of the versions predict a corrupted canvas
    predictions[noisy, : 30 * 8] = rng.integers(2, 12, (int(noisy.sum()), 30 * 8))
    confidences = rng.normal(size=len(predictions))
    votes = benchmark.pedantic(vote, args=(test, predictions, confidences), rounds=3, iterations=1)
    assert len(predictions) > TASKS * VERSIONS
    assert pass_at_k(votes, 2)["per_test"] == 1.0
