"""Synthetic model configs and batches shared by the model, baseline and timing tests.

Test helpers, kept out of the installed packages; pytest puts tests/ on the import path
(`pythonpath` in pyproject.toml), so any test imports them as `model_helpers`.
"""

from __future__ import annotations

import torch

from hrm.config import ModelConfig
from hrm.interface import Batch


def benchmark_config(**changes) -> ModelConfig:
    """Every arm's perf-case configuration: d=128, 4 heads, 2+2 layers, N=T=2, seq 81, vocab 11, one puzzle id."""
    base = ModelConfig(
        vocab_size=11,
        seq_len=81,
        num_puzzle_identifiers=1,
        puzzle_emb_dim=128,
        hidden_size=128,
        num_heads=4,
        H_layers=2,
        L_layers=2,
        H_cycles=2,
        L_cycles=2,
    )
    return base.replace(**changes)


def tiny_config(**changes) -> ModelConfig:
    """A network small enough for fast CPU tests (d=32, 1+1 layers, seq 8, vocab 6, 3 puzzle ids)."""
    base = ModelConfig(
        vocab_size=6,
        seq_len=8,
        num_puzzle_identifiers=3,
        puzzle_emb_dim=32,
        hidden_size=32,
        num_heads=2,
        H_layers=1,
        L_layers=1,
        H_cycles=2,
        L_cycles=2,
        halt_max_steps=4,
    )
    return base.replace(**changes)


def random_batch(config: ModelConfig, batch_size: int, seed: int = 0, device: str | torch.device = "cpu") -> Batch:
    """Uniform random inputs and labels (all supervised) and puzzle identifiers for `config`."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch_size, config.seq_len)
    batch = {
        "inputs": torch.randint(0, config.vocab_size, shape, generator=generator),
        "labels": torch.randint(0, config.vocab_size, shape, generator=generator),
        "puzzle_identifiers": torch.randint(0, config.num_puzzle_identifiers, (batch_size,), generator=generator),
    }
    return {k: v.to(device) for k, v in batch.items()}


def reference_state_dict(model, prefix="_orig_mod.model.inner."):
    """Our weights written under the reference's parameter names, initial states in bf16 as it saves them."""
    core = model.core
    names = {
        "embed_tokens.embedding_weight": core.embedding.tokens,
        "puzzle_emb.weights": core.embedding.puzzle.weight,
        "lm_head.weight": core.heads.lm_head.weight,
        "q_head.weight": core.heads.q_head.weight,
        "q_head.bias": core.heads.q_head.bias,
        "H_init": core.z_H0.to(torch.bfloat16),
        "L_init": core.z_L0.to(torch.bfloat16),
    }
    for level, module in (("H_level", core.H_level), ("L_level", core.L_level)):
        for i, block in enumerate(module.blocks):
            names[f"{level}.layers.{i}.self_attn.qkv_proj.weight"] = block.attn.qkv.weight
            names[f"{level}.layers.{i}.self_attn.o_proj.weight"] = block.attn.out.weight
            names[f"{level}.layers.{i}.mlp.gate_up_proj.weight"] = block.mlp.gate_up.weight
            names[f"{level}.layers.{i}.mlp.down_proj.weight"] = block.mlp.down.weight
    return {prefix + name: value.detach().clone() for name, value in names.items()}
