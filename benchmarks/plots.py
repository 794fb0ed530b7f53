"""The report's figures, drawn from result records with `matplotlib.figure.Figure` (no pyplot: no backend
is chosen and no global figure state is touched, so importing this module changes nothing for a notebook)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from matplotlib.figure import Figure

from baselines.registry import ARMS
from benchmarks.record import Record
from tasks.files import save_figure_atomic

# One colour and marker per arm in every figure (matplotlib's tab10 colours, in registry order); an arm
# registered at run time takes the next ones. Line styles cycle separately, so two arms with the same values
# still show as two lines.
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
_LINES = ("-", "--", ":", "-.")


def arm_style(arm: str) -> dict[str, str]:
    """The colour, marker and line style `arm` has in every figure."""
    names = list(ARMS)
    index = names.index(arm) if arm in names else len(names) + sum(map(ord, arm))
    return {"color": _COLOURS[index % len(_COLOURS)], "marker": _MARKERS[index % len(_MARKERS)],
            "linestyle": _LINES[index % len(_LINES)]}


def _select(records: Iterable[Record], suite: str, task: str) -> list[Record]:
    return [r for r in records if r.suite == suite and r.task == task]


def _single_axis() -> tuple[Figure, object]:
    """The report's standard one-panel figure and its axis."""
    figure = Figure(figsize=(6, 3.8))
    return figure, figure.subplots()


def _proportion_axis(axis, values: Iterable[float]) -> None:
    """A y axis for proportions scaled to the data (0 up to a little above the largest value, at most 1), so
    accuracies near the floor are not a flat line at the bottom of a 0-1 axis."""
    finite = [value for value in values if value is not None and value == value]
    top = min(1.0, max(finite, default=1.0) * 1.15 + 0.01)
    axis.set_ylim(-top * 0.03, top + top * 0.03)


def _log2_axis(axis, values: Iterable[float]) -> None:
    """A log2 x axis with a tick at each value, labelled as the plain number (1, 2, 4, 8, 16)."""
    ticks = sorted(set(values))
    axis.set_xscale("log", base=2)
    axis.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
    axis.minorticks_off()


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    return save_figure_atomic(figure, path, dpi=110)


def learning_curves(records: list[Record], task: str, path: Path) -> Path | None:
    """Training loss, its parts (the LM loss; the Q-halt and Q-continue losses) and test exact accuracy against
    step, one colour per arm (first seed). The parts are drawn apart because the Q losses grow from about 0
    while no training puzzle is solved (the halt target is always 0) towards the entropy of a mixed target
    once some are, which can lift the total while the LM loss falls."""
    cases = [r for r in _select(records, "accuracy", task) if r.series and r.seed is not None]
    if not cases:
        return None
    first_seed = cases[0].seed
    figure = Figure(figsize=(10, 7))
    exact = [value for r in cases if r.seed == first_seed for _, value in r.series.get("test_exact_accuracy", [])]
    (total, lm), (q, accuracy) = figure.subplots(2, 2)
    for record in (r for r in cases if r.seed == first_seed):
        series = record.series

        def draw(axis, name, style="-", label=record.arm, series=series, arm=record.arm):
            if name in series:
                axis.plot(*zip(*series[name], strict=True), linestyle=style, label=label,
                          color=arm_style(arm)["color"])

        draw(total, "train_loss")
        draw(lm, "train_lm_loss")
        draw(q, "train_q_halt_loss", "-", f"{record.arm} halt")
        draw(q, "train_q_continue_loss", ":", f"{record.arm} continue")
        draw(accuracy, "test_exact_accuracy", "-")
    total.set(xlabel="step", ylabel="loss", title=f"{task}: training loss (total)", yscale="log")
    lm.set(xlabel="step", ylabel="LM loss", title="LM loss (per halted sequence)", yscale="log")
    q.set(xlabel="step", ylabel="BCE", title="Q losses (halt solid, continue dotted)")
    accuracy.set(xlabel="step", ylabel="test exact accuracy", title="test exact accuracy")
    _proportion_axis(accuracy, exact)
    accuracy.legend(fontsize=7)
    return _save(figure, path)


