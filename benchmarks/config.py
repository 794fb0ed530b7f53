"""Run settings: layers of `section.field=value` settings folded, by one pure function, into each case's settings.

Every setting has one key language, the one `--set` uses:

    model.<field>            ModelConfig, shared by every arm
    arm.<arm>.<field>        ModelConfig, one arm only
    optim.<field>, optim.<task>.<field>     OptimConfig, every task or one task
    train.<field>, train.<task>.<field>     TrainConfig (the training engine), every task or one task
    task.<task>.<field>      the task's own config dataclass (tasks.registry)
    <suite>.<field>          a suite's own settings (benchmarks.suites.SUITES; e.g. memory.batch_size)

Nothing here names a task, an arm or a suite: the scale presets of each one live in its registry entry
(`Task.scales`, `ArmSpec.scales`, `Suite.scales`), and this module keeps only the shared ones
(`SHARED_SCALES`: model, optim and train sizes). For one case (task, arm) the layers are, lowest first:

    default          the dataclasses' defaults (the paper's configuration)
    scale <s>        SHARED_SCALES[s] and every suite's own scale settings
    task <t>         the task's settings at that scale (its config, and its own train.* and optim.*)
    arm <a>          the arm's defaults, then its settings at that scale
    user             the user's shared keys: model.*, optim.*, train.*, <suite>.*
    arm <a> identity what makes the arm that arm (single pass, gradient mode, halting): no shared key moves it
    user             the user's keys for this task or arm: arm.<a>.*, optim.<t>.*, train.<t>.*, task.<t>.*

`fold` turns the layers into {key: (value, source)}; `RunConfig.case` builds the typed configs from it. So
`--set model.L_cycles=4` reaches every arm (TRM included, whose defaults differ), `--set model.halt_max_steps=8`
leaves the single-pass arms single-pass, and a shared key that every arm's identity fixes
(`model.gradient_mode`, `model.halting`) is an error pointing to `arm.<arm>.*`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.errors import BenchmarkError
from hrm.config import ModelConfig, OptimConfig
from hrm.errors import ConfigError
from tasks.base import TaskError
from tasks.values import parse_value

Layer = tuple[str, Mapping[str, Any]]  # (source, {canonical key: value})
Folded = dict[str, tuple[Any, str]]  # canonical key -> (value, the layer it came from)


@dataclass
class TrainConfig:
    """The training engine; defaults are the paper's Sudoku/Maze run (HRM.md section 5)."""

    batch_size: int = 768
    steps: int = 26041  # optimiser steps (20000 epochs of 1000 puzzles at batch 768)
    eval_interval: int = 2000  # steps between test evaluations (0: only at the end)
    eval_mode: str = "fixed"  # "fixed" (every example runs the whole budget, the reference) or "act" (Q-head halts)
    eval_halt_max_steps: int = 0  # the inference segment budget; 0 means the model's halt_max_steps
    checkpoint_interval: int = 0  # steps between checkpoints (0: at every evaluation); the ACT carry restarts there
    log_interval: int = 100  # steps per point of the training curves (and the early-stop window)
    early_stop_exact_accuracy: float = 0.0  # stop once training exact accuracy over a window reaches it (0: off)
    seeds: tuple[int, ...] = (0,)  # model seeds trained when --seeds is not given
    data_seed: int = 0  # seed of the generated datasets
    cache_dir: str = "results/cache"  # generated datasets are cached here ("" = rebuild every time)
    threads: int = 0  # torch CPU threads per process (0: torch's default, or cores / workers with workers > 1)
    workers: int = 1  # accuracy cases trained at once in separate processes (1: one after another, in-process)
    progress: bool = True  # tqdm progress bar (shown only on a terminal)

    def __post_init__(self) -> None:
        check_positive(self, "train", ("batch_size", "steps", "log_interval", "workers"))
        if not self.seeds or min(self.seeds) < 0 or len(set(self.seeds)) < len(self.seeds):
            raise BenchmarkError(f"train.seeds must be distinct integers >= 0, got {self.seeds!r}")
        check_non_negative(self, "train", ("eval_interval", "eval_halt_max_steps", "checkpoint_interval", "threads"))
        if self.eval_mode not in ("fixed", "act"):
            raise BenchmarkError(f"train.eval_mode must be one of fixed, act, got {self.eval_mode!r}")
        if not 0.0 <= self.early_stop_exact_accuracy <= 1.0:
            raise BenchmarkError(
                f"train.early_stop_exact_accuracy must be in [0, 1], got {self.early_stop_exact_accuracy!r}"
            )


