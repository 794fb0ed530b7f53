"""Arm registry: name -> how to configure and build the model, one line per arm.

The runner never knows an arm's specifics: it resolves the arm's config with `arm_config` (the arm's
defaults over the shared config, shared overrides, the arm's identity, then the arm's own overrides) and
builds it with `build_arm`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from baselines.transformer import build_transformer, build_transformer_act, build_transformer_deep
from baselines.trm import build_trm
from hrm.config import ModelConfig
from hrm.errors import ConfigError
from hrm.interface import ReasoningModel
from hrm.layers import count_parameters
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
    """

    build: Callable[[ModelConfig], ReasoningModel]
    description: str
    identity: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)


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
    ),
}


def get_arm(name: str) -> ArmSpec:
    """The registered arm called `name`; ConfigError listing the known arms otherwise."""
    try:
        return ARMS[name]
    except KeyError:
        raise ConfigError(f"unknown arm {name!r}; known arms: {', '.join(ARMS)}") from None


def arm_config(
    name: str,
    shared_config: ModelConfig,
    arm_overrides: Mapping[str, Any] | None = None,
    *,
    shared_overrides: Mapping[str, Any] | None = None,
) -> ModelConfig:
    """The arm's resolved config, validated.

    Precedence, lowest first: `shared_config`, the arm's defaults, `shared_overrides` (settings meant for
    every arm) except the fields of the arm's identity, the arm's identity, `arm_overrides` (this arm only:
    they may change its identity too).
    """
    spec = get_arm(name)
    shared_overrides, arm_overrides = dict(shared_overrides or {}), dict(arm_overrides or {})
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted((set(shared_overrides) | set(arm_overrides)) - known)
    if unknown:
        raise ConfigError(f"unknown ModelConfig field(s) in overrides for arm {name!r}: {', '.join(unknown)}")
    shared = {key: value for key, value in shared_overrides.items() if key not in spec.identity}
    return shared_config.replace(**{**spec.defaults, **shared, **spec.identity, **arm_overrides})


def arms_fixing(field_name: str) -> dict[str, Any]:
    """arm -> value, for every registered arm whose identity fixes the ModelConfig field `field_name`."""
    return {name: spec.identity[field_name] for name, spec in ARMS.items() if field_name in spec.identity}


def build_arm(name: str, config: ModelConfig) -> ReasoningModel:
    """Build arm `name` from its resolved config (see `arm_config`); no defaults are applied here."""
    return get_arm(name).build(config)


def describe_arms(
    names: Iterable[str], config: ModelConfig, user_overrides: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """For each arm: {arm, parameters, block_applications_per_segment} at its resolved config.

    The models are built on the meta device (shapes only: no memory, no initialisation), so describing
    paper-scale arms is cheap.
    """
    rows = []
    for name in names:
        with torch.device("meta"):
            model = build_arm(name, arm_config(name, config, user_overrides))
        rows.append({
            "arm": name,
            "parameters": count_parameters(model),
            "block_applications_per_segment": model.block_applications_per_segment(),
        })
    return rows
