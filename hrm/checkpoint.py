"""Loading state dicts saved by the reference implementation (sapientinc/HRM) into `build_hrm`'s model.

The reference saves its loss-head wrapper, so keys look like `model.inner.H_level.layers.0.self_attn...`,
prefixed with `_orig_mod.` when the model was compiled. Its non-persistent buffers (RoPE tables, the
puzzle embedding's per-batch copies) are not in the file; its initial states are bf16 and become fp32 here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from hrm.act import ACTModel
from hrm.errors import ConfigError

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
