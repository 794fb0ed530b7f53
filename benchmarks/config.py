"""Resolved run settings: typed sections, scale presets, and `--set key=value` overrides.

A run's settings are one `RunConfig`: the shared model and optimiser configs (`hrm.config`), the training
loop, each suite's knobs, and every registered task's own config dataclass. A scale preset is a list of
overrides in the same `section.field=value` language the command line uses, so the preset table below is
the whole difference between `smoke`, `cpu` and `paper`:

    model.<field>            ModelConfig shared by every arm (the arm's registry defaults still apply on top)
    arm.<arm>.<field>        ModelConfig fields for one arm only (win over the arm's registry defaults)
    optim.<field>            OptimConfig
    train.<field>            TrainConfig (the training engine)
    optim.<task>.<field>, train.<task>.<field>   the same for one task only (the paper trains ARC with its
                             own learning rates and weight decay; the cpu preset gives tasks their own steps)
    memory.<field>, throughput.<field>, act.<field>   the suites' settings
    task.<task>.<field>      the task's own config dataclass (tasks.registry)

Precedence for an arm's model: shared model (defaults, preset model.*) < the arm's registry defaults <
preset arm.* < the user's model.* < the arm's identity < the user's arm.*. So `--set model.L_cycles=4` reaches
every arm (TRM included, whose registry default differs), while `--set model.halt_max_steps=8` leaves the
single-pass arms single-pass (their identity fixes Mmax 1); a shared setting that every arm's identity fixes
(`model.gradient_mode`, `model.halting`) is an error pointing to `arm.<arm>.*`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from benchmarks.errors import BenchmarkError
from hrm.config import ModelConfig, OptimConfig
from hrm.errors import ConfigError

SCALES = ("smoke", "cpu", "paper")
SUITES = ("accuracy", "memory", "throughput", "act")


@dataclass
class TrainConfig:
    """The training engine; defaults are the paper's Sudoku/Maze run (HRM.md section 5)."""

    batch_size: int = 768
    steps: int = 26041  # optimiser steps (20000 epochs of 1000 puzzles at batch 768)
    eval_interval: int = 2000  # steps between test evaluations (0: only at the end)
    eval_mode: str = "fixed"  # "fixed" (Mmax segments, the reference) or "act" (halt when the Q head says so)
    eval_max_segments: int = 0  # inference Mmax; 0 means the model's halt_max_steps
    checkpoint_interval: int = 0  # steps between checkpoints (0: at every evaluation); the ACT carry restarts there
    log_interval: int = 100  # steps per point of the training curves (and the early-stop window)
    early_stop_exact_accuracy: float = 0.0  # stop once training exact accuracy over a window reaches it (0: off)
    data_seed: int = 0  # seed of the generated datasets (model seeds come from --seeds)
    cache_dir: str = "results/cache"  # generated datasets are cached here ("" = rebuild every time)
    threads: int = 0  # torch CPU threads per process (0: torch's default, or cores / workers with workers > 1)
    workers: int = 1  # accuracy cases trained at once in separate processes (1: one after another, in-process)
    progress: bool = True  # tqdm progress bar (shown only on a terminal)

    def validate(self) -> None:
        _check_positive(self, ("batch_size", "steps", "log_interval", "workers"))
        _check_non_negative(self, ("eval_interval", "eval_max_segments", "checkpoint_interval", "threads"))
        _check_choice(self, "eval_mode", ("fixed", "act"))
        if not 0.0 <= self.early_stop_exact_accuracy <= 1.0:
            raise BenchmarkError(
                f"train.early_stop_exact_accuracy must be in [0, 1], got {self.early_stop_exact_accuracy!r}"
            )


@dataclass
class MemoryConfig:
    """Activation memory of one training step as T (L_cycles) and N (H_cycles) grow."""

    batch_size: int = 32
    T_values: tuple[int, ...] = (1, 2, 4, 8)  # swept with H_cycles fixed at the model's
    N_values: tuple[int, ...] = (1, 2, 4, 8)  # swept with L_cycles fixed at the model's

    def validate(self) -> None:
        _check_positive(self, ("batch_size",))
        for name in ("T_values", "N_values"):
            values = getattr(self, name)
            if len(values) < 2 or min(values) < 1:
                raise BenchmarkError(f"memory.{name} needs at least two values >= 1 to fit a slope, got {values!r}")


