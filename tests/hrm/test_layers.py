"""The network pieces of HRM.md section 1."""

import math

import pytest
import torch
from model_helpers import random_batch, tiny_config

from hrm.layers import (
    Attention,
    InputEmbedding,
    OutputHeads,
    RotaryEmbedding,
    TransformerBlock,
    apply_rotary,
    rms_norm,
    swiglu_inner_size,
    trunc_normal_init_,
)
from hrm.model import HRMCore


def test_rms_norm_gives_unit_rms_without_gain_and_keeps_dtype():
    x = torch.randn(3, 5, 16, dtype=torch.bfloat16) * 7
    y = rms_norm(x, 1e-5)
    assert y.dtype == torch.bfloat16
    expected = x.float() / torch.sqrt(x.float().square().mean(-1, keepdim=True) + 1e-5)
    torch.testing.assert_close(y, expected.to(torch.bfloat16))


def test_trunc_normal_init_has_the_requested_std_and_cut_at_two_sigma():
    torch.manual_seed(0)
    t = trunc_normal_init_(torch.empty(200_000), std=0.5)
    assert abs(t.std().item() - 0.5) < 0.005
    truncated_std = math.sqrt(1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / math.erf(math.sqrt(2)))
    assert t.abs().max().item() <= 2 * 0.5 / truncated_std + 1e-6


def test_linear_weights_are_lecun_scaled():
    torch.manual_seed(0)
    block = TransformerBlock(tiny_config(hidden_size=256, num_heads=4))
    assert abs(block.mlp.down.weight.std().item() - swiglu_inner_size(256, 4.0) ** -0.5) < 0.002
    assert abs(block.attn.qkv.weight.std().item() - 256**-0.5) < 0.002


def test_swiglu_inner_size_follows_the_sizing_rule():
    assert swiglu_inner_size(512, 4.0) == 1536
    assert swiglu_inner_size(128, 4.0) == 512  # round(341.3) = 341 -> 512
    assert swiglu_inner_size(64, 2.0, multiple=64) == 128  # round(85.3) = 85 -> 128
    assert swiglu_inner_size(64, 2.0, multiple=1) == 85


