"""Tiny Recursive Model (TRM, arXiv 2510.04871; HRM.md section 7) on HRM's blocks and ACT loop.

One network of `L_layers` blocks (TRM: 2) serves both updates. The config's loop fields keep HRM's names but
count TRM's loops (`LOOP_NAMES`): a segment runs `H_cycles` recursions (TRM's T); each recursion makes
`L_cycles` latent updates (TRM's n) `z = net(z + y + x)` and then one answer update `y = net(y + z)`. The
first T-1 recursions run without gradient, the last one is fully differentiated (backpropagation through all
n+1 of its network calls). The heads read y. Halting is the registry's `halting="exact"` (BCE of q_halt on
exact correctness, halt when q_halt > 0), and evaluation uses an exponential moving average of the weights
(`ema_decay`, TRM: 0.999).
"""

from __future__ import annotations

import torch

from baselines.ema import WeightEMA
from baselines.transformer import rotary_embedding
from hrm.act import ACTModel
from hrm.config import ModelConfig
from hrm.interface import Batch, EvalMode, EvalOutput, RecurrentCore, State
from hrm.layers import CosSin, InputEmbedding, OutputHeads, ReasoningModule, trunc_normal_init_

# What TRM calls the ModelConfig loop fields it reads (HRM's names for them: `hrm.model.LOOP_NAMES`).
LOOP_NAMES = {"H_cycles": "T (recursions)", "L_cycles": "n (latent updates per recursion)"}


class TRMCore(RecurrentCore):
    """State (y, z), each [b, p+s, d]: y the answer embedding the heads read, z the latent reasoning state.

    A reset slot starts from the fixed vectors `y0`, `z0` (truncated normal, std 1, cut at +-2; buffers,
    not trained) broadcast over positions.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = InputEmbedding(config)
        self.rotary = rotary_embedding(config)
        self.net = ReasoningModule(config, config.L_layers)
        self.heads = OutputHeads(config)
        self.register_buffer("y0", trunc_normal_init_(torch.empty(config.hidden_size), 1.0))
        self.register_buffer("z0", trunc_normal_init_(torch.empty(config.hidden_size), 1.0))

    def initial_state(self, batch_size: int, device: torch.device) -> State:
        shape = (batch_size, self.config.prefix_len + self.config.seq_len, self.config.hidden_size)
        return self.y0.to(device).expand(shape), self.z0.to(device).expand(shape)

    def _recursion(self, y: torch.Tensor, z: torch.Tensor, x: torch.Tensor, cos_sin: CosSin | None) -> State:
        """n = `L_cycles` latent updates then one answer update; y, z, x [b, p+s, d]."""
        for _ in range(self.config.L_cycles):
            z = self.net(z, y + x, cos_sin)
        return self.net(y, z, cos_sin), z

    def forward(self, state: State, batch: Batch) -> tuple[State, torch.Tensor, torch.Tensor]:
        """One segment: T = `H_cycles` recursions, all but the last without gradient."""
        y, z = state
        x = self.embedding(batch["inputs"], batch["puzzle_identifiers"])
        cos_sin = self.rotary() if self.rotary is not None else None
        with torch.no_grad():
            for _ in range(self.config.H_cycles - 1):
                y, z = self._recursion(y, z, x, cos_sin)
        y, z = self._recursion(y, z, x, cos_sin)
        logits, q_logits = self.heads(y)
        return (y.detach(), z.detach()), logits, q_logits

    def block_applications(self) -> int:
        """T * (n + 1) network calls of `L_layers` blocks each."""
        c = self.config
        return c.H_cycles * (c.L_cycles + 1) * c.L_layers


class TRMModel(ACTModel):
    """The shared ACT loop around `TRMCore`, plus the EMA of its weights used by `evaluate`.

    The averages live in `self.ema`'s buffers (saved and resumed with the state dict), are updated by
    `on_optimizer_step`, and are swapped into the network only for the duration of `evaluate`.
    """

    def __init__(self, core: TRMCore) -> None:
        super().__init__(core)
        self.ema = WeightEMA(self, core.config.ema_decay)

    def on_optimizer_step(self) -> None:
        self.ema.update(self)

    def evaluate(
        self, batch: Batch, halt_max_steps: int, mode: EvalMode = "fixed", record_segments: bool = False
    ) -> EvalOutput:
        """The shared ACT evaluation (`ACTModel.evaluate`) with the EMA weights swapped in."""
        with self.ema.swapped_in(self):
            return super().evaluate(batch, halt_max_steps, mode, record_segments)


def build_trm(config: ModelConfig) -> TRMModel:
    """TRM from its resolved config (the registry supplies L_layers=2, T=3, n=6, exact halting, 16 prefix slots)."""
    return TRMModel(TRMCore(config))