@dataclass
class ThroughputConfig:
    """Samples/s and tokens/s after warm-up, median of repeats, and MFU against a dense matmul."""

    batch_size: int = 768  # on CUDA
    cpu_batch_size: int = 16  # on the CPU (a paper-size batch takes minutes per step there)
    warmup: int = 3  # untimed iterations before timing
    iterations: int = 10  # iterations per timed repeat
    repeats: int = 5  # timed repeats; the median is reported
    matmul_size: int = 4096  # n of the n x n x n matmul that measures the device's dense FLOP/s
    cuda: bool = True  # also measure on CUDA when it is available

    def validate(self) -> None:
        _check_positive(self, ("batch_size", "cpu_batch_size", "iterations", "repeats", "matmul_size"))
        _check_non_negative(self, ("warmup",))


@dataclass
class ActConfig:
    """ACT at inference and inference-time scaling, on the accuracy suite's model when it matches."""

    train_max_steps: int = 0  # Mmax the evaluated model is trained with (0: the model's halt_max_steps)
    eval_max_segments: tuple[int, ...] = (1, 2, 4, 8, 16, 32)  # inference Mmax values (fixed mode)

    def validate(self) -> None:
        _check_non_negative(self, ("train_max_steps",))
        if not self.eval_max_segments or min(self.eval_max_segments) < 1:
            raise BenchmarkError(f"act.eval_max_segments needs values >= 1, got {self.eval_max_segments!r}")


@dataclass
class RunConfig:
    """Everything one invocation runs with; `to_dict` is what the results JSON and MLflow record."""

    scale: str = "paper"
    model: ModelConfig = field(default_factory=ModelConfig)
    model_overrides: dict[str, Any] = field(default_factory=dict)  # model.* the user set explicitly
    arm_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # arm -> ModelConfig fields
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    throughput: ThroughputConfig = field(default_factory=ThroughputConfig)
    act: ActConfig = field(default_factory=ActConfig)
    tasks: dict[str, Any] = field(default_factory=dict)  # task name -> its config dataclass instance
    task_overrides: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # task -> section -> values

    def train_for(self, task: str) -> TrainConfig:
        """The training-loop settings of `task`: train.* with the task's train.<task>.* on top."""
        return dataclasses.replace(self.train, **self.task_overrides.get(task, {}).get("train", {}))

    def optim_for(self, task: str) -> OptimConfig:
        """The optimiser settings of `task`: optim.* with the task's optim.<task>.* on top."""
        return dataclasses.replace(self.optim, **self.task_overrides.get(task, {}).get("optim", {}))

    def model_for(self, arm: str, shared: ModelConfig | None = None) -> ModelConfig:
        """`arm`'s resolved ModelConfig over `shared` (default: the shared model; the runner passes it sized to
        the task's data): the user's model.* reach every arm but never its identity (see
        `baselines.registry.arm_config`); arm.<arm>.* reach that arm only, identity included."""
        from baselines.registry import arm_config

        return arm_config(arm, shared or self.model, self.arm_overrides.get(arm, {}),
                          shared_overrides=self.model_overrides)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "model": dataclasses.asdict(self.model),
            "model_overrides": dict(self.model_overrides),
            "arm_overrides": {arm: dict(values) for arm, values in self.arm_overrides.items()},
            "optim": dataclasses.asdict(self.optim),
            "train": dataclasses.asdict(self.train),
            "memory": dataclasses.asdict(self.memory),
            "throughput": dataclasses.asdict(self.throughput),
            "act": dataclasses.asdict(self.act),
            "task": {name: dataclasses.asdict(config) for name, config in self.tasks.items()},
            "task_overrides": {task: {section: dict(values) for section, values in sections.items()}
                               for task, sections in self.task_overrides.items()},
        }


