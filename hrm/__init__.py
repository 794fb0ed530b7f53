"""The Hierarchical Reasoning Model (arXiv 2506.21734), faithful to the reference implementation.

The model interface (`hrm.interface.ReasoningModel`) is the only thing a training loop sees, for HRM and
for every baseline arm alike:

    from hrm import ModelConfig, OptimConfig, build_hrm, build_optimizers, set_learning_rates, training_step

    model = build_hrm(ModelConfig(...))                  # an ACTModel around HRMCore
    optim_config = OptimConfig()
    optimizers = build_optimizers(model, optim_config)   # dense weights + sparse puzzle embeddings
    carry = model.initial_carry(batch)                   # every slot starts halted
    for step, batch in enumerate(batches, start=1):
        set_learning_rates(optimizers, step, optim_config)
        # one supervised segment for every slot, backward, every optimiser's step, model.on_optimizer_step()
        carry, out = training_step(model, optimizers, carry, batch)   # out.metrics: sums over halted slots
    result = model.evaluate(batch, halt_max_steps=16, mode="fixed" | "act")   # predictions, segments, q_halt

A batch is a dict of tensors on the model's device: "inputs" [b, s], "labels" [b, s] (-100 = unsupervised),
"puzzle_identifiers" [b]. The model applies bf16 autocast itself on CUDA and runs in fp32 on CPU.

Modules: `config` (ModelConfig, OptimConfig), `layers` (blocks, embeddings, heads), `model` (HRMCore,
build_hrm), `act` (ACTModel, the outer loop any RecurrentCore plugs into), `loss`, `optim`, `training`
(`training_step`, the one training step every caller runs), `memory` (activation-memory probe), `checkpoint`
(the reference's configs and released weights).
"""

from hrm.act import ACTCarry, ACTModel
from hrm.config import ModelConfig, OptimConfig
from hrm.errors import ConfigError
from hrm.interface import EvalOutput, ReasoningModel, RecurrentCore, SegmentOutput
from hrm.layers import count_parameters
from hrm.model import HRMCore, build_hrm
from hrm.optim import build_optimizers, set_learning_rates
from hrm.training import training_step

__all__ = [
    "ACTCarry",
    "ACTModel",
    "ConfigError",
    "EvalOutput",
    "HRMCore",
    "ModelConfig",
    "OptimConfig",
    "ReasoningModel",
    "RecurrentCore",
    "SegmentOutput",
    "build_hrm",
    "build_optimizers",
    "count_parameters",
    "set_learning_rates",
    "training_step",
]
