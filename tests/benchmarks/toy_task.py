"""A toy task for the extension test: reverse a sequence of digits. One file, registered by one line."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tasks.base import ACCURACIES, COUNTS, Task, TaskError
from tasks.dataset import PuzzleDataset, from_arrays
from tasks.drawing import draw_grids, draw_strip
from tasks.metric import Metric

COLORS = ["#9e9e9e", "#ffffff", "#dbe9f6", "#a6cee3", "#b2df8a", "#fb9a99"]


@dataclass
class ReverseConfig:
    length: int = 6
    train_count: int = 64
    test_count: int = 16

    def __post_init__(self) -> None:
        if self.length < 2:
            raise TaskError(f"ReverseConfig.length must be >= 2, got {self.length}")


class ReverseTask(Task):
    """Inputs: digits 1..5 (tokens 1..5, PAD 0); labels: the same digits reversed."""

    name = "toy-reverse"
    config_class = ReverseConfig
    config: ReverseConfig
    scales = {"smoke": {"task.train_count": 32, "task.test_count": 8}}

    @property
    def vocab_size(self) -> int:
        return 6

    @property
    def seq_len(self) -> int:
        return self.config.length

    def build(self, split: str, seed: int = 0, cache_dir: Path | None = None) -> PuzzleDataset:
        count = self.config.train_count if split == "train" else self.config.test_count
        rng = np.random.default_rng([seed, split == "test", *dataclasses.astuple(self.config)])
        inputs = rng.integers(1, 6, size=(count, self.config.length))
        return from_arrays(inputs, inputs[:, ::-1].copy(), vocab_size=self.vocab_size)

    def score(self, dataset: PuzzleDataset, predictions: np.ndarray, confidences: np.ndarray | None = None
              ) -> dict[str, float]:
        right = np.asarray(predictions) == dataset.labels
        return {"exact_accuracy": float(right.all(axis=1).mean()), "token_accuracy": float(right.mean()),
                "first_token_accuracy": float(right[:, 0].mean()), "examples": float(len(right)),
                "tokens": float(right.size)}

    def metrics(self) -> tuple[Metric, ...]:
        return (*ACCURACIES, Metric.proportion("first_token_accuracy", "the first output digit right"), *COUNTS)

    def decode(self, sequence: np.ndarray) -> np.ndarray:
        return np.asarray(sequence).reshape(1, -1)

    def draw(self, path: Path, inputs: np.ndarray, labels: np.ndarray, prediction: np.ndarray) -> Path:
        guess = self.decode(prediction)
        return draw_grids(path, [("input", self.decode(inputs)), ("target", self.decode(labels)),
                                 ("prediction", guess, guess != self.decode(labels))], COLORS)

    def draw_segments(self, path: Path, inputs: np.ndarray, segment_predictions: np.ndarray) -> Path:
        frames = np.asarray(segment_predictions).reshape(-1, 1, self.config.length)
        return draw_strip(path, self.decode(inputs), frames, COLORS)
