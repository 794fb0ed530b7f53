import random

import numpy as np
import pytest

from tasks.base import TaskError
from tasks.sudoku.board import geometry
from tasks.sudoku.generator import generate, random_full_grid, solution_split, unavoidable_sets
from tasks.sudoku.metrics import is_valid_solution, keeps_givens
from tasks.sudoku.solver import solve


@pytest.mark.parametrize("size, count, min_rating", [(4, 20, 0), (6, 20, 0), (9, 8, 3)])
def test_every_generated_puzzle_has_exactly_one_solution_and_the_minimum_rating(size, count, min_rating):
    made = generate(count, size=size, min_rating=min_rating, seed=1)
    assert made.puzzles.shape == made.solutions.shape == (count, size, size)
    assert is_valid_solution(made.solutions).all() and keeps_givens(made.puzzles, made.solutions).all()
    for puzzle, solution, rating in zip(made.puzzles, made.solutions, made.ratings, strict=True):
        result = solve(puzzle, limit=2)
        assert result.solutions == 1
        assert (result.solution == solution).all()
        assert result.backtracks == rating >= min_rating


def test_generated_puzzles_are_minimal():
    made = generate(5, size=6, seed=2)
    for puzzle in made.puzzles:
        for r, c in np.argwhere(puzzle):
            fewer = puzzle.copy()
            fewer[r, c] = 0
            assert solve(fewer, limit=2).solutions == 2


def test_generator_is_deterministic_for_a_seed():
    first, again = generate(5, size=9, seed=3), generate(5, size=9, seed=3)
    assert (first.puzzles == again.puzzles).all() and (first.ratings == again.ratings).all()


def test_different_seeds_give_different_puzzles():
    a, b = generate(5, size=9, seed=4), generate(5, size=9, seed=5)
    assert not {p.tobytes() for p in a.puzzles} & {p.tobytes() for p in b.puzzles}


def test_puzzles_of_one_split_are_distinct():
    made = generate(60, size=4, seed=6)  # 4x4 has few puzzles, so repeats would show up here
    assert len({p.tobytes() for p in made.puzzles}) == 60


def test_train_and_test_never_share_a_solution_grid():
    train, test = generate(40, size=4, seed=7, split="train"), generate(40, size=4, seed=7, split="test")
    assert not {s.tobytes() for s in train.solutions} & {s.tobytes() for s in test.solutions}
    assert all(solution_split(list(s.ravel())) == "test" for s in test.solutions)


def test_unreachable_minimum_rating_is_a_clear_error():
    with pytest.raises(TaskError, match="min_rating"):
        generate(1, size=4, min_rating=50, seed=0, max_tries=20)


def test_unknown_split_is_an_error():
    with pytest.raises(TaskError, match="split"):
        generate(1, size=4, split="validation")


@pytest.mark.parametrize("size", [6, 9])
def test_unavoidable_sets_blanked_leave_two_solutions(size):
    geo = geometry(size)
    solution = random_full_grid(random.Random(size), geo)
    sets = unavoidable_sets(solution, geo)
    assert sets and all(len(cells) in (4, 6, 8) for cells in sets)
    for cells in sets:
        puzzle = np.array(solution)
        puzzle[cells] = 0
        assert solve(puzzle.reshape(size, size), limit=2).solutions == 2
