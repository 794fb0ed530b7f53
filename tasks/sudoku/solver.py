"""An exact Sudoku solver whose backtrack count is the difficulty rating.

Candidates are bitmasks (bit d-1 = digit d may go here). After every placement the solver propagates
naked singles (a cell with one candidate removes it from its peers) and hidden singles (a digit with one
possible cell in a unit goes there), then branches on the most constrained cell. The rating is the number
of dead ends (contradictions after a guess) met while searching. The paper rates Sudoku-Extreme in the same
spirit by the backtracks of a fast solver; a solver with stronger propagation (tdoku's, for one) meets
fewer dead ends on the same puzzle, so the two scales are comparable in kind, not in value.

Pure Python on purpose (no compiled dependency): one core checks a few thousand near-solved grids per
second, which is what the generator needs (see tasks/sudoku/generator.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from tasks.base import TaskError
from tasks.sudoku.board import Geometry, geometry

_POPCOUNT = tuple(bin(m).count("1") for m in range(1 << 9))


@dataclass(frozen=True)
class SolveResult:
    """solutions: how many solutions were found, stopping at the requested limit.
    solution: the first solution found as a [size, size] digit grid (None when there is none).
    backtracks: dead ends met before the search stopped (the difficulty rating when limit=2 on a
    unique puzzle: the whole tree is searched, so the count does not depend on which digit is tried first).
    """

    solutions: int
    solution: np.ndarray | None
    backtracks: int


def candidates(cells: list[int], geo: Geometry) -> list[int] | None:
    """Candidate masks of every cell given a flat digit list (0 blank); None if two givens clash or leave a
    blank cell without a candidate (no solution either way)."""
    n, full = geo.size, geo.full_mask
    rows, cols, boxes = [0] * n, [0] * n, [0] * n
    for i, d in enumerate(cells):
        if d:
            bit = 1 << (d - 1)
            r, c, b = geo.cell_units[i]
            if (rows[r] | cols[c] | boxes[b]) & bit:
                return None
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
    cand = [
        (1 << (d - 1)) if d else full & ~(rows[r] | cols[c] | boxes[b])
        for d, (r, c, b) in zip(cells, geo.cell_units, strict=True)
    ]
    return None if 0 in cand else cand


def propagate(cand: list[int], queue: list[int], geo: Geometry, dirty: set[int] | None = None) -> bool:
    """Apply naked and hidden singles in place until nothing changes; False on a contradiction.

    queue: cells that became single-candidate and whose digit has not yet been removed from their peers.
    dirty: the units whose cells changed since the candidates were last fully propagated (None = all);
    only those are scanned for hidden singles, which is most of the saving on deep searches.
    """
    peers, units, full, cell_unit_ids = geo.peers, geo.units, geo.full_mask, geo.cell_unit_ids
    if dirty is None:
        dirty = set(range(len(units)))
    while True:
        while queue:
            c = queue.pop()
            m = cand[c]
            for p in peers[c]:
                pm = cand[p]
                if pm & m:
                    pm ^= m
                    if not pm:
                        return False
                    cand[p] = pm
                    dirty.update(cell_unit_ids[p])
                    if not pm & (pm - 1):
                        queue.append(p)
        scan, dirty = dirty, set()
        for u in scan:
            unit = units[u]
            once = twice = placed = 0
            for c in unit:
                m = cand[c]
                twice |= once & m
                once |= m
                if not m & (m - 1):
                    placed |= m
            if once != full:
                return False
            hidden = once & ~twice & ~placed
            if hidden:
                for c in unit:
                    h = cand[c] & hidden
                    if h:
                        if h & (h - 1):
                            return False
                        cand[c] = h
                        queue.append(c)
                        dirty.update(cell_unit_ids[c])
        if not queue:
            return True


class _Search:
    """Depth-first search over propagated candidate lists, counting solutions and dead ends."""

    def __init__(self, geo: Geometry, limit: int, rng: random.Random | None) -> None:
        self.geo, self.limit, self.rng = geo, limit, rng
        self.solutions = 0
        self.first: list[int] | None = None
        self.backtracks = 0

    def run(self, cand: list[int]) -> None:
        best, fewest = -1, 99
        for i, m in enumerate(cand):
            if m & (m - 1):
                k = _POPCOUNT[m]
                if k < fewest:
                    best, fewest = i, k
                    if k == 2:
                        break
        if best < 0:
            self.solutions += 1
            if self.first is None:
                self.first = cand
            return
        m = cand[best]
        bits = []
        while m:
            bit = m & -m
            bits.append(bit)
            m ^= bit
        if self.rng is not None:
            self.rng.shuffle(bits)
        for bit in bits:
            child = cand[:]
            child[best] = bit
            if propagate(child, [best], self.geo, set(self.geo.cell_unit_ids[best])):
                self.run(child)
                if self.solutions >= self.limit:
                    return
            else:
                self.backtracks += 1


def search(
    cand: list[int],
    geo: Geometry,
    limit: int = 2,
    rng: random.Random | None = None,
    queue: list[int] | None = None,
) -> _Search:
    """Propagate a candidate list then search it; the returned state holds solutions, first, backtracks.

    queue: the single-candidate cells whose digit may still sit among their peers' candidates (default: all
    single-candidate cells; `candidates` output needs only its blank cells that have one candidate).
    rng: when given, digits are tried in random order (the generator uses this to draw random full grids).
    """
    state = _Search(geo, limit, rng)
    if queue is None:
        queue = [i for i, m in enumerate(cand) if not m & (m - 1)]
    if propagate(cand, queue, geo):
        state.run(cand)
    return state


def search_givens(cells: list[int], geo: Geometry, limit: int = 2) -> _Search | None:
    """Search a flat digit list (0 blank); None when the givens rule out every solution at once."""
    cand = candidates(cells, geo)
    if cand is None:
        return None
    queue = [i for i, m in enumerate(cand) if not cells[i] and not m & (m - 1)]
    return search(cand, geo, limit, queue=queue)


def solve(grid: np.ndarray, limit: int = 2) -> SolveResult:
    """Solve a [size, size] digit grid (0 blank, 1..size) exactly, stopping after `limit` solutions.

    limit=2 is the uniqueness check: solutions == 1 means the puzzle has exactly one solution.
    """
    grid = np.asarray(grid)
    if grid.ndim != 2 or grid.shape[0] != grid.shape[1]:
        raise TaskError(f"sudoku grid: shape {grid.shape} is not square")
    geo = geometry(grid.shape[0])
    if grid.min() < 0 or grid.max() > geo.size:
        raise TaskError(f"sudoku grid: values must be 0 (blank) or 1..{geo.size}")
    if limit < 1:
        raise TaskError(f"solve limit: {limit} must be at least 1")
    state = search_givens([int(d) for d in grid.ravel()], geo, limit)
    if state is None:
        return SolveResult(0, None, 0)
    solution = None
    if state.first is not None:
        solution = np.array([m.bit_length() for m in state.first], dtype=np.int8).reshape(geo.size, geo.size)
    return SolveResult(state.solutions, solution, state.backtracks)
