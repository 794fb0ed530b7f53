"""Typed, validated model configuration shared by HRM and every baseline arm.

One dataclass describes the network for every arm, so the command line, the scale presets and the
registry pass a single object down. Fields that only some arms read say so in their comment.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from hrm.errors import ConfigError

GradientMode = Literal["one_step", "bptt"]
PositionEncoding = Literal["rope", "learned"]
LossType = Literal["stablemax", "softmax"]
Halting = Literal["q_learning", "exact"]


def _check_real(owner: str, name: str, value: object, rule: str, holds: Callable[[float], bool]) -> None:
    """ConfigError naming `owner.name` unless `value` is a finite real number (not a bool) for which `holds` is true."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or not holds(float(value))
    ):
        raise ConfigError(f"{owner}.{name} must be a finite number {rule}, got {value!r}")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_CHOICES = {
    "gradient_mode": ("one_step", "bptt"),
    "pos_encodings": ("rope", "learned"),
    "loss_type": ("stablemax", "softmax"),
    "halting": ("q_learning", "exact"),
}


@dataclass
class ModelConfig:
    """Network and outer-loop settings; defaults are the paper's Sudoku configuration."""

    vocab_size: int = 11
    seq_len: int = 81
    num_puzzle_identifiers: int = 1
    puzzle_emb_dim: int = 512  # 0 disables the puzzle-embedding prefix
    puzzle_emb_len: int = 0  # prefix positions; 0 means ceil(puzzle_emb_dim / hidden_size)

    hidden_size: int = 512
    num_heads: int = 8
    expansion: float = 4.0
    ffn_multiple: int = 256  # SwiGLU width rounds up to this multiple (reference: 256; small CPU models use less)
    H_layers: int = 4
    L_layers: int = 4
    # What each arm calls its loops: hrm.model.LOOP_NAMES (HRM's N, T), baselines.trm.LOOP_NAMES (TRM's T, n).
    H_cycles: int = 2  # N; TRM: recursions per segment (its T)
    L_cycles: int = 2  # T; TRM: latent updates per recursion (its n)

    halt_max_steps: int = 16  # Mmax during training
    halt_exploration_prob: float = 0.1

    pos_encodings: PositionEncoding = "rope"
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5

    gradient_mode: GradientMode = "one_step"
    loss_type: LossType = "stablemax"
    # q_learning (HRM): halt when q_halt > q_continue, continue target from an extra no-grad segment.
    # exact (TRM): halt when q_halt > 0, q_halt trained by BCE on exact correctness only, no extra segment.
    halting: Halting = "q_learning"
    ema_decay: float = 0.999  # TRM only: EMA of weights used for evaluation
    # torch.compile each reasoning module (inductor fuses the elementwise work around the matrix products):
    # a faster step whose rounding differs from the reference's in the last bits. Off: the reference's arithmetic.
    compile: bool = False

    def __post_init__(self) -> None:
        self.validate()

    @property
    def prefix_len(self) -> int:
        """Number of puzzle-embedding prefix positions prepended to the sequence."""
        if self.puzzle_emb_dim == 0:
            return 0
        return self.puzzle_emb_len or math.ceil(self.puzzle_emb_dim / self.hidden_size)

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    def validate(self) -> None:
        """Raise ConfigError naming the first field that is out of range."""
        positive = (
            "vocab_size", "seq_len", "num_puzzle_identifiers", "hidden_size", "num_heads",
            "H_layers", "L_layers", "H_cycles", "L_cycles", "halt_max_steps", "ffn_multiple",
        )
        for name in positive:
            value = getattr(self, name)
            if not _is_count(value) or value < 1:
                raise ConfigError(f"ModelConfig.{name} must be an integer >= 1, got {value!r}")
        for name in ("puzzle_emb_dim", "puzzle_emb_len"):
            value = getattr(self, name)
            if not _is_count(value) or value < 0:
                raise ConfigError(f"ModelConfig.{name} must be an integer >= 0, got {value!r}")
        _check_real("ModelConfig", "expansion", self.expansion, "> 0", lambda x: x > 0)
        _check_real("ModelConfig", "halt_exploration_prob", self.halt_exploration_prob, "in [0, 1]",
                    lambda x: 0 <= x <= 1)
        _check_real("ModelConfig", "rope_theta", self.rope_theta, "> 0", lambda x: x > 0)
        _check_real("ModelConfig", "rms_norm_eps", self.rms_norm_eps, "> 0", lambda x: x > 0)
        _check_real("ModelConfig", "ema_decay", self.ema_decay, "in [0, 1)", lambda x: 0 <= x < 1)
        if self.hidden_size % self.num_heads:
            raise ConfigError(
                f"ModelConfig.hidden_size ({self.hidden_size}) must be divisible by "
                f"num_heads ({self.num_heads})"
            )
        if self.puzzle_emb_dim and self.prefix_len * self.hidden_size < self.puzzle_emb_dim:
            raise ConfigError(
                f"ModelConfig.puzzle_emb_len ({self.puzzle_emb_len}) x hidden_size ({self.hidden_size}) must hold "
                f"puzzle_emb_dim ({self.puzzle_emb_dim})"
            )
        if self.pos_encodings == "rope" and self.head_dim % 2:
            raise ConfigError(f"ModelConfig.hidden_size / num_heads must be even for RoPE, got {self.head_dim}")
        if not isinstance(self.compile, bool):
            raise ConfigError(f"ModelConfig.compile must be true or false, got {self.compile!r}")
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"ModelConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}")

    def replace(self, **changes) -> ModelConfig:
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)


_OPTIMIZERS = ("adam-atan2", "adamw")


@dataclass
class OptimConfig:
    """Optimiser settings; defaults are the paper's Sudoku/Maze hyperparameters (HRM.md section 5)."""

    optimizer: str = "adam-atan2"  # or "adamw"
    lr: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.95
    weight_decay: float = 1.0
    warmup_steps: int = 2000
    puzzle_emb_lr: float = 1e-4
    puzzle_emb_weight_decay: float = 1.0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the first field that is out of range."""
        if self.optimizer not in _OPTIMIZERS:
            raise ConfigError(f"OptimConfig.optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        for name in ("lr", "weight_decay", "puzzle_emb_lr", "puzzle_emb_weight_decay"):
            _check_real("OptimConfig", name, getattr(self, name), ">= 0", lambda x: x >= 0)
        for name in ("beta1", "beta2"):
            _check_real("OptimConfig", name, getattr(self, name), "in [0, 1)", lambda x: 0 <= x < 1)
        if not _is_count(self.warmup_steps) or self.warmup_steps < 0:
            raise ConfigError(f"OptimConfig.warmup_steps must be an integer >= 0, got {self.warmup_steps!r}")
