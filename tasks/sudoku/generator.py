"""Generator of unique-solution Sudoku puzzles, filtered by a minimum difficulty rating.

Each puzzle: draw a random full grid (the solver on an empty board, trying digits in random order), then
visit the cells in random order and remove each clue whose removal keeps the solution unique. That check
needs no full count: the puzzle before the removal was unique, so a second solution must put a different
digit in the removed cell; the solver looks for one with that cell's true digit forbidden and stops at the
first. Before that, a clue that is the last one left in a small unavoidable set of the grid is kept without
searching (a third of the clues that must stay; the output is the same, a third less time). The result is
minimal (no clue can be removed). Its rating is the solver's backtrack count on the finished puzzle;
puzzles below the minimum are discarded, so the cost per kept puzzle grows with the minimum.

Deterministic for a seed: all randomness comes from one `random.Random` seeded by a string, which Python
hashes the same way in every process.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import numpy as np

from tasks.base import TaskError
from tasks.sudoku.board import Geometry, geometry
from tasks.sudoku.solver import search, search_givens

GENERATOR_VERSION = 1  # bump when a change alters the puzzles a seed produces (part of the cache key)
_LONGEST_CYCLE = 4  # longest line cycle kept as an unavoidable set (longer ones rarely decide a removal)


@dataclass
class GeneratedPuzzles:
    """puzzles, solutions: [count, size, size] int8 digit grids (0 blank); ratings: [count] backtracks."""

    puzzles: np.ndarray
    solutions: np.ndarray
    ratings: np.ndarray


def random_full_grid(rng: random.Random, geo: Geometry) -> list[int]:
    """A random complete grid as a flat digit list."""
    state = search([geo.full_mask] * geo.cells, geo, limit=1, rng=rng)
    assert state.first is not None  # an empty board always has a solution
    return [m.bit_length() for m in state.first]


def unavoidable_sets(solution: list[int], geo: Geometry) -> list[list[int]]:
    """Small unavoidable sets of a full grid: cell sets that a unique puzzle must hold a clue in.

    Take two columns of one stack. The digit in column 1 at row r sits in column 2 at some row s(r); each
    cycle of s (rows r, s(r), s(s(r)) ...) marks cells whose two columns hold the same digits, so swapping
    the two columns' digits on those rows gives another valid grid (rows keep their digits, each column
    keeps its digit set, each box only swaps cells inside itself). A puzzle with no clue there therefore
    has two solutions. The same for two rows of one band. Cycles of 2 to _LONGEST_CYCLE lines are kept
    (length 2 are the familiar a-b / b-a rectangles).
    """
    n = geo.size
    found = []
    for block, cell in ((geo.box_cols, lambda line, k: k * n + line), (geo.box_rows, lambda line, k: line * n + k)):
        lines = [[solution[cell(line, k)] for k in range(n)] for line in range(n)]
        for first in range(n):
            for second in range(first + 1, (first // block + 1) * block):
                where = [0] * (n + 1)
                for k, digit in enumerate(lines[second]):
                    where[digit] = k
                seen = [False] * n
                for start in range(n):
                    cycle, at = [], start
                    while not seen[at]:
                        seen[at] = True
                        cycle.append(at)
                        at = where[lines[first][at]]
                    if 2 <= len(cycle) <= _LONGEST_CYCLE:
                        found.append([cell(line, k) for line in (first, second) for k in cycle])
    return found


class _Clues:
    """The clues of a puzzle whose unique solution is known, with the digits they place in each unit and
    how many clues each known unavoidable set of the solution still holds."""

    def __init__(self, solution: list[int], geo: Geometry) -> None:
        self.geo, self.solution = geo, solution
        self.givens = list(solution)
        self.bits = [1 << (d - 1) for d in solution]
        self.used = [geo.full_mask] * (3 * geo.size)  # unit id -> digits placed by clues (all, at first)
        sets = unavoidable_sets(solution, geo)
        self.left = [len(cells) for cells in sets]  # clues left in each unavoidable set
        self.sets_of: list[list[int]] = [[] for _ in range(geo.cells)]
        for k, cells in enumerate(sets):
            for cell in cells:
                self.sets_of[cell].append(k)

    def toggle(self, cell: int) -> None:
        """Remove the clue at `cell`, or put it back."""
        for u in self.geo.cell_unit_ids[cell]:
            self.used[u] ^= self.bits[cell]
        step = -1 if self.givens[cell] else 1
        for k in self.sets_of[cell]:
            self.left[k] += step
        self.givens[cell] = 0 if self.givens[cell] else self.solution[cell]

    def removable(self, cell: int) -> bool:
        """Whether removing the clue at `cell` keeps the solution unique (the puzzle must be unique now).

        Not when it is the last clue of an unavoidable set. Otherwise the solver decides: the puzzle is
        unique, so a second solution after the removal must put another digit in `cell`; it looks for one
        with the true digit forbidden there and stops at the first it finds.
        """
        if any(self.left[k] == 1 for k in self.sets_of[cell]):
            return False
        geo, used, bits, givens, full = self.geo, self.used, self.bits, self.givens, self.geo.full_mask
        self.toggle(cell)
        a, b, c = geo.cell_unit_ids[cell]
        others = full & ~(used[a] | used[b] | used[c]) & ~bits[cell]
        second = False
        if others:
            cand = [
                bits[i] if givens[i] else full & ~(used[a] | used[b] | used[c])
                for i, (a, b, c) in enumerate(geo.cell_unit_ids)
            ]
            cand[cell] = others
            queue = [i for i, m in enumerate(cand) if not givens[i] and not m & (m - 1)]
            second = search(cand, geo, limit=1, queue=queue).solutions > 0
        self.toggle(cell)
        return not second


def remove_clues(clues: _Clues, rng: random.Random) -> None:
    """Visit the clues in random order, removing each one whose removal keeps the solution unique."""
    order = [i for i, d in enumerate(clues.givens) if d]
    rng.shuffle(order)
    for cell in order:
        if clues.removable(cell):
            clues.toggle(cell)


def rating(givens: list[int], geo: Geometry) -> int:
    """Backtracks of the full uniqueness search (limit 2) on a puzzle: the difficulty rating."""
    state = search_givens(givens, geo, limit=2)
    assert state is not None
    return state.backtracks


def solution_split(solution: list[int]) -> str:
    """'train' or 'test', fixed by a hash of the solution grid, so the two splits never share a solution
    (and so never share a puzzle: a unique puzzle determines its solution) whatever seeds built them."""
    return "test" if hashlib.blake2b(bytes(solution), digest_size=1).digest()[0] & 1 else "train"


def generate(
    count: int,
    *,
    size: int = 9,
    min_rating: int = 0,
    seed: int = 0,
    split: str = "train",
    max_tries: int = 0,
) -> GeneratedPuzzles:
    """`count` distinct unique-solution puzzles for `split` with rating >= min_rating, deterministic for
    (size, min_rating, seed, split).

    max_tries: give up (TaskError) after this many minimal puzzles were made (0 = 1000 per requested puzzle),
    which protects against a minimum rating the board size cannot reach.
    """
    if split not in ("train", "test"):
        raise TaskError(f"sudoku split: {split!r} is not 'train' or 'test'")
    if count < 0 or min_rating < 0:
        raise TaskError(f"sudoku generate: count {count} and min_rating {min_rating} must be >= 0")
    geo = geometry(size)
    rng = random.Random(f"sudoku-v{GENERATOR_VERSION}-{size}-{min_rating}-{seed}-{split}")
    max_tries = max_tries or 1000 * max(count, 1)
    puzzles, solutions, ratings, seen = [], [], [], set()
    tries = 0
    while len(puzzles) < count:
        solution = random_full_grid(rng, geo)
        if solution_split(solution) != split:
            continue
        if tries >= max_tries:
            raise TaskError(
                f"sudoku generate: only {len(puzzles)} of {count} puzzles reached min_rating {min_rating} "
                f"after {tries} tries at size {size}; lower task.sudoku.min_rating"
            )
        tries += 1
        clues = _Clues(solution, geo)
        remove_clues(clues, rng)
        score = rating(clues.givens, geo)
        key = bytes(clues.givens)
        if score >= min_rating and key not in seen:
            seen.add(key)
            puzzles.append(clues.givens)
            solutions.append(solution)
            ratings.append(score)
    shape = (count, size, size)
    return GeneratedPuzzles(
        np.array(puzzles, dtype=np.int8).reshape(shape),
        np.array(solutions, dtype=np.int8).reshape(shape),
        np.array(ratings, dtype=np.int32),
    )