# Scale presets: the only place sizes live. Each entry is an override applied over the defaults (= paper).
# Edit here; every value can still be changed with `--set`. Measured outcomes are in the README.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {  # ARC's hyperparameters differ from Sudoku's and Maze's (HRM.md section 5, the reference config)
        "optim.arc.weight_decay": 0.1, "optim.arc.puzzle_emb_lr": 1e-2, "optim.arc.puzzle_emb_weight_decay": 0.1,
    },
    "cpu": {
        "model.hidden_size": 64, "model.num_heads": 4, "model.expansion": 2.0, "model.ffn_multiple": 64,
        "model.puzzle_emb_dim": 64,
        "model.H_layers": 2, "model.L_layers": 2, "model.H_cycles": 2, "model.L_cycles": 2,
        "model.halt_max_steps": 4,
        "arm.trm.L_layers": 2, "arm.trm.H_cycles": 2, "arm.trm.L_cycles": 3, "arm.trm.puzzle_emb_len": 0,
        "optim.lr": 1e-3, "optim.weight_decay": 0.1, "optim.warmup_steps": 100, "optim.arc.puzzle_emb_lr": 1e-2,
        "optim.arc.puzzle_emb_weight_decay": 0.1,
        "train.batch_size": 32, "train.steps": 1500, "train.maze.steps": 1000, "train.arc.steps": 1000,
        "train.eval_interval": 500, "train.log_interval": 25,
        "train.threads": 1, "train.workers": 2,  # two single-thread cases at once use 2 cores best
        "memory.batch_size": 16, "throughput.batch_size": 32, "throughput.cpu_batch_size": 32,
        "throughput.matmul_size": 1024, "throughput.repeats": 3, "throughput.iterations": 3,
        "act.eval_max_segments": (1, 2, 4, 8, 16),
        "task.sudoku.size": 4, "task.sudoku.min_rating": 0, "task.sudoku.train_size": 1000,
        "task.sudoku.test_size": 200, "task.sudoku.num_aug": 0,
        "task.maze.height": 5, "task.maze.width": 5, "task.maze.train_count": 1000, "task.maze.test_count": 200,
        "task.maze.min_path_length": 6,
        "task.arc.canvas": 6, "task.arc.augmentations": 2, "task.arc.max_tasks": 0,
    },
    "smoke": {
        "model.hidden_size": 16, "model.num_heads": 2, "model.expansion": 2.0,
        "model.H_layers": 1, "model.L_layers": 1, "model.H_cycles": 2, "model.L_cycles": 2,
        "model.halt_max_steps": 2, "model.puzzle_emb_dim": 16,
        "arm.trm.H_cycles": 2, "arm.trm.L_cycles": 2, "arm.trm.L_layers": 1, "arm.trm.puzzle_emb_len": 0,
        "optim.lr": 1e-3, "optim.weight_decay": 0.1, "optim.warmup_steps": 2,
        "train.batch_size": 8, "train.steps": 6, "train.eval_interval": 3, "train.log_interval": 2,
        "train.threads": 1,  # tiny ops gain nothing from more threads; shared CI cores lose a lot
        "memory.batch_size": 2, "memory.T_values": (1, 2, 3), "memory.N_values": (1, 2),
        "throughput.batch_size": 8, "throughput.cpu_batch_size": 8, "throughput.warmup": 1,
        "throughput.iterations": 1, "throughput.repeats": 2,
        "throughput.matmul_size": 128,
        "act.eval_max_segments": (1, 2, 4),
        "task.sudoku.size": 4, "task.sudoku.train_size": 32, "task.sudoku.test_size": 16, "task.sudoku.num_aug": 0,
        "task.sudoku.min_rating": 0,
        "task.maze.height": 6, "task.maze.width": 6, "task.maze.train_count": 32, "task.maze.test_count": 16,
        "task.maze.min_path_length": 4,
        "task.arc.canvas": 8, "task.arc.augmentations": 2, "task.arc.max_tasks": 8,
    },
}