def memory_vs_inner_loop(records: list[Record], task: str, path: Path) -> Path | None:
    """Bytes saved for backward against L_cycles (the inner loop), one line per arm."""
    points = [r for r in _select(records, "memory", task) if r.params.get("sweep") == "L_cycles"]
    if not points:
        return None
    figure, axis = _single_axis()
    drawn: dict[str, list] = {}
    arms = list(dict.fromkeys(r.arm for r in points))
    for index, arm in enumerate(arms):
        arm_points = sorted((r.params["L_cycles"], r.metrics["saved_bytes"] / 2**20) for r in points if r.arm == arm)
        loop = next(r.params.get("loop", "L_cycles") for r in points if r.arm == arm)
        twins = [other for other, values in drawn.items() if values == arm_points]
        label = f"{arm} ({loop})" + (f", same values as {', '.join(twins)}" if twins else "")
        # earlier arms get larger markers, so an arm drawn over one with the same values leaves it visible
        axis.plot(*zip(*arm_points, strict=True), label=label, markersize=11 - 7 * index / max(len(arms) - 1, 1),
                  **arm_style(arm))
        drawn[arm] = arm_points
    _log2_axis(axis, [r.params["L_cycles"] for r in points])
    axis.set_ylim(0, max(value for values in drawn.values() for _, value in values) * 1.15 or 1)  # from 0: O(1) is flat
    axis.set(xlabel="L_cycles (the inner loop; log2 axis)", ylabel="MiB saved for backward",
             title=f"{task}: activation memory vs L_cycles")
    axis.legend(fontsize=8)
    return _save(figure, path)


def segments_histogram(records: list[Record], task: str, path: Path) -> Path | None:
    """Segments used per test example with ACT halting at inference, one bar group per arm."""
    halting = [r for r in _select(records, "act", task) if r.params.get("mode") == "act" and r.series]
    if not halting:
        return None
    figure, axis = _single_axis()
    width = 0.8 / len(halting)
    for index, record in enumerate(halting):
        segments, counts = zip(*record.series["segments_histogram"], strict=True)
        axis.bar([s + (index - (len(halting) - 1) / 2) * width for s in segments], counts, width=width,
                 color=arm_style(record.arm)["color"],
                 label=f"{record.arm} (mean {record.metrics['mean_segments']:.2f})")
    axis.set_xticks(sorted({s for r in halting for s, _ in r.series["segments_histogram"]}))  # whole segments
    axis.set(xlabel="segments used", ylabel="test examples", title=f"{task}: segments with ACT halting")
    axis.legend(fontsize=8)
    return _save(figure, path)


def accuracy_vs_budget(records: list[Record], task: str, path: Path) -> Path | None:
    """Test exact accuracy against the inference segment budget (fixed mode), one line per arm."""
    points = [r for r in _select(records, "act", task) if r.params.get("mode") == "fixed"]
    if not points:
        return None
    figure, axis = _single_axis()
    for arm in dict.fromkeys(r.arm for r in points):
        arm_points = sorted({(r.params["eval_halt_max_steps"], r.metrics["exact_accuracy"])
                             for r in points if r.arm == arm})
        style = arm_style(arm)
        axis.plot(*zip(*arm_points, strict=True), label=arm, **style)
        trained = next(r.params["halt_max_steps"] for r in points if r.arm == arm)
        axis.axvline(trained, color=style["color"], linestyle=":", linewidth=1)
    _log2_axis(axis, [r.params["eval_halt_max_steps"] for r in points])
    _proportion_axis(axis, [r.metrics.get("exact_accuracy") for r in points])
    axis.set(xlabel="inference halt_max_steps (log2 axis; dotted: training's)", ylabel="test exact accuracy",
             title=f"{task}: inference-time scaling")
    axis.legend(fontsize=8)
    return _save(figure, path)


def _claim(records: list[Record], task: str, series: str) -> Record | None:
    return next((r for r in _select(records, "claims", task) if r.series and series in r.series), None)


