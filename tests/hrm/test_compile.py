"""`model.compile`: the inductor-compiled reasoning modules, a named deviation from the reference's rounding.

The default model is never compiled (its arithmetic is the reference's, checked bit for bit by the fixture
tests); compiled, the same weights train and evaluate to float tolerance of the eager model.
"""

import pytest
import torch
from model_helpers import random_batch, tiny_config

from baselines.registry import ARMS, arm_config, build_arm
from hrm.config import ModelConfig, OptimConfig
from hrm.errors import ConfigError
from hrm.layers import ReasoningModule
from hrm.model import build_hrm
from hrm.optim import build_optimizers
from hrm.training import training_step


def _reasoning_modules(model: torch.nn.Module) -> list[ReasoningModule]:
    return [m for m in model.modules() if isinstance(m, ReasoningModule)]


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_compile_must_be_a_bool(value):
    with pytest.raises(ConfigError, match="ModelConfig.compile must be true or false"):
        ModelConfig(compile=value)


@pytest.mark.parametrize("name", list(ARMS))
def test_only_a_compile_setting_compiles_and_names_stay_the_same(name):
    """Off by default for every arm; on, every reasoning module compiles in place, with unchanged state-dict
    keys, so checkpoints load either way (nothing is compiled until the first call)."""
    torch.manual_seed(0)
    eager = build_arm(name, arm_config(name, tiny_config()))
    torch.manual_seed(0)
    compiled = build_arm(name, arm_config(name, tiny_config(compile=True)))
    assert all(m._compiled_call_impl is None for m in _reasoning_modules(eager))
    assert _reasoning_modules(compiled) and all(m._compiled_call_impl is not None
                                                for m in _reasoning_modules(compiled))
    assert list(compiled.state_dict()) == list(eager.state_dict())
    compiled.load_state_dict(eager.state_dict())


@pytest.mark.slow
def test_compiled_hrm_trains_and_evaluates_like_the_eager_one():
    """Three AdamW steps from the same weights and batch, then a fixed-budget evaluation.

    Tolerance: inductor fuses the elementwise work and computes RMSNorm's mean in its own order, so each
    fused op may round differently in the last bit or two (relative 1e-7 in fp32). Losses after three steps
    agree to 1e-5 relative; the evaluated logits' argmax (the predictions) agree exactly on this batch.
    """
    config = tiny_config(halt_max_steps=2)
    batch = random_batch(config, batch_size=8)
    losses, predictions = {}, {}
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    for compiled in (False, True):
        torch.manual_seed(0)
        model = build_hrm(config.replace(compile=compiled))
        optimizers = build_optimizers(model, OptimConfig(optimizer="adamw", lr=1e-3))
        carry = model.initial_carry(batch)
        losses[compiled] = []
        torch.manual_seed(1)  # the exploration draws
        for _ in range(3):
            carry, output = training_step(model, optimizers, carry, batch)
            losses[compiled].append(output.loss.item())
        model.eval()
        predictions[compiled] = model.evaluate(batch, halt_max_steps=2).predictions
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] >= 2  # it compiled (grad and no-grad graphs)
    assert losses[True] == pytest.approx(losses[False], rel=1e-5)
    assert torch.equal(predictions[True], predictions[False])
