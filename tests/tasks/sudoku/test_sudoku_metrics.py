import numpy as np
from sudoku_fixtures import EASY_PUZZLE, EASY_SOLUTION, grid

from tasks.sudoku.metrics import count, is_valid_solution


def test_exact_prediction_scores_one_everywhere():
    puzzle, solution = grid(EASY_PUZZLE)[None], grid(EASY_SOLUTION)[None]
    assert count(puzzle, solution, solution).fractions() == {
        "token_accuracy": 1.0, "exact_accuracy": 1.0, "valid_accuracy": 1.0, "valid_but_different": 0.0,
    }


def test_one_wrong_cell_costs_one_token_and_the_exact_and_valid_marks():
    puzzle, solution = grid(EASY_PUZZLE)[None], grid(EASY_SOLUTION)[None]
    wrong = solution.copy()
    wrong[0, 2, 2] = 1 if wrong[0, 2, 2] != 1 else 2
    counts = count(puzzle, solution, wrong)
    assert (counts.correct_tokens, counts.tokens, counts.exact, counts.valid) == (80, 81, 0, 0)


def test_valid_grid_that_changes_a_given_is_not_valid():
    solution = grid(EASY_SOLUTION)[None]
    relabelled = np.array([0, 2, 1, 3, 4, 5, 6, 7, 8, 9])[solution]  # swap digits 1 and 2: still a valid grid
    puzzle = solution.copy()  # every cell given
    assert is_valid_solution(relabelled)[0]
    assert count(puzzle, solution, relabelled).valid == 0


def test_valid_solution_of_a_non_unique_puzzle_is_counted_as_valid_but_different():
    solution = grid(EASY_SOLUTION)[None]
    other = np.array([0, 2, 1, 3, 4, 5, 6, 7, 8, 9])[solution]
    puzzle = np.where(np.isin(solution, (1, 2)), 0, solution)  # blanking every 1 and 2 allows both grids
    counts = count(puzzle, solution, other)
    assert (counts.exact, counts.valid, counts.valid_but_different) == (0, 1, 1)


def test_predicted_pad_or_blank_is_never_valid():
    solution = grid(EASY_SOLUTION)[None]
    for token_digit in (-1, 0):
        bad = solution.copy()
        bad[0, 4, 4] = token_digit
        assert not is_valid_solution(bad)[0]


def test_validity_checks_boxes_on_6x6():
    rows = np.array([[1, 2, 3, 4, 5, 6]])
    latin = (rows + np.arange(6)[:, None]) % 6 + 1  # rows and columns fine, 2x3 boxes not
    assert not is_valid_solution(latin[None])[0]
    shifts = np.array([0, 3, 1, 4, 2, 5])
    good = (rows + shifts[:, None]) % 6 + 1
    assert is_valid_solution(good[None])[0]
