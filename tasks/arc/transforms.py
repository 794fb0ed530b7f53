"""ARC augmentation maps: the 8 dihedral transforms and colour permutations (0 fixed), with their inverses.

Transform ids follow the reference builder (so augmented identifier names like `<task>_t3_0918273645` mean
the same there and here): 0 identity, 1 rot90, 2 rot180, 3 rot270 (all counter-clockwise, as `np.rot90`),
4 left-right flip, 5 up-down flip, 6 transpose, 7 anti-transpose (left-right flip of rot90).

Every transform is written as "output cell (i, j) reads input cell (src_row, src_col)" with
src = (swap ? (j, i) : (i, j)), each coordinate optionally mirrored (x -> size - 1 - x). That single gather,
applied to a whole batch of grids each anchored at the top-left of a canvas, is `render` in encoding.py.
"""

from __future__ import annotations

import numpy as np

NUM_DIHEDRAL = 8
NUM_COLOURS = 10

# Per transform id: (swap rows and columns, mirror the source row, mirror the source column).
DIHEDRAL_SWAP = np.array([0, 1, 0, 1, 0, 0, 1, 1], dtype=bool)
DIHEDRAL_MIRROR_ROW = np.array([0, 0, 1, 1, 0, 1, 0, 1], dtype=bool)
DIHEDRAL_MIRROR_COL = np.array([0, 1, 1, 0, 1, 0, 0, 1], dtype=bool)
DIHEDRAL_INVERSE = np.array([0, 3, 2, 1, 4, 5, 6, 7], dtype=np.int64)


def inverse_dihedral(transform: np.ndarray | int) -> np.ndarray:
    """The transform id(s) undoing `transform`."""
    return DIHEDRAL_INVERSE[transform]


def random_colour_maps(rng: np.random.Generator, count: int) -> np.ndarray:
    """[count, 10] uint8 colour maps: 0 -> 0, colours 1..9 permuted (a new colour is map[old colour])."""
    keys = rng.random((count, NUM_COLOURS - 1))
    maps = np.zeros((count, NUM_COLOURS), dtype=np.uint8)
    maps[:, 1:] = np.argsort(keys, axis=1) + 1
    return maps


def identity_colour_map(count: int = 1) -> np.ndarray:
    """[count, 10] uint8 identity colour maps."""
    return np.tile(np.arange(NUM_COLOURS, dtype=np.uint8), (count, 1))


def inverse_colour_maps(maps: np.ndarray) -> np.ndarray:
    """[n, 10] colour maps undoing `maps` [n, 10] (inverse[map[c]] == c)."""
    return np.argsort(maps, axis=-1).astype(np.uint8)
