"""Reference models (sapientinc/HRM) in our terms: their configs as `ModelConfig`, their state dicts as ours.

The reference saves its loss-head wrapper, so keys look like `model.inner.H_level.layers.0.self_attn...`,
prefixed with `_orig_mod.` when the model was compiled. Its non-persistent buffers (RoPE tables, the
puzzle embedding's per-batch copies) are not in the file; its initial states are bf16 and become fp32 here.
Its configs come either as the model config dict it builds (`HierarchicalReasoningModel_ACTV1Config`) or as
the `arch` section of a run's `all_config.yaml`, which leaves the dataset's sizes to its `dataset.json`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from hrm.act import ACTModel
from hrm.config import ModelConfig
from hrm.errors import ConfigError

REFERENCE_ARCH_NAME = "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1"
REFERENCE_LOSS_NAME = "losses@ACTLossHead"

# The reference's model config keys and the ModelConfig field each one sets.
_REFERENCE_FIELDS = {
    "seq_len": "seq_len",
    "vocab_size": "vocab_size",
    "num_puzzle_identifiers": "num_puzzle_identifiers",
    "puzzle_emb_ndim": "puzzle_emb_dim",
    "hidden_size": "hidden_size",
    "num_heads": "num_heads",
    "expansion": "expansion",
    "H_layers": "H_layers",
    "L_layers": "L_layers",
    "H_cycles": "H_cycles",
    "L_cycles": "L_cycles",
    "halt_max_steps": "halt_max_steps",
    "halt_exploration_prob": "halt_exploration_prob",
    "pos_encodings": "pos_encodings",
    "rope_theta": "rope_theta",
    "rms_norm_eps": "rms_norm_eps",
}
# The keys the reference gives a default; every other key of _REFERENCE_FIELDS is required there and here.
_REFERENCE_DEFAULTS = {"puzzle_emb_ndim": 0, "rope_theta": 10000.0, "rms_norm_eps": 1e-5}
_REFERENCE_FLOATS = ("expansion", "halt_exploration_prob", "rope_theta", "rms_norm_eps")
_REFERENCE_POSITIONS = ("rope", "learned")
_REFERENCE_LOSS_TYPES = {"stablemax_cross_entropy": "stablemax", "softmax_cross_entropy": "softmax"}
# Keys that set nothing here. batch_size: the per-device batch, a training setting. forward_dtype: our model
# takes its precision from the device (bf16 autocast on CUDA, fp32 on CPU), so both of the reference's are
# accepted. causal: pretrain.py passes False and the reference ignores it; True would mean another model.
_REFERENCE_FORWARD_DTYPES = ("bfloat16", "float32")
_REFERENCE_OTHER_KEYS = ("name", "loss", "batch_size", "forward_dtype", "causal")


def model_config_from_reference(
    arch: Mapping[str, Any],
    vocab_size: int | None = None,
    seq_len: int | None = None,
    num_puzzle_identifiers: int | None = None,
) -> ModelConfig:
    """The ModelConfig of a reference model.

    `arch`: the reference's model config dict, or the `arch` section of its `all_config.yaml` (with `name` and
    `loss`). vocab_size, seq_len and num_puzzle_identifiers come from `arch` or, when it lacks them (an
    `all_config.yaml`), from the arguments (the dataset's metadata); given in both, they must agree.
    Raises ConfigError naming the reference key that is unknown, missing, or has a value we do not support.
    """
    unknown = sorted(set(arch) - set(_REFERENCE_FIELDS) - set(_REFERENCE_OTHER_KEYS))
    if unknown:
        raise ConfigError(f"reference arch: unknown keys {unknown}")
    if arch.get("name", REFERENCE_ARCH_NAME) != REFERENCE_ARCH_NAME:
        raise ConfigError(f"reference arch: name must be {REFERENCE_ARCH_NAME!r}, got {arch['name']!r}")
    if arch.get("causal", False) is not False:
        raise ConfigError(f"reference arch: causal must be False (HRM attends both ways), got {arch['causal']!r}")
    if arch.get("forward_dtype", "bfloat16") not in _REFERENCE_FORWARD_DTYPES:
        raise ConfigError(
            f"reference arch: forward_dtype must be one of {_REFERENCE_FORWARD_DTYPES}, got {arch['forward_dtype']!r}"
        )
    if arch.get("pos_encodings") not in _REFERENCE_POSITIONS:
        raise ConfigError(
            f"reference arch: pos_encodings must be one of {_REFERENCE_POSITIONS}, got {arch.get('pos_encodings')!r}"
        )
    dataset = {"vocab_size": vocab_size, "seq_len": seq_len, "num_puzzle_identifiers": num_puzzle_identifiers}
    for key, given in dataset.items():
        if key in arch and given is not None and given != arch[key]:
            raise ConfigError(f"reference arch: {key} is {arch[key]!r} but the dataset's metadata says {given!r}")
    values = {**_REFERENCE_DEFAULTS, **{k: v for k, v in dataset.items() if v is not None}, **arch}
    fields = {"ffn_multiple": 256, "loss_type": _reference_loss_type(arch.get("loss"))}
    for key, field in _REFERENCE_FIELDS.items():
        if key not in values:
            where = "pass it from the dataset's metadata" if key in dataset else "the reference has no default"
            raise ConfigError(f"reference arch: {key} is missing ({where})")
        value = values[key]
        is_int = isinstance(value, int) and not isinstance(value, bool)
        fields[field] = float(value) if key in _REFERENCE_FLOATS and is_int else value
    try:
        return ModelConfig(**fields)
    except ConfigError as error:
        raise ConfigError(f"reference arch: {error}") from None


def _reference_loss_type(loss: Mapping[str, Any] | None) -> str:
    """Our loss_type for the reference's `loss` section (absent: its default, stablemax)."""
    if loss is None:
        return "stablemax"
    unknown = sorted(set(loss) - {"name", "loss_type"})
    if unknown:
        raise ConfigError(f"reference arch: unknown keys in loss {unknown}")
    if loss.get("name", REFERENCE_LOSS_NAME) != REFERENCE_LOSS_NAME:
        raise ConfigError(f"reference arch: loss.name must be {REFERENCE_LOSS_NAME!r}, got {loss['name']!r}")
    loss_type = loss.get("loss_type", "stablemax_cross_entropy")
    if loss_type not in _REFERENCE_LOSS_TYPES:
        raise ConfigError(
            f"reference arch: loss.loss_type must be one of {tuple(_REFERENCE_LOSS_TYPES)}, got {loss_type!r}"
        )
    return _REFERENCE_LOSS_TYPES[loss_type]


_WRAPPER_PREFIXES = ("_orig_mod.", "model.", "inner.")

# (reference name pattern, our name template), names relative to the reference's inner model and our ACTModel.
_NAME_MAP = (
    (r"embed_tokens\.embedding_weight", "core.embedding.tokens"),
    (r"embed_pos\.embedding_weight", "core.embedding.positions"),
    (r"puzzle_emb\.weights", "core.embedding.puzzle.weight"),
    (r"lm_head\.weight", "core.heads.lm_head.weight"),
    (r"q_head\.(weight|bias)", r"core.heads.q_head.\1"),
    (r"H_init", "core.z_H0"),
    (r"L_init", "core.z_L0"),
    (r"(H|L)_level\.layers\.(\d+)\.self_attn\.qkv_proj\.weight", r"core.\1_level.blocks.\2.attn.qkv.weight"),
    (r"(H|L)_level\.layers\.(\d+)\.self_attn\.o_proj\.weight", r"core.\1_level.blocks.\2.attn.out.weight"),
    (r"(H|L)_level\.layers\.(\d+)\.mlp\.gate_up_proj\.weight", r"core.\1_level.blocks.\2.mlp.gate_up.weight"),
    (r"(H|L)_level\.layers\.(\d+)\.mlp\.down_proj\.weight", r"core.\1_level.blocks.\2.mlp.down.weight"),
)


def reference_name(key: str) -> str:
    """A reference key with the compile/wrapper prefixes removed (`_orig_mod.model.inner.x` -> `x`)."""
    for prefix in _WRAPPER_PREFIXES:
        key = key.removeprefix(prefix)
    return key


def map_reference_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a reference state dict into our names; unknown keys raise ConfigError listing them."""
    mapped, unknown = {}, []
    for key, value in state_dict.items():
        name = reference_name(key)
        for pattern, template in _NAME_MAP:
            if re.fullmatch(pattern, name):
                mapped[re.sub(pattern, template, name)] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise ConfigError(f"reference checkpoint has keys with no HRM counterpart: {unknown}")
    return mapped


def load_reference_state_dict(model: ACTModel, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Copy a reference state dict into `model` (from `build_hrm`), in place.

    Raises ConfigError naming the keys that are unknown, missing from the checkpoint, or of the wrong shape
    (e.g. a checkpoint trained with another hidden size, vocabulary or number of puzzle identifiers).
    """
    mapped = map_reference_state_dict(state_dict)
    ours = model.state_dict()
    missing = sorted(set(ours) - set(mapped))
    unexpected = sorted(set(mapped) - set(ours))
    if missing or unexpected:
        raise ConfigError(
            f"reference checkpoint does not match this model: missing {missing}, without a place here {unexpected}"
        )
    for name, value in mapped.items():
        if value.shape != ours[name].shape:
            raise ConfigError(
                f"reference checkpoint: {name} has shape {tuple(value.shape)}, this model expects "
                f"{tuple(ours[name].shape)}"
            )
    model.load_state_dict({name: value.to(ours[name].dtype) for name, value in mapped.items()})


def load_reference_checkpoint(model: ACTModel, path: str | Path) -> None:
    """Load a reference checkpoint file (as written by its pretrain.py) into `model`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"reference checkpoint {path} does not exist")
    load_reference_state_dict(model, torch.load(path, map_location="cpu", weights_only=True))
