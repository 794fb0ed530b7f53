"""Assembling ARC splits: which pairs go where under each protocol, puzzle identifiers, token arrays.

Protocols (the choice is stored with the dataset and named in every score):
- `reference` (the paper's): every task's demonstration pairs and the training tasks' test pairs are training
  data; the evaluation tasks' test pairs are the test set.
- `strict`: the evaluation tasks' demonstrations are held out of the training split; they form a separate
  `adapt` split for an optional per-task adaptation phase. The test set is the same as under `reference`.

Each (task, augmentation) is one puzzle with its own identifier (0 is blank); identifiers are numbered over
all loaded tasks in load order, so the train, adapt and test splits built with the same seed agree on them.
A group is one task's versions. Training (and adaptation) examples are translated to a random offset (same
for input and output), except one random example per puzzle, as in the reference; test examples sit at the
top-left.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tasks.arc.augment import augmentation_name, parse_augmentation_name, plan_augmentations, stack_grids, task_rng
from tasks.arc.data import ARCTaskData
from tasks.arc.encoding import VOCAB_SIZE, render
from tasks.arc.transforms import DIHEDRAL_SWAP
from tasks.base import TaskError
from tasks.dataset import PuzzleDataset, example_puzzles, from_arrays

PROTOCOLS = ("reference", "strict")
SPLITS = ("train", "test", "adapt")


def split_pairs(task: ARCTaskData, split: str, protocol: str) -> tuple[list, list[int]]:
    """The pairs of `task` in `split` under `protocol`, and each one's test-pair index (-1: a demonstration)."""
    demos = (task.train, [-1] * len(task.train))
    tests = (task.test, list(range(len(task.test))))
    if split == "test":
        return tests if task.source == "evaluation" else ([], [])
    if split == "adapt":
        return demos if task.source == "evaluation" else ([], [])
    if task.source == "training":
        return task.train + task.test, demos[1] + tests[1]
    return demos if protocol == "reference" else ([], [])


def build_split(
    tasks: list[ARCTaskData],
    split: str,
    *,
    protocol: str,
    canvas: int,
    augmentations: int,
    retries: int,
    translate: bool,
    seed: int,
    extra: dict | None = None,
) -> PuzzleDataset:
    """One split of `tasks` (already validated) as a PuzzleDataset with the augmentation map in `extra`.

    Tasks with a grid larger than `canvas` are skipped (named in extra["skipped_too_large"]).
    extra also holds, per identifier: identifier_task [ids] int32 (index into task_names, -1 for blank),
    identifier_transform [ids] int8, identifier_colours [ids, 10] uint8; per example: example_test_index
    [examples] int16 (the test pair of its task, -1 for a demonstration); task_names, task_sources, protocol,
    canvas.
    """
    if split not in SPLITS:
        raise TaskError(f"ARC split must be one of {', '.join(SPLITS)}, got {split!r}")
    fits = [max(max(a.shape + b.shape) for a, b in task.pairs) <= canvas for task in tasks]
    kept = [task for task, ok in zip(tasks, fits, strict=True) if ok]
    plans = [plan_augmentations(task, augmentations, seed, retries) for task in kept]
    first_id = np.cumsum([1] + [len(t) for t, _ in plans])  # identifier of each task's original
    inputs, labels, test_index, puzzle_sizes, group_sizes, puzzle_ids = [], [], [], [], [], []
    for k, (task, (transforms, maps)) in enumerate(zip(kept, plans, strict=True)):
        pairs, test_numbers = split_pairs(task, split, protocol)
        if not pairs:
            continue
        ins, outs = _encode_task(pairs, transforms, maps, canvas, split != "test" and translate,
                                 task_rng(seed, task.name, 1))
        inputs.append(ins)
        labels.append(outs)
        test_index.append(np.tile(test_numbers, len(transforms)))
        puzzle_sizes += [len(pairs)] * len(transforms)
        group_sizes.append(len(transforms))
        puzzle_ids.append(first_id[k] + np.arange(len(transforms)))
    if not inputs:
        skipped = len((extra or {}).get("malformed", []))
        raise TaskError(f"ARC {split} split is empty under protocol {protocol!r} ({len(kept)} tasks fit the "
                        f"{canvas}x{canvas} canvas, of {len(tasks)} loaded"
                        + (f"; {skipped} malformed task files were skipped" if skipped else "") + ")")
    all_transforms = np.concatenate([[0]] + [t for t, _ in plans]).astype(np.int8)
    all_maps = np.concatenate([np.arange(10, dtype=np.uint8)[None]] + [m for _, m in plans])
    owners = np.repeat(np.arange(-1, len(kept)), [1] + [len(t) for t, _ in plans]).astype(np.int32)
    names = ["<blank>"] + [augmentation_name(kept[task].name, t, m)
                           for task, t, m in zip(owners[1:], all_transforms[1:], all_maps[1:], strict=True)]
    extra = dict(extra or {}) | {
        "identifier_task": owners, "identifier_transform": all_transforms, "identifier_colours": all_maps,
        "example_test_index": np.concatenate(test_index).astype(np.int16),
        "task_names": [task.name for task in kept], "task_sources": [task.source for task in kept],
        "skipped_too_large": [task.name for task, ok in zip(tasks, fits, strict=True) if not ok],
        "protocol": protocol, "canvas": canvas, "augmentations": augmentations, "split": split,
    }
    return from_arrays(
        np.concatenate(inputs), np.concatenate(labels), np.concatenate(puzzle_ids),
        np.concatenate([[0], np.cumsum(puzzle_sizes)]), np.concatenate([[0], np.cumsum(group_sizes)]),
        vocab_size=VOCAB_SIZE, num_puzzle_identifiers=len(names), identifiers=names, extra=extra,
    )


