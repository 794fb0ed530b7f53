"""Every arm fits a handful of fixed examples of a toy task (reverse a sequence) exactly, on CPU, in bounded steps."""

import pytest
from baseline_helpers import build, exact_accuracy, reverse_batch, train

from baselines.registry import ARMS

# Two outer-loop segments keep the recurrent arms cheap; TRM at T=2, n=2 (its structure, a tenth of its
# default compute) with a short EMA so that the evaluated (averaged) weights catch up within the budget.
OVERRIDES = {
    "hrm": {"halt_max_steps": 2},
    "hrm-bptt": {"halt_max_steps": 2},
    "transformer-act": {"halt_max_steps": 2},
    "trm": {"halt_max_steps": 2, "H_cycles": 2, "L_cycles": 2, "ema_decay": 0.9},
}
MAX_STEPS = 400  # every arm reaches 100% within 50-150 steps here


@pytest.mark.parametrize("name", list(ARMS))
def test_arm_overfits_a_handful_of_fixed_examples(name):
    model = build(name, **OVERRIDES.get(name, {}))
    batch = reverse_batch(model.config, 4)
    assert exact_accuracy(model, batch) < 1.0
    reached = train(model, batch, steps=MAX_STEPS, lr=2e-3, check_every=25)
    assert reached is not None, f"{name} did not reach 100% exact accuracy in {MAX_STEPS} steps"
