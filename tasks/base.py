"""The one task interface every task implements (Sudoku, Maze, ARC), and the task registry.

The runner only ever calls these methods, so it never special-cases a task:

    task = get_task("sudoku", config)                  # config: the task's own dataclass (or None for defaults)
    train = task.build("train", seed=0, cache_dir=...) # a PuzzleDataset (tasks/dataset.py)
    test = task.build("test", seed=0, cache_dir=...)
    scores = task.score(test, predictions, confidences)   # dict of metric name -> float in [0, 1]
    grid = task.decode(test.inputs[0])
    task.draw(path, inputs, labels, prediction)            # PNG
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

Split = Literal["train", "test"]


class TaskError(ValueError):
    """Bad task input (a malformed file, row or grid, or an impossible config); the message says where."""


class Task(abc.ABC):
    """Base class of every task. Subclasses are registered by name in `TASKS` below."""

    name: ClassVar[str]
    config_class: ClassVar[type]  # the task's own config dataclass

    def __init__(self, config: Any = None) -> None:
        self.config = config if config is not None else self.config_class()

    # Vocabulary and sequence layout (reference conventions: PAD is 0, labels ignored where -100).
    @property
    @abc.abstractmethod
    def vocab_size(self) -> int: ...

    @property
    @abc.abstractmethod
    def seq_len(self) -> int: ...

    pad_id: ClassVar[int] = 0
    ignore_label_id: ClassVar[int] = -100
    blank_identifier_id: ClassVar[int] = 0

    @abc.abstractmethod
    def build(self, split: Split, seed: int = 0, cache_dir: Path | None = None) -> "PuzzleDataset":
        """The dataset for `split` at this config's scale, cached on disk under a key of everything that
        determines it (so the same key gives a byte-identical dataset)."""

    @abc.abstractmethod
    def score(
        self, dataset: "PuzzleDataset", predictions: np.ndarray, confidences: np.ndarray | None = None
    ) -> dict[str, float]:
        """Metrics over a whole evaluated split.

        predictions: [examples, seq_len] predicted token ids, in the dataset's example order.
        confidences: [examples] halting logits (ARC votes with them; others may ignore them).
        Returns fractions in [0, 1]; always includes "token_accuracy" and "exact_accuracy".
        """

    @abc.abstractmethod
    def decode(self, sequence: np.ndarray) -> np.ndarray:
        """A token sequence [seq_len] back to the task's grid (2-D array of cell values)."""

    @abc.abstractmethod
    def draw(self, path: Path, inputs: np.ndarray, labels: np.ndarray, prediction: np.ndarray) -> Path:
        """PNG of input / target / prediction with wrong cells marked; returns the path written."""

    @abc.abstractmethod
    def draw_segments(self, path: Path, inputs: np.ndarray, segment_predictions: np.ndarray) -> Path:
        """PNG strip of the prediction after each segment ([segments, seq_len]); returns the path written."""


from tasks.dataset import PuzzleDataset  # noqa: E402  (type used in annotations above)
