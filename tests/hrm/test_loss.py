"""Token losses, the total loss and the metrics (HRM.md section 4)."""

import math

import torch
import torch.nn.functional as F

from hrm.interface import IGNORE_LABEL_ID
from hrm.loss import segment_loss, softmax_cross_entropy, stablemax_cross_entropy


def _s(x):
    return x + 1 if x >= 0 else 1 / (1 - x)


def test_stablemax_cross_entropy_equals_the_formula():
    logits = torch.tensor([[2.0, -1.0, 0.5], [-3.0, -0.5, 0.0]])
    labels = torch.tensor([1, 2])
    expected = []
    for row, label in zip(logits.tolist(), labels.tolist(), strict=True):
        expected.append(-math.log(_s(row[label]) / sum(_s(x) for x in row)))
    torch.testing.assert_close(stablemax_cross_entropy(logits, labels), torch.tensor(expected, dtype=torch.float64))


def test_stablemax_takes_the_log_of_every_probability_before_picking_the_label_bit_for_bit():
    torch.manual_seed(0)
    logits, labels = torch.randn(6, 81, 11) * 3, torch.randint(0, 11, (6, 81))
    x = logits.double()
    stable = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    expected = -torch.log(stable / stable.sum(-1, keepdim=True)).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    assert torch.equal(stablemax_cross_entropy(logits, labels), expected)


def test_stablemax_is_computed_in_float64():
    assert stablemax_cross_entropy(torch.randn(2, 3, 5), torch.zeros(2, 3, dtype=torch.long)).dtype == torch.float64


def test_softmax_option_equals_torch_cross_entropy():
    logits = torch.randn(4, 7, 11)
    labels = torch.randint(0, 11, (4, 7))
    expected = F.cross_entropy(logits.view(-1, 11), labels.view(-1), reduction="none").view(4, 7)
    torch.testing.assert_close(softmax_cross_entropy(logits, labels), expected)


def test_ignored_tokens_contribute_nothing():
    labels = torch.tensor([[1, IGNORE_LABEL_ID]])
    for loss in (stablemax_cross_entropy, softmax_cross_entropy):
        assert loss(torch.randn(1, 2, 3), labels)[0, 1] == 0


def _segment(loss_type="stablemax", target=None):
    torch.manual_seed(0)
    logits = torch.randn(3, 4, 5)
    labels = logits.argmax(-1)
    labels[1, 0] = (labels[1, 0] + 1) % 5  # example 1 is not exactly right
    labels[2, 3] = IGNORE_LABEL_ID
    q_halt, q_continue = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.0, 0.3, -1.0])
    halted = torch.tensor([True, True, False])
    steps = torch.tensor([2, 5, 1])
    return logits, labels, q_halt, q_continue, target, halted, steps, loss_type


def test_total_loss_is_mean_token_loss_plus_half_of_both_bce_terms_over_the_batch():
    target = torch.tensor([0.9, 0.1, 0.5])
    logits, labels, q_halt, q_continue, _, halted, steps, _ = args = _segment(target=target)
    loss, _, _ = segment_loss(*args)
    token = stablemax_cross_entropy(logits, labels)
    counts = (labels != IGNORE_LABEL_ID).sum(-1)
    lm = (token.sum(-1) / counts).sum()
    exact = torch.tensor([1.0, 0.0, 1.0])
    bce_halt = F.binary_cross_entropy_with_logits(q_halt, exact, reduction="sum")
    bce_continue = F.binary_cross_entropy_with_logits(q_continue, target, reduction="sum")
    torch.testing.assert_close(loss, (lm + 0.5 * (bce_halt + bce_continue)) / 3)


def test_loss_follows_the_reference_arithmetic_bit_for_bit():
    """Every token's log p, then its loss over its sequence's count, summed in float64; float32 BCE sums; 1 / b."""
    torch.manual_seed(0)
    b, s, vocab = 6, 81, 11
    logits = torch.randn(b, s, vocab) * 3
    labels = torch.randint(0, vocab, (b, s))
    labels[:, ::5] = IGNORE_LABEL_ID
    q_halt, q_continue, target = torch.randn(b), torch.randn(b), torch.rand(b)
    loss, _, _ = segment_loss(logits, labels, q_halt, q_continue, target, torch.ones(b, dtype=torch.bool),
                              torch.ones(b), "stablemax")
    x = logits.double()
    stable = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    log_p = torch.log(stable / stable.sum(-1, keepdim=True))
    supervised = labels != IGNORE_LABEL_ID
    token = -torch.where(supervised, log_p.gather(-1, torch.where(supervised, labels, 0).unsqueeze(-1)).squeeze(-1), 0)
    lm = (token / supervised.sum(-1, keepdim=True)).sum()
    exact = torch.zeros(b)  # random logits get no sequence exactly right
    bce_halt = F.binary_cross_entropy_with_logits(q_halt, exact, reduction="sum")
    bce_continue = F.binary_cross_entropy_with_logits(q_continue, target, reduction="sum")
    expected = (1 / b) * (lm + 0.5 * (bce_halt + bce_continue))
    assert loss.dtype == torch.float64 and torch.equal(loss, expected)


def test_stablemax_gradient_is_finite_at_a_logit_of_exactly_one():
    logits = torch.tensor([[1.0, -0.5, 2.0]], requires_grad=True)
    stablemax_cross_entropy(logits, torch.tensor([0])).sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_without_a_target_the_continue_term_is_absent():
    loss, metrics, _ = segment_loss(*_segment(loss_type="softmax"))
    assert "q_continue_loss" not in metrics
    logits, labels, q_halt, *_ = _segment()
    lm = (softmax_cross_entropy(logits, labels).sum(-1) / (labels != IGNORE_LABEL_ID).sum(-1)).sum()
    bce_halt = F.binary_cross_entropy_with_logits(q_halt, torch.tensor([1.0, 0.0, 1.0]), reduction="sum")
    torch.testing.assert_close(loss, (lm + 0.5 * bce_halt) / 3)


def test_metrics_are_sums_over_halted_examples():
    _, metrics, predictions = segment_loss(*_segment(target=torch.zeros(3)))
    assert metrics["count"] == 2
    assert metrics["exact_accuracy"] == 1  # example 0 right, example 1 wrong, example 2 not halted
    torch.testing.assert_close(metrics["token_accuracy"], torch.tensor(1.0 + 3 / 4))
    assert metrics["q_halt_accuracy"] == 2  # q_halt >= 0 agrees with exactness for both halted examples
    assert metrics["steps"] == 7
    assert set(metrics) == {"count", "token_accuracy", "exact_accuracy", "q_halt_accuracy", "steps",
                            "lm_loss", "q_halt_loss", "q_continue_loss"}
    assert predictions.shape == (3, 4)
