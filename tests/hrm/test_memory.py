"""The activation-memory probe counts what autograd saves, each storage once, activations only."""

import torch
from model_helpers import random_batch, tiny_config

from hrm.interface import SegmentOutput
from hrm.memory import measure_activation_memory
from hrm.model import build_hrm


class _Saver(torch.nn.Module):
    """A stand-in model whose segment saves one known activation twice (x * x saves x for both operands)."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(100))

    def initial_carry(self, batch):
        return None

    def train_segment(self, carry, batch):
        x = batch["inputs"] * 1.0  # [2, 50] float32: 400 bytes; a multiply by a scalar saves nothing
        y = self.weight.view(2, 50) * 2.0
        loss = (x * x).sum() + (y * x).sum()  # saves x (once), y, and x again for y * x
        return None, SegmentOutput(loss, {}, x, torch.ones(2, dtype=torch.bool))


def test_each_storage_is_counted_once_and_parameters_are_not_counted():
    batch = {"inputs": torch.ones(2, 50, requires_grad=True)}
    memory = measure_activation_memory(_Saver(), batch)
    assert memory.saved_bytes == 400 + 400  # x and y, each 100 float32 values


def test_cuda_peak_is_none_on_cpu():
    config = tiny_config()
    memory = measure_activation_memory(build_hrm(config), random_batch(config, 2))
    assert memory.cuda_peak_bytes is None and memory.saved_bytes > 0


def test_probe_leaves_no_gradients_behind():
    config = tiny_config()
    model = build_hrm(config)
    measure_activation_memory(model, random_batch(config, 2))
    assert all(p.grad is None for p in model.parameters())


def test_saved_bytes_grow_with_the_batch():
    config = tiny_config()
    torch.manual_seed(0)
    model = build_hrm(config)
    small = measure_activation_memory(model, random_batch(config, 2)).saved_bytes
    large = measure_activation_memory(model, random_batch(config, 4)).saved_bytes
    assert large > small
