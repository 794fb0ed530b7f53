"""Small ARC task files written by the tests themselves (the official per-task JSON layout)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Asymmetric, multi-coloured grids so that every dihedral transform and colour permutation changes them.
TRAINING_TASKS = {
    "aaa00001": {  # recolour 1 -> 2
        "train": [{"input": [[1, 0, 0], [1, 1, 0]], "output": [[2, 0, 0], [2, 2, 0]]},
                  {"input": [[0, 1], [3, 1], [0, 0]], "output": [[0, 2], [3, 2], [0, 0]]}],
        "test": [{"input": [[1, 1, 3, 0]], "output": [[2, 2, 3, 0]]}],
    },
    "aaa00002": {  # flip left-right
        "train": [{"input": [[4, 0, 5]], "output": [[5, 0, 4]]},
                  {"input": [[6, 7], [0, 8]], "output": [[7, 6], [8, 0]]}],
        "test": [{"input": [[1, 2, 3], [4, 5, 6]], "output": [[3, 2, 1], [6, 5, 4]]}],
    },
}
EVALUATION_TASKS = {
    "eee00001": {  # transpose, two test inputs
        "train": [{"input": [[1, 2, 3]], "output": [[1], [2], [3]]},
                  {"input": [[4, 0], [5, 6]], "output": [[4, 5], [0, 6]]}],
        "test": [{"input": [[7, 8], [9, 0], [1, 2]], "output": [[7, 9, 1], [8, 0, 2]]},
                 {"input": [[3, 4, 5, 6]], "output": [[3], [4], [5], [6]]}],
    },
    "eee00002": {  # add a border of 5 (output larger than input)
        "train": [{"input": [[1]], "output": [[5, 5, 5], [5, 1, 5], [5, 5, 5]]}],
        "test": [{"input": [[2, 3]], "output": [[5, 5, 5, 5], [5, 2, 3, 5], [5, 5, 5, 5]]}],
    },
}


def write_tasks(root: Path, training: dict | None = None, evaluation: dict | None = None) -> Path:
    """Write the task dicts as <root>/training/<name>.json and <root>/evaluation/<name>.json; returns root."""
    for source, tasks in (("training", TRAINING_TASKS if training is None else training),
                          ("evaluation", EVALUATION_TASKS if evaluation is None else evaluation)):
        (root / source).mkdir(parents=True, exist_ok=True)
        for name, task in tasks.items():
            (root / source / f"{name}.json").write_text(json.dumps(task))
    return root


def big_task(side: int) -> dict:
    """A task whose grids are side x side (for canvas-size skipping)."""
    grid = (np.arange(side * side).reshape(side, side) % 10).tolist()
    return {"train": [{"input": grid, "output": grid}], "test": [{"input": grid, "output": grid}]}