# The shared sizes of each scale (every task, arm and suite adds its own in its registry entry). Every value
# can still be changed with `--set`; measured outcomes are in the README.
SHARED_SCALES: dict[str, dict[str, Any]] = {
    "paper": {},
    "cpu": {
        "model.hidden_size": 64, "model.num_heads": 4, "model.expansion": 2.0, "model.ffn_multiple": 64,
        "model.puzzle_emb_dim": 64,
        "model.H_layers": 2, "model.L_layers": 2, "model.H_cycles": 2, "model.L_cycles": 2,
        "model.halt_max_steps": 4,
        "optim.lr": 1e-3, "optim.weight_decay": 0.1, "optim.warmup_steps": 100,
        "train.batch_size": 32, "train.steps": 1500, "train.eval_interval": 500, "train.log_interval": 25,
        "train.threads": 1, "train.workers": 2,  # two single-thread cases at once use 2 cores best
        "train.seeds": (0, 1, 2),  # the claims need an interval over seeds
    },
    "smoke": {
        "model.hidden_size": 16, "model.num_heads": 2, "model.expansion": 2.0,
        "model.H_layers": 1, "model.L_layers": 1, "model.H_cycles": 2, "model.L_cycles": 2,
        "model.halt_max_steps": 2, "model.puzzle_emb_dim": 16,
        "optim.lr": 1e-3, "optim.weight_decay": 0.1, "optim.warmup_steps": 2,
        "train.batch_size": 8, "train.steps": 6, "train.eval_interval": 3, "train.log_interval": 2,
        "train.threads": 1,  # tiny ops gain nothing from more threads; shared CI cores lose a lot
    },
}


@dataclass(frozen=True)
class Override:
    """One user setting: `key` as written, the case key it sets (`target`), for whom, and its typed value."""

    key: str  # "arm.hrm.H_cycles"
    target: str  # "model.H_cycles"
    value: Any
    arm: str | None = None  # set for this arm only
    task: str | None = None  # set for this task only

    @property
    def shared(self) -> bool:
        return self.arm is None and self.task is None

    def text(self) -> str:
        value = ",".join(map(str, self.value)) if isinstance(self.value, tuple) else self.value
        return f"{self.key}={value}"


@dataclass(frozen=True)
class CaseSettings:
    """The resolved settings of one case (task, arm; either may be None for what does not depend on it)."""

    task: str | None
    arm: str | None
    folded: Mapping[str, tuple[Any, str]]  # every setting that is not at its default: value and source
    model: ModelConfig | None  # without the dataset's sizes (see `RunConfig.model_for`); None without an arm
    optim: OptimConfig
    train: TrainConfig
    task_config: Any  # None without a task
    suites: Mapping[str, Any]  # suite name -> its settings dataclass

    def source(self, key: str) -> str:
        """Which layer set `key` (a canonical key such as model.H_cycles): 'default' when none did."""
        return self.folded.get(key, (None, "default"))[1]


def fold(layers: Sequence[Layer]) -> Folded:
    """{key: (value, source)} with each key's value from the last layer that sets it. Pure: no registry, no I/O."""
    folded: Folded = {}
    for source, values in layers:
        for key, value in values.items():
            folded[key] = (value, source)
    return folded


