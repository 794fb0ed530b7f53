"""The Sudoku task: configuration, dataset building (generated or the paper's CSV), scoring, drawing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks.base import ACCURACIES, COUNTS, Split, Task, TaskError, data_folder, download_from_hub
from tasks.dataset import PuzzleDataset, cached_build, from_arrays, row_keys
from tasks.drawing import draw_grids, draw_strip
from tasks.metric import Metric
from tasks.sudoku import metrics
from tasks.sudoku.augment import apply_transform, random_transforms
from tasks.sudoku.board import BOX_SHAPES, digits_to_tokens, tokens_to_digits
from tasks.sudoku.csv_data import HUB_FILES, HUB_REPO, read_csv
from tasks.sudoku.generator import GENERATOR_VERSION, generate

SOURCES = ("generated", "csv")


@dataclass
class SudokuConfig:
    """Sudoku at one scale. Defaults follow the paper's 1k protocol (1000 training puzzles, 1000
    augmentations each) on generated 9x9 puzzles, which need no download.

    size:           board size: 4 (2x2 boxes), 6 (2x3 boxes) or 9
    source:         "generated" (this package's generator) or "csv" (the paper's files, see data_dir)
    data_dir:       folder holding train.csv and test.csv (`python -m tasks sudoku download` fetches them)
    dataset_dir:    a ready-made dataset folder (train/ and test/ in the reference layout, from the reference's
                    builders or `python -m tasks sudoku build`) read instead of building (`Task.prepare`)
    train_count:    training puzzles (sampled with the build seed from the CSV, or generated)
    test_count:     test puzzles; 0 = the whole CSV test file (csv only)
    num_aug:        augmented copies of each training puzzle (test puzzles are never augmented)
    min_rating:     generated puzzles need at least this many solver backtracks (tasks/sudoku/solver.py);
                    2 keeps 9x9 generation above 1,000 puzzles a minute on one core; set 0 for 4x4 (solved
                    without guessing) and 6x6 (few need a guess)
    csv_min_rating: CSV rows need at least this value in the file's own rating column (0 = all, as the paper)
    """

    size: int = 9
    source: str = "generated"
    data_dir: str = ""
    dataset_dir: str = ""  # a ready-made dataset folder (train/, test/ splits) to use instead of building
    train_count: int = 1000
    test_count: int = 1000
    num_aug: int = 1000
    min_rating: int = 2
    csv_min_rating: int = 0

    def __post_init__(self) -> None:
        if self.size not in BOX_SHAPES:
            raise TaskError(f"SudokuConfig.size: {self.size} is not one of {sorted(BOX_SHAPES)}")
        if self.source not in SOURCES:
            raise TaskError(f"SudokuConfig.source: {self.source!r} is not one of {SOURCES}")
        if self.source == "csv" and not self.data_dir:
            raise TaskError("SudokuConfig.data_dir: required when source is 'csv'")
        if self.size == 4 and self.min_rating > 0:
            raise TaskError("SudokuConfig.min_rating: must be 0 for 4x4 (4x4 puzzles are solved without guessing)")
        if self.source == "csv" and self.size != 9:
            raise TaskError(f"SudokuConfig.size: the paper's CSV files are 9x9, not {self.size}")
        if self.train_count < 1:
            raise TaskError(f"SudokuConfig.train_count: {self.train_count} must be >= 1")
        if self.test_count < 0 or (self.test_count == 0 and self.source != "csv"):
            raise TaskError(f"SudokuConfig.test_count: {self.test_count} must be >= 1 (0 = all, csv only)")
        for name in ("num_aug", "min_rating", "csv_min_rating"):
            if getattr(self, name) < 0:
                raise TaskError(f"SudokuConfig.{name}: {getattr(self, name)} must be >= 0")


class SudokuTask(Task):
    """Tokens PAD 0, blank 1, digit d -> d + 1; inputs are the puzzle, labels the full solution."""

    name = "sudoku"
    config_class = SudokuConfig
    config: SudokuConfig
    scales = {
        "smoke": {"task.size": 4, "task.train_count": 32, "task.test_count": 16, "task.num_aug": 0,
                  "task.min_rating": 0},
        "cpu": {"task.size": 4, "task.min_rating": 0, "task.train_count": 1000, "task.test_count": 200,
                "task.num_aug": 0},
        "paper": {},
    }

    @property
    def vocab_size(self) -> int:
        return self.config.size + 2

    @property
    def seq_len(self) -> int:
        return self.config.size * self.config.size

    @classmethod
    def sized_for(cls, vocab_size: int, seq_len: int) -> dict[str, Any] | None:
        """{"size": n} for a vocabulary of n + 2 and n * n cells (4x4 boards also need min_rating 0)."""
        size = vocab_size - 2
        if size not in BOX_SHAPES or size * size != seq_len:
            return None
        return {"size": size, "min_rating": 0} if size == 4 else {"size": size}

    # ------------------------------------------------------------------------------------------ building

    def build(self, split: Split, seed: int = 0, cache_dir: Path | None = None) -> PuzzleDataset:
        if split not in ("train", "test"):
            raise TaskError(f"sudoku split: {split!r} is not 'train' or 'test'")
        cfg = self.config
        key = {"task": self.name, "split": split, "seed": seed, "generator_version": GENERATOR_VERSION,
               "size": cfg.size, "source": cfg.source, "count": cfg.train_count if split == "train" else cfg.test_count}
        if split == "train":
            key |= {"num_aug": cfg.num_aug, "test_count": cfg.test_count}  # augmented copies avoid the test split
        if cfg.source == "csv":
            key |= {"csv_min_rating": cfg.csv_min_rating, "csv_files": _file_stamps(Path(cfg.data_dir), split)}
        else:
            key["min_rating"] = cfg.min_rating
        return cached_build(cache_dir, key, lambda: self._build(split, seed, cache_dir))

    def _build(self, split: Split, seed: int, cache_dir: Path | None) -> PuzzleDataset:
        cfg = self.config
        extra: dict = {"sample_seed": seed}
        if cfg.source == "csv":
            puzzles, solutions, ratings, rows, in_test = _sample_csv(cfg, split, seed)
            extra["source_rows"] = rows
            if split == "train":
                extra["csv_rows_in_test"] = in_test
        else:
            count = cfg.train_count if split == "train" else cfg.test_count
            made = generate(count, size=cfg.size, min_rating=cfg.min_rating, seed=seed, split=split)
            puzzles, solutions, ratings = made.puzzles, made.solutions, made.ratings
        n, copies = len(puzzles), 1 + (cfg.num_aug if split == "train" else 0)
        if copies > 1:
            puzzles, solutions = _augment(puzzles, solutions, cfg.num_aug, seed)
        inputs = digits_to_tokens(puzzles.reshape(n * copies, -1))
        labels = digits_to_tokens(solutions.reshape(n * copies, -1))
        keep = np.ones(n * copies, dtype=bool)
        if copies > 1:
            # On small boards a transformed training puzzle can be a test puzzle: drop such copies.
            keep = ~np.isin(row_keys(inputs), row_keys(self.build("test", seed, cache_dir).inputs))
            keep[::copies] = True  # originals are disjoint from the test split already
            extra["augmented_dropped"] = int((~keep).sum())
        extra["difficulty"] = np.repeat(ratings.astype(np.float64), copies)[keep]
        group_sizes = keep.reshape(n, copies).sum(axis=1)
        return from_arrays(
            inputs[keep], labels[keep], group_indices=np.concatenate([[0], np.cumsum(group_sizes)]),
            vocab_size=self.vocab_size, extra=extra,
        )

    # ----------------------------------------------------------------------------------------- scoring

    def score(
        self, dataset: PuzzleDataset, predictions: np.ndarray, confidences: np.ndarray | None = None
    ) -> dict[str, float]:
        """token_accuracy, exact_accuracy, valid_accuracy (constraints hold and givens kept) and
        valid_but_different (valid yet not the stored answer: a puzzle with several solutions), with the
        examples and (every cell supervised) tokens they are over."""
        predictions = np.asarray(predictions)
        if predictions.shape != dataset.labels.shape:
            raise TaskError(f"sudoku predictions: shape {predictions.shape}, expected {dataset.labels.shape}")
        grid = (-1, self.config.size, self.config.size)
        counts = metrics.count(
            tokens_to_digits(dataset.inputs).reshape(grid),
            tokens_to_digits(dataset.labels).reshape(grid),
            tokens_to_digits(predictions).reshape(grid),
        )
        return counts.fractions() | {"examples": float(counts.examples), "tokens": float(counts.tokens)}

    def metrics(self) -> tuple[Metric, ...]:
        return (
            *ACCURACIES,
            Metric.proportion("valid_accuracy", "constraints hold and the givens are kept"),
            Metric.proportion("valid_but_different", "valid yet not the stored answer (a puzzle with several "
                              "solutions)", better="neither", gated=False),
            *COUNTS,
        )

    def difficulty(self, dataset: PuzzleDataset) -> tuple[str, np.ndarray]:
        """Blank cells per puzzle: what the solver must fill (the backtrack rating is 0 for every 4x4 puzzle)."""
        return "blank cells", (tokens_to_digits(dataset.inputs) == 0).sum(axis=1).astype(np.float64)

    def decode(self, sequence: np.ndarray) -> np.ndarray:
        """[seq_len] tokens -> [size, size] digits (0 blank, -1 PAD)."""
        sequence = np.asarray(sequence)
        if sequence.shape != (self.seq_len,):
            raise TaskError(f"sudoku sequence: shape {sequence.shape}, expected ({self.seq_len},)")
        return tokens_to_digits(sequence).reshape(self.config.size, self.config.size)

    # ----------------------------------------------------------------------------------------- drawing

    def _palette(self) -> tuple[list[str], list[str]]:
        """Colour and text of each token: PAD grey, blank white, digits pale blue with their number."""
        colors = ["#9e9e9e", "#ffffff"] + ["#dbe9f6"] * self.config.size
        text = ["", ""] + [str(d) for d in range(1, self.config.size + 1)]
        return colors, text

    def _grid(self, tokens: np.ndarray) -> np.ndarray:
        return np.asarray(tokens).reshape(-1, self.config.size, self.config.size).squeeze(0)

    def draw(self, path: Path, inputs: np.ndarray, labels: np.ndarray, prediction: np.ndarray) -> Path:
        colors, text = self._palette()
        target, predicted = self._grid(labels), self._grid(prediction)
        panels = [("puzzle", self._grid(inputs)), ("solution", target), ("prediction", predicted, predicted != target)]
        return draw_grids(path, panels, colors, cell_text=text)

    def draw_segments(self, path: Path, inputs: np.ndarray, segment_predictions: np.ndarray) -> Path:
        colors, text = self._palette()
        frames = np.asarray(segment_predictions).reshape(-1, self.config.size, self.config.size)
        return draw_strip(path, self._grid(inputs), frames, colors, cell_text=text)

    def download(self, directory: Path) -> Path:
        """train.csv and test.csv of the paper's Sudoku-Extreme into `directory` (see `download_settings`)."""
        return download_from_hub(HUB_REPO, HUB_FILES, directory)

    def download_settings(self, folder: Path) -> dict[str, str]:
        return {"source": "csv", "data_dir": str(folder), "size": "9"}  # the paper's CSVs are 9x9 boards

    def data_notes(self, dataset: PuzzleDataset) -> list[str]:
        """Training rows of train.csv left out for repeating a test.csv puzzle, and augmented training copies
        dropped for equalling a test puzzle (train and test stay disjoint)."""
        notes = []
        in_test = int(dataset.extra.get("csv_rows_in_test", 0))
        if in_test:
            rows = "1 row of train.csv repeats" if in_test == 1 else f"{in_test} rows of train.csv repeat"
            notes.append(f"sudoku: {rows} a test.csv puzzle and {'was' if in_test == 1 else 'were'} never sampled "
                         "for training")
        dropped = int(dataset.extra.get("augmented_dropped", 0))
        if dropped:
            notes.append(f"sudoku: {dropped} augmented training copies equal a test puzzle and were dropped")
        return notes


