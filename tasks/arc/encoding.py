"""ARC grids <-> token canvases: PAD 0, EOS 1, colours 0..9 -> tokens 2..11 (vocab 12).

A grid of H x W cells sits in a C x C canvas (C = 30 at paper scale) at a row/column offset, with an EOS
row just below it and an EOS column just right of it (each only where it fits in the canvas), PAD elsewhere.
The sequence is the canvas flattened row by row: seq_len = C * C.

`render` does augmentation and placement in one vectorised gather for a batch of grids; `crop_sizes`
reads the grid size back from a canvas the way the reference evaluator does (the largest rectangle of
colour tokens anchored at the top-left), so a malformed prediction still decodes to its best-effort crop,
or to an empty 0 x 0 grid when not even its first cell is a colour.
"""

from __future__ import annotations

import functools

import numpy as np

from tasks.arc.transforms import (
    DIHEDRAL_MIRROR_COL,
    DIHEDRAL_MIRROR_ROW,
    DIHEDRAL_SWAP,
    NUM_COLOURS,
    NUM_DIHEDRAL,
)

PAD = 0
EOS = 1
COLOUR_OFFSET = 2
VOCAB_SIZE = COLOUR_OFFSET + NUM_COLOURS
_COLOURS_OF_TOKENS = np.array([0] * COLOUR_OFFSET + list(range(NUM_COLOURS)) + [0], dtype=np.uint8)  # [13]
_CHUNK = 4096  # grids per gather: bounds the [chunk, C * C] index arrays to a few tens of MB


def render(
    grids: np.ndarray,
    heights: np.ndarray,
    widths: np.ndarray,
    transforms: np.ndarray,
    colour_maps: np.ndarray,
    row_offsets: np.ndarray | None = None,
    col_offsets: np.ndarray | None = None,
) -> np.ndarray:
    """Token canvases of transformed, recoloured, translated grids.

    grids:        [n, C, C] colour values 0..9, grid k in the top-left heights[k] x widths[k] cells (the other
                  cells must hold 0..9 too; they are not read).
    transforms:   [n] dihedral ids (transforms.py); colour_maps: [n, 10] (new colour = map[old colour]).
    row_offsets, col_offsets: [n] top-left cell of each transformed grid (default 0); the caller keeps
                  offset + transformed size <= C.
    Returns [n, C * C] uint8 tokens.

    Each output cell is one gather from a per-grid buffer (its recoloured cells, then a PAD and an EOS
    token) through a precomputed table indexed by (transform, height, width) of where each cell of the
    flattened canvas reads from; a translation is a constant shift into that table's row (whose front is
    padded with PAD reads).
    """
    n, canvas = len(grids), grids.shape[-1]
    cells = canvas * canvas
    table = _gather_table(canvas).reshape(-1)
    out = np.empty((n, cells), dtype=np.uint8)
    for start in range(0, n, _CHUNK):
        part = slice(start, start + _CHUNK)
        count = len(grids[part])
        rows = np.arange(count, dtype=np.int64)[:, None]
        buffer = np.empty((count, cells + 2), dtype=np.uint8)
        buffer[:, :cells] = np.take(np.asarray(colour_maps[part], dtype=np.uint8), grids[part].reshape(count, cells)
                                    + rows * NUM_COLOURS) + COLOUR_OFFSET
        buffer[:, cells], buffer[:, cells + 1] = PAD, EOS
        table_row = (np.asarray(transforms[part], dtype=np.int64) * (canvas + 1) + heights[part]) * (canvas + 1)
        start_cell = (table_row + widths[part]) * (2 * cells) + cells
        if row_offsets is not None:
            start_cell = start_cell - (np.asarray(row_offsets[part]) * canvas + col_offsets[part])
        tokens = np.take(buffer, np.take(table, start_cell[:, None] + np.arange(cells)) + rows * (cells + 2))
        if col_offsets is not None:
            # A grid reaching the right edge has its EOS column wrapped into column 0 by the flat shift;
            # column 0 lies outside every grid that starts right of it.
            tokens.reshape(count, canvas, canvas)[np.asarray(col_offsets[part]) > 0, :, 0] = PAD
        out[part] = tokens
    return out


