"""The report's figures, drawn from result records (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from tasks.files import save_figure_atomic  # noqa: E402

Record = dict[str, Any]


def _select(records: Iterable[Record], suite: str, task: str) -> list[Record]:
    return [r for r in records if r["suite"] == suite and r["task"] == task]


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    try:
        return save_figure_atomic(figure, path, dpi=110)
    finally:
        plt.close(figure)


def learning_curves(records: list[Record], task: str, path: Path) -> Path | None:
    """Training loss and test exact accuracy against step, one line per arm (first seed)."""
    cases = [r for r in _select(records, "accuracy", task) if r.get("series") and r["seed"] is not None]
    if not cases:
        return None
    first_seed = cases[0]["seed"]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 3.8))
    for record in (r for r in cases if r["seed"] == first_seed):
        series = record["series"]
        if "train_loss" in series:
            loss_axis.plot(*zip(*series["train_loss"], strict=True), label=record["arm"])
        if "test_exact_accuracy" in series:
            accuracy_axis.plot(*zip(*series["test_exact_accuracy"], strict=True), marker="o", label=record["arm"])
    loss_axis.set(xlabel="step", ylabel="training loss", title=f"{task}: training loss", yscale="log")
    accuracy_axis.set(xlabel="step", ylabel="test exact accuracy", title=f"{task}: test exact accuracy",
                      ylim=(-0.02, 1.02))
    accuracy_axis.legend(fontsize=8)
    return _save(figure, path)


def memory_vs_T(records: list[Record], task: str, path: Path) -> Path | None:
    """Bytes saved for backward against T (L_cycles), one line per arm."""
    points = [r for r in _select(records, "memory", task) if r["params"].get("sweep") == "T"]
    if not points:
        return None
    figure, axis = plt.subplots(figsize=(6, 3.8))
    styles = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))  # distinct, so arms with equal memory stay visible
    for index, arm in enumerate(dict.fromkeys(r["arm"] for r in points)):
        arm_points = sorted((r["params"]["T"], r["metrics"]["saved_bytes"] / 2**20) for r in points if r["arm"] == arm)
        line, marker = styles[index % len(styles)]
        axis.plot(*zip(*arm_points, strict=True), linestyle=line, marker=marker, label=arm)
    axis.set(xlabel="T (L_cycles)", ylabel="MiB saved for backward", title=f"{task}: activation memory vs T")
    axis.legend(fontsize=8)
    return _save(figure, path)


def segments_histogram(records: list[Record], task: str, path: Path) -> Path | None:
    """Segments used per test example with ACT halting at inference, one bar group per arm."""
    halting = [r for r in _select(records, "act", task) if r["params"].get("mode") == "act" and r.get("series")]
    if not halting:
        return None
    figure, axis = plt.subplots(figsize=(6, 3.8))
    width = 0.8 / len(halting)
    for index, record in enumerate(halting):
        segments, counts = zip(*record["series"]["segments_histogram"], strict=True)
        axis.bar([s + (index - (len(halting) - 1) / 2) * width for s in segments], counts, width=width,
                 label=f"{record['arm']} (mean {record['metrics']['mean_segments']:.2f})")
    axis.set(xlabel="segments used", ylabel="test examples", title=f"{task}: segments with ACT halting")
    axis.legend(fontsize=8)
    return _save(figure, path)


def accuracy_vs_max_segments(records: list[Record], task: str, path: Path) -> Path | None:
    """Test exact accuracy against the inference Mmax (fixed mode), one line per arm."""
    points = [r for r in _select(records, "act", task) if r["params"].get("mode") == "fixed"]
    if not points:
        return None
    figure, axis = plt.subplots(figsize=(6, 3.8))
    for arm in dict.fromkeys(r["arm"] for r in points):
        arm_points = sorted({(r["params"]["max_segments"], r["metrics"]["exact_accuracy"])
                             for r in points if r["arm"] == arm})
        line = axis.plot(*zip(*arm_points, strict=True), marker="o", label=arm)[0]
        trained = next(r["params"]["train_max_segments"] for r in points if r["arm"] == arm)
        axis.axvline(trained, color=line.get_color(), linestyle=":", linewidth=1)
    axis.set_xscale("log", base=2)
    axis.set(xlabel="inference Mmax (dotted: training Mmax)", ylabel="test exact accuracy",
             title=f"{task}: inference-time scaling", ylim=(-0.02, 1.02))
    axis.legend(fontsize=8)
    return _save(figure, path)


FIGURES = {
    "learning curves": learning_curves,
    "memory vs T": memory_vs_T,
    "segments with ACT halting": segments_histogram,
    "accuracy vs inference Mmax": accuracy_vs_max_segments,
}
