"""The report's figures, drawn from result records with `matplotlib.figure.Figure` (no pyplot: no backend
is chosen and no global figure state is touched, so importing this module changes nothing for a notebook)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from matplotlib.figure import Figure

from benchmarks.record import Record
from tasks.files import save_figure_atomic


def _select(records: Iterable[Record], suite: str, task: str) -> list[Record]:
    return [r for r in records if r.suite == suite and r.task == task]


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    return save_figure_atomic(figure, path, dpi=110)


def learning_curves(records: list[Record], task: str, path: Path) -> Path | None:
    """Training loss and test exact accuracy against step, one line per arm (first seed)."""
    cases = [r for r in _select(records, "accuracy", task) if r.series and r.seed is not None]
    if not cases:
        return None
    first_seed = cases[0].seed
    figure = Figure(figsize=(10, 3.8))
    loss_axis, accuracy_axis = figure.subplots(1, 2)
    for record in (r for r in cases if r.seed == first_seed):
        series = record.series
        if "train_loss" in series:
            loss_axis.plot(*zip(*series["train_loss"], strict=True), label=record.arm)
        if "test_exact_accuracy" in series:
            accuracy_axis.plot(*zip(*series["test_exact_accuracy"], strict=True), marker="o", label=record.arm)
    loss_axis.set(xlabel="step", ylabel="training loss", title=f"{task}: training loss", yscale="log")
    accuracy_axis.set(xlabel="step", ylabel="test exact accuracy", title=f"{task}: test exact accuracy",
                      ylim=(-0.02, 1.02))
    accuracy_axis.legend(fontsize=8)
    return _save(figure, path)


def memory_vs_inner_loop(records: list[Record], task: str, path: Path) -> Path | None:
    """Bytes saved for backward against L_cycles (the inner loop), one line per arm."""
    points = [r for r in _select(records, "memory", task) if r.params.get("sweep") == "L_cycles"]
    if not points:
        return None
    figure = Figure(figsize=(6, 3.8))
    axis = figure.subplots()
    styles = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))  # distinct, so arms with equal memory stay visible
    for index, arm in enumerate(dict.fromkeys(r.arm for r in points)):
        arm_points = sorted((r.params["L_cycles"], r.metrics["saved_bytes"] / 2**20) for r in points if r.arm == arm)
        line, marker = styles[index % len(styles)]
        loop = next(r.params.get("loop", "L_cycles") for r in points if r.arm == arm)
        axis.plot(*zip(*arm_points, strict=True), linestyle=line, marker=marker, label=f"{arm} ({loop})")
    axis.set(xlabel="L_cycles (the inner loop)", ylabel="MiB saved for backward",
             title=f"{task}: activation memory vs L_cycles")
    axis.legend(fontsize=8)
    return _save(figure, path)


def segments_histogram(records: list[Record], task: str, path: Path) -> Path | None:
    """Segments used per test example with ACT halting at inference, one bar group per arm."""
    halting = [r for r in _select(records, "act", task) if r.params.get("mode") == "act" and r.series]
    if not halting:
        return None
    figure = Figure(figsize=(6, 3.8))
    axis = figure.subplots()
    width = 0.8 / len(halting)
    for index, record in enumerate(halting):
        segments, counts = zip(*record.series["segments_histogram"], strict=True)
        axis.bar([s + (index - (len(halting) - 1) / 2) * width for s in segments], counts, width=width,
                 label=f"{record.arm} (mean {record.metrics['mean_segments']:.2f})")
    axis.set(xlabel="segments used", ylabel="test examples", title=f"{task}: segments with ACT halting")
    axis.legend(fontsize=8)
    return _save(figure, path)


def accuracy_vs_budget(records: list[Record], task: str, path: Path) -> Path | None:
    """Test exact accuracy against the inference segment budget (fixed mode), one line per arm."""
    points = [r for r in _select(records, "act", task) if r.params.get("mode") == "fixed"]
    if not points:
        return None
    figure = Figure(figsize=(6, 3.8))
    axis = figure.subplots()
    for arm in dict.fromkeys(r.arm for r in points):
        arm_points = sorted({(r.params["eval_halt_max_steps"], r.metrics["exact_accuracy"])
                             for r in points if r.arm == arm})
        line = axis.plot(*zip(*arm_points, strict=True), marker="o", label=arm)[0]
        trained = next(r.params["halt_max_steps"] for r in points if r.arm == arm)
        axis.axvline(trained, color=line.get_color(), linestyle=":", linewidth=1)
    axis.set_xscale("log", base=2)
    axis.set(xlabel="inference halt_max_steps (dotted: training's)", ylabel="test exact accuracy",
             title=f"{task}: inference-time scaling", ylim=(-0.02, 1.02))
    axis.legend(fontsize=8)
    return _save(figure, path)
