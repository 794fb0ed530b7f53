"""The paper's claims about the arms, as data: which arms each claim compares and in which direction.

The claims suite (`benchmarks.suites.claims`) measures each claim with the method it names and gives a
verdict by the rule of `benchmarks.statistics.verdict`; the arms live here, beside the arm registry, so that
the benchmark machinery names none of them. A claim whose arms are not selected in a run is skipped.

methods:
  memory       slopes of bytes saved for backward against L_cycles and H_cycles: 0 for `subject`, > 0 for `control`
  accuracy     test exact accuracy, subject minus control, paired over seeds (equal optimiser steps)
  equal_time   the same at equal training wall time (each arm's last evaluation within the shorter run's time)
  act_savings  share of the segment budget ACT halting saves at inference, and the exact accuracy it keeps
  difficulty   rank correlation of segments used (ACT halting) with the task's own difficulty measure
  scaling      exact accuracy at `factor` x the training budget minus at the training budget (fixed mode)
  residuals    forward residuals through one segment: z_L's jumps after each H update (vs a flat recurrence of
               the same blocks), its fall within each cycle, z_H's fall across cycles
  participation participation ratio of z_H over z_L on the trained model, minus the same at initialisation
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """One claim: its id (C1..C7 with a part), what it says, how it is measured, and the rule's direction."""

    id: str
    statement: str
    method: str
    subject: str
    control: str | None = None
    direction: str = "higher"  # "higher": the effect is > 0; "not_lower": the effect is > -margin
    margin: float = 0.0
    factor: int = 1  # the scaling claim's budget multiple


_SUBJECT = "hrm"
CLAIMS: tuple[Claim, ...] = (
    Claim("C1", "one-step gradient: O(1) activation memory in N and T; BPTT O(N*T)", "memory", _SUBJECT, "hrm-bptt"),
    Claim("C2a", "one-step gradient trains as well as BPTT (equal optimiser steps)", "accuracy", _SUBJECT,
          "hrm-bptt", "not_lower", 0.05),
    Claim("C2b", "one-step gradient trains as well as BPTT (equal wall time)", "equal_time", _SUBJECT, "hrm-bptt",
          "not_lower", 0.05),
    Claim("C3a", "the hierarchy beats a parameter-matched Transformer", "accuracy", _SUBJECT, "transformer"),
    Claim("C3b", "the hierarchy beats a compute-matched deep Transformer", "accuracy", _SUBJECT, "transformer-deep"),
    Claim("C3c", "the hierarchy beats a Transformer in the same outer loop", "accuracy", _SUBJECT, "transformer-act"),
    Claim("C3d", "HRM beats the Tiny Recursive Model", "accuracy", _SUBJECT, "trm"),
    Claim("C4a", "ACT halting saves segments and keeps exact accuracy (within 0.05)", "act_savings", _SUBJECT,
          margin=0.05),
    Claim("C4b", "segments used grow with the task's difficulty", "difficulty", _SUBJECT),
    Claim("C5a", "inference-time scaling: 2x the training segment budget helps", "scaling", _SUBJECT, factor=2),
    Claim("C5b", "inference-time scaling: 4x the training segment budget helps", "scaling", _SUBJECT, factor=4),
    Claim("C6", "hierarchical convergence: z_L re-converges after each H update, unlike a flat recurrence",
          "residuals", _SUBJECT),
    Claim("C7", "dimensionality hierarchy: z_H's participation ratio over z_L's grows with training",
          "participation", _SUBJECT),
)
