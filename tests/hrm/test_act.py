"""The ACT outer loop (HRM.md section 3), on a scripted core whose halting logits are known."""

import math

import pytest
import torch
import torch.nn.functional as F
from model_helpers import random_batch, tiny_config

from hrm.act import ACTModel
from hrm.errors import ConfigError
from hrm.interface import IGNORE_LABEL_ID, RecurrentCore
from hrm.model import build_hrm


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


class ScriptedCore(RecurrentCore):
    """State: segments run so far ([b, 1, 1]). An example whose first input token is k says "halt" from
    its k-th segment on: q_halt = segments - k + 0.5, q_continue = 0.25. Predictions are the inputs."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.received = []  # the state each call started from
        self.scale = torch.nn.Parameter(torch.ones(()))

    def initial_state(self, batch_size, device):
        return (torch.zeros(batch_size, 1, 1, device=device),)

    def forward(self, state, batch):
        self.received.append(state[0].clone())
        segments = state[0] + 1
        logits = F.one_hot(batch["inputs"], self.config.vocab_size).float() * self.scale
        q_halt = segments[:, 0, 0] - batch["inputs"][:, 0].float() + 0.5
        return (segments,), logits, torch.stack((q_halt, torch.full_like(q_halt, 0.25)), -1)

    def block_applications(self):
        return 7


def _model(**changes):
    return ACTModel(ScriptedCore(tiny_config(vocab_size=10, halt_exploration_prob=0.0, **changes)))


def _batch(first_tokens, fill=1):
    inputs = torch.full((len(first_tokens), 8), fill)
    inputs[:, 0] = torch.tensor(first_tokens)
    identifiers = torch.zeros(len(first_tokens), dtype=torch.long)
    return {"inputs": inputs, "labels": inputs.clone(), "puzzle_identifiers": identifiers}


def test_initial_carry_marks_every_slot_halted():
    carry = _model().initial_carry(_batch([1, 2]))
    assert carry.halted.all() and (carry.steps == 0).all()


def test_halted_slot_is_reset_to_the_initial_state_and_takes_the_new_example():
    model = _model(halt_max_steps=8)
    carry = model.initial_carry(_batch([5, 5]))
    carry, _ = model.train_segment(carry, _batch([5, 5], fill=1))
    carry, _ = model.train_segment(carry, _batch([5, 5], fill=1))
    carry.halted = torch.tensor([True, False])
    carry, _ = model.train_segment(carry, _batch([5, 5], fill=2))
    assert model.core.received[-2][:, 0, 0].tolist() == [0.0, 2.0]  # [-1] is the extra Q-target segment
    assert carry.data["inputs"][0, 1] == 2 and carry.steps[0] == 1


def test_running_slot_keeps_its_example_and_state():
    model = _model(halt_max_steps=8)
    carry = model.initial_carry(_batch([5, 5]))
    carry, _ = model.train_segment(carry, _batch([5, 5], fill=1))
    carry, _ = model.train_segment(carry, _batch([5, 5], fill=3))
    assert carry.data["inputs"][:, 1].tolist() == [1, 1]
    assert carry.state[0][:, 0, 0].tolist() == [2.0, 2.0] and carry.steps.tolist() == [2, 2]


def test_every_slot_halts_at_max_steps():
    model = _model(halt_max_steps=3)
    batch = _batch([5, 5, 5])  # never wants to halt before segment 5
    carry = model.initial_carry(batch)
    halted = []
    for _ in range(3):
        carry, out = model.train_segment(carry, batch)
        halted.append(out.halted.tolist())
    assert halted == [[False] * 3, [False] * 3, [True] * 3]


def test_training_halts_a_slot_when_q_halt_exceeds_q_continue():
    model = _model(halt_max_steps=8)
    batch = _batch([1, 2, 5])
    carry = model.initial_carry(batch)
    carry, out = model.train_segment(carry, batch)
    assert out.halted.tolist() == [True, False, False]
    carry, out = model.train_segment(carry, batch)
    assert out.halted.tolist() == [True, True, False]  # slot 0 was refilled and halts again at once


def test_exploration_delays_halting_to_at_least_two_segments():
    torch.manual_seed(0)
    model = ACTModel(ScriptedCore(tiny_config(vocab_size=10, halt_exploration_prob=1.0, halt_max_steps=8)))
    batch = _batch([1] * 64)
    _, out = model.train_segment(model.initial_carry(batch), batch)
    assert not out.halted.any()


def _loss_from_q(q_halt, target):
    """The segment loss when no token is supervised: every sequence counts as exactly right.

    The float32 BCE sums join the (zero) float64 stablemax term, so the loss is float64.
    """
    q_halt_loss = F.binary_cross_entropy_with_logits(torch.tensor(q_halt), torch.ones(len(q_halt)), reduction="sum")
    q_continue = torch.full((len(target),), 0.25)
    q_continue_loss = F.binary_cross_entropy_with_logits(q_continue, torch.tensor(target), reduction="sum")
    return (0.5 * (q_halt_loss + q_continue_loss)).double() / len(q_halt)


def _unsupervised(batch):
    batch["labels"] = torch.full_like(batch["labels"], IGNORE_LABEL_ID)
    return batch


def test_q_continue_target_is_the_sigmoid_of_the_next_segments_larger_q():
    model = _model(halt_max_steps=3)
    batch = _unsupervised(_batch([2, 9]))
    _, out = model.train_segment(model.initial_carry(batch), batch)
    # next segment (2nd): q_halt' = 2 - k + 0.5 = (0.5, -6.5), q_continue' = 0.25
    target = [sigmoid(0.5), sigmoid(0.25)]
    torch.testing.assert_close(out.loss, _loss_from_q([1 - 2 + 0.5, 1 - 9 + 0.5], target))


def test_q_continue_target_at_max_steps_uses_q_halt_only():
    model = _model(halt_max_steps=2)
    batch = _unsupervised(_batch([9]))
    carry, _ = model.train_segment(model.initial_carry(batch), batch)
    _, out = model.train_segment(carry, batch)
    # segment 2 is the last: target = sigmoid(q_halt of segment 3 = -5.5) although q_continue (0.25) is larger
    torch.testing.assert_close(out.loss, _loss_from_q([2 - 9 + 0.5], [sigmoid(-5.5)]))
    assert out.halted.all()


def test_exact_halting_halts_on_positive_q_halt_without_a_continue_target():
    model = _model(halt_max_steps=8, halting="exact")
    batch = _batch([1, 3])
    carry = model.initial_carry(batch)
    carry, out = model.train_segment(carry, batch)
    assert out.halted.tolist() == [True, False]
    assert "q_continue_loss" not in out.metrics
    assert len(model.core.received) == 1  # no extra segment


def test_q_learning_runs_one_extra_segment_from_the_new_state():
    model = _model(halt_max_steps=8)
    batch = _batch([5])
    model.train_segment(model.initial_carry(batch), batch)
    assert [s[0, 0, 0].item() for s in model.core.received] == [0.0, 1.0]


def test_fixed_evaluation_runs_every_example_for_exactly_halt_max_steps_segments():
    model = _model(halt_max_steps=3)
    result = model.evaluate(_batch([1, 2, 9]), halt_max_steps=5, mode="fixed")
    assert result.segments.tolist() == [5, 5, 5]
    assert len(model.core.received) == 5
    assert result.q_halt_logits.tolist() == [4.5, 3.5, -3.5]


def test_act_evaluation_stops_each_example_at_its_first_halt():
    model = _model(halt_max_steps=3)
    result = model.evaluate(_batch([1, 2, 9]), halt_max_steps=4, mode="act", record_segments=True)
    assert result.segments.tolist() == [1, 2, 4]
    assert result.q_halt_logits.tolist() == [0.5, 0.5, -4.5]
    assert result.segment_predictions.shape == (4, 3, 8)


def test_act_evaluation_stops_early_once_every_example_halted():
    model = _model()
    result = model.evaluate(_batch([1, 2]), halt_max_steps=10, mode="act")
    assert result.segments.tolist() == [1, 2] and len(model.core.received) == 2


def test_inference_budget_is_independent_of_training_max_steps():
    model = _model(halt_max_steps=2)
    assert model.evaluate(_batch([9]), halt_max_steps=16).segments.tolist() == [16]


def test_evaluation_rejects_a_bad_mode_or_budget():
    model = _model()
    with pytest.raises(ConfigError, match="mode"):
        model.evaluate(_batch([1]), halt_max_steps=2, mode="sometimes")
    with pytest.raises(ConfigError, match="halt_max_steps"):
        model.evaluate(_batch([1]), halt_max_steps=0)


def test_batch_without_labels_is_rejected_by_name():
    model = _model()
    batch = _batch([1])
    del batch["labels"]
    with pytest.raises(ConfigError, match="labels"):
        model.initial_carry(batch)


def test_block_applications_per_segment_delegates_to_the_core():
    assert _model().block_applications_per_segment() == 7
    config = tiny_config()
    assert build_hrm(config).block_applications_per_segment() == 6


def test_hrm_evaluation_predictions_have_the_label_shape():
    config = tiny_config()
    model = build_hrm(config)
    result = model.evaluate(random_batch(config, 3), halt_max_steps=2, mode="act")
    assert result.predictions.shape == (3, config.seq_len) and result.segments.dtype == torch.int64
