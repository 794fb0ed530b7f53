"""Activation-memory probe: what one training step keeps alive for backward, for any ReasoningModel."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hrm.interface import Batch, ReasoningModel


@dataclass
class ActivationMemory:
    """saved_bytes: bytes of the distinct storages autograd saved for backward (the model's own parameters
    and buffers excluded); cuda_peak_bytes: CUDA allocator peak during the step above what was allocated
    before it (None off CUDA)."""

    saved_bytes: int
    cuda_peak_bytes: int | None


def measure_activation_memory(model: ReasoningModel, batch: Batch) -> ActivationMemory:
    """Run one `train_segment` from `initial_carry(batch)` and its backward; count what was saved for it.

    Every tensor autograd saves passes through a `saved_tensors_hooks` pack hook; tensors sharing a
    storage (views, the same activation saved by two ops) are counted once. Gradients are cleared after.
    """
    device = batch["inputs"].device
    own = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    seen: set[tuple[int, torch.device]] = set()
    saved_bytes = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal saved_bytes
        storage = tensor.untyped_storage()
        key = (storage.data_ptr(), tensor.device)
        if storage.data_ptr() not in own and key not in seen:
            seen.add(key)
            saved_bytes += storage.nbytes()
        return tensor

    on_cuda = device.type == "cuda"
    if on_cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    carry = model.initial_carry(batch)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        _, output = model.train_segment(carry, batch)
    output.loss.backward()
    peak = None
    if on_cuda:
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device) - before
    model.zero_grad(set_to_none=True)
    return ActivationMemory(saved_bytes=saved_bytes, cuda_peak_bytes=peak)
