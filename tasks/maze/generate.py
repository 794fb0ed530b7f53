"""Random obstacle mazes in the style of Lehnert et al. (2024), the source of the paper's Maze-Hard.

Each maze draws a wall fraction uniformly from [wall_fraction_min, wall_fraction_max] and makes every cell a
wall with that probability; the start is a random open cell and the goal a random cell at least
`min_path_length` BFS moves from it (mazes whose start reaches no such cell are rejected). The label marks one
shortest path, the canonical one by default (see `trace_paths`; `uniform_path` draws one uniformly among all
shortest paths instead), and records whether it is the only one.
Mazes are made a batch at a time, every step an array operation over the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.base import TaskError
from tasks.maze.bitset import pack, reach, unpack
from tasks.maze.grid import GOAL, OPEN, PATH, START, WALL, bfs, trace_paths


@dataclass
class Mazes:
    """A set of solved mazes.

    inputs, labels: [count, H, W] int32 tokens (labels add PATH cells); lengths: [count] shortest-path moves;
    unique: [count] bool, whether that shortest path is the only one.
    """

    inputs: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray
    unique: np.ndarray

    def take(self, rows: np.ndarray) -> Mazes:
        return Mazes(self.inputs[rows], self.labels[rows], self.lengths[rows], self.unique[rows])

    @staticmethod
    def concatenate(parts: list[Mazes]) -> Mazes:
        fields = ("inputs", "labels", "lengths", "unique")
        return Mazes(*(np.concatenate([getattr(part, f) for part in parts]) for f in fields))


def _random_cell(candidates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[batch, cells] bool -> [batch] flat index of a uniformly random True cell (0 where there is none)."""
    return np.where(candidates, rng.random(candidates.shape, dtype=np.float32), np.float32(-1)).argmax(axis=1)


def _one_hot(index: np.ndarray, height: int, width: int) -> np.ndarray:
    cells = np.zeros((len(index), height * width), dtype=bool)
    cells[np.arange(len(index)), index] = True
    return cells.reshape(-1, height, width)


def generate_batch(
    rng: np.random.Generator,
    batch: int,
    height: int,
    width: int,
    min_path_length: int,
    wall_fraction: tuple[float, float] = (0.3, 0.5),
    uniform_path: bool = False,
) -> Mazes:
    """Draw `batch` candidate mazes and return those that meet `min_path_length` (possibly none).

    The start is placed far out: a random farthest cell from a random open cell (the first half of the
    double-sweep diameter heuristic), which makes long shortest paths far more common than a random start.
    Screening uses bit-parallel BFS; exact distances and path counts are computed only for the kept mazes.
    """
    cells = height * width
    density = rng.uniform(*wall_fraction, size=batch)
    open_cells = rng.random((batch, cells), dtype=np.float32) >= density[:, None]
    need = max(min_path_length, 1)
    seeds = _random_cell(open_cells, rng)
    sweep = reach(pack(open_cells.reshape(batch, height, width)), pack(_one_hot(seeds, height, width)))
    # any two cells of a component are at most 2 * eccentricity(seed) apart: drop hopeless mazes now
    hopeful = open_cells[np.arange(batch), seeds] & (2 * sweep.eccentricity >= need)
    open_cells, farthest = open_cells[hopeful], sweep.farthest[hopeful]
    starts = _random_cell(unpack(farthest, width).reshape(-1, cells), rng)
    open_bits = pack(open_cells.reshape(-1, height, width))
    keep = reach(open_bits, pack(_one_hot(starts, height, width)), stop_at=need).eccentricity >= need
    starts, open_cells = starts[keep], open_cells[keep]
    kept = np.arange(len(starts))
    distance, count = bfs(open_cells.reshape(-1, height, width), starts)
    distance, count = distance.reshape(len(kept), cells), count.reshape(len(kept), cells)
    goals = _random_cell(distance >= need, rng)
    path = trace_paths(distance.reshape(-1, height, width), count.reshape(-1, height, width), goals,
                       rng if uniform_path else None)
    inputs = np.where(open_cells, OPEN, WALL).astype(np.int32)
    inputs[kept, starts] = START
    inputs[kept, goals] = GOAL
    inputs = inputs.reshape(-1, height, width)
    labels = np.where(path, PATH, inputs).astype(np.int32)
    return Mazes(inputs, labels, distance[kept, goals], count[kept, goals] == 1)


def generate(
    rng: np.random.Generator,
    count: int,
    height: int,
    width: int,
    min_path_length: int,
    wall_fraction: tuple[float, float] = (0.3, 0.5),
    uniform_path: bool = False,
    exclude: np.ndarray | None = None,
    batch: int = 256,
    patience: int = 200,
) -> Mazes:
    """`count` distinct mazes meeting `min_path_length`, none equal (as inputs) to a row of `exclude`
    ([n, H, W] tokens, e.g. the other split). Deterministic given the state of `rng`. A TaskError after
    `patience` batches in a row without a new maze (a threshold too high for the size, or a size too small
    to have `count` distinct mazes)."""
    seen = {row.tobytes() for row in exclude.astype(np.int32)} if exclude is not None else set()
    parts: list[Mazes] = []
    total = barren = 0
    while total < count:
        found = generate_batch(rng, batch, height, width, min_path_length, wall_fraction, uniform_path)
        fresh = []
        for index, row in enumerate(found.inputs):  # per accepted maze, a set lookup: not the hot path
            if row.tobytes() not in seen:
                seen.add(row.tobytes())
                fresh.append(index)
        fresh = fresh[: count - total]
        parts.append(found.take(np.array(fresh, dtype=np.int64)))
        total += len(fresh)
        barren = 0 if fresh else barren + 1
        if barren >= patience:
            raise TaskError(
                f"maze generation found only {total} of {count} distinct {height}x{width} mazes with shortest "
                f"path >= {min_path_length} ({patience} batches in a row found none new); lower "
                "min_path_length or count, or raise the size"
            )
    return Mazes.concatenate(parts)
