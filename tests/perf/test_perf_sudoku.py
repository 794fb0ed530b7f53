"""Timing targets of the Sudoku harness: solver throughput on known hard 9x9 puzzles, and generation of
unique-solution 9x9 puzzles at the default difficulty (target: >= 1,000 per minute on one core).

Measure with `OMP_NUM_THREADS=1 python -m pytest tests/perf/test_perf_sudoku.py --benchmark-enable`;
by default pytest runs each case once (`--benchmark-disable`) as a smoke test.
"""

import numpy as np

from tasks.sudoku import SudokuConfig
from tasks.sudoku.generator import generate
from tasks.sudoku.solver import solve

HARD_PUZZLES = [  # well-known hard 9x9 puzzles (Inkala 2012, Norvig's hardest, Easter Monster, AI Escargot)
    "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
    "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
    "1.......2.9.4...5...6...7...5.9.3.......7.......85..4.7.....6...3...9.8...2.....1",
    "1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3..",
]
GRIDS = [np.array([0 if ch == "." else int(ch) for ch in text]).reshape(9, 9) for text in HARD_PUZZLES]


def test_perf_solver_on_hard_puzzles(benchmark):
    """One round solves (and proves unique) every puzzle; puzzles/second = len(HARD_PUZZLES) / round time."""
    results = benchmark(lambda: [solve(grid, limit=2) for grid in GRIDS])
    assert [r.solutions for r in results] == [1] * len(GRIDS)
    benchmark.extra_info["puzzles_per_round"] = len(GRIDS)


def test_perf_generation_at_default_difficulty(benchmark):
    """One round generates 20 unique 9x9 puzzles at the default minimum rating; per minute = 1200 / round s."""
    min_rating = SudokuConfig().min_rating
    made = benchmark.pedantic(lambda: generate(20, size=9, min_rating=min_rating, seed=0), rounds=3, iterations=1)
    assert (made.ratings >= min_rating).all()
    benchmark.extra_info["puzzles_per_round"] = 20
