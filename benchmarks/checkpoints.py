"""Checkpoints to evaluate (`python -m benchmarks.evaluate`): a reference run's or a case this suite trained.

- The reference's (sapientinc/HRM `pretrain.py`, and the checkpoints it released): a folder holding
  `all_config.yaml` and the weights, `step_<N>` files (the latest is taken) or a file named `checkpoint`; or
  one such file, whose folder holds the YAML (as the reference's own evaluate.py takes it). The model's
  sizes come from the YAML's `arch` section and the dataset's `dataset.json` (vocabulary, sequence length,
  puzzle identifiers); its weights are mapped by `hrm.checkpoint`.
- This suite's: a case folder holding `checkpoint.pt` (or that file), whose settings record the arm, the
  model config and the task config it was trained with. It is a pickle (it holds RNG states): load only
  checkpoints you trust, as with any `torch.load` of a pickle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from baselines.registry import REFERENCE_ARM, build_arm, get_arm
from benchmarks.errors import BenchmarkError
from benchmarks.training_state import CHECKPOINT, read_checkpoint
from hrm.checkpoint import load_reference_state_dict, model_config_from_reference, reference_name
from hrm.config import ModelConfig
from hrm.errors import ConfigError
from hrm.interface import ReasoningModel

REFERENCE_CONFIG = "all_config.yaml"
REFERENCE_RELEASED = "checkpoint"  # the weights file's name in the released checkpoints
_STEP_FILE = re.compile(r"step_(\d+)")  # the reference's checkpoint files (not its step_N_all_preds.R outputs)
_PUZZLE_TABLE = "puzzle_emb.weights"


@dataclass
class Checkpoint:
    """A checkpoint read from disk, before it is sized to a dataset and built."""

    weights: Path  # the file holding the weights
    layout: str  # "reference" or "suite"
    arm: str | None  # the arm it is (reference: REFERENCE_ARM; suite: as recorded, None for an old checkpoint)
    state: dict[str, torch.Tensor]
    step: int | None  # optimiser steps it was trained for, when known
    arch: dict[str, Any] | None = None  # reference: all_config.yaml's arch section
    model_settings: dict[str, Any] | None = None  # suite: the recorded ModelConfig fields
    task: str | None = None  # suite: the task it was trained on
    task_settings: dict[str, Any] | None = None  # suite: that task's config fields
    data_seed: int = 0  # suite: the seed its data was built with

    @property
    def puzzle_rows(self) -> int | None:
        """Rows of its puzzle-embedding table (the puzzle identifiers it was trained with); None without one."""
        for key, value in self.state.items():
            name = reference_name(key) if self.layout == "reference" else key
            if name in (_PUZZLE_TABLE, "core.embedding.puzzle.weight"):
                return int(value.shape[0])
        return None


def read(path: Path) -> Checkpoint:
    """The checkpoint at `path` (a folder or a weights file of either layout); BenchmarkError saying what a
    checkpoint folder holds when `path` is none."""
    path = Path(path)
    if not path.exists():
        raise BenchmarkError(f"--checkpoint: {path} does not exist")
    if path.is_dir():
        if (path / CHECKPOINT).is_file():
            return _read_suite(path / CHECKPOINT)
        if (path / REFERENCE_CONFIG).is_file():
            return _read_reference(_reference_weights(path), path / REFERENCE_CONFIG)
        raise BenchmarkError(f"--checkpoint: {path} holds neither {CHECKPOINT} (a case this suite trained) nor "
                             f"{REFERENCE_CONFIG} (a reference run or released checkpoint)")
    if (path.parent / REFERENCE_CONFIG).is_file() and path.name != CHECKPOINT:
        return _read_reference(path, path.parent / REFERENCE_CONFIG)
    return _read_suite(path)


def _reference_weights(folder: Path) -> Path:
    steps = sorted((int(match.group(1)), item) for item in folder.iterdir()
                   if item.is_file() and (match := _STEP_FILE.fullmatch(item.name)))
    if steps:
        return steps[-1][1]
    if (folder / REFERENCE_RELEASED).is_file():
        return folder / REFERENCE_RELEASED
    raise BenchmarkError(f"--checkpoint: {folder} has {REFERENCE_CONFIG} but no weights (a step_<N> file, or a "
                         f"file named {REFERENCE_RELEASED!r} as in the released checkpoints)")


def _read_reference(weights: Path, config_path: Path) -> Checkpoint:
    import yaml

    try:
        config = yaml.safe_load(config_path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise BenchmarkError(f"{config_path}: cannot read it as YAML ({_first_line(error)})") from None
    if not isinstance(config, dict) or not isinstance(config.get("arch"), dict):
        raise BenchmarkError(f"{config_path}: has no 'arch' section (not a reference run's {REFERENCE_CONFIG})")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated (zipfile), not a torch file (pickle), or holding code (weights_only)
        raise BenchmarkError(f"{weights}: not a readable reference checkpoint ({type(error).__name__}: "
                             f"{_first_line(error)})") from None
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise BenchmarkError(f"{weights}: not a state dict of tensors (a reference checkpoint file is one)")
    match = _STEP_FILE.fullmatch(weights.name)
    return Checkpoint(weights, "reference", REFERENCE_ARM, state, int(match.group(1)) if match else None,
                      arch=config["arch"])


def _read_suite(weights: Path) -> Checkpoint:
    document = read_checkpoint(weights)
    settings = document["settings"]
    task = settings.get("task")
    if not isinstance(settings.get("model"), dict) or not isinstance(task, dict) or len(task) != 1:
        raise BenchmarkError(f"{weights}: records no model and task settings (a checkpoint of the accuracy "
                             "suite's cases has them)")
    (task_name, task_settings), = task.items()
    return Checkpoint(weights, "suite", settings.get("arm"), document["model"], int(document["step"]),
                      model_settings=settings["model"], task=task_name, task_settings=task_settings,
                      data_seed=int(settings.get("data_seed", 0)))


def build(checkpoint: Checkpoint, metadata: dict[str, Any], data: str, arm: str | None = None
          ) -> tuple[ReasoningModel, ModelConfig, str]:
    """(model with the checkpoint's weights, its config, its arm), sized to a dataset's `metadata` (`data`
    names the dataset in errors). Refuses, naming both numbers, a dataset whose vocabulary, sequence length or
    puzzle identifiers differ from the checkpoint's; `arm` names the arm of a suite checkpoint that does not
    record it."""
    sizes = {name: int(metadata[name]) for name in ("vocab_size", "seq_len", "num_puzzle_identifiers")}
    rows = checkpoint.puzzle_rows
    if rows is not None and rows != sizes["num_puzzle_identifiers"]:
        raise BenchmarkError(
            f"{checkpoint.weights}'s puzzle-embedding table has {rows} rows (the puzzle identifiers it was trained "
            f"with), but {data} has num_puzzle_identifiers {sizes['num_puzzle_identifiers']}: the dataset was not "
            "built like the checkpoint's training data (a local ARC build draws its own augmentations, so its "
            "identifiers differ from the released build's); evaluate on the dataset folder it was trained with")
    if checkpoint.layout == "reference":
        try:
            model_config = model_config_from_reference(checkpoint.arch, **sizes)
            model = build_arm(REFERENCE_ARM, model_config)
            load_reference_state_dict(model, checkpoint.state)
        except ConfigError as error:
            raise BenchmarkError(f"{checkpoint.weights} does not fit {data}: {error}") from None
        return model, model_config, REFERENCE_ARM
    arm = checkpoint.arm or arm
    if arm is None:
        raise BenchmarkError(f"{checkpoint.weights} does not record its arm (written by an older version); "
                             "name it with --arm")
    if checkpoint.arm is not None and arm != checkpoint.arm:
        raise BenchmarkError(f"--arm {arm}: {checkpoint.weights} is a checkpoint of arm {checkpoint.arm}")
    try:
        get_arm(arm)
        model_config = ModelConfig(**checkpoint.model_settings)
    except (ConfigError, TypeError) as error:
        raise BenchmarkError(f"{checkpoint.weights}: its model settings do not build a model here ({error})") from None
    recorded = {name: getattr(model_config, name) for name in sizes}
    if recorded != sizes:
        differing = ", ".join(f"{name} {recorded[name]} (checkpoint) vs {sizes[name]} (data)"
                              for name in sizes if recorded[name] != sizes[name])
        raise BenchmarkError(f"{checkpoint.weights} does not fit {data}: {differing}")
    model = build_arm(arm, model_config)
    try:
        model.load_state_dict(checkpoint.state)
    except RuntimeError as error:
        raise BenchmarkError(f"{checkpoint.weights} does not fit arm {arm}: {_first_line(error)}") from None
    return model, model_config, arm


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
