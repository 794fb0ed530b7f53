"""Matmul FLOPs: counted from the ops a call actually dispatches, estimated from a config, and the device's
dense matmul FLOP/s (the denominator of MFU).

`count_flops` uses torch's FlopCounterMode (matmuls, and attention through its kernels' formulas), so it is
exact for any arm and gradient mode without knowing the arm; torch has no formula for the CPU flash-attention
kernel, so it is registered here with the same formula torch uses for the CUDA kernels.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from hrm.config import ModelConfig
from hrm.layers import swiglu_inner_size

_aten = torch.ops.aten


def _cpu_sdpa(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _cpu_sdpa_backward(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


_CUSTOM = {
    _aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa,
    _aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_sdpa_backward,
}


def count_flops(call: Callable[[], object]) -> int:
    """Matmul and attention FLOPs (multiply-add = 2) of everything `call()` runs, backward included."""
    with FlopCounterMode(display=False, custom_mapping=_CUSTOM) as counter:
        call()
    return int(counter.get_total_flops())


def segment_forward_flops(config: ModelConfig, block_applications: int) -> int:
    """Estimated forward FLOPs of one segment for one example: the blocks plus the output head.

    Per block application over S = prefix + seq positions: qkv and output projections 8*S*d^2, attention
    scores and mixing 4*S^2*d, SwiGLU 6*S*d*inner; the LM head adds 2*S*d*vocab (it runs on every position,
    prefix included, and the prefix is dropped after, as in the reference).
    """
    d, positions = config.hidden_size, config.prefix_len + config.seq_len
    inner = swiglu_inner_size(d, config.expansion, config.ffn_multiple)
    block = 8 * positions * d * d + 4 * positions * positions * d + 6 * positions * d * inner
    return block_applications * block + 2 * positions * d * config.vocab_size


def matmul_flops_per_s(device: torch.device, size: int, repeats: int = 5) -> float:
    """Median FLOP/s of a dense size x size x size matmul on `device` (bf16 on CUDA, as training autocasts;
    fp32 on CPU)."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    rates = []
    for index in range(repeats + 1):
        synchronize(device)
        started = time.perf_counter()
        torch.mm(a, b)
        synchronize(device)
        if index:  # the first call is warm-up
            rates.append(2 * size**3 / (time.perf_counter() - started))
    return statistics.median(rates)


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so wall-clock timing measures the work (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