def resolve(scale: str, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """The defaults, then the `scale` preset, then the user's `key=value` overrides, validated."""
    if scale not in PRESETS:
        raise BenchmarkError(f"unknown scale {scale!r}; known scales: {', '.join(SCALES)}")
    config = RunConfig(scale=scale, tasks=_default_task_configs())
    preset = [(key, value) for key, value in PRESETS[scale].items() if _preset_applies(key, config)]
    config = _apply(config, preset, explicit=False)
    return apply_overrides(config, overrides)


def apply_overrides(config: RunConfig, overrides: list[str] | tuple[str, ...]) -> RunConfig:
    """A copy of `config` with `["section.field=value", ...]` applied; BenchmarkError naming a bad entry."""
    pairs = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BenchmarkError(f"--set {item!r}: expected key=value, e.g. model.H_cycles=4")
        pairs.append((key.strip(), value.strip()))
    return _apply(config, pairs, explicit=True)


def _apply(config: RunConfig, pairs: list[tuple[str, Any]], *, explicit: bool) -> RunConfig:
    """Parse every pair, then replace each changed section once (so related fields change together)."""
    config = _copy(config)
    changes: dict[tuple[str, str], dict[str, Any]] = {}  # (section, task or "") -> field -> value
    # Precedence: arm registry defaults < preset arm.* < user model.* < user arm.*; so arm.* pairs go last and
    # a user's model.<field> drops the presets' arm.*.<field> entries. Likewise per task: preset
    # train.<task>.* < user train.* < user train.<task>.* (and the same for optim).
    pairs = sorted(pairs, key=lambda pair: pair[0].startswith("arm.") or _is_task_override(pair[0], config))
    for key, raw in pairs:
        section, _, rest = key.partition(".")
        if section == "model":
            value = _parse(key, _field_type(ModelConfig, rest, key), raw)
            changes.setdefault(("model", ""), {})[rest] = value
            if explicit:
                _check_reaches_an_arm(key, rest)
                config.model_overrides[rest] = value
                for values in config.arm_overrides.values():
                    values.pop(rest, None)
        elif section == "arm":
            arm, _, name = rest.partition(".")
            _check_arm(arm, key)
            config.arm_overrides.setdefault(arm, {})[name] = _parse(key, _field_type(ModelConfig, name, key), raw)
        elif section == "task":
            task, _, name = rest.partition(".")
            if task not in config.tasks:
                raise BenchmarkError(f"--set {key}: unknown task {task!r}; known tasks: {', '.join(config.tasks)}")
            value = _parse(key, _field_type(type(config.tasks[task]), name, key), raw)
            changes.setdefault(("task", task), {})[name] = value
        elif _is_task_override(key, config):
            task, _, name = rest.partition(".")
            value = _parse(key, _field_type(type(getattr(config, section)), name, key), raw)
            config.task_overrides.setdefault(task, {}).setdefault(section, {})[name] = value
        elif section in ("optim", "train", "memory", "throughput", "act"):
            value = _parse(key, _field_type(type(getattr(config, section)), rest, key), raw)
            changes.setdefault((section, ""), {})[rest] = value
            if explicit:
                for sections in config.task_overrides.values():
                    sections.get(section, {}).pop(rest, None)
        else:
            raise BenchmarkError(
                f"--set {key}: unknown section {section!r}; known: model, arm, optim, train, memory, throughput, "
                "act, task"
            )
    for (section, task), values in changes.items():
        where = f"{section}.{task}" if task else section
        if section == "task":
            config.tasks[task] = _replace(config.tasks[task], where, **values)
        else:
            setattr(config, section, _replace(getattr(config, section), where, **values))
    for section in (config.train, config.memory, config.throughput, config.act):
        section.validate()
    for task, sections in config.task_overrides.items():
        for section, values in sections.items():
            merged = _replace(getattr(config, section), f"{section}.{task}", **values)
            if section == "train":
                merged.validate()
    return config


def _copy(config: RunConfig) -> RunConfig:
    return dataclasses.replace(
        config,
        model_overrides=dict(config.model_overrides),
        arm_overrides={arm: dict(values) for arm, values in config.arm_overrides.items()},
        tasks=dict(config.tasks),
        task_overrides={task: {section: dict(values) for section, values in sections.items()}
                        for task, sections in config.task_overrides.items()},
    )


def _replace(target: Any, key: str, **changes: Any) -> Any:
    """dataclasses.replace that turns the target's own validation error into a BenchmarkError."""
    try:
        return dataclasses.replace(target, **changes)
    except (ConfigError, ValueError) as error:  # hrm's ConfigError and tasks' TaskError are ValueErrors
        raise BenchmarkError(f"{key}: {error}") from error


def _field_type(cls: type, name: str, key: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls) if f.init]
    if name not in fields:
        raise BenchmarkError(f"--set {key}: {cls.__name__} has no field {name!r}; known: {', '.join(fields)}")
    return hints[name]


