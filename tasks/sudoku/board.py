"""Sudoku board geometry (4x4, 6x6, 9x9) and the token encoding shared by every Sudoku module.

Cells are numbered row-major, 0 .. size*size-1. Digit grids hold 0 for a blank and 1..size for a digit.
Token sequences follow the reference: PAD 0, blank 1, digit d -> d + 1 (so vocab = size + 2).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from tasks.base import TaskError

BOX_SHAPES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}  # size -> (box rows, box columns)
PAD_TOKEN = 0
BLANK_TOKEN = 1


@dataclass(frozen=True)
class Geometry:
    """The constraint structure of one board size.

    units: the size*3 groups of cells (rows, then columns, then boxes) that must hold every digit once.
    peers: for each cell, the other cells sharing a unit with it.
    cell_units: for each cell, its (row, column, box) numbers 0..size-1.
    cell_unit_ids: for each cell, the indices into `units` of its row, column and box.
    """

    size: int
    box_rows: int
    box_cols: int
    units: tuple[tuple[int, ...], ...]
    peers: tuple[tuple[int, ...], ...]
    cell_units: tuple[tuple[int, int, int], ...]
    cell_unit_ids: tuple[tuple[int, int, int], ...]

    @property
    def cells(self) -> int:
        return self.size * self.size

    @property
    def full_mask(self) -> int:
        """Bit d-1 set for every digit d: the candidate mask of an unconstrained cell."""
        return (1 << self.size) - 1

    @property
    def square_boxes(self) -> bool:
        """Whether transposing keeps boxes as boxes (4x4, 9x9; not 6x6's 2x3 boxes)."""
        return self.box_rows == self.box_cols


@functools.cache
def geometry(size: int) -> Geometry:
    """The geometry of a size x size board; TaskError for a size without a standard box shape."""
    if size not in BOX_SHAPES:
        raise TaskError(f"sudoku size: {size} is not supported (choose one of {sorted(BOX_SHAPES)})")
    br, bc = BOX_SHAPES[size]
    cell_units = tuple(
        (r, c, (r // br) * (size // bc) + c // bc) for r in range(size) for c in range(size)
    )
    units = tuple(
        tuple(i for i, cu in enumerate(cell_units) if cu[kind] == k) for kind in range(3) for k in range(size)
    )
    peers = tuple(
        tuple(sorted({p for u in units if i in u for p in u} - {i})) for i in range(size * size)
    )
    cell_unit_ids = tuple((r, size + c, 2 * size + b) for r, c, b in cell_units)
    return Geometry(size, br, bc, units, peers, cell_units, cell_unit_ids)


def digits_to_tokens(grids: np.ndarray) -> np.ndarray:
    """Digit grids (0 blank, 1..size) of any shape -> tokens (blank 1, digit d -> d + 1), as int32."""
    return np.asarray(grids, dtype=np.int32) + 1


def tokens_to_digits(tokens: np.ndarray) -> np.ndarray:
    """Tokens -> digits (blank 0, digits 1..size); PAD becomes -1, which no check accepts as a digit."""
    return np.asarray(tokens, dtype=np.int32) - 1
