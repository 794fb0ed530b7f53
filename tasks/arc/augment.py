"""Choosing each ARC task's augmentations: dihedral transform x colour permutation (0 fixed), deduplicated
by content, the original first.

As in the reference builder, candidates are drawn at random (at most `retries` x `count` of them) and one is
kept only when the augmented task (every grid of every pair) differs from the original and from every kept
one; a task with few colours or symmetric grids can therefore end with fewer than `count` augmentations.
Candidates are drawn and compared a chunk at a time, vectorised: each candidate's content is its token
canvases, compared as raw bytes.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from tasks.arc.data import MAX_SIDE, ARCTaskData
from tasks.arc.encoding import COLOUR_OFFSET, render
from tasks.arc.transforms import NUM_DIHEDRAL, identity_colour_map, random_colour_maps


def task_rng(seed: int, task_name: str, stream: int) -> np.random.Generator:
    """The generator for one task and purpose (0 augmentations, 1 translations): independent of which
    other tasks are loaded, so adding a task never changes another task's data."""
    return np.random.default_rng([seed, zlib.crc32(task_name.encode()), stream])


def stack_grids(grids: list[np.ndarray], canvas: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grids [H, W] (sides <= canvas) -> ([n, canvas, canvas] top-left copies, heights [n], widths [n]):
    `render`'s input layout."""
    out = np.zeros((len(grids), canvas, canvas), dtype=np.uint8)
    for k, grid in enumerate(grids):
        out[k, : grid.shape[0], : grid.shape[1]] = grid
    return out, np.array([g.shape[0] for g in grids]), np.array([g.shape[1] for g in grids])


def plan_augmentations(task: ARCTaskData, count: int, seed: int, retries: int) -> tuple[np.ndarray, np.ndarray]:
    """(transforms [k] int8, colour_maps [k, 10] uint8) for 1 <= k <= count + 1 distinct versions of `task`,
    the original (transform 0, identity colours) first."""
    grids, heights, widths = stack_grids([grid for pair in task.pairs for grid in pair], MAX_SIDE)
    n = len(grids)
    # The 8 dihedral images of every grid, as canvases: [8, cells] with cells = n * 30 * 30.
    images = render(np.tile(grids, (NUM_DIHEDRAL, 1, 1)), np.tile(heights, NUM_DIHEDRAL), np.tile(widths, NUM_DIHEDRAL),
                    np.repeat(np.arange(NUM_DIHEDRAL), n), identity_colour_map(NUM_DIHEDRAL * n))
    images = images.reshape(NUM_DIHEDRAL, -1)
    images = images[:, (images != 0).any(axis=0)]  # only cells some image uses

    def content(transforms: np.ndarray, maps: np.ndarray) -> np.ndarray:
        token_maps = np.concatenate([np.tile(np.arange(COLOUR_OFFSET, dtype=np.uint8), (len(maps), 1)),
                                     maps + COLOUR_OFFSET], axis=1)  # PAD and EOS stay
        return np.take(token_maps, images[transforms] + np.arange(len(maps))[:, None] * len(token_maps[0]))

    transforms = np.zeros(1, dtype=np.int8)
    maps = identity_colour_map(1)
    kept = content(transforms, maps)
    rng = task_rng(seed, task.name, 0)
    budget = retries * count
    while len(transforms) < count + 1 and budget > 0:
        draw = min(budget, 2 * (count + 1 - len(transforms)))
        budget -= draw
        new_transforms = rng.integers(0, NUM_DIHEDRAL, draw).astype(np.int8)
        new_maps = random_colour_maps(rng, draw)
        candidates = np.concatenate([kept, content(new_transforms, new_maps)])
        rows = np.ascontiguousarray(candidates).view(np.dtype((np.void, candidates.shape[1]))).ravel()
        _, first = np.unique(rows, return_index=True)
        fresh = np.sort(first[first >= len(kept)])[: count + 1 - len(transforms)] - len(kept)
        transforms = np.concatenate([transforms, new_transforms[fresh]])
        maps = np.concatenate([maps, new_maps[fresh]])
        kept = np.concatenate([kept, candidates[len(kept) + fresh]])
    return transforms, maps


def augmentation_name(task_name: str, transform: int, colour_map: np.ndarray) -> str:
    """Reference-style identifier name: the task name for the original, else `<task>_t<id>_<colour map>`."""
    if transform == 0 and np.array_equal(colour_map, np.arange(len(colour_map))):
        return task_name
    return f"{task_name}_t{int(transform)}_{''.join(str(int(c)) for c in colour_map)}"


_AUGMENTED = re.compile(r"^(?P<task>.+)_t(?P<transform>[0-7])_(?P<colours>[0-9]{10})$")


def parse_augmentation_name(name: str) -> tuple[str, int, np.ndarray]:
    """(task name, transform, colour map [10]) of an identifier name; the inverse of `augmentation_name`, so
    that splits written by the reference's builder (names only, no map) can be scored."""
    match = _AUGMENTED.match(name)
    if match is None:
        return name, 0, np.arange(10, dtype=np.uint8)
    colours = np.array([int(c) for c in match["colours"]], dtype=np.uint8)
    return match["task"], int(match["transform"]), colours