def _parse(key: str, hint: Any, raw: Any) -> Any:
    """`raw` (a command-line string, or a preset's Python value) converted to the field's declared type."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if raw is None or (isinstance(raw, str) and raw.lower() in ("none", "null")):
            return None
        return _parse(key, next(arg for arg in args if arg is not type(None)), raw)
    if origin is typing.Literal:
        if raw not in args:
            raise BenchmarkError(f"--set {key}: must be one of {', '.join(map(str, args))}, got {raw!r}")
        return raw
    if origin is tuple:
        items = raw if isinstance(raw, tuple | list) else [part for part in str(raw).split(",") if part.strip()]
        return tuple(_parse(key, args[0], item) for item in items)
    if not isinstance(raw, str):
        if hint is float and isinstance(raw, int) and not isinstance(raw, bool):
            return float(raw)
        if not isinstance(raw, hint) or (hint is int and isinstance(raw, bool)):
            raise BenchmarkError(f"preset {key}: expected {hint.__name__}, got {raw!r}")
        return raw
    if hint is bool:
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise BenchmarkError(f"--set {key}: expected a boolean (true/false), got {raw!r}")
        return raw.lower() in ("true", "1", "yes")
    if hint in (int, float):
        try:
            value = hint(raw)
        except ValueError:
            kind = "an integer" if hint is int else "a number"
            raise BenchmarkError(f"--set {key}: expected {kind}, got {raw!r}") from None
        if not math.isfinite(value):
            raise BenchmarkError(f"--set {key}: expected a finite number, got {raw!r}")
        return value
    if hint is str:
        return raw
    raise BenchmarkError(f"--set {key}: fields of type {hint} cannot be set from the command line")


def _default_task_configs() -> dict[str, Any]:
    from tasks.registry import TASKS

    return {name: task.config_class() for name, task in TASKS.items()}


def _is_task_override(key: str, config: RunConfig) -> bool:
    """`train.<task>.<field>` or `optim.<task>.<field>` for a registered task."""
    parts = key.split(".")
    return len(parts) == 3 and parts[0] in ("train", "optim") and parts[1] in config.tasks


def _preset_applies(key: str, config: RunConfig) -> bool:
    """Preset entries for a task that is not registered (yet) are skipped rather than rejected."""
    parts = key.split(".")
    if parts[0] == "task" or (parts[0] in ("train", "optim") and len(parts) == 3):
        return parts[1] in config.tasks
    return True


def _check_reaches_an_arm(key: str, name: str) -> None:
    """A shared model.<name> that every arm's identity fixes would change nothing: say how to change one arm."""
    from baselines.registry import ARMS, arms_fixing

    fixed = arms_fixing(name)
    if len(fixed) == len(ARMS):
        values = ", ".join(f"{arm}={value}" for arm, value in fixed.items())
        raise BenchmarkError(f"--set {key}: {name} defines each arm ({values}), so a setting shared by every arm "
                             f"cannot change it; set it for one arm with arm.<arm>.{name}=...")


def _check_arm(arm: str, key: str) -> None:
    from baselines.registry import ARMS

    if arm not in ARMS:
        raise BenchmarkError(f"--set {key}: unknown arm {arm!r}; known arms: {', '.join(ARMS)}")


def _check_positive(section: Any, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(section, name) < 1:
            raise BenchmarkError(f"{_section_name(section)}.{name} must be >= 1, got {getattr(section, name)!r}")


def _check_non_negative(section: Any, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(section, name) < 0:
            raise BenchmarkError(f"{_section_name(section)}.{name} must be >= 0, got {getattr(section, name)!r}")


def _check_choice(section: Any, name: str, allowed: tuple[str, ...]) -> None:
    if getattr(section, name) not in allowed:
        raise BenchmarkError(
            f"{_section_name(section)}.{name} must be one of {', '.join(allowed)}, got {getattr(section, name)!r}"
        )


def _section_name(section: Any) -> str:
    return type(section).__name__.removesuffix("Config").lower()
