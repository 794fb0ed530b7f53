"""Sudoku metrics: token accuracy, exact match, and valid solutions (vectorised over examples)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.sudoku.board import geometry


def is_valid_solution(grids: np.ndarray) -> np.ndarray:
    """[examples, size, size] digit grids -> [examples] bool: every row, column and box holds 1..size once.

    Each digit d becomes the bit 1 << (d - 1) (anything else no bit); a unit of `size` cells holds every
    digit once exactly when the OR of its bits sets all `size` bits.
    """
    grids = np.asarray(grids)
    count, size = grids.shape[0], grids.shape[1]
    geo = geometry(size)
    digit = (grids >= 1) & (grids <= size)
    bits = np.where(digit, np.left_shift(1, np.clip(grids, 1, size).astype(np.int16) - 1), 0).astype(np.int16)
    boxes = bits.reshape(count, size // geo.box_rows, geo.box_rows, size // geo.box_cols, geo.box_cols)
    boxes = boxes.transpose(0, 1, 3, 2, 4).reshape(count, size, size)  # [examples, box, cell in box]
    full = geo.full_mask
    return (
        (np.bitwise_or.reduce(bits, axis=2) == full).all(axis=1)
        & (np.bitwise_or.reduce(bits, axis=1) == full).all(axis=1)
        & (np.bitwise_or.reduce(boxes, axis=2) == full).all(axis=1)
    )


def keeps_givens(puzzles: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """[examples] bool: every non-blank cell of the puzzle has the same digit in the grid."""
    puzzles, grids = np.asarray(puzzles), np.asarray(grids)
    return ((puzzles == 0) | (puzzles == grids)).all(axis=(1, 2))


@dataclass(frozen=True)
class SudokuCounts:
    """Counts over a split. valid: prediction solves the puzzle (constraints hold, givens kept);
    valid_but_different: valid yet not the stored answer (only possible for puzzles with several solutions;
    counted and reported, not silently scored as right or wrong)."""

    examples: int
    tokens: int
    correct_tokens: int
    exact: int
    valid: int
    valid_but_different: int

    def fractions(self) -> dict[str, float]:
        per_example = max(self.examples, 1)
        return {
            "token_accuracy": self.correct_tokens / max(self.tokens, 1),
            "exact_accuracy": self.exact / per_example,
            "valid_accuracy": self.valid / per_example,
            "valid_but_different": self.valid_but_different / per_example,
        }


def count(puzzles: np.ndarray, answers: np.ndarray, predictions: np.ndarray) -> SudokuCounts:
    """puzzles, answers, predictions: [examples, size, size] digit grids (0 blank; predictions may hold any
    integer, e.g. -1 for a predicted PAD, which no check accepts)."""
    puzzles, answers, predictions = np.asarray(puzzles), np.asarray(answers), np.asarray(predictions)
    correct = predictions == answers
    exact = correct.all(axis=(1, 2))
    valid = is_valid_solution(predictions) & keeps_givens(puzzles, predictions)
    return SudokuCounts(
        examples=len(puzzles),
        tokens=correct.size,
        correct_tokens=int(correct.sum()),
        exact=int(exact.sum()),
        valid=int(valid.sum()),
        valid_but_different=int((valid & ~exact).sum()),
    )