def residual_curves(records: list[Record], task: str, path: Path) -> Path | None:
    """C6: mean forward residual of z_L and z_H after each update of one segment, and a flat recurrence's."""
    record = _claim(records, task, "hrm_z_L")
    if record is None:
        return None
    figure, axis = _single_axis()
    for name, style, label in (("flat_z_L", ":", "flat recurrence, z"), ("hrm_z_L", "-", f"{record.arm} z_L"),
                               ("hrm_z_H", "--", f"{record.arm} z_H")):
        axis.plot(*zip(*record.series[name], strict=True), linestyle=style, marker="o", label=label)
    axis.set(xlabel="update within the segment", ylabel="||z_t - z_(t-1)|| / ||z_t||", yscale="log",
             title=f"{task}: forward residuals (first segment, mean over examples)")
    axis.legend(fontsize=8)
    return _save(figure, path)


def accuracy_band_vs_budget(records: list[Record], task: str, path: Path) -> Path | None:
    """C5: exact accuracy against the inference budget, mean over seeds with its 95% interval."""
    record = _claim(records, task, "exact_vs_budget")
    if record is None:
        return None
    budgets, means, lows, highs = zip(*record.series["exact_vs_budget"], strict=True)
    figure, axis = _single_axis()
    style = arm_style(record.arm)
    axis.plot(budgets, means, label=f"{record.arm} (mean over seeds)", **style)
    if all(value is not None and value == value for value in (*lows, *highs)):
        axis.fill_between(budgets, lows, highs, alpha=0.25, color=style["color"], label="95% interval")
    _log2_axis(axis, budgets)
    _proportion_axis(axis, [*means, *highs])
    axis.set(xlabel="inference halt_max_steps (log2 axis)", ylabel="test exact accuracy",
             title=f"{task}: inference-time scaling")
    axis.legend(fontsize=8)
    return _save(figure, path)


def segments_vs_difficulty(records: list[Record], task: str, path: Path) -> Path | None:
    """C4b: segments used with ACT halting (mean over seeds) against each test example's difficulty."""
    record = _claim(records, task, "segments_vs_difficulty")
    if record is None:
        return None
    difficulty, segments = zip(*record.series["segments_vs_difficulty"], strict=True)
    figure, axis = _single_axis()
    axis.scatter(difficulty, segments, s=10, alpha=0.5, color=arm_style(record.arm)["color"])
    axis.set(xlabel=record.labels.get("measure", "difficulty").rpartition(" with ")[2], ylabel="segments used",
             title=f"{task}: segments with ACT halting vs difficulty")
    return _save(figure, path)


def segment_curves(record: Record, path: Path) -> Path:
    """A checkpoint evaluation (suite "evaluate"): exact and token accuracy of the prediction after each
    segment, and, in act mode, the histogram of segments used beside it."""
    histogram = (record.series or {}).get("segments_histogram")
    figure = Figure(figsize=(10 if histogram else 6, 3.8))
    axes = figure.subplots(1, 2 if histogram else 1, squeeze=False)[0]
    accuracy = axes[0]
    for name, label, marker in (("exact_by_segment", "exact", "o"), ("token_by_segment", "token", "s")):
        accuracy.plot(*zip(*record.series[name], strict=True), marker=marker, label=label)
    segments = [int(s) for s, _ in record.series["exact_by_segment"]]
    ticks = segments if len(segments) <= 16 else segments[::max(len(segments) // 8, 1)]  # whole segments
    accuracy.set_xticks(ticks)
    _proportion_axis(accuracy, [value for name in ("exact_by_segment", "token_by_segment")
                                for _, value in record.series[name]])
    accuracy.set(xlabel="segment", ylabel="test accuracy", title=f"{record.task}: accuracy after each segment")
    accuracy.legend(fontsize=8)
    if histogram:
        used, counts = zip(*histogram, strict=True)
        axes[1].bar(used, counts, width=0.8)
        axes[1].set_xticks(ticks)
        axes[1].set(xlabel="segments used (act mode)", ylabel="test examples",
                    title=f"mean {record.metrics['mean_segments']:.2f} segments")
    return _save(figure, path)
