"""Arm registry: name -> how to configure and build the model, one line per arm.

The runner never knows an arm's specifics: each `ArmSpec` declares the arm's constructor, its identity, its
defaults, its settings at each scale and the names of its loops; `benchmarks.config` folds them into each
case's settings and `build_arm` builds it. `arm_config` applies the same layers to a plain ModelConfig for
library use (tests, notebooks) without the runner's scales and command line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from baselines.transformer import build_transformer, build_transformer_act, build_transformer_deep
from baselines.trm import LOOP_NAMES as TRM_LOOP_NAMES
from baselines.trm import build_trm
from hrm.config import ModelConfig
from hrm.errors import ConfigError
from hrm.interface import ReasoningModel
from hrm.model import LOOP_NAMES as HRM_LOOP_NAMES
from hrm.model import build_hrm


@dataclass(frozen=True)
class ArmSpec:
    """One arm: its constructor from a resolved `ModelConfig`, the settings that make it this arm, and its
    overridable defaults.

    `identity`: the config fields that define the arm (a single pass, the gradient mode, the halting rule).
    A setting shared by every arm (`model.*` on the command line) never changes them; only the arm's own
    overrides (`arm.<arm>.*`) do. Fields an arm does not read hold the shared default in its identity, so a
    shared override of them cannot claim to have changed the arm.
    `defaults`: the arm's own starting values (TRM's depth and loop counts), which shared overrides do change.
    `scales`: scale -> {"model.<field>": value}, the arm's own sizes at that scale (over the shared ones).
    `loop_names`: what H_cycles and L_cycles mean for this arm, so the memory suite and sweeps say what they vary.
    """

    build: Callable[[ModelConfig], ReasoningModel]
    description: str
    identity: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    scales: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    loop_names: Mapping[str, str] = field(default_factory=lambda: dict(HRM_LOOP_NAMES))


_OUTER_LOOP = {"gradient_mode": "one_step", "halting": "q_learning"}  # HRM's halting; the core's own gradient
_SINGLE_PASS = {"halt_max_steps": 1, "halting": "exact", "gradient_mode": "one_step"}

ARMS: dict[str, ArmSpec] = {
    "hrm": ArmSpec(build_hrm, "HRM, one-step gradient, ACT", _OUTER_LOOP),
    "hrm-bptt": ArmSpec(build_hrm, "HRM with gradients through every step of the segment",
                        {**_OUTER_LOOP, "gradient_mode": "bptt"}),
    "transformer": ArmSpec(build_transformer, "H_layers + L_layers blocks, single pass", _SINGLE_PASS),
    "transformer-deep": ArmSpec(
        build_transformer_deep, "N*T*L_layers + N*H_layers blocks, single pass", _SINGLE_PASS
    ),
    "transformer-act": ArmSpec(build_transformer_act, "H_layers + L_layers blocks in the ACT outer loop", _OUTER_LOOP),
    "trm": ArmSpec(
        build_trm,
        "Tiny Recursive Model: one network, T recursions of n latent updates, EMA weights",
        {"halting": "exact", "gradient_mode": "one_step"},
        {"L_layers": 2, "H_cycles": 3, "L_cycles": 6, "puzzle_emb_len": 16},
        scales={
            "smoke": {"model.H_cycles": 2, "model.L_cycles": 2, "model.L_layers": 1, "model.puzzle_emb_len": 0},
            "cpu": {"model.L_layers": 2, "model.H_cycles": 2, "model.L_cycles": 3, "model.puzzle_emb_len": 0},
        },
        loop_names=TRM_LOOP_NAMES,
    ),
}


# The arm a checkpoint of the reference implementation (sapientinc/HRM) is, for `benchmarks.checkpoints`.
REFERENCE_ARM = "hrm"


def get_arm(name: str) -> ArmSpec:
    """The registered arm called `name`; ConfigError listing the known arms otherwise."""
    try:
        return ARMS[name]
    except KeyError:
        raise ConfigError(f"unknown arm {name!r}; known arms: {', '.join(ARMS)}") from None


def arm_config(name: str, shared_config: ModelConfig, overrides: Mapping[str, Any] | None = None) -> ModelConfig:
    """Arm `name` over `shared_config`: the arm's defaults, then its identity, then `overrides` (this arm only,
    identity included), validated. The runner's layers (`benchmarks.config`) add scales and the command line."""
    spec = get_arm(name)
    overrides = dict(overrides or {})
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown ModelConfig field(s) in overrides for arm {name!r}: {', '.join(unknown)}")
    return shared_config.replace(**{**spec.defaults, **spec.identity, **overrides})


def arms_fixing(field_name: str) -> dict[str, Any]:
    """arm -> value, for every registered arm whose identity fixes the ModelConfig field `field_name`."""
    return {name: spec.identity[field_name] for name, spec in ARMS.items() if field_name in spec.identity}


def build_arm(name: str, config: ModelConfig) -> ReasoningModel:
    """Build arm `name` from its resolved config (see `arm_config`); no defaults are applied here."""
    return get_arm(name).build(config)
