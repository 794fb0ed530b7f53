"""Bit-parallel breadth-first reachability for many mazes at once, used to screen candidate mazes quickly.

A maze row of W cells is packed into ceil(W / 64) uint64 words (column c in word c // 64, bit c % 64), so
one BFS step for a whole batch is a handful of shifts, ORs and ANDs over [batch, H, words] arrays, about
64 times less data than one byte per cell. It answers what generation needs before any path is drawn: the
farthest cells from a source, and whether any cell is at least a given number of moves away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def pack(cells: np.ndarray) -> np.ndarray:
    """[batch, H, W] bool -> [batch, H, ceil(W / 64)] uint64 bit rows."""
    batch, height, width = cells.shape
    words = -(-width // 64)
    padded = np.zeros((batch, height, words * 64), dtype=bool)
    padded[..., :width] = cells
    return np.packbits(padded, axis=-1, bitorder="little").view("<u8").astype(np.uint64)


def unpack(bits: np.ndarray, width: int) -> np.ndarray:
    """[batch, H, words] uint64 -> [batch, H, W] bool (inverse of `pack`)."""
    as_bytes = bits.astype("<u8").view(np.uint8)
    return np.unpackbits(as_bytes, axis=-1, bitorder="little")[..., :width].astype(bool)


def _spread(bits: np.ndarray) -> np.ndarray:
    """Cells with a 4-neighbour in `bits` (plus `bits` itself), shifts carried across word boundaries."""
    out = bits | (bits << np.uint64(1)) | (bits >> np.uint64(1))
    out[..., 1:] |= bits[..., :-1] >> np.uint64(63)  # column 64k - 1 -> 64k
    out[..., :-1] |= bits[..., 1:] << np.uint64(63)  # column 64k -> 64k - 1
    out[:, 1:] |= bits[:, :-1]
    out[:, :-1] |= bits[:, 1:]
    return out


@dataclass
class Reach:
    """What a bit-parallel BFS found, per maze.

    farthest: [batch, H, words] bit rows of the cells at the largest distance reached;
    eccentricity: [batch] that distance (capped at `stop_at` when given).
    """

    farthest: np.ndarray
    eccentricity: np.ndarray


def reach(open_bits: np.ndarray, source_bits: np.ndarray, stop_at: int | None = None) -> Reach:
    """BFS over open cells from `source_bits` (one set bit per maze), each maze until its frontier is empty
    or it has reached distance `stop_at`. Finished mazes leave the working set, so late steps only touch
    the mazes still growing."""
    visited = source_bits & open_bits
    farthest = visited.copy()
    eccentricity = np.zeros(len(open_bits), dtype=np.int64)
    active = np.arange(len(open_bits))
    passable, frontier = open_bits, visited
    step = 0
    while len(active) and (stop_at is None or step < stop_at):
        step += 1
        grown = _spread(frontier) & passable & ~visited
        alive = grown.reshape(len(active), -1).any(axis=1)
        if not alive.all():  # finished mazes: their last frontier is the farthest layer
            done = ~alive
            farthest[active[done]] = frontier[done]
            eccentricity[active[done]] = step - 1
            active, passable, visited, grown = active[alive], passable[alive], visited[alive], grown[alive]
        visited = visited | grown
        frontier = grown
    farthest[active] = frontier
    eccentricity[active] = step
    return Reach(farthest, eccentricity)