@dataclass(frozen=True)
class RunConfig:
    """A scale and the user's overrides; every resolved setting is computed from them and the registries."""

    scale: str = "paper"
    overrides: tuple[Override, ...] = field(default_factory=tuple)

    def with_overrides(self, items: Iterable[str]) -> RunConfig:
        """A copy with more `key=value` overrides (later ones win), validated."""
        config = RunConfig(self.scale, (*self.overrides, *parse_overrides(items)))
        config.validate()
        return config

    # ------------------------------------------------------------------------------------------- layers
    def layers(self, task: str | None = None, arm: str | None = None) -> list[Layer]:
        """The layers of one case, lowest first (see the module docstring)."""
        from baselines.registry import get_arm

        layers: list[Layer] = [(f"scale {self.scale}", _typed(self._shared_scale(), f"scale {self.scale}", task))]
        if task is not None:
            task_class = _task_class(task)
            where = f"task {task} at scale {self.scale}"
            layers.append((f"task {task}", _typed(_prefixed_only(task_class.scales.get(self.scale, {}),
                                                                 ("task", "train", "optim"), where), where, task)))
        if arm is not None:
            spec = get_arm(arm)
            layers.append((f"arm {arm}", _typed(_model_keys(spec.defaults), f"arm {arm}", task)))
            where = f"arm {arm} at scale {self.scale}"
            scale_values = _prefixed_only(spec.scales.get(self.scale, {}), ("model",), where)
            layers.append((f"arm {arm}", _typed(scale_values, where, task)))
        layers.append(("user", {o.target: o.value for o in self.overrides if o.shared}))
        if arm is not None:
            layers.append((f"arm {arm} identity", _typed(_model_keys(get_arm(arm).identity), f"arm {arm}", task)))
        specific = [o for o in self.overrides if not o.shared and o.arm in (None, arm) and o.task in (None, task)]
        layers.append(("user", {o.target: o.value for o in specific}))
        return layers

    def _shared_scale(self) -> dict[str, Any]:
        from benchmarks.suites import SUITES

        values = dict(SHARED_SCALES.get(self.scale, {}))  # a scale only registry entries declare shares none
        for name, suite in SUITES.items():
            values.update(_prefixed_only(suite.scales.get(self.scale, {}), (name,), f"suite {name}"))
        return values

    # ------------------------------------------------------------------------------------------ resolved
    def case(self, task: str | None = None, arm: str | None = None) -> CaseSettings:
        """The typed settings of one case; BenchmarkError naming the section of an invalid combination."""
        from benchmarks.suites import SUITES

        folded = fold(self.layers(task, arm))
        sections: dict[str, dict[str, Any]] = {}
        for key, (value, _) in folded.items():
            section, _, name = key.partition(".")
            sections.setdefault(section, {})[name] = value
        scope = f".{task}" if task else ""
        optim = _build(OptimConfig, sections.get("optim", {}), f"optim{scope}")
        train = _build(TrainConfig, sections.get("train", {}), f"train{scope}")
        task_config = _build(_task_class(task).config_class, sections.get("task", {}), f"task.{task}") if task else None
        model = _build(ModelConfig, sections.get("model", {}), f"arm {arm}" if arm else "model") if arm else None
        suites = {name: _build(suite.settings_class, sections.get(name, {}), name)
                  for name, suite in SUITES.items() if suite.settings_class is not None}
        return CaseSettings(task, arm, folded, model, optim, train, task_config, suites)

    @property
    def train(self) -> TrainConfig:
        """The settings shared by every task (threads, workers, cache, data seed, ...)."""
        return self.case().train

    def train_for(self, task: str) -> TrainConfig:
        return self.case(task).train

    def optim_for(self, task: str) -> OptimConfig:
        return self.case(task).optim

    def task_config(self, task: str) -> Any:
        return self.case(task).task_config

    def suite(self, name: str) -> Any:
        """The settings dataclass of suite `name`."""
        return self.case().suites[name]

    def model_for(self, arm: str, task: str | None = None, data: Mapping[str, int] | None = None) -> ModelConfig:
        """`arm`'s ModelConfig for `task`, sized to `data` (vocab_size, seq_len, num_puzzle_identifiers)."""
        model = self.case(task, arm).model
        try:
            return model.replace(**(data or {}))
        except ConfigError as error:
            raise BenchmarkError(f"arm {arm!r}: {error}") from error

    def validate(self) -> None:
        """Resolve every registered task and arm once, so a bad combination fails before any work."""
        from baselines.registry import ARMS
        from tasks.registry import TASKS

        self.case()
        for task in TASKS:
            self.case(task)
        for arm in ARMS:
            self.case(None, arm)

    def to_dict(self) -> dict[str, Any]:
        """What results.json, run.json and MLflow record: the shared settings, each suite's, each task's config,
        and what differs from the shared settings per task (train, optim) and per arm (model)."""
        from baselines.registry import ARMS
        from tasks.registry import TASKS

        shared = self.case()
        base_model = _build(ModelConfig, {key.partition(".")[2]: value for key, (value, _) in
                                          fold(self.layers()).items() if key.startswith("model.")}, "model")
        document: dict[str, Any] = {
            "scale": self.scale,
            "overrides": [override.text() for override in self.overrides],
            "model": dataclasses.asdict(base_model),
            "optim": dataclasses.asdict(shared.optim),
            "train": dataclasses.asdict(shared.train),
            **{name: dataclasses.asdict(settings) for name, settings in shared.suites.items()},
            "task": {}, "per_task": {}, "per_arm": {},
        }
        for task in TASKS:
            case = self.case(task)
            document["task"][task] = dataclasses.asdict(case.task_config)
            changed = {section: _changed(dataclasses.asdict(getattr(case, section)), document[section])
                       for section in ("train", "optim")}
            if any(changed.values()):
                document["per_task"][task] = {section: values for section, values in changed.items() if values}
        for arm in ARMS:
            changed = _changed(dataclasses.asdict(self.case(None, arm).model), document["model"])
            if changed:
                document["per_arm"][arm] = changed
        return document


