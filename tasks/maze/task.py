"""The Maze task: find a shortest path from S to G through an obstacle grid (the paper's Maze-Hard).

Data comes either from the paper's CSV files (`data_dir` holding train.csv and test.csv, see `download`) or
from the generator (`tasks/maze/generate.py`); the input is the maze, the label adds the path cells.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks.base import ACCURACIES, COUNTS, Split, Task, TaskError, data_folder, download_from_hub
from tasks.dataset import PuzzleDataset, cached_build, from_arrays, row_keys
from tasks.drawing import draw_grids, draw_strip
from tasks.maze.csv_format import read_maze_csv
from tasks.maze.generate import generate
from tasks.maze.grid import PATH, VOCAB_SIZE, dihedral, is_optimal, shortest_paths
from tasks.metric import Metric

GENERATOR_VERSION = 1  # bump whenever generation or encoding changes what a key produces
GENERATION_BATCH = 2048  # candidate mazes drawn per batch (part of what a seed produces)
HUB_REPO = "sapientinc/maze-30x30-hard-1k"
COLORS = ("#ffffff", "#303030", "#f2f2f2", "#2ca02c", "#d62728", "#1f77b4")  # PAD # ' ' S G o
_SPLIT_CODE = {"train": 0, "test": 1}


@dataclass
class MazeConfig:
    """Maze settings; defaults are the paper's Maze-Hard (30x30, shortest path > 110, 1000 + 1000 mazes)."""

    height: int = 30
    width: int = 30
    train_count: int = 1000  # mazes in the training split (a seeded subsample when reading a larger CSV)
    test_count: int = 1000
    min_path_length: int = 111  # shortest S-to-G path at least this many moves (paper: > 110 on 30x30)
    wall_fraction_min: float = 0.3  # each generated maze's wall probability is uniform in [min, max]
    wall_fraction_max: float = 0.5  # (Lehnert et al.: 30-50% walls)
    uniform_path: bool = False  # label a uniformly drawn shortest path instead of the canonical one
    augment: bool = False  # training mazes in all 8 dihedral orientations (square mazes; off in the paper)
    data_dir: str = ""  # folder with the paper's train.csv / test.csv; empty: generate
    dataset_dir: str = ""  # a ready-made dataset folder (train/, test/ splits) to use instead of building

    def __post_init__(self) -> None:
        for name in ("height", "width"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 2:
                raise TaskError(f"MazeConfig.{name} must be an integer >= 2, got {getattr(self, name)!r}")
        for name in ("train_count", "test_count", "min_path_length"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise TaskError(f"MazeConfig.{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if not 0.0 <= self.wall_fraction_min <= self.wall_fraction_max < 1.0:
            raise TaskError(
                "MazeConfig.wall_fraction_min/max must satisfy 0 <= min <= max < 1, got "
                f"{self.wall_fraction_min!r}, {self.wall_fraction_max!r}"
            )
        if self.augment and self.height != self.width:
            raise TaskError(f"MazeConfig.augment needs a square maze, got {self.height}x{self.width}")


class MazeTask(Task):
    """Maze: tokens PAD 0, wall 1, open 2, S 3, G 4, path 5; seq_len H*W; one puzzle per maze (identifier 0)."""

    name = "maze"
    config_class = MazeConfig
    scales = {
        "smoke": {"task.height": 6, "task.width": 6, "task.train_count": 32, "task.test_count": 16,
                  "task.min_path_length": 4},
        "cpu": {"task.height": 5, "task.width": 5, "task.train_count": 1000, "task.test_count": 200,
                "task.min_path_length": 6, "train.steps": 1000},
        "paper": {},
    }

    @property
    def vocab_size(self) -> int:
        return VOCAB_SIZE

    @property
    def seq_len(self) -> int:
        return self.config.height * self.config.width

    @classmethod
    def sized_for(cls, vocab_size: int, seq_len: int) -> dict[str, Any] | None:
        """{"height": n, "width": n} for the maze vocabulary and n * n cells (the square mazes of the paper; a
        folder of non-square mazes needs its height and width set by hand)."""
        side = math.isqrt(seq_len)
        if vocab_size != VOCAB_SIZE or side < 2 or side * side != seq_len:
            return None
        return {"height": side, "width": side}

    def build(self, split: Split, seed: int = 0, cache_dir: Path | None = None) -> PuzzleDataset:
        if split not in _SPLIT_CODE:
            raise TaskError(f"maze split must be 'train' or 'test', got {split!r}")
        key = {"task": self.name, "split": split, "seed": seed, "version": GENERATOR_VERSION,
               **dataclasses.asdict(self.config)}
        if self.config.data_dir:
            names = ("train.csv", "test.csv") if split == "train" else ("test.csv",)  # train notes test overlaps
            folder = data_folder(self.config.data_dir, "MazeConfig.data_dir", names,
                                 hint="`python -m tasks maze download --out DIR` fetches the paper's files")
            source = folder / f"{split}.csv"
            key["source"] = [str(source.resolve()), source.stat().st_size, source.stat().st_mtime_ns]
            if split == "train":
                key["test_source"] = [(folder / "test.csv").stat().st_size, (folder / "test.csv").stat().st_mtime_ns]
        return cached_build(cache_dir, key, lambda: self._make(split, seed, cache_dir))

    def _make(self, split: Split, seed: int, cache_dir: Path | None) -> PuzzleDataset:
        config = self.config
        count = config.train_count if split == "train" else config.test_count
        rng = np.random.default_rng([seed, _SPLIT_CODE[split], GENERATOR_VERSION])
        extra = {}
        if config.data_dir:
            source = Path(config.data_dir) / f"{split}.csv"
            inputs, labels, _ = read_maze_csv(source, config.height, config.width)
            if count > len(inputs):
                raise TaskError(f"{source}: {count} mazes wanted (MazeConfig.{split}_count), only {len(inputs)} "
                                "present")
            if count < len(inputs):
                keep = np.sort(rng.choice(len(inputs), count, replace=False))
                inputs, labels = inputs[keep], labels[keep]
            if split == "train":  # the paper's files are used as they are; an overlap with test.csv is noted
                test, _, _ = read_maze_csv(source.with_name("test.csv"), config.height, config.width)
                extra["repeats_test"] = int(np.isin(row_keys(inputs), row_keys(test)).sum())
            lengths, paths = shortest_paths(inputs)
            unique = paths == 1
        else:
            exclude = None
            if split == "train":  # train and test must never share a maze
                test = self.build("test", seed, cache_dir)
                exclude = test.inputs.reshape(-1, config.height, config.width)
            mazes = generate(
                rng, count, config.height, config.width, config.min_path_length,
                (config.wall_fraction_min, config.wall_fraction_max), config.uniform_path, exclude=exclude,
                batch=GENERATION_BATCH,
            )
            inputs, labels, lengths, unique = mazes.inputs, mazes.labels, mazes.lengths, mazes.unique
        transforms = np.zeros(len(inputs), dtype=np.int64)
        copies = 8 if (split == "train" and config.augment) else 1
        if copies > 1:
            inputs = np.stack([dihedral(inputs, t) for t in range(copies)], axis=1)
            labels = np.stack([dihedral(labels, t) for t in range(copies)], axis=1)
            transforms = np.tile(np.arange(copies), len(lengths))
            lengths, unique = np.repeat(lengths, copies), np.repeat(unique, copies)
        puzzles = len(lengths)
        return from_arrays(
            inputs.reshape(puzzles, -1), labels.reshape(puzzles, -1),
            group_indices=np.arange(0, puzzles + 1, copies), vocab_size=VOCAB_SIZE,
            extra=extra | {"difficulty": lengths.astype(np.float64), "unique_path": unique.astype(bool),
                           "transform": transforms},
        )

    def score(
        self, dataset: PuzzleDataset, predictions: np.ndarray, confidences: np.ndarray | None = None
    ) -> dict[str, float]:
        """token_accuracy, exact_accuracy (matches the stored path), optimal_accuracy (any shortest path:
        see `is_optimal`) and alternative_path_rate (optimal but not the stored path), with the examples and
        supervised tokens they are over."""
        predictions = np.asarray(predictions)
        if predictions.shape != dataset.labels.shape:
            raise TaskError(f"maze predictions have shape {predictions.shape}, expected {dataset.labels.shape}")
        supervised = dataset.labels != dataset.metadata["ignore_label_id"]
        correct = (predictions == dataset.labels) | ~supervised
        exact = correct.all(axis=1)
        grids = (-1, self.config.height, self.config.width)
        lengths = (dataset.labels == PATH).sum(axis=1) + 1
        optimal = is_optimal(dataset.inputs.reshape(grids), predictions.reshape(grids), lengths)
        return {
            "token_accuracy": float((correct & supervised).sum() / max(supervised.sum(), 1)),
            "exact_accuracy": float(exact.mean()),
            "optimal_accuracy": float(optimal.mean()),
            "alternative_path_rate": float((optimal & ~exact).mean()),
            "examples": float(len(predictions)),
            "tokens": float(supervised.sum()),
        }

    def metrics(self) -> tuple[Metric, ...]:
        return (
            *ACCURACIES,
            Metric.proportion("optimal_accuracy", "a shortest S-to-G path, the stored one or another"),
            Metric.proportion("alternative_path_rate", "a shortest path other than the stored one",
                              better="neither", gated=False),
            *COUNTS,
        )

    def difficulty(self, dataset: PuzzleDataset) -> tuple[str, np.ndarray] | None:
        """The shortest S-to-G path length of each maze (the build's `extra["difficulty"]`)."""
        found = super().difficulty(dataset)
        return None if found is None else ("shortest path length", found[1])

    def decode(self, sequence: np.ndarray) -> np.ndarray:
        sequence = np.asarray(sequence)
        if sequence.size != self.seq_len:
            raise TaskError(f"maze sequence has {sequence.size} tokens, expected {self.seq_len}")
        return sequence.reshape(self.config.height, self.config.width)

    def draw(self, path: Path, inputs: np.ndarray, labels: np.ndarray, prediction: np.ndarray) -> Path:
        grid, target, guess = self.decode(inputs), self.decode(labels), self.decode(prediction)
        optimal = bool(is_optimal(grid[None], guess[None], np.array([(target == PATH).sum() + 1]))[0])
        return draw_grids(
            path, [("input", grid), ("target", target), ("prediction", guess, guess != target)], COLORS,
            title=f"shortest path {(target == PATH).sum() + 1} moves; prediction {'optimal' if optimal else 'wrong'}",
        )

    def draw_segments(self, path: Path, inputs: np.ndarray, segment_predictions: np.ndarray) -> Path:
        frames = np.asarray(segment_predictions).reshape(-1, self.config.height, self.config.width)
        return draw_strip(path, self.decode(inputs), frames, COLORS)

    def download(self, directory: Path) -> Path:
        """train.csv and test.csv of the paper's Maze-Hard into `directory` (then set data_dir to it)."""
        return download_from_hub(HUB_REPO, ["train.csv", "test.csv"], directory)

    def download_settings(self, folder: Path) -> dict[str, str]:
        return {"data_dir": str(folder)}

    def data_notes(self, dataset: PuzzleDataset) -> list[str]:
        """Training mazes (read from train.csv) that also appear in test.csv: kept, as the paper's files are
        used as they are, but named so an overlap is never silent."""
        repeats = int(dataset.extra.get("repeats_test", 0))
        if not repeats:
            return []
        return [f"maze: {repeats} of the training mazes sampled from train.csv also appear in test.csv "
                "(kept: the paper's files are used as they are)"]

