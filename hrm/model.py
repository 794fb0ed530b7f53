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

    def schedule(self) -> list[str]:
        """The updates of one segment in order: N times (T times "L", then "H")."""
        return (["L"] * self.config.L_cycles + ["H"]) * self.config.H_cycles

    def _update(self, module: str, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor,
                cos_sin) -> tuple[torch.Tensor, torch.Tensor]:
        if module == "L":
            return z_H, self.L_level(z_L, z_H + x, cos_sin)
        return self.H_level(z_H, z_L, cos_sin), z_L

    def forward(self, state: State, batch: Batch) -> tuple[State, torch.Tensor, torch.Tensor]:
        """One segment: the updates of `schedule` (L runs T times, then H once, repeated N times).
        `one_step`: every update but the last L and the last H runs without gradient (the reference's
        one-step gradient); `bptt`: every update is differentiated. The returned state is detached.
        """
        z_H, z_L = state
        x = self.embedding(batch["inputs"], batch["puzzle_identifiers"])
        cos_sin = self.rotary() if self.rotary is not None else None
        schedule = self.schedule()
        differentiate_all = self.config.gradient_mode == "bptt" and torch.is_grad_enabled()
        with torch.set_grad_enabled(differentiate_all):
            for module in schedule[:-2]:
                z_H, z_L = self._update(module, z_H, z_L, x, cos_sin)
        for module in schedule[-2:]:  # the final L and H updates, always differentiated
            z_H, z_L = self._update(module, z_H, z_L, x, cos_sin)
        logits, q_logits = self.heads(z_H)
        return (z_H.detach(), z_L.detach()), logits, q_logits

    @torch.no_grad()
    def trajectory(self, state: State, batch: Batch,
                   flat: bool = False) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
        """(module, z_H, z_L) after every update of one segment from `state`, for analysis (HRM.md section 6).

        `flat`: the same number of updates, all by the L module with z_H held at its starting value (a flat
        recurrence of the same blocks, the control for hierarchical convergence).
        """
        z_H, z_L = state
        x = self.embedding(batch["inputs"], batch["puzzle_identifiers"])
        cos_sin = self.rotary() if self.rotary is not None else None
        states = []
        for module in self.schedule():
            z_H, z_L = self._update("L" if flat else module, z_H, z_L, x, cos_sin)
            states.append(("L" if flat else module, z_H, z_L))
        return states

    def block_applications(self) -> int:
        """N * (T * L_layers + H_layers) blocks."""
        c = self.config
        return c.H_cycles * (c.L_cycles * c.L_layers + c.H_layers)


def build_hrm(config: ModelConfig) -> ACTModel:
    """HRM: the core above inside the shared ACT outer loop."""
    return ACTModel(HRMCore(config))
