"""Maze grids as token arrays, and batched shortest-path machinery on them (pure numpy, no per-cell loops).

Tokens (the reference's CHARSET "# SGo" shifted by one for PAD): PAD 0, wall 1, open 2, start 3, goal 4,
path 5. A path of length L (moves from S to G) has L - 1 path cells.

Breadth-first search runs on a whole batch at once: the frontier of every maze advances one step per
iteration through shifted boolean arrays, and the number of shortest paths reaching each cell is accumulated
on the way (it tells whether a maze's shortest path is unique, and lets a path be drawn uniformly when asked).
"""

from __future__ import annotations

import numpy as np

PAD, WALL, OPEN, START, GOAL, PATH = range(6)
VOCAB_SIZE = 6
CHARSET = "# SGo"  # character of token t is CHARSET[t - 1]


def _padded(open_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[batch, H, W] bool -> flat [batch, (H+2)*(W+2)] bool with a wall border, and the 4 neighbour offsets."""
    batch, height, width = open_cells.shape
    padded = np.zeros((batch, height + 2, width + 2), dtype=bool)
    padded[:, 1:-1, 1:-1] = open_cells
    return padded.reshape(batch, (height + 2) * (width + 2)), np.array([-(width + 2), -1, 1, width + 2])


def _to_padded_index(index: np.ndarray, width: int) -> np.ndarray:
    return (index // width + 1) * (width + 2) + index % width + 1


def _unpad(flat: np.ndarray, height: int, width: int) -> np.ndarray:
    return flat.reshape(flat.shape[0], height + 2, width + 2)[:, 1:-1, 1:-1]


def _neighbour_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """[batch, cells] sum of each cell's 4 neighbours (the border keeps indices in range)."""
    total = np.zeros_like(values)
    for offset in offsets:  # 4 directions, each a whole-batch array operation
        if offset > 0:
            total[:, :-offset] += values[:, offset:]
        else:
            total[:, -offset:] += values[:, :offset]
    return total


def bfs(open_cells: np.ndarray, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distances and shortest-path counts from one source cell per maze.

    open_cells: [batch, H, W] bool, True where a path may go (open, start, goal).
    sources:    [batch] flat cell index (row * W + col) of each maze's source.
    Returns distance [batch, H, W] int32 (-1 where unreachable) and count [batch, H, W] float64, the
    number of distinct shortest paths from the source (float: it can exceed int64 on open grids).
    """
    batch, height, width = open_cells.shape
    passable, offsets = _padded(open_cells)
    source = _to_padded_index(np.asarray(sources), width)
    rows = np.arange(batch)
    distance = np.full(passable.shape, -1, dtype=np.int32)
    count = np.zeros(passable.shape)
    distance[rows, source] = 0
    count[rows, source] = 1.0
    frontier_count = count.copy()
    step = 0
    while True:
        step += 1
        arriving = _neighbour_sum(frontier_count, offsets)
        new = (arriving > 0) & passable & (distance < 0)
        if not new.any():
            break
        distance[new] = step
        frontier_count = np.where(new, arriving, 0.0)
        count += frontier_count
    return _unpad(distance, height, width), _unpad(count, height, width)


def trace_paths(
    distance: np.ndarray, count: np.ndarray, goals: np.ndarray, rng: np.random.Generator | None = None
) -> np.ndarray:
    """One shortest path per maze as a [batch, H, W] bool mask of the cells strictly between source and goal.

    Walks back from the goal one predecessor (a neighbour one move nearer the source) at a time. Without
    `rng` the choice is canonical: the first predecessor in the order up, left, right, down, so the label
    is a fixed function of the maze (learnable, like a deterministic A*'s). With `rng` each predecessor is
    drawn with probability proportional to its shortest-path count, which makes the path uniform among all
    shortest paths.
    """
    batch, height, width = distance.shape
    pad_distance = np.full((batch, height + 2, width + 2), -1, dtype=np.int32)
    pad_distance[:, 1:-1, 1:-1] = distance
    pad_count = np.zeros((batch, height + 2, width + 2))
    pad_count[:, 1:-1, 1:-1] = count
    cells = (height + 2) * (width + 2)
    pad_distance, pad_count = pad_distance.reshape(batch, cells), pad_count.reshape(batch, cells)
    offsets = np.array([-(width + 2), -1, 1, width + 2])
    rows = np.arange(batch)
    current = _to_padded_index(np.asarray(goals), width)
    on_path = np.zeros(pad_distance.shape, dtype=bool)
    for _ in range(int(pad_distance[rows, current].max(initial=0)) - 1):
        here = pad_distance[rows, current]
        active = here > 1  # the predecessor is still an intermediate cell
        neighbours = current[:, None] + offsets[None, :]
        weight = pad_count[rows[:, None], neighbours] * (pad_distance[rows[:, None], neighbours] == here[:, None] - 1)
        if rng is None:
            pick = (weight > 0).argmax(axis=1)
        else:
            cumulative = np.cumsum(weight, axis=1)
            pick = (cumulative < (1.0 - rng.random(batch))[:, None] * cumulative[:, -1:]).sum(axis=1).clip(max=3)
        current = np.where(active, neighbours[rows, pick], current)
        on_path[rows[active], current[active]] = True
    return _unpad(on_path, height, width)


def endpoints(grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[batch, H, W] token grids (exactly one S and one G each) -> flat start and goal indices [batch]."""
    flat = grids.reshape(grids.shape[0], -1)
    return (flat == START).argmax(axis=1), (flat == GOAL).argmax(axis=1)


def shortest_paths(grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[batch, H, W] maze grids -> ([batch] shortest S-to-G length in moves, -1 if unreachable,
    [batch] number of distinct shortest paths, 0 if unreachable)."""
    starts, goals = endpoints(grids)
    distance, count = bfs(grids != WALL, starts)
    rows = np.arange(len(grids))
    return distance.reshape(len(grids), -1)[rows, goals], count.reshape(len(grids), -1)[rows, goals]


def is_optimal(inputs: np.ndarray, predictions: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """[batch] bool: the prediction marks a connected S-to-G path of exactly `lengths` moves through open
    cells and reproduces the input everywhere else. Accepts any equally short alternative to the stored path.

    inputs, predictions: [batch, H, W] token grids; lengths: [batch] shortest-path lengths.
    Why degrees suffice: the path cells plus S and G must give S and G one neighbour in the set and every
    path cell two; such a set is one S-G chain plus possibly disjoint cycles, and the chain alone needs at
    least length - 1 cells, so with exactly length - 1 cells there are no cycles and the chain is shortest.
    """
    batch = inputs.shape[0]
    path = predictions == PATH
    rest_kept = np.where(path, inputs == OPEN, predictions == inputs).reshape(batch, -1).all(axis=1)
    right_size = path.reshape(batch, -1).sum(axis=1) == np.asarray(lengths) - 1
    member, offsets = _padded(path | (inputs == START) | (inputs == GOAL))
    degree = _unpad(_neighbour_sum(member.astype(np.int8), offsets), *inputs.shape[1:])
    ends_ok = np.where((inputs == START) | (inputs == GOAL), degree == 1, True)
    chain_ok = np.where(path, degree == 2, True)
    return rest_kept & right_size & (ends_ok & chain_ok).reshape(batch, -1).all(axis=1)


def dihedral(grids: np.ndarray, transform: int) -> np.ndarray:
    """One of the 8 symmetries of the square applied to [..., H, W]: rotate by transform % 4 quarter turns,
    then transpose if transform >= 4. Square grids only (other transforms would change the shape)."""
    rotated = np.rot90(grids, k=transform % 4, axes=(-2, -1))
    return np.swapaxes(rotated, -2, -1) if transform >= 4 else rotated


def inverse_dihedral(grids: np.ndarray, transform: int) -> np.ndarray:
    """Undo `dihedral(grids, transform)`."""
    if transform >= 4:
        return np.rot90(np.swapaxes(grids, -2, -1), k=-(transform % 4), axes=(-2, -1))
    return np.rot90(grids, k=-transform, axes=(-2, -1))


def to_text(grid: np.ndarray) -> str:
    """[H, W] token grid -> row-major text in the paper's charset (no separators)."""
    return "".join(CHARSET[t - 1] for t in np.asarray(grid).reshape(-1))
