"""Where a training run stands, saved and loaded as one object: the checkpoint's single definition.

    state = TrainingState(settings=identity)            # a fresh run
    state.save(path, model, optimizers)                 # model, optimisers, RNG, sampler position, curves
    state = TrainingState.load(path, model, optimizers, settings=identity)   # resume: same settings only
    load_weights(path, model)                           # only the trained weights (the act suite)

`settings` is what determines the run (training settings, seed, model, task data); a checkpoint saved
under other settings is refused, naming each one that differs. Files are written atomically, and a
damaged or foreign file is one clear error that says how to start that case afresh.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.errors import BenchmarkError
from tasks.files import atomic_path

CHECKPOINT = "checkpoint.pt"
Series = dict[str, list[tuple[int, float]]]


def settings_differences(saved: dict, current: dict, prefix: str = "") -> list[str]:
    """`key: saved -> current` for every (nested) setting that differs between two settings dicts."""
    differences = []
    for key in sorted(set(saved) | set(current)):
        old, new = saved.get(key, "<unset>"), current.get(key, "<unset>")
        if isinstance(old, dict) and isinstance(new, dict):
            differences += settings_differences(old, new, f"{prefix}{key}.")
        elif old != new:
            differences.append(f"{prefix}{key}: {old!r} -> {new!r}")
    return differences


@dataclass
class MetricWindow:
    """Training metrics summed since the last log point (kept as tensors: no device sync per step)."""

    sums: dict[str, torch.Tensor | float] = field(default_factory=dict)
    steps: int = 0

    def add(self, loss: torch.Tensor, metrics: dict[str, torch.Tensor]) -> None:
        for key, value in {"loss": loss.detach(), **metrics}.items():
            self.sums[key] = self.sums.get(key, 0.0) + value.float()
        self.steps += 1

    def state(self) -> dict:
        return {"sums": {key: float(value) for key, value in self.sums.items()}, "steps": self.steps}

    def means(self) -> dict[str, float]:
        """train_loss per step, and each metric averaged over the examples that halted in the window."""
        sums = self.state()["sums"]
        count = sums.pop("count", 0.0)
        means = {"train_loss": sums.pop("loss", 0.0) / max(self.steps, 1)}
        if count:
            means.update({f"train_{key}": value / count for key, value in sums.items()})
        return means


@dataclass
class TrainingState:
    """Everything a checkpoint holds besides the model and optimiser states."""

    settings: dict[str, Any] = field(default_factory=dict)  # what the run computes from
    step: int = 0  # optimiser steps taken
    epoch: int = 0  # the sampler's epoch and the position within it of the next batch
    position: int = 0
    wall: float = 0.0  # seconds in training steps, summed over resumed parts
    series: Series = field(default_factory=dict)
    early: bool = False  # stopped early (train.early_stop_exact_accuracy reached)
    window: MetricWindow = field(default_factory=MetricWindow)
    diverged_at: int | None = None

    def save(self, path: Path, model: torch.nn.Module, optimizers: list[torch.optim.Optimizer]) -> None:
        """Model, optimisers, RNG states and this state, written atomically to `path`."""
        document = {
            "model": model.state_dict(),
            "optimizers": [optimizer.state_dict() for optimizer in optimizers],
            "step": self.step, "epoch": self.epoch, "position": self.position, "wall": self.wall,
            "series": self.series, "early": self.early, "window": self.window.state(),
            "diverged_at": self.diverged_at, "settings": self.settings,
            "rng": {
                "python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            },
        }
        with atomic_path(path) as temporary:
            torch.save(document, temporary)

    @classmethod
    def load(cls, path: Path, model: torch.nn.Module, optimizers: list[torch.optim.Optimizer],
             settings: dict[str, Any]) -> TrainingState:
        """Restore model, optimisers and RNG from a checkpoint saved with the same `settings`."""
        document = read_checkpoint(path)
        differences = settings_differences(document["settings"], settings)
        if differences:
            raise BenchmarkError(f"cannot resume from {path}: it was trained with other settings "
                                 f"({'; '.join(differences)}); resume with the same settings, or {_afresh(path)}")
        try:
            model.load_state_dict(document["model"])
            for optimizer, saved in zip(optimizers, document["optimizers"], strict=True):
                optimizer.load_state_dict(saved)
            rng = document["rng"]
            random.setstate(rng["python"])
            np.random.set_state(rng["numpy"])
            torch.set_rng_state(rng["torch"])
            if rng["cuda"] is not None and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(rng["cuda"])
            series = {name: [tuple(point) for point in points] for name, points in document["series"].items()}
            window = MetricWindow(dict(document["window"]["sums"]), document["window"]["steps"])
            return cls(document["settings"], document["step"], document["epoch"], document["position"],
                       document["wall"], series, document["early"], window, document["diverged_at"])
        except (RuntimeError, KeyError, ValueError, TypeError) as error:
            raise BenchmarkError(f"checkpoint {path} does not fit this model ({type(error).__name__}: {error}); "
                                 f"{_afresh(path)}") from None


def load_weights(path: Path, model: torch.nn.Module) -> torch.nn.Module:
    """`model` with the trained weights of the checkpoint at `path` (nothing else is restored)."""
    try:
        model.load_state_dict(read_checkpoint(path)["model"])
    except (RuntimeError, KeyError) as error:
        raise BenchmarkError(f"checkpoint {path} does not fit this model ({type(error).__name__}: {error}); "
                             f"{_afresh(path)}") from None
    return model


def read_checkpoint(path: Path) -> dict:
    """The document a `TrainingState.save` wrote to `path`; BenchmarkError when it is damaged or foreign."""
    try:
        document = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # a truncated or overwritten file fails in zipfile, pickle or torch itself
        reason = str(error).split(". ")[0]  # torch's own explanation runs to several sentences
        raise BenchmarkError(f"checkpoint {path} is corrupted or truncated ({type(error).__name__}: {reason}); "
                             f"{_afresh(path)}") from None
    if not isinstance(document, dict) or "settings" not in document:
        raise BenchmarkError(f"checkpoint {path} was not written by this version of the engine; {_afresh(path)}")
    return document


def _afresh(path: Path) -> str:
    return f"delete it to start that case afresh (rm {path})"
