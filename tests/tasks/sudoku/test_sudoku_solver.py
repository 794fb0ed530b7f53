import itertools

import numpy as np
import pytest
from sudoku_fixtures import EASY_PUZZLE, EASY_SOLUTION, HARD_PUZZLES, grid

from tasks.base import TaskError
from tasks.sudoku.metrics import is_valid_solution, keeps_givens
from tasks.sudoku.solver import solve


def all_4x4_grids() -> np.ndarray:
    """Every valid 4x4 Sudoku by brute force (there are 288): an oracle independent of the solver."""
    rows = np.array(list(itertools.permutations(range(1, 5))))  # [24, 4]
    grids = rows[:, None, :]
    for _ in range(3):  # add a row, keeping columns free of repeats (Latin squares), then check the boxes
        grids = np.concatenate([np.repeat(grids, len(rows), 0), np.tile(rows, (len(grids), 1))[:, None]], axis=1)
        grids = grids[(grids[:, :-1] != grids[:, -1:]).all(axis=(1, 2))]
    return grids[is_valid_solution(grids)]


def test_there_are_288_valid_4x4_grids():
    assert len(all_4x4_grids()) == 288


def test_solution_count_matches_brute_force_on_random_4x4_puzzles():
    grids = all_4x4_grids()
    rng = np.random.default_rng(0)
    for _ in range(200):
        puzzle = grids[rng.integers(len(grids))] * (rng.random((4, 4)) < rng.uniform(0.1, 0.6))
        matches = grids[keeps_givens(puzzle[None].repeat(len(grids), 0), grids)]
        result = solve(puzzle, limit=1000)
        assert result.solutions == len(matches)
        assert any((result.solution == m).all() for m in matches)


@pytest.mark.parametrize("name", sorted(HARD_PUZZLES))
def test_hard_puzzles_have_one_valid_solution_and_need_backtracks(name):
    puzzle = grid(HARD_PUZZLES[name])
    result = solve(puzzle, limit=2)
    assert result.solutions == 1
    assert is_valid_solution(result.solution[None])[0] and keeps_givens(puzzle[None], result.solution[None])[0]
    assert result.backtracks > 0


def test_easy_puzzle_is_solved_by_propagation_alone():
    result = solve(grid(EASY_PUZZLE))
    assert result.solutions == 1 and result.backtracks == 0
    assert (result.solution == grid(EASY_SOLUTION)).all()


def test_search_stops_at_the_solution_limit():
    empty = np.zeros((9, 9), dtype=np.int8)
    assert solve(empty, limit=1).solutions == 1
    assert solve(empty, limit=2).solutions == 2


def test_clashing_givens_have_no_solution():
    puzzle = np.zeros((9, 9), dtype=np.int8)
    puzzle[0, 0] = puzzle[0, 5] = 3
    result = solve(puzzle)
    assert result.solutions == 0 and result.solution is None


def test_blank_cell_without_candidates_means_no_solution():
    puzzle = np.zeros((9, 9), dtype=np.int8)
    puzzle[0, :7] = [1, 2, 3, 4, 5, 6, 7]  # row 0 still needs 8 and 9 in its last two cells
    puzzle[3, 7], puzzle[1, 6] = 8, 9  # ... but (0, 7) can hold neither: column 7 has 8, its box has 9
    assert solve(puzzle).solutions == 0


def test_rating_is_unchanged_by_relabelling_digits():
    puzzle = grid(HARD_PUZZLES["ai_escargot"])
    relabel = np.array([0, 4, 7, 1, 9, 2, 5, 8, 3, 6])
    assert solve(relabel[puzzle]).backtracks == solve(puzzle).backtracks


@pytest.mark.parametrize(
    "bad, field",
    [(np.zeros((9, 8)), "not square"), (np.full((9, 9), 10), "values"), (np.zeros((5, 5)), "size")],
)
def test_bad_grid_is_a_task_error(bad, field):
    with pytest.raises(TaskError, match=field):
        solve(bad)