def scales() -> list[str]:
    """Every scale a preset is declared for: the shared ones and any a task, arm or suite adds."""
    from baselines.registry import ARMS
    from benchmarks.suites import SUITES
    from tasks.registry import TASKS

    found = dict.fromkeys(SHARED_SCALES)
    for entry in (*TASKS.values(), *ARMS.values(), *SUITES.values()):
        found.update(dict.fromkeys(entry.scales))
    return list(found)


def resolve(scale: str, overrides: Iterable[str] = ()) -> RunConfig:
    """The run settings at `scale` with the user's `key=value` overrides, validated."""
    known = scales()
    if scale not in known:
        raise BenchmarkError(f"unknown scale {scale!r}; known scales: {', '.join(known)}")
    return RunConfig(scale).with_overrides(overrides)


def parse_overrides(items: Iterable[str]) -> list[Override]:
    """`["section.field=value", ...]` as typed Overrides; one BenchmarkError names a bad entry."""
    return [_override(item) for item in items]


def _override(item: str) -> Override:
    key, sep, raw = item.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise BenchmarkError(f"--set {item!r}: expected key=value, e.g. model.H_cycles=4")
    from baselines.registry import ARMS
    from benchmarks.suites import SUITES
    from tasks.registry import TASKS

    parts = key.split(".")
    section = parts[0]
    if section == "model" and len(parts) == 2:
        _check_reaches_an_arm(key, parts[1])
        return Override(key, key, _value(key, ModelConfig, parts[1], raw))
    if section == "arm" and len(parts) == 3:
        if parts[1] not in ARMS:
            raise BenchmarkError(f"--set {key}: unknown arm {parts[1]!r}; known arms: {', '.join(ARMS)}")
        return Override(key, f"model.{parts[2]}", _value(key, ModelConfig, parts[2], raw), arm=parts[1])
    if section == "task" and len(parts) == 3:
        if parts[1] not in TASKS:
            raise BenchmarkError(f"--set {key}: unknown task {parts[1]!r}; known tasks: {', '.join(TASKS)}")
        value = _value(key, TASKS[parts[1]].config_class, parts[2], raw)
        return Override(key, f"task.{parts[2]}", value, task=parts[1])
    if section in ("optim", "train") and len(parts) in (2, 3):
        cls = OptimConfig if section == "optim" else TrainConfig
        if len(parts) == 2:
            return Override(key, key, _value(key, cls, parts[1], raw))
        if parts[1] not in TASKS:
            raise BenchmarkError(f"--set {key}: unknown task {parts[1]!r}; known tasks: {', '.join(TASKS)}")
        return Override(key, f"{section}.{parts[2]}", _value(key, cls, parts[2], raw), task=parts[1])
    suite = SUITES.get(section)
    if suite is not None and suite.settings_class is not None and len(parts) == 2:
        return Override(key, key, _value(key, suite.settings_class, parts[1], raw))
    sections = ["model", "arm", "optim", "train", "task",
                *(name for name, entry in SUITES.items() if entry.settings_class is not None)]
    if section in sections:
        raise BenchmarkError(f"--set {key}: expected {_key_forms(section)}")
    raise BenchmarkError(f"--set {key}: unknown section {section!r}; known: {', '.join(sections)}")


