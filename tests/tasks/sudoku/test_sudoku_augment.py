import numpy as np
import pytest

from tasks.base import TaskError
from tasks.sudoku.augment import apply_transform, invert_transform, random_transforms
from tasks.sudoku.generator import generate
from tasks.sudoku.metrics import is_valid_solution, keeps_givens


@pytest.fixture(scope="module", params=[4, 6, 9])
def pairs(request):
    made = generate(6, size=request.param, seed=0)
    return made.puzzles, made.solutions


def test_augmentation_maps_valid_solutions_to_valid_solutions(pairs):
    puzzles, solutions = pairs
    many = np.repeat(solutions, 50, axis=0)
    moved = apply_transform(many, random_transforms(np.random.default_rng(0), len(many), solutions.shape[1]))
    assert is_valid_solution(moved).all()
    assert not (moved == many).all(axis=(1, 2)).all()


def test_same_transform_keeps_puzzle_and_solution_a_pair(pairs):
    puzzles, solutions = pairs
    transform = random_transforms(np.random.default_rng(1), len(puzzles), puzzles.shape[1])
    moved_puzzles, moved_solutions = apply_transform(puzzles, transform), apply_transform(solutions, transform)
    assert keeps_givens(moved_puzzles, moved_solutions).all()
    assert ((moved_puzzles == 0).sum(axis=(1, 2)) == (puzzles == 0).sum(axis=(1, 2))).all()


def test_inverse_undoes_the_transform(pairs):
    puzzles, _ = pairs
    transform = random_transforms(np.random.default_rng(2), len(puzzles), puzzles.shape[1])
    assert (invert_transform(apply_transform(puzzles, transform), transform) == puzzles).all()


def test_transpose_is_used_only_where_boxes_are_square():
    assert random_transforms(np.random.default_rng(3), 200, 9).transpose.any()
    assert not random_transforms(np.random.default_rng(3), 200, 6).transpose.any()


def test_rows_move_only_with_their_band():
    transform = random_transforms(np.random.default_rng(4), 100, 9)
    bands = transform.row_perm // 3  # the band each new row comes from
    assert (bands.reshape(100, 3, 3) == bands.reshape(100, 3, 3)[:, :, :1]).all()
    assert (np.sort(transform.row_perm, axis=1) == np.arange(9)).all()


def test_blank_stays_blank_and_digits_are_permuted():
    transform = random_transforms(np.random.default_rng(5), 100, 9)
    assert (transform.digit_map[:, 0] == 0).all()
    assert (np.sort(transform.digit_map[:, 1:], axis=1) == np.arange(1, 10)).all()


def test_grids_not_matching_the_transforms_are_an_error():
    transform = random_transforms(np.random.default_rng(6), 3, 9)
    with pytest.raises(TaskError, match="transforms"):
        apply_transform(np.zeros((2, 9, 9), dtype=np.int8), transform)
