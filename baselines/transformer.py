"""Fixed-depth Transformer baselines, built from HRM's own blocks, embeddings and heads.

One core, three arms (BENCHMARKS.md, arms table):

- `transformer`: H_layers + L_layers distinct blocks, one pass per example (Mmax 1), so its parameter
  count equals HRM's at any config (HRM's fixed initial-state buffers are not parameters).
- `transformer-deep`: N*T*L_layers + N*H_layers distinct blocks, one pass: as many block applications
  as one HRM segment (compute-matched).
- `transformer-act`: H_layers + L_layers blocks inside the same deep-supervision / ACT outer loop as HRM
  (HRM's Mmax and halting), with a state carried between segments as in the ARC Prize control.
"""

from __future__ import annotations

import torch

from hrm.act import ACTModel
from hrm.config import ModelConfig
from hrm.interface import Batch, RecurrentCore, State
from hrm.layers import InputEmbedding, OutputHeads, ReasoningModule, RotaryEmbedding, trunc_normal_init_


def rotary_embedding(config: ModelConfig) -> RotaryEmbedding | None:
    """RoPE tables over the prefix and the sequence, or None with learned positions."""
    if config.pos_encodings != "rope":
        return None
    return RotaryEmbedding(config.head_dim, config.prefix_len + config.seq_len, config.rope_theta)


class TransformerCore(RecurrentCore):
    """Embed -> `num_blocks` blocks -> heads, one application of the tower per segment.

    With `carry_state` off the core is stateless (state `()`): the tower sees the embedded input only.
    With `carry_state` on, the state is `(h,)`, h [b, p+s, d]: the tower's output hidden state of the
    previous segment (post-norm, detached), added to the embedded input of the next segment
    (`tower(h + x)`); a reset slot starts from `h0`, one fixed truncated-normal d-vector (std 1, cut at
    +-2; a buffer, not trained) broadcast over positions, exactly as HRM's z_H0.
    """

    def __init__(self, config: ModelConfig, num_blocks: int, carry_state: bool) -> None:
        super().__init__()
        self.config = config
        self.carry_state = carry_state
        self.embedding = InputEmbedding(config)
        self.rotary = rotary_embedding(config)
        self.tower = ReasoningModule(config, num_blocks)
        self.heads = OutputHeads(config)
        if carry_state:
            self.register_buffer("h0", trunc_normal_init_(torch.empty(config.hidden_size), 1.0))

    def initial_state(self, batch_size: int, device: torch.device) -> State:
        if not self.carry_state:
            return ()
        shape = (batch_size, self.config.prefix_len + self.config.seq_len, self.config.hidden_size)
        return (self.h0.to(device).expand(shape),)

    def forward(self, state: State, batch: Batch) -> tuple[State, torch.Tensor, torch.Tensor]:
        x = self.embedding(batch["inputs"], batch["puzzle_identifiers"])
        cos_sin = self.rotary() if self.rotary is not None else None
        carried = state[0] if self.carry_state else torch.zeros((), dtype=x.dtype, device=x.device)
        h = self.tower(carried, x, cos_sin)
        logits, q_logits = self.heads(h)
        return ((h.detach(),) if self.carry_state else ()), logits, q_logits

    def block_applications(self) -> int:
        return len(self.tower.blocks)


def build_transformer(config: ModelConfig) -> ACTModel:
    """`transformer`: H_layers + L_layers blocks, stateless (the registry sets Mmax 1, exact halting)."""
    return ACTModel(TransformerCore(config, config.H_layers + config.L_layers, carry_state=False))


def build_transformer_deep(config: ModelConfig) -> ACTModel:
    """`transformer-deep`: as many distinct blocks as one HRM segment applies, stateless."""
    depth = config.H_cycles * (config.L_cycles * config.L_layers + config.H_layers)
    return ACTModel(TransformerCore(config, depth, carry_state=False))


def build_transformer_act(config: ModelConfig) -> ACTModel:
    """`transformer-act`: H_layers + L_layers blocks in the ACT loop, carrying its output between segments."""
    return ACTModel(TransformerCore(config, config.H_layers + config.L_layers, carry_state=True))
