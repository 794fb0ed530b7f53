"""The building blocks of HRM's network, shared with the baselines (HRM.md section 1).

Every linear layer uses LeCun truncated-normal initialisation; blocks are post-norm with a gain-free RMSNorm;
attention is non-causal multi-head SDPA with RoPE over the whole sequence (puzzle prefix included).
Shapes: `b` batch, `p` prefix positions, `s` sequence positions, `d` hidden size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from hrm.config import ModelConfig

CosSin = tuple[torch.Tensor, torch.Tensor]

_SQRT_HALF = 0.707106781  # the reference's constant: keeps the variance of (token + position) that of one embedding


def trunc_normal_init_(tensor: torch.Tensor, std: float, bound: float = 2.0) -> torch.Tensor:
    """Fill `tensor` with a normal cut at +-`bound` standard deviations whose *actual* std is `std`.

    Truncation shrinks the spread of a normal, so the sample is rescaled by the std of the truncated
    standard normal (the JAX/LeCun convention the reference follows). std 0 gives zeros.
    """
    with torch.no_grad():
        if std == 0:
            return tensor.zero_()
        pdf = math.exp(-0.5 * bound * bound) / math.sqrt(2 * math.pi)
        mass = math.erf(bound / math.sqrt(2))
        truncated_std = math.sqrt(1 - 2 * bound * pdf / mass)
        nn.init.trunc_normal_(tensor, mean=0.0, std=1.0, a=-bound, b=bound)
        return tensor.mul_(std / truncated_std)


def rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm without a gain, computed in float32 and cast back to `x`'s dtype."""
    return F.rms_norm(x.float(), (x.shape[-1],), eps=eps).to(x.dtype)


class Linear(nn.Module):
    """`x @ W.T (+ b)` with LeCun truncated-normal weights (std 1/sqrt(fan_in)) and a zero bias."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(trunc_normal_init_(torch.empty(out_features, in_features), in_features**-0.5))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class RotaryEmbedding(nn.Module):
    """RoPE tables (rotate-half convention) for `positions` positions of one attention head.

    Angles from the inverse frequencies `1 / theta ** (arange(0, head_dim, 2) / head_dim)`, computed in the
    reference's order so that the tables match its own bit for bit. Stores cos and a sign-folded sin, both
    [positions, 1, head_dim]: `sin_signed = (-sin, sin)` over the two halves, so that
    `swap_halves(x) * sin_signed` equals `rotate_half(x) * sin` exactly (negation is exact) with one pass fewer.
    """

    def __init__(self, head_dim: int, positions: int, theta: float) -> None:
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        angles = torch.outer(torch.arange(positions, dtype=torch.float32), inv_freq)  # [positions, head_dim/2]
        cos = torch.cat((angles.cos(), angles.cos()), dim=-1)
        sin_signed = torch.cat((-angles.sin(), angles.sin()), dim=-1)
        self.register_buffer("cos", cos.unsqueeze(1), persistent=False)
        self.register_buffer("sin", sin_signed.unsqueeze(1), persistent=False)

    def forward(self) -> CosSin:
        return self.cos, self.sin


def apply_rotary(x: torch.Tensor, cos_sin: CosSin) -> torch.Tensor:
    """RoPE `x * cos + rotate_half(x) * sin` on x [b, positions, heads, head_dim], in float32, returned in x's dtype.

    Two rounded products and a rounded sum, not a fused multiply-add: the reference's arithmetic, so the
    result matches it bit for bit. rotate_half(x) * sin is computed as swap_halves(x) * sin_signed.
    """
    cos, sin_signed = cos_sin
    xf = x.float()
    rotated = xf.roll(x.shape[-1] // 2, dims=-1).mul_(sin_signed)
    return (xf * cos).add_(rotated).to(x.dtype)


class Attention(nn.Module):
    """Non-causal multi-head self-attention: fused qkv projection, no biases, RoPE on q and k, SDPA."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        self.head_dim = config.head_dim
        self.qkv = Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = Linear(config.hidden_size, config.hidden_size)

    def forward(self, x: torch.Tensor, cos_sin: CosSin | None) -> torch.Tensor:
        """x [b, n, d] -> [b, n, d]."""
        b, n, d = x.shape
        qkv = self.qkv(x).view(b, n, 3 * self.num_heads, self.head_dim)
        qk, v = qkv[:, :, : 2 * self.num_heads], qkv[:, :, 2 * self.num_heads :]
        if cos_sin is not None:
            qk = apply_rotary(qk, cos_sin)
        q, k = qk.split(self.num_heads, dim=2)
        # SDPA takes [b, heads, n, head_dim]; transposes are views, the kernels read strided input.
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return self.out(y.transpose(1, 2).reshape(b, n, d))