def _file_stamps(directory: Path, split: Split) -> dict[str, list[int]]:
    """Size and modification time of the CSV files a split reads, so a changed file is not served from the
    cache: the test split reads test.csv only (a folder holding just test.csv builds it); the train split
    also reads test.csv, to keep the test puzzles out of training."""
    names = ("test.csv",) if split == "test" else tuple(HUB_FILES)
    folder = data_folder(str(directory), "SudokuConfig.data_dir", names,
                         hint="`python -m tasks sudoku download --out DIR` fetches them")
    stamps = {}
    for name in names:
        stat = (folder / name).stat()
        stamps[name] = [stat.st_size, stat.st_mtime_ns]
    return stamps


def _sample_csv(
    cfg: SudokuConfig, split: Split, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(puzzles, solutions, ratings, row numbers, rows left out as test puzzles) of one split from the CSV
    files, sampled with `seed`.

    Training rows whose question also appears in test.csv are never chosen, so train and test are disjoint.
    """
    path = Path(cfg.data_dir) / f"{split}.csv"
    records = read_csv(path, cfg.size)
    rated = records.ratings >= cfg.csv_min_rating
    in_test = np.zeros(len(rated), dtype=bool)
    if split == "train":
        test_questions = read_csv(Path(cfg.data_dir) / "test.csv", cfg.size).questions
        in_test = np.isin(row_keys(records.questions), row_keys(test_questions))
    eligible = np.flatnonzero(rated & ~in_test)
    wanted = cfg.train_count if split == "train" else cfg.test_count
    if wanted > len(eligible) or len(eligible) == 0:
        low, repeats = int((~rated).sum()), int(in_test.sum())
        reasons = [f"{low} rated below csv_min_rating {cfg.csv_min_rating}"] if low else []
        reasons += [f"{repeats} {'repeats' if repeats == 1 else 'repeat'} a test.csv puzzle"] if repeats else []
        field = "train_count" if split == "train" else "test_count"
        raise TaskError(f"{path}: {wanted or 'all'} puzzles wanted (SudokuConfig.{field}), only {len(eligible)} "
                        f"eligible of {len(rated)} rows" + (f" ({'; '.join(reasons)})" if reasons else ""))
    rows = eligible if wanted == 0 else np.sort(np.random.default_rng(seed).choice(eligible, wanted, replace=False))
    return records.questions[rows], records.answers[rows], records.ratings[rows], rows, int(in_test.sum())



def _augment(puzzles: np.ndarray, solutions: np.ndarray, num_aug: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each puzzle followed by `num_aug` randomly transformed copies: [n * (1 + num_aug), size, size] each."""
    n, size = len(puzzles), puzzles.shape[1]
    copies = 1 + num_aug
    transforms = random_transforms(np.random.default_rng([seed, 1]), n * num_aug, size)
    moved_p = apply_transform(np.repeat(puzzles, num_aug, axis=0), transforms).reshape(n, num_aug, size, size)
    moved_s = apply_transform(np.repeat(solutions, num_aug, axis=0), transforms).reshape(n, num_aug, size, size)
    out_p = np.concatenate([puzzles[:, None], moved_p], axis=1).reshape(n * copies, size, size)
    out_s = np.concatenate([solutions[:, None], moved_s], axis=1).reshape(n * copies, size, size)
    return out_p, out_s
