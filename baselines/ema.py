"""Exponential moving average of a model's weights, kept in buffers so it is saved and resumed with the model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from hrm.optim import split_parameters


def _averaged_parameters(model: nn.Module) -> Iterator[tuple[str, nn.Parameter]]:
    """The dense trainable parameters; puzzle-embedding tables are left out, as in the reference's EMA."""
    dense = {id(p) for p in split_parameters(model)[0]}
    for name, p in model.named_parameters():
        if id(p) in dense:
            yield name, p


def _buffer_name(parameter_name: str) -> str:
    return parameter_name.replace(".", "__")


class WeightEMA(nn.Module):
    """`ema <- decay * ema + (1 - decay) * weight` for every averaged parameter of the owning model.

    The averages are persistent buffers of this module (one per parameter, named after it), so they
    follow `.to(device)` and appear in the owner's `state_dict`. The owner is passed to each call rather
    than stored, to keep the module tree acyclic.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        super().__init__()
        self.decay = decay
        self.names = [name for name, _ in _averaged_parameters(model)]
        for name, p in _averaged_parameters(model):
            self.register_buffer(_buffer_name(name), p.detach().clone())

    def average(self, parameter_name: str) -> torch.Tensor:
        """The running average of the owner's parameter `parameter_name` (e.g. "core.heads.lm_head.weight")."""
        return self.get_buffer(_buffer_name(parameter_name))

    def _pairs(self, model: nn.Module) -> list[tuple[nn.Parameter, torch.Tensor]]:
        params = dict(model.named_parameters())
        return [(params[name], self.average(name)) for name in self.names]

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One EMA step towards `model`'s current weights (call after each optimiser step)."""
        for p, average in self._pairs(model):
            average.lerp_(p, 1.0 - self.decay)

    @contextmanager
    def swapped_in(self, model: nn.Module) -> Iterator[None]:
        """Within the block `model` holds the averaged weights; its live weights are restored on exit."""
        pairs = self._pairs(model)
        with torch.no_grad():
            live = [p.detach().clone() for p, _ in pairs]
            for p, average in pairs:
                p.copy_(average)
        try:
            yield
        finally:
            with torch.no_grad():
                for (p, _), saved in zip(pairs, live, strict=True):
                    p.copy_(saved)
