"""Token losses, the segment's total loss and its metrics (HRM.md section 4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hrm.interface import IGNORE_LABEL_ID


def stablemax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-token -log stablemax(logits)[label] in float64, 0 where the label is ignored.

    s(x) = x + 1 for x >= 0 and 1 / (1 - x) for x < 0; p_i = s(x_i) / sum_j s(x_j).
    logits [..., vocab], labels [...] -> [...] float64.
    """
    x = logits.double()
    s = torch.where(x >= 0, x + 1, 1 / (1 - x))
    supervised = labels != IGNORE_LABEL_ID
    target = torch.where(supervised, labels, 0).long().unsqueeze(-1)
    log_p = s.gather(-1, target).squeeze(-1).log() - s.sum(-1).log()
    return torch.where(supervised, -log_p, 0.0)


def softmax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-token softmax cross-entropy in float32, 0 where the label is ignored. [..., vocab], [...] -> [...]."""
    flat = F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]),
        labels.reshape(-1).long(),
        ignore_index=IGNORE_LABEL_ID,
        reduction="none",
    )
    return flat.view(labels.shape)


TOKEN_LOSSES = {"stablemax": stablemax_cross_entropy, "softmax": softmax_cross_entropy}


def segment_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    q_halt: torch.Tensor,
    q_continue: torch.Tensor,
    q_continue_target: torch.Tensor | None,
    halted: torch.Tensor,
    steps: torch.Tensor,
    loss_type: str,
) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
    """Loss and metrics of one supervised segment.

    logits [b, s, vocab], labels [b, s], q_halt / q_continue / q_continue_target / halted / steps [b].
    Loss: per sequence the mean token loss over supervised tokens, plus 0.5 x (BCE(q_halt, exactly right)
    + BCE(q_continue, target) when a target is given), summed over the batch and divided by its size.
    Metrics: sums over the slots that halted at this step and have supervised tokens, with "count";
    the loss entries are those slots' per-sequence terms. Returns (loss, metrics, predictions [b, s]).
    """
    supervised = labels != IGNORE_LABEL_ID
    token_counts = supervised.sum(-1)
    divisor = token_counts.clamp_min(1)
    sequence_loss = TOKEN_LOSSES[loss_type](logits, labels).sum(-1) / divisor  # [b]

    with torch.no_grad():
        predictions = logits.argmax(-1)
        correct = supervised & (predictions == labels)
        exact = correct.sum(-1) == token_counts
    q_halt_loss = F.binary_cross_entropy_with_logits(q_halt, exact.to(q_halt.dtype), reduction="none")
    total = sequence_loss.float() + 0.5 * q_halt_loss
    q_continue_loss = None
    if q_continue_target is not None:
        q_continue_loss = F.binary_cross_entropy_with_logits(q_continue, q_continue_target, reduction="none")
        total = total + 0.5 * q_continue_loss
    loss = total.sum() / labels.shape[0]

    with torch.no_grad():
        valid = halted & (token_counts > 0)
        zero = torch.zeros((), device=logits.device)

        def over_valid(values: torch.Tensor) -> torch.Tensor:
            return torch.where(valid, values.float(), zero).sum()

        metrics = {
            "count": valid.sum(),
            "token_accuracy": over_valid(correct.sum(-1) / divisor),
            "exact_accuracy": over_valid(exact),
            "q_halt_accuracy": over_valid((q_halt >= 0) == exact),
            "steps": over_valid(steps),
            "lm_loss": over_valid(sequence_loss.detach()),
            "q_halt_loss": over_valid(q_halt_loss.detach()),
        }
        if q_continue_loss is not None:
            metrics["q_continue_loss"] = over_valid(q_continue_loss.detach())
    return loss, metrics, predictions
