"""The one task interface every task implements (Sudoku, Maze, ARC), and the task registry.

The runner only ever calls these methods and reads these attributes, so it never special-cases a task:

    task = get_task("sudoku", config)                  # config: the task's own dataclass (or None for defaults)
    task.scales["smoke"]                               # the settings this task runs with at a scale
    SudokuTask.sized_for(vocab_size=11, seq_len=81)    # the config fields giving those sizes ({"size": 9})
    train = task.build("train", seed=0, cache_dir=...) # a PuzzleDataset (tasks/dataset.py); task.splits names all
    test = task.build("test", seed=0, cache_dir=...)
    scores = task.score(test, predictions, confidences)   # dict of metric name -> value
    task.metrics()                                     # what each of those values means (tasks/metric.py)
    task.write_outputs(test, predictions, confidences, folder)  # files of a final evaluation (ARC: submission.json)
    grid = task.decode(test.inputs[0])
    task.draw(path, inputs, labels, prediction)            # PNG
    notes = task.data_notes(train)                         # what the build skipped or dropped, in words
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from tasks.metric import Metric

if TYPE_CHECKING:  # tasks.dataset imports TaskError from here, so only type checkers import it back
    from tasks.dataset import PuzzleDataset

Split = Literal["train", "test"]

# The scores every task's `score` returns: a task's `metrics` lists ACCURACIES first, its own next, COUNTS last.
# Proportions name the count they are a fraction of, so a report can give each its n.
ACCURACIES = (
    Metric.proportion("exact_accuracy", "every supervised token of the example right", denominator="examples"),
    Metric.proportion("token_accuracy", "supervised tokens predicted right", denominator="tokens"),
)
COUNTS = (Metric.info("examples", "count", "examples scored"),
          Metric.info("tokens", "count", "supervised label tokens scored"))


class TaskError(ValueError):
    """Bad task input (a malformed file, row or grid, or an impossible config); the message says where."""


class Task(abc.ABC):
    """Base class of every task. Subclasses are registered by name in `tasks.registry.TASKS`."""

    name: ClassVar[str]
    config_class: ClassVar[type]  # the task's own config dataclass
    # The splits `build` accepts; `python -m tasks <task> build --split` offers these.
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    # Scale name ("smoke", "cpu", "paper", or any scale a user adds) -> the settings this task runs with at
    # that scale: `task.<field>` (the task's own config dataclass), `train.<field>` (the benchmarks' TrainConfig:
    # batch_size, steps, eval_interval, ...) and `optim.<field>` (hrm.config.OptimConfig). A scale the task
    # does not list runs with the task's defaults. The runner (benchmarks/) folds them into a run's settings.
    scales: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def __init__(self, config: Any = None) -> None:
        self.config = config if config is not None else self.config_class()

    @property
    @abc.abstractmethod
    def vocab_size(self) -> int: ...

    @property
    @abc.abstractmethod
    def seq_len(self) -> int: ...

    @classmethod
    def sized_for(cls, vocab_size: int, seq_len: int) -> dict[str, Any] | None:
        """The config fields (name -> value) under which this task has `vocab_size` tokens and sequences of
        `seq_len` tokens, so a ready-made dataset folder (`benchmarks.evaluate --data`) is read without the
        user naming its task or sizes; None when no config of this task has them (the default)."""
        return None

    def prepare(self, split: str, seed: int = 0, cache_dir: Path | None = None) -> PuzzleDataset:
        """The split the runner trains or evaluates on: read from the config's `dataset_dir` when it names one
        (a folder written by the reference's builders or by `python -m tasks <task> build`, one sub-folder per
        split), checked against this task's vocabulary and sequence length; otherwise `build`."""
        folder = getattr(self.config, "dataset_dir", "")
        if not folder:
            return self.build(split, seed=seed, cache_dir=cache_dir)
        from tasks.dataset import load_dataset

        where = f"{type(self.config).__name__}.dataset_dir"
        dataset = load_dataset(data_folder(folder, where, hint="a dataset folder holds one sub-folder per split")
                               / split)
        found = (int(dataset.metadata["vocab_size"]), int(dataset.metadata["seq_len"]))
        if found != (self.vocab_size, self.seq_len):
            raise TaskError(f"{where}: {Path(folder) / split} has vocab_size {found[0]} and seq_len {found[1]}, but "
                            f"{self.name} as configured has vocab_size {self.vocab_size} and seq_len {self.seq_len}; "
                            f"set the task's size settings to those the folder was built with")
        return dataset

    @abc.abstractmethod
    def build(self, split: Split, seed: int = 0, cache_dir: Path | None = None) -> PuzzleDataset:
        """The dataset for `split` at this config's scale, cached on disk under a key of everything that
        determines it (so the same key gives a byte-identical dataset)."""

    @abc.abstractmethod
    def score(
        self, dataset: PuzzleDataset, predictions: np.ndarray, confidences: np.ndarray | None = None
    ) -> dict[str, float]:
        """Metrics over a whole evaluated split: exactly the names `metrics` declares.

        predictions: [examples, seq_len] predicted token ids, in the dataset's example order.
        confidences: [examples] halting logits (ARC votes with them; others may ignore them).
        Returns fractions in [0, 1] and the counts they are over; always includes "exact_accuracy",
        "token_accuracy", "examples" and "tokens".
        """

    def metrics(self) -> tuple[Metric, ...]:
        """The declaration of every score `score` returns with this config, in the order a report shows them:
        exact_accuracy, token_accuracy, the task's own, then the counts. A task with scores of its own
        lists them here too."""
        return (*ACCURACIES, *COUNTS)

    def write_outputs(
        self, dataset: PuzzleDataset, predictions: np.ndarray, confidences: np.ndarray | None, folder: Path
    ) -> list[Path]:
        """Files this task writes from a final test evaluation into `folder` (ARC: submission.json); returns
        their paths, none by default. predictions: [examples, seq_len] predicted token ids in the dataset's
        example order; confidences: [examples] halting logits (None: all equal). The runner calls it after
        each case's final evaluation."""
        return []

    @abc.abstractmethod
    def decode(self, sequence: np.ndarray) -> np.ndarray:
        """A token sequence [seq_len] back to the task's grid (2-D array of cell values)."""

    @abc.abstractmethod
    def draw(self, path: Path, inputs: np.ndarray, labels: np.ndarray, prediction: np.ndarray) -> Path:
        """PNG of input / target / prediction with wrong cells marked; returns the path written."""

    @abc.abstractmethod
    def draw_segments(self, path: Path, inputs: np.ndarray, segment_predictions: np.ndarray) -> Path:
        """PNG strip of the prediction after each segment ([segments, seq_len]); returns the path written."""

    def difficulty(self, dataset: PuzzleDataset) -> tuple[str, np.ndarray] | None:
        """(what it measures, [examples] values): each example's difficulty by the task's own measure, for
        asking whether a model spends more segments on harder examples. By default the per-puzzle
        `extra["difficulty"]` the build recorded, repeated for each example of a puzzle; None without one."""
        values = dataset.extra.get("difficulty")
        if values is None or len(values) != len(dataset.puzzle_indices) - 1:
            return None
        return "difficulty", np.repeat(np.asarray(values, dtype=np.float64), np.diff(dataset.puzzle_indices))

    def data_notes(self, dataset: PuzzleDataset) -> list[str]:
        """Human-readable notes on the data of `dataset`: which public set it is where a task reads several
        (ARC-AGI-1 or -2), and what the build skipped or dropped (malformed files, puzzles that do not fit,
        training puzzles that repeat a test puzzle), one sentence each with counts and names. Read from the
        dataset itself, so a cached split has them too. The runner shows them in the console and the report."""
        return []

    def download(self, directory: Path) -> Path:
        """Fetch the paper's data for this task into `directory` (needs network and `huggingface_hub`);
        returns the folder to point the task's config at. Tasks without public data keep this default."""
        raise TaskError(f"no download for {self.name}")

    def download_settings(self, folder: Path) -> dict[str, str]:
        """The config fields (name -> value) that make this task read the data `download` put in `folder`."""
        return {}