@functools.lru_cache(maxsize=4)
def _gather_table(canvas: int) -> np.ndarray:
    """[8, C + 1, C + 1, 2 * C * C] int16: for (transform, height, width) of the source grid, C*C PAD reads
    then the cell each output cell reads (flat source index; C*C for PAD, C*C + 1 for EOS), the transformed
    grid placed at the top-left."""
    cells = canvas * canvas
    t = np.arange(NUM_DIHEDRAL)[:, None, None, None, None]
    h = np.arange(canvas + 1)[None, :, None, None, None]
    w = np.arange(canvas + 1)[None, None, :, None, None]
    i = np.arange(canvas)[None, None, None, :, None]
    j = np.arange(canvas)[None, None, None, None, :]
    swap = DIHEDRAL_SWAP[t]
    height, width = np.where(swap, w, h), np.where(swap, h, w)  # size of the transformed grid
    a, b = np.where(swap, j, i), np.where(swap, i, j)
    src_row = np.where(DIHEDRAL_MIRROR_ROW[t], h - 1 - a, a)
    src_col = np.where(DIHEDRAL_MIRROR_COL[t], w - 1 - b, b)
    in_rows, in_cols = i < height, j < width
    table = np.where(in_rows & in_cols, src_row * canvas + src_col, cells)
    table = np.where(((i == height) & in_cols) | ((j == width) & in_rows), cells + 1, table)
    table = table.reshape(NUM_DIHEDRAL, canvas + 1, canvas + 1, cells)
    return np.concatenate([np.full_like(table, cells), table], axis=-1).astype(np.int16)


def crop_sizes(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(heights [n], widths [n]) of the grids in canvases tokens [n, R, K], read from the top-left corner.

    The size is the largest-area rectangle of colour tokens anchored at cell (0, 0) (first one on ties): the
    reference evaluator's crop, which for a well-formed canvas stops exactly at the EOS row and column.
    0 x 0 means no grid (cell (0, 0) is not a colour).
    """
    n, rows, cols = tokens.shape
    colour = (tokens >= COLOUR_OFFSET) & (tokens < VOCAB_SIZE)
    run = np.where(colour.all(axis=2), cols, np.argmin(colour, axis=2))  # colour cells from column 0, per row
    widths = np.minimum.accumulate(run, axis=1)  # [n, rows]: width of a rectangle reaching down to each row
    best = np.argmax(widths * np.arange(1, rows + 1), axis=1)
    width = widths[np.arange(n), best]
    height = np.where(width > 0, best + 1, 0)
    return height, width


def colours_of(tokens: np.ndarray) -> np.ndarray:
    """Colour values 0..9 of colour tokens; 0 for PAD, EOS and out-of-range tokens. Same shape, uint8."""
    return np.take(_COLOURS_OF_TOKENS, tokens, mode="clip")


def decode(sequence: np.ndarray, canvas: int, find_origin: bool = True) -> np.ndarray:
    """The grid [H, W] (colours 0..9) in a token sequence [canvas * canvas].

    find_origin: start at the first non-PAD cell in reading order (a translated training example);
    otherwise at cell (0, 0) as predictions are scored. A grid that cannot be read gives shape (0, 0).
    """
    grid = np.asarray(sequence).reshape(canvas, canvas)
    if find_origin:
        filled = np.flatnonzero(grid != PAD)
        if len(filled) == 0:
            return np.zeros((0, 0), dtype=np.uint8)
        grid = grid[filled[0] // canvas:, filled[0] % canvas:]
    height, width = crop_sizes(grid[None])
    return colours_of(grid[: height[0], : width[0]])
