"""Arm registry: name -> how to configure and build the model, one line per arm.

The runner never knows an arm's specifics: it resolves the arm's config with `arm_config` (the arm's
defaults applied over the shared config, then the user's explicit overrides), builds it with `build_arm`,
and prints `describe_arms` for `--dry-run`.
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
    """One arm: its constructor from a resolved `ModelConfig` and the config fields it sets by default."""

    build: Callable[[ModelConfig], ReasoningModel]
    description: str
    defaults: Mapping[str, Any] = field(default_factory=dict)


_SINGLE_PASS = {"halt_max_steps": 1, "halting": "exact"}

ARMS: dict[str, ArmSpec] = {
    "hrm": ArmSpec(build_hrm, "HRM, one-step gradient, ACT"),
    "hrm-bptt": ArmSpec(build_hrm, "HRM with gradients through every step of the segment", {"gradient_mode": "bptt"}),
    "transformer": ArmSpec(build_transformer, "H_layers + L_layers blocks, single pass", _SINGLE_PASS),
    "transformer-deep": ArmSpec(
        build_transformer_deep, "N*T*L_layers + N*H_layers blocks, single pass", _SINGLE_PASS
    ),
    "transformer-act": ArmSpec(build_transformer_act, "H_layers + L_layers blocks in the ACT outer loop"),
    "trm": ArmSpec(
        build_trm,
        "Tiny Recursive Model: one network, T recursions of n latent updates, EMA weights",
        {"L_layers": 2, "H_cycles": 3, "L_cycles": 6, "halting": "exact", "puzzle_emb_len": 16},
    ),
}


def get_arm(name: str) -> ArmSpec:
    """The registered arm called `name`; ConfigError listing the known arms otherwise."""
    try:
        return ARMS[name]
    except KeyError:
        raise ConfigError(f"unknown arm {name!r}; known arms: {', '.join(ARMS)}") from None


def arm_config(name: str, shared_config: ModelConfig, user_overrides: Mapping[str, Any] | None = None) -> ModelConfig:
    """`shared_config` with the arm's defaults applied, then `user_overrides` (which win), validated."""
    overrides = dict(user_overrides or {})
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown ModelConfig field(s) in overrides for arm {name!r}: {', '.join(unknown)}")
    return shared_config.replace(**{**get_arm(name).defaults, **overrides})


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
