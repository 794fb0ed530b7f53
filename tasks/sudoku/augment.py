"""Validity-preserving Sudoku augmentation, vectorised over puzzles, with its exact inverse.

A transform maps a grid by: optional transpose (square boxes only), then a row permutation that shuffles
the bands (groups of box-rows) and the rows within each band, a column permutation that shuffles the stacks
and the columns within each stack, then a relabelling of the digits (blank stays blank). Each of these maps
a valid solution to a valid solution, and the same transform applied to a puzzle and its solution keeps
them a puzzle/solution pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.base import TaskError
from tasks.sudoku.board import geometry


@dataclass(frozen=True)
class SudokuTransform:
    """One transform per puzzle.

    transpose: [puzzles] bool
    row_perm, col_perm: [puzzles, size] new row i takes old row row_perm[i] (same for columns)
    digit_map: [puzzles, size + 1] old digit d becomes digit_map[d]; digit_map[:, 0] == 0 (blank)
    """

    transpose: np.ndarray
    row_perm: np.ndarray
    col_perm: np.ndarray
    digit_map: np.ndarray


def _permutations(rng: np.random.Generator, count: int, length: int) -> np.ndarray:
    """[count, length] independent random permutations of 0..length-1."""
    return np.argsort(rng.random((count, length)), axis=1)


def _block_permutation(rng: np.random.Generator, count: int, blocks: int, block: int) -> np.ndarray:
    """[count, blocks*block] permutations that shuffle whole blocks and the lines inside each block."""
    order = _permutations(rng, count, blocks)  # [count, blocks]
    inner = np.argsort(rng.random((count, blocks, block)), axis=2)  # [count, blocks, block]
    return (order[:, :, None] * block + inner).reshape(count, blocks * block)


def random_transforms(rng: np.random.Generator, count: int, size: int) -> SudokuTransform:
    """`count` random transforms for size x size boards (no transpose for 6x6, whose boxes are 2x3)."""
    geo = geometry(size)
    transpose = rng.random(count) < 0.5 if geo.square_boxes else np.zeros(count, dtype=bool)
    digits = _permutations(rng, count, size) + 1
    digit_map = np.concatenate([np.zeros((count, 1), dtype=np.int64), digits], axis=1)
    row_perm = _block_permutation(rng, count, size // geo.box_rows, geo.box_rows)
    col_perm = _block_permutation(rng, count, size // geo.box_cols, geo.box_cols)
    return SudokuTransform(transpose, row_perm, col_perm, digit_map)


def _check(grids: np.ndarray, transform: SudokuTransform) -> np.ndarray:
    grids = np.asarray(grids)
    if grids.ndim != 3 or grids.shape[1] != grids.shape[2] or grids.shape[0] != len(transform.transpose):
        raise TaskError(
            f"sudoku augmentation: grids of shape {grids.shape} do not match {len(transform.transpose)} transforms"
        )
    return grids


def apply_transform(grids: np.ndarray, transform: SudokuTransform) -> np.ndarray:
    """Transform [puzzles, size, size] digit grids (0 blank); puzzles and solutions use the same transform."""
    grids = _check(grids, transform)
    rows = np.arange(len(grids))[:, None, None]
    moved = np.where(transform.transpose[:, None, None], grids.transpose(0, 2, 1), grids)
    moved = moved[rows, transform.row_perm[:, :, None], transform.col_perm[:, None, :]]
    return transform.digit_map[rows, moved].astype(grids.dtype)


def invert_transform(grids: np.ndarray, transform: SudokuTransform) -> np.ndarray:
    """The inverse of `apply_transform`: invert_transform(apply_transform(g, t), t) == g."""
    grids = _check(grids, transform)
    rows = np.arange(len(grids))[:, None, None]
    digit_inverse = np.argsort(transform.digit_map, axis=1)  # digit_map is a permutation of 0..size
    unmapped = digit_inverse[rows, grids]
    unmoved = np.empty_like(unmapped)
    unmoved[rows, transform.row_perm[:, :, None], transform.col_perm[:, None, :]] = unmapped
    return np.where(transform.transpose[:, None, None], unmoved.transpose(0, 2, 1), unmoved).astype(grids.dtype)