def test_rope_equals_the_rotate_half_formula_bit_for_bit():
    """The reference's arithmetic: 1 / theta ** (arange / d) frequencies, then q * cos + rotate_half(q) * sin."""
    head_dim, positions = 32, 20  # at head_dim 8, theta ** -(arange / d) happens to give the same table
    x = torch.randn(2, positions, 3, head_dim)
    inv_freq = 1.0 / (10000.0 ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(positions, dtype=torch.float32), inv_freq)
    cos = torch.cat((angles, angles), -1).cos()[:, None]
    sin = torch.cat((angles, angles), -1).sin()[:, None]
    rotate_half = torch.cat((-x[..., head_dim // 2 :], x[..., : head_dim // 2]), -1)
    expected = (x * cos) + (rotate_half * sin)
    assert torch.equal(apply_rotary(x, RotaryEmbedding(head_dim, positions, 10000.0)()), expected)


def test_attention_is_non_causal():
    torch.manual_seed(0)
    config = tiny_config()
    attention = Attention(config)
    cos_sin = RotaryEmbedding(config.head_dim, 6, 10000.0)()
    x = torch.randn(1, 6, config.hidden_size)
    changed = x.clone()
    changed[:, -1] += 1
    assert not torch.allclose(attention(x, cos_sin)[:, 0], attention(changed, cos_sin)[:, 0])


def test_attention_matches_explicit_softmax_attention():
    torch.manual_seed(0)
    config = tiny_config()
    attention = Attention(config)
    x = torch.randn(2, 6, config.hidden_size)
    h, dh = config.num_heads, config.head_dim
    q, k, v = attention.qkv(x).view(2, 6, 3, h, dh).unbind(2)
    weights = torch.softmax(torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh), -1)
    expected = attention.out(torch.einsum("bhqk,bkhd->bqhd", weights, v).reshape(2, 6, -1))
    torch.testing.assert_close(attention(x, None), expected)


def test_q_head_is_initialised_to_zero_weight_and_bias_minus_five():
    heads = OutputHeads(tiny_config())
    assert torch.equal(heads.q_head.weight, torch.zeros_like(heads.q_head.weight))
    assert torch.equal(heads.q_head.bias, torch.full((2,), -5.0))


def test_output_head_drops_the_prefix_positions():
    config = tiny_config(puzzle_emb_dim=64)  # two prefix positions at d=32
    logits, q_logits = OutputHeads(config)(torch.randn(4, 2 + config.seq_len, config.hidden_size))
    assert logits.shape == (4, config.seq_len, config.vocab_size)
    assert q_logits.shape == (4, 2) and q_logits.dtype == torch.float32


def test_lm_head_runs_on_every_position_before_the_prefix_is_dropped():
    """The reference's order, forward and backward: the weight gradient sums over the prefix rows' zeros too."""
    torch.manual_seed(0)
    config = tiny_config(hidden_size=64, seq_len=81, vocab_size=11, puzzle_emb_dim=64)
    heads = OutputHeads(config)
    z, grad = torch.randn(16, 82, 64), torch.randn(16, 81, 11)
    (heads(z)[0] * grad).sum().backward()
    weight = heads.lm_head.weight.detach().clone().requires_grad_()
    (torch.nn.functional.linear(z, weight)[:, 1:] * grad).sum().backward()
    assert torch.equal(heads.lm_head.weight.grad, weight.grad)


def test_puzzle_embedding_is_a_zero_initialised_prefix_with_sparse_gradient():
    config = tiny_config(puzzle_emb_dim=48)  # ceil(48 / 32) = 2 prefix positions, zero-padded
    embedding = InputEmbedding(config)
    batch = random_batch(config, 4)
    x = embedding(batch["inputs"], batch["puzzle_identifiers"])
    assert x.shape == (4, 2 + config.seq_len, config.hidden_size)
    assert torch.equal(x[:, :2], torch.zeros(4, 2, config.hidden_size))
    x.sum().backward()
    assert embedding.puzzle.weight.grad.is_sparse


def test_token_embedding_is_scaled_by_sqrt_hidden():
    config = tiny_config(puzzle_emb_dim=0)
    embedding = InputEmbedding(config)
    inputs = torch.tensor([[0, 1, 2, 3, 4, 5, 0, 1]])
    x = embedding(inputs, torch.zeros(1, dtype=torch.long))
    torch.testing.assert_close(x[0], embedding.tokens[inputs[0]] * math.sqrt(config.hidden_size))


def test_learned_positions_are_added_with_the_0_7071_rule():
    """sqrt(d) * (0.707106781 * (tokens + positions)), products in that order; d = 48 has an irrational sqrt."""
    config = tiny_config(pos_encodings="learned", puzzle_emb_dim=0, hidden_size=48)
    embedding = InputEmbedding(config)
    inputs = torch.tensor([[0, 1, 2, 3, 4, 5, 0, 1]])
    x = embedding(inputs, torch.zeros(1, dtype=torch.long))
    expected = math.sqrt(config.hidden_size) * (0.707106781 * (embedding.tokens[inputs[0]] + embedding.positions))
    assert torch.equal(x[0], expected)


@pytest.mark.parametrize("encoding", ["rope", "learned"])
def test_core_runs_with_either_position_encoding(encoding):
    config = tiny_config(pos_encodings=encoding)
    core = HRMCore(config)
    state, logits, q_logits = core(core.initial_state(2, torch.device("cpu")), random_batch(config, 2))
    assert logits.shape == (2, config.seq_len, config.vocab_size)


def test_initial_states_are_fixed_truncated_normal_buffers_not_parameters():
    torch.manual_seed(0)
    core = HRMCore(tiny_config(hidden_size=512, num_heads=4))
    names = {name for name, _ in core.named_parameters()}
    assert "z_H0" not in names and "z_L0" not in names
    assert core.z_H0.abs().max() <= 2 / 0.8796 + 1e-4  # cut at +-2 of the std-corrected scale
    z_H, z_L = core.initial_state(3, torch.device("cpu"))
    assert torch.equal(z_H[2, 5], core.z_H0) and torch.equal(z_L[0, 0], core.z_L0)