def _encode_task(pairs: list, transforms: np.ndarray, maps: np.ndarray, canvas: int, translate: bool,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, labels) [versions * pairs, canvas * canvas] uint8: every pair under every version, puzzle-major."""
    versions, count = len(transforms), len(pairs)
    grids_in, h_in, w_in = stack_grids([a for a, _ in pairs], canvas)
    grids_out, h_out, w_out = stack_grids([b for _, b in pairs], canvas)
    version = np.repeat(np.arange(versions), count)
    pair = np.tile(np.arange(count), versions)
    t = transforms[version]
    swap = DIHEDRAL_SWAP[t]
    rows = np.maximum(np.where(swap, w_in[pair], h_in[pair]), np.where(swap, w_out[pair], h_out[pair]))
    cols = np.maximum(np.where(swap, h_in[pair], w_in[pair]), np.where(swap, h_out[pair], w_out[pair]))
    row_offsets = col_offsets = None
    if translate:
        row_offsets = (rng.random(len(t)) * (canvas - rows + 1)).astype(np.int64)
        col_offsets = (rng.random(len(t)) * (canvas - cols + 1)).astype(np.int64)
        fixed = np.arange(versions) * count + rng.integers(0, count, versions)  # one example per puzzle stays
        row_offsets[fixed] = col_offsets[fixed] = 0
    inputs = render(grids_in[pair], h_in[pair], w_in[pair], t, maps[version], row_offsets, col_offsets)
    labels = render(grids_out[pair], h_out[pair], w_out[pair], t, maps[version], row_offsets, col_offsets)
    return inputs, labels


def with_map_from_names(dataset: PuzzleDataset) -> PuzzleDataset:
    """A test split written by the reference's builder (no `extra`) with the augmentation map recovered from
    its identifier names (`<task>_t<transform>_<colour map>`); every example is a test pair, numbered within
    its puzzle. Protocol "reference", as that builder has no other."""
    parsed = [parse_augmentation_name(name) for name in dataset.identifiers[1:]]
    task_names = list(dict.fromkeys(task for task, _, _ in parsed))
    index = {name: k for k, name in enumerate(task_names)}
    owners = example_puzzles(dataset)
    extra = dict(dataset.extra) | {
        "identifier_task": np.array([-1] + [index[task] for task, _, _ in parsed], dtype=np.int32),
        "identifier_transform": np.array([0] + [t for _, t, _ in parsed], dtype=np.int8),
        "identifier_colours": np.stack([np.arange(10, dtype=np.uint8)] + [m for _, _, m in parsed]),
        "example_test_index": (np.arange(len(owners)) - dataset.puzzle_indices[owners]).astype(np.int16),
        "task_names": task_names, "protocol": "reference",
    }
    return dataclasses.replace(dataset, extra=extra)
