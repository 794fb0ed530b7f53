"""The shared on-disk dataset format (compatible with the reference implementation) and its samplers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PuzzleDataset:
    """One split of a task, in the reference's array layout.

    inputs, labels:      [examples, seq_len] int32 token ids (labels use ignore_label_id where unsupervised)
    puzzle_identifiers:  [puzzles] int32 puzzle-embedding row of each puzzle
    puzzle_indices:      [puzzles + 1] int64 CSR offsets: examples of puzzle p are puzzle_indices[p]:[p+1]
    group_indices:       [groups + 1] int64 CSR offsets: puzzles of group g (one original + its augmentations)
    metadata:            pad_id, ignore_label_id, blank_identifier_id, vocab_size, seq_len,
                         num_puzzle_identifiers, total_groups, mean_puzzle_examples, sets
    identifiers:         identifier -> name map (index i names puzzle identifier i)
    extra:               task-specific per-dataset data a task needs to score (e.g. ARC's augmentation map)
    """

    inputs: np.ndarray
    labels: np.ndarray
    puzzle_identifiers: np.ndarray
    puzzle_indices: np.ndarray
    group_indices: np.ndarray
    metadata: dict
    identifiers: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
