"""What every suite shares within one invocation: the resolved config, the device, the output folder,
the tracker, the prepared datasets and the models the accuracy suite trained (for the act suite to reuse),
and the few helpers that turn a (task, arm) into what a suite builds: its model config and training settings.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from benchmarks.config import RunConfig
from benchmarks.engine import TrainSettings
from benchmarks.errors import BenchmarkError
from benchmarks.progress import RunProgress
from benchmarks.tracking import TrackedRun, Tracker
from hrm.config import ModelConfig
from tasks.base import Task
from tasks.dataset import PuzzleDataset
from tasks.registry import get_task


@dataclass
class PreparedTask:
    """A task object with its train and test splits."""

    task: Task
    train: PuzzleDataset
    test: PuzzleDataset


@dataclass
class TrainedModel:
    """A trained case: its resolved config, the checkpoint holding its weights, its final metrics and curves."""

    model_config: ModelConfig
    checkpoint: Path | None
    diverged_at: int | None = None  # the training diverged at this step: there is no model to evaluate
    metrics: dict[str, float] = field(default_factory=dict)
    series: dict[str, list] = field(default_factory=dict)


@dataclass
class SuiteContext:
    """Shared state of one invocation; suites read it and add records, images and trained models."""

    config: RunConfig
    tasks: list[str]
    arms: list[str]
    seeds: list[int]
    device: torch.device
    out_dir: Path
    tracker: Tracker
    parent: TrackedRun
    resume: bool = False
    suites: list[str] = field(default_factory=list)  # the suites this invocation runs, in order
    progress: RunProgress = field(default_factory=lambda: RunProgress([], enabled=False))
    images: list[tuple[str, Path]] = field(default_factory=list)  # (caption, PNG) for the report
    trained: dict[tuple[str, str, int], TrainedModel] = field(default_factory=dict)  # (task, arm, seed)
    data_notes: list[str] = field(default_factory=list)  # what the dataset builds left out (Task.data_notes)


_PREPARED: dict[tuple, PreparedTask] = {}


def prepare_task(config: RunConfig, name: str) -> PreparedTask:
    """Task `name` at the config's scale with both splits, built once per process (and cached on disk)."""
    task_config = config.task_config(name)
    cache = Path(config.train.cache_dir) if config.train.cache_dir else None
    key = (name, repr(task_config), config.train.data_seed, str(cache))
    if key not in _PREPARED:
        task = get_task(name, task_config)
        seed = config.train.data_seed
        _PREPARED[key] = PreparedTask(
            task, task.prepare("train", seed=seed, cache_dir=cache), task.prepare("test", seed=seed, cache_dir=cache)
        )
    return _PREPARED[key]


def case_model_config(config: RunConfig, task: str, arm: str, dataset: PuzzleDataset) -> ModelConfig:
    """The arm's resolved ModelConfig for `task` (see benchmarks.config), sized to the dataset's vocabulary,
    sequence length and puzzle identifiers."""
    meta = dataset.metadata
    return config.model_for(arm, task, {"vocab_size": int(meta["vocab_size"]), "seq_len": int(meta["seq_len"]),
                                        "num_puzzle_identifiers": int(meta["num_puzzle_identifiers"])})


def train_settings(config: RunConfig, task: str) -> TrainSettings:
    """The engine's settings for `task` (its train.<task>.* and optim.<task>.* overrides applied)."""
    train = config.train_for(task)
    return TrainSettings(
        optim=config.optim_for(task), batch_size=train.batch_size, steps=train.steps, eval_interval=train.eval_interval,
        eval_mode=train.eval_mode, eval_halt_max_steps=train.eval_halt_max_steps,
        checkpoint_interval=train.checkpoint_interval, log_interval=train.log_interval,
        early_stop_exact_accuracy=train.early_stop_exact_accuracy, progress=train.progress,
    )


def training_workers(config: RunConfig, cases: int) -> int:
    """Accuracy cases trained at once: train.workers, but never more than there are cases."""
    return max(1, min(config.train.workers, cases))


def worker_threads(config: RunConfig, workers: int) -> int:
    """torch threads per training process when `workers` train side by side: train.threads, else the cores
    shared over the workers; 0 (torch's default) when one process trains."""
    return config.train.threads or (max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0)


def resolve_device(name: str) -> torch.device:
    """`auto` is CUDA when available, else CPU; asking for CUDA without it is a BenchmarkError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise BenchmarkError(f"--device must be auto, cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise BenchmarkError("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
    return torch.device(name)


def model_params(model_config: ModelConfig) -> dict[str, Any]:
    """The few model settings a record carries to tell its cases apart."""
    keep = ("hidden_size", "H_layers", "L_layers", "H_cycles", "L_cycles", "halt_max_steps", "gradient_mode")
    values = dataclasses.asdict(model_config)
    return {name: values[name] for name in keep}
