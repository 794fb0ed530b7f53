"""HRM's recurrent core: two reasoning modules updated on two timescales within one segment (HRM.md section 2)."""

from __future__ import annotations

import torch

from hrm.act import ACTModel
from hrm.config import ModelConfig
from hrm.interface import Batch, RecurrentCore, State
from hrm.layers import InputEmbedding, OutputHeads, ReasoningModule, RotaryEmbedding, trunc_normal_init_

# What the paper calls the ModelConfig loop fields of HRM's core (TRM reads them as its own loops:
# `baselines.trm.LOOP_NAMES`).
LOOP_NAMES = {"H_cycles": "N (high-level cycles)", "L_cycles": "T (low-level steps per cycle)"}


class HRMCore(RecurrentCore):
    """The L module (fast, T = `L_cycles` steps per cycle) and the H module (slow, one step per cycle) over
    N = `H_cycles` cycles.

    State: (z_H, z_L), each [b, p+s, d]. A reset slot starts from the fixed vectors `z_H0`, `z_L0`
    (truncated normal, std 1, cut at +-2; persistent buffers, not trained) broadcast over positions.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = InputEmbedding(config)
        self.rotary = None
        if config.pos_encodings == "rope":
            positions = config.prefix_len + config.seq_len
            self.rotary = RotaryEmbedding(config.head_dim, positions, config.rope_theta)
        self.H_level = ReasoningModule(config, config.H_layers)
        self.L_level = ReasoningModule(config, config.L_layers)
        self.heads = OutputHeads(config)
        self.register_buffer("z_H0", trunc_normal_init_(torch.empty(config.hidden_size), 1.0))
        self.register_buffer("z_L0", trunc_normal_init_(torch.empty(config.hidden_size), 1.0))

    def initial_state(self, batch_size: int, device: torch.device) -> State:
        shape = (batch_size, self.config.prefix_len + self.config.seq_len, self.config.hidden_size)
        return self.z_H0.to(device).expand(shape), self.z_L0.to(device).expand(shape)

    def forward(self, state: State, batch: Batch) -> tuple[State, torch.Tensor, torch.Tensor]:
        """One segment: L runs T times, then H once, repeated N times (L..L, H, L..L, H, ...).

        `one_step`: every call but the last L and the last H runs without gradient (the reference's
        one-step gradient); `bptt`: every call is differentiated. The returned state is detached.
        """
        z_H, z_L = state
        x = self.embedding(batch["inputs"], batch["puzzle_identifiers"])
        cos_sin = self.rotary() if self.rotary is not None else None
        cycles, steps = self.config.H_cycles, self.config.L_cycles
        differentiate_all = self.config.gradient_mode == "bptt" and torch.is_grad_enabled()
        with torch.set_grad_enabled(differentiate_all):
            for cycle in range(cycles):
                last_cycle = cycle == cycles - 1
                for _ in range(steps - 1 if last_cycle else steps):
                    z_L = self.L_level(z_L, z_H + x, cos_sin)
                if not last_cycle:
                    z_H = self.H_level(z_H, z_L, cos_sin)
        z_L = self.L_level(z_L, z_H + x, cos_sin)
        z_H = self.H_level(z_H, z_L, cos_sin)
        logits, q_logits = self.heads(z_H)
        return (z_H.detach(), z_L.detach()), logits, q_logits

    def block_applications(self) -> int:
        """N * (T * L_layers + H_layers) blocks."""
        c = self.config
        return c.H_cycles * (c.L_cycles * c.L_layers + c.H_layers)


def build_hrm(config: ModelConfig) -> ACTModel:
    """HRM: the core above inside the shared ACT outer loop."""
    return ACTModel(HRMCore(config))
