"""The one shape of a result: a frozen `Record`, as suites yield it and results.json stores it.

    Record(suite="memory", task="sudoku", arm="hrm", seed=None, params={"sweep": "L_cycles", ...},
           metrics={"saved_bytes": 81920.0})

`seed` is None for a record that is not one model seed's (a seed aggregate, a measurement of an
untrained model). `status` is "ok" or "diverged" (then `diverged_at_step` says where: a step, or
[seed, step] pairs for a seed aggregate, and the metrics are not results). What each metric means is
declared separately (`tasks.metric.Metric`), once per run, in results.json's "metrics".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "diverged")


@dataclass(frozen=True)
class Record:
    """One measured result of a suite for one (task, arm, seed) and one set of params."""

    suite: str
    task: str
    arm: str
    seed: int | None
    metrics: Mapping[str, float]
    params: Mapping[str, Any] = field(default_factory=dict)
    status: str = "ok"
    series: Mapping[str, list[list[float]]] | None = None  # curves: name -> [[x, y], ...]
    diverged_at_step: int | list[list[int]] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)  # words that describe it (a claim's verdict); not matched

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"record status must be one of {', '.join(STATUSES)}, got {self.status!r}")

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    def to_dict(self) -> dict[str, Any]:
        """The record as results.json stores it (series and diverged_at_step only when present)."""
        document: dict[str, Any] = {"suite": self.suite, "task": self.task, "arm": self.arm, "seed": self.seed,
                                    "status": self.status, "params": dict(self.params), "metrics": dict(self.metrics)}
        if self.diverged_at_step is not None:
            document["diverged_at_step"] = self.diverged_at_step
        if self.labels:
            document["labels"] = dict(self.labels)
        if self.series:
            document["series"] = {name: [list(point) for point in points] for name, points in self.series.items()}
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Record:
        return cls(suite=document["suite"], task=document["task"], arm=document["arm"], seed=document["seed"],
                   metrics=dict(document.get("metrics") or {}), params=dict(document.get("params") or {}),
                   status=document.get("status", "ok"), series=document.get("series"),
                   diverged_at_step=document.get("diverged_at_step"), labels=dict(document.get("labels") or {}))

    def diverged_text(self) -> str:
        """'diverged at step k' for a case, 'diverged (seed s at step k, ...)' for a seed aggregate."""
        at = self.diverged_at_step
        if isinstance(at, list):
            return "diverged (" + ", ".join(f"seed {seed} at step {step}" for seed, step in at) + ")"
        return f"diverged at step {at}"