def _key_forms(section: str) -> str:
    return {"model": "model.<field>", "arm": "arm.<arm>.<field>", "task": "task.<task>.<field>",
            "optim": "optim.<field> or optim.<task>.<field>",
            "train": "train.<field> or train.<task>.<field>"}.get(section, f"{section}.<field>")


def _value(key: str, cls: type, name: str, raw: Any) -> Any:
    """`raw` converted to the type of `cls.name`; BenchmarkError naming `key` otherwise."""
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls) if f.init]
    if name not in fields:
        raise BenchmarkError(f"--set {key}: {cls.__name__} has no field {name!r}; known: {', '.join(fields)}")
    try:
        return parse_value(f"--set {key}" if isinstance(raw, str) else key, hints[name], raw)
    except TaskError as error:
        raise BenchmarkError(str(error)) from None


def _typed(values: Mapping[str, Any], where: str, task: str | None) -> dict[str, Any]:
    """A registry's preset values checked against (and converted to) their fields' types."""
    from benchmarks.suites import SUITES

    typed = {}
    for key, value in values.items():
        section, _, name = key.partition(".")
        classes = {"model": ModelConfig, "optim": OptimConfig, "train": TrainConfig}
        if section == "task":
            cls = _task_class(task).config_class if task else None
        else:
            cls = classes.get(section) or getattr(SUITES.get(section), "settings_class", None)
        if cls is None:
            raise BenchmarkError(f"{where}: {key} is not a setting of a known section")
        typed[key] = _value(f"{where}: {key}", cls, name, value)
    return typed


def _prefixed_only(values: Mapping[str, Any], sections: tuple[str, ...], where: str) -> Mapping[str, Any]:
    """`values`, checked to name only `sections` (a task's preset cannot set another task's settings)."""
    stray = [key for key in values if key.partition(".")[0] not in sections]
    if stray:
        raise BenchmarkError(f"{where}: {', '.join(stray)} must start with {' or '.join(f'{s}.' for s in sections)}")
    return values


def _model_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f"model.{name}": value for name, value in values.items()}


def _build(cls: type, values: Mapping[str, Any], where: str) -> Any:
    """`cls(**values)`, its own validation error turned into a BenchmarkError naming `where`."""
    try:
        return cls(**values)
    except BenchmarkError:
        raise
    except (ConfigError, ValueError) as error:  # hrm's ConfigError and tasks' TaskError are ValueErrors
        raise BenchmarkError(f"{where}: {error}") from error


def _changed(values: Mapping[str, Any], shared: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if shared.get(name) != value}


def _task_class(name: str) -> type:
    from tasks.registry import get_task_class

    return get_task_class(name)


def _check_reaches_an_arm(key: str, name: str) -> None:
    """A shared model.<name> that every arm's identity fixes would change nothing: say how to change one arm."""
    from baselines.registry import ARMS, arms_fixing

    fixed = arms_fixing(name)
    if len(fixed) == len(ARMS):
        values = ", ".join(f"{arm}={value}" for arm, value in fixed.items())
        raise BenchmarkError(f"--set {key}: {name} defines each arm ({values}), so a setting shared by every arm "
                             f"cannot change it; set it for one arm with arm.<arm>.{name}=...")


def check_positive(section: Any, name: str, fields: tuple[str, ...]) -> None:
    """BenchmarkError naming `name.field` for the first of `fields` below 1."""
    for field_name in fields:
        if getattr(section, field_name) < 1:
            raise BenchmarkError(f"{name}.{field_name} must be >= 1, got {getattr(section, field_name)!r}")


def check_non_negative(section: Any, name: str, fields: tuple[str, ...]) -> None:
    """BenchmarkError naming `name.field` for the first of `fields` below 0."""
    for field_name in fields:
        if getattr(section, field_name) < 0:
            raise BenchmarkError(f"{name}.{field_name} must be >= 0, got {getattr(section, field_name)!r}")