def swiglu_inner_size(hidden_size: int, expansion: float, multiple: int = 256) -> int:
    """round(expansion * d * 2/3) rounded up to `multiple` (the reference's 256: 1536 at d=512, expansion 4)."""
    return -(-round(expansion * hidden_size * 2 / 3) // multiple) * multiple


class SwiGLU(nn.Module):
    """`down(silu(gate) * up)` with gate and up from one fused projection; no biases."""

    def __init__(self, hidden_size: int, expansion: float, multiple: int = 256) -> None:
        super().__init__()
        inner = swiglu_inner_size(hidden_size, expansion, multiple)
        self.gate_up = Linear(hidden_size, 2 * inner)
        self.down = Linear(inner, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class TransformerBlock(nn.Module):
    """Post-norm block: `h = rms(h + attn(h)); h = rms(h + swiglu(h))`."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.attn = Attention(config)
        self.mlp = SwiGLU(config.hidden_size, config.expansion, config.ffn_multiple)
        self.eps = config.rms_norm_eps

    def forward(self, h: torch.Tensor, cos_sin: CosSin | None) -> torch.Tensor:
        h = rms_norm(h + self.attn(h, cos_sin), self.eps)
        return rms_norm(h + self.mlp(h), self.eps)


class ReasoningModule(nn.Module):
    """A stack of blocks applied to `state + injection` (HRM's L and H modules, the baselines' towers).

    With `config.compile` the module compiles itself in place (`nn.Module.compile`, so parameter names and
    checkpoints stay the same): one graph per grad mode and input shape, compiled on first use.
    """

    def __init__(self, config: ModelConfig, layers: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(TransformerBlock(config) for _ in range(layers))
        if config.compile:
            _compile_in_place(self)

    def forward(self, state: torch.Tensor, injection: torch.Tensor, cos_sin: CosSin | None) -> torch.Tensor:
        """state, injection [b, p+s, d] -> [b, p+s, d]."""
        h = state + injection
        for block in self.blocks:
            h = block(h, cos_sin)
        return h


def _compile_in_place(module: nn.Module) -> None:
    """`module.compile()`, with room for every graph a run compiles.

    The reasoning modules of every model in the process share one code object, and dynamo keeps at most
    `recompile_limit` graphs per code object (8 by default) before it falls back to eager for good. Each
    block stack, grad mode and input layout (a fresh state is a broadcast view) takes one, so a run over
    several arms needs more than 8.
    """
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
    module.compile()


class PuzzleEmbedding(nn.Module):
    """One learned vector per puzzle identifier, zero-initialised, with a sparse gradient.

    Only the rows of the batch receive gradient, so `hrm.optim.build_optimizers` finds every instance of
    this class and gives its weight to the sparse sign-SGD instead of the dense optimiser. Not counted
    as a trainable parameter of the network (the reference stores it as a buffer).
    """

    def __init__(self, num_identifiers: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(num_identifiers, dim))

    def forward(self, identifiers: torch.Tensor) -> torch.Tensor:
        """identifiers [b] -> [b, dim]."""
        return F.embedding(identifiers, self.weight, sparse=True)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters, the puzzle-embedding tables excluded (the reference's convention)."""
    puzzle = {id(m.weight) for m in model.modules() if isinstance(m, PuzzleEmbedding)}
    return sum(p.numel() for p in model.parameters() if p.requires_grad and id(p) not in puzzle)


class InputEmbedding(nn.Module):
    """Tokens (and the optional puzzle-embedding prefix, optional learned positions) -> [b, p+s, d].

    Token embedding with std 1/sqrt(d), scaled by sqrt(d) at the output; with learned positions the output is
    `sqrt(d) * (0.707106781 * (tokens + positions))`, products in that order (the reference's rounding).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.hidden_size
        self.hidden_size = d
        self.prefix_len = config.prefix_len
        self.scale = math.sqrt(d)
        self.tokens = nn.Parameter(trunc_normal_init_(torch.empty(config.vocab_size, d), 1 / self.scale))
        self.puzzle = PuzzleEmbedding(config.num_puzzle_identifiers, config.puzzle_emb_dim) if self.prefix_len else None
        self.positions = None
        if config.pos_encodings == "learned":
            positions = torch.empty(self.prefix_len + config.seq_len, d)
            self.positions = nn.Parameter(trunc_normal_init_(positions, 1 / self.scale))

    def forward(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> torch.Tensor:
        """inputs [b, s] int, puzzle_identifiers [b] int -> [b, p+s, d]."""
        x = F.embedding(inputs, self.tokens)
        if self.puzzle is not None:
            prefix = self.puzzle(puzzle_identifiers)
            pad = self.prefix_len * self.hidden_size - prefix.shape[-1]
            prefix = F.pad(prefix, (0, pad)) if pad else prefix
            x = torch.cat((prefix.view(-1, self.prefix_len, self.hidden_size), x), dim=1)
        if self.positions is not None:
            return self.scale * (_SQRT_HALF * (x + self.positions))
        return self.scale * x


class OutputHeads(nn.Module):
    """LM head on the positions after the prefix; Q head (halt, continue) on position 0, init weight 0, bias -5.

    The LM head runs on every position and the prefix is dropped afterwards: the matrix product's blocking
    depends on the number of rows, so slicing first would round differently from the reference.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.prefix_len = config.prefix_len
        self.lm_head = Linear(config.hidden_size, config.vocab_size)
        self.q_head = Linear(config.hidden_size, 2, bias=True)
        with torch.no_grad():
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z [b, p+s, d] -> (logits [b, s, vocab], q_logits [b, 2] float32)."""
        return self.lm_head(z)[:, self.prefix_len :], self.q_head(z[:, 0]).float()
