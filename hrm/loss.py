"""Token losses, the segment's total loss and its metrics (HRM.md section 4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hrm.interface import IGNORE_LABEL_ID


def stablemax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-token -log stablemax(logits)[label] in float64, 0 where the label is ignored.

    s(x) = x + 1 for x >= 0 and 1 / (1 - x + 1e-30) for x < 0; p_i = s(x_i) / sum_j s(x_j). The log is taken
    of every p_i before the label's is gathered, as the reference does, so values and gradients round as its
    do. The 1e-30 changes no value in float64; it keeps the unused branch finite at x = 1, where 0 * inf
    would otherwise turn the gradient into NaN. logits [..., vocab], labels [...] -> [...] float64.
    """
    x = logits.double()
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    log_p = torch.log(s / s.sum(-1, keepdim=True))
    supervised = labels != IGNORE_LABEL_ID
    target = torch.where(supervised, labels, 0).long().unsqueeze(-1)
    return -torch.where(supervised, log_p.gather(-1, target).squeeze(-1), 0)


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
    """Loss and metrics of one supervised segment, in the reference's arithmetic (its ACTLossHead).

    logits [b, s, vocab], labels [b, s], q_halt / q_continue / q_continue_target / halted / steps [b].
    Loss: `(1 / b) * (lm + 0.5 * (bce_halt + bce_continue))`, where lm sums every token's loss divided by its
    sequence's supervised-token count (the per-sequence mean, summed over the batch; float64 with stablemax),
    bce_halt sums BCE(q_halt, exactly right) and bce_continue BCE(q_continue, target) over the batch (absent
    when no target is given). The order of these operations is the reference's, so the loss and its
    gradients round as its do. Metrics: sums over the slots that halted at this step and have supervised
    tokens, with "count"; the loss entries are those slots' per-sequence terms.
    Returns (loss, metrics, predictions [b, s]).
    """
    supervised = labels != IGNORE_LABEL_ID
    token_counts = supervised.sum(-1)
    divisor = token_counts.clamp_min(1).unsqueeze(-1)  # [b, 1]
    token_loss = TOKEN_LOSSES[loss_type](logits, labels) / divisor  # [b, s]

    with torch.no_grad():
        predictions = logits.argmax(-1)
        correct = supervised & (predictions == labels)
        exact = correct.sum(-1) == token_counts
    q_loss = F.binary_cross_entropy_with_logits(q_halt, exact.to(q_halt.dtype), reduction="sum")
    if q_continue_target is not None:
        q_loss = q_loss + F.binary_cross_entropy_with_logits(q_continue, q_continue_target, reduction="sum")
    loss = (1 / labels.shape[0]) * (token_loss.sum() + 0.5 * q_loss)  # scaled as the reference's pretrain.py does

    with torch.no_grad():
        valid = halted & (token_counts > 0)
        zero = torch.zeros((), device=logits.device)

        def over_valid(values: torch.Tensor) -> torch.Tensor:
            return torch.where(valid, values.float(), zero).sum()

        def bce(logit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return F.binary_cross_entropy_with_logits(logit, target, reduction="none")

        metrics = {
            "count": valid.sum(),
            "token_accuracy": over_valid(correct.sum(-1) / divisor.squeeze(-1)),
            "exact_accuracy": over_valid(exact),
            "q_halt_accuracy": over_valid((q_halt >= 0) == exact),
            "steps": over_valid(steps),
            "lm_loss": over_valid(token_loss.sum(-1)),
            "q_halt_loss": over_valid(bce(q_halt, exact.to(q_halt.dtype))),
        }
        if q_continue_target is not None:
            metrics["q_continue_loss"] = over_valid(bce(q_continue, q_continue_target))
    return loss, metrics, predictions