def data_folder(value: str, field: str, files: tuple[str, ...] = (), hint: str = "") -> Path:
    """The folder a config field names (`field` as "MazeConfig.data_dir"), checked to exist, to be a
    folder, and to hold `files`; TaskError naming the field and the path (then `hint`) otherwise."""
    folder = Path(value)
    if not folder.exists():
        problem = "does not exist"
    elif not folder.is_dir():
        problem = "is a file, not a folder"
    else:
        missing = [name for name in files if not (folder / name).is_file()]
        if not missing:
            return folder
        problem = f"has no {' and no '.join(missing)}"
    raise TaskError(f"{field}: {folder} {problem}" + (f"; {hint}" if hint else ""))


def download_from_hub(repo_id: str, filenames: list[str], directory: Path) -> Path:
    """Copy `filenames` of the Hugging Face dataset repo `repo_id` into `directory`; returns `directory`.

    `huggingface_hub` is an optional dependency (`pip install hrm-bench[hub]`); a clear TaskError says so,
    and any failure of the download itself (network, offline mode, a missing file) is a TaskError naming it.
    """
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise TaskError(
            f"downloading {repo_id} needs huggingface_hub: pip install 'hrm-bench[hub]' (or huggingface_hub)"
        ) from None
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TaskError(f"{directory}: cannot create the download folder ({error.strerror or error})") from None
    for filename in filenames:
        try:
            hf_hub_download(repo_id, filename, repo_type="dataset", local_dir=directory)
        except Exception as error:  # the hub raises many types (HTTP, connection, offline mode, OS errors)
            raise TaskError(f"download of {filename} from {repo_id} failed (is there network access?): "
                            f"{error}") from error
    return directory

