"""`report.md`: a results document as Markdown tables (tabulate) with the figures embedded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabulate import tabulate

from benchmarks import plots
from tasks.files import write_text_atomic

Record = dict[str, Any]
REPORT_FILE = "report.md"
_ACCURACY_FIRST = ("exact_accuracy", "token_accuracy")
_SCORE_WORDS = ("accuracy", "pass@", "valid", "optimal")  # the task-specific scores shown as columns


def write_report(results: dict[str, Any], directory: Path, images: list[tuple[str, Path]] = ()) -> Path:
    """Write `directory/report.md` (and its PNGs) from a results document; returns the report's path."""
    records = results["records"]
    tasks = list(dict.fromkeys(r["task"] for r in records))
    lines = [f"# Benchmark report: {results['run_name']}", "", _provenance(results), ""]
    if results.get("data_notes"):
        lines += ["## Data", "", "What the dataset builds left out:", "",
                  *[f"- {note}" for note in results["data_notes"]], ""]
    for title, table in (("Accuracy", _accuracy_table), ("Memory", _memory_table),
                         ("Throughput", _throughput_table), ("ACT and inference-time scaling", _act_table)):
        section = [r for r in records if r["suite"] == _SUITE_OF[title]]
        if section:
            lines += [f"## {title}", "", _SUITE_NOTES[title], "", table(section), ""]
    figures = _figures(records, tasks, directory)
    if figures or images:
        lines += ["## Figures", ""]
        for caption, path in [*figures, *images]:
            lines += [f"### {caption}", "", f"![{caption}]({_relative(path, directory)})", ""]
    mlflow = results.get("mlflow", {})
    if mlflow.get("error"):
        lines += ["## MLflow", "", f"Tracking failed, the results above are complete without it: {mlflow['error']}", ""]
    return write_text_atomic(directory / REPORT_FILE, "\n".join(lines))


_SUITE_OF = {"Accuracy": "accuracy", "Memory": "memory", "Throughput": "throughput",
             "ACT and inference-time scaling": "act"}
_SUITE_NOTES = {
    "Accuracy": "Test-split metrics after training (mean ± standard deviation over seeds when there are several); "
                "segments: mean segments used at evaluation; wall: training time without evaluations.",
    "Memory": "Bytes autograd saves for backward in one training step (exact), as T (L_cycles) grows with N fixed "
              "and as N (H_cycles) grows with T fixed; slopes are least-squares fits in bytes per step.",
    "Throughput": "Median over repeats after warm-up. Training: samples = example-segments (one supervised segment "
                  "each); inference: examples evaluated for Mmax segments. MFU: counted FLOPs per second over the "
                  "measured dense-matmul FLOP/s of the same device.",
    "ACT and inference-time scaling": "`act`: each test example stops at its first halt decision; `fixed`: every "
                                      "example runs Mmax segments (the reference's evaluation).",
}


def diverged_text(record: Record) -> str:
    """'diverged at step k' for a case, 'diverged (seed s at step k, ...)' for a seed aggregate."""
    at = record.get("diverged_at_step")
    if isinstance(at, list):
        return "diverged (" + ", ".join(f"seed {seed} at step {step}" for seed, step in at) + ")"
    return f"diverged at step {at}"


def _table(rows: list, headers) -> str:
    """A GitHub-Markdown table; cells are already formatted strings, so tabulate must not re-parse them."""
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _provenance(results: dict[str, Any]) -> str:
    device = results["device"]
    rows = [("scale", results["scale"]), ("suites", ", ".join(results["suites"])),
            ("device", f"{device['name']} ({device['type']}, {device['threads']} threads)"),
            ("git commit", results.get("git_commit") or "unknown"), ("created", results["created"]),
            ("command", f"`{results.get('command', '')}`"),
            ("torch", results["versions"].get("torch"))]
    return _table(rows, ("", ""))


def _fmt(value: float | None, kind: str = "") -> str:
    if value is None:
        return "-"
    if kind == "bytes":
        return f"{value / 2**20:.2f} MiB"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _accuracy_table(records: list[Record]) -> str:
    """One table per task (its own scores as columns); the seed aggregate replaces per-seed rows."""
    seeds_per_case: dict[tuple, int] = {}
    for r in records:
        if r["seed"] is not None:
            seeds_per_case[(r["task"], r["arm"])] = seeds_per_case.get((r["task"], r["arm"]), 0) + 1
    shown = [r for r in records if r["seed"] is None or seeds_per_case[(r["task"], r["arm"])] == 1]
    tables = []
    for task in dict.fromkeys(r["task"] for r in shown):
        rows_of_task = [r for r in shown if r["task"] == task]
        extra = sorted({name for r in rows_of_task for name in r["metrics"]
                        if any(word in name for word in _SCORE_WORDS) and name not in _ACCURACY_FIRST
                        and not name.startswith("q_halt") and not name.endswith("_std")})
        columns = [*_ACCURACY_FIRST, *extra]
        rows = []
        for r in rows_of_task:
            metrics = r["metrics"]
            if r.get("status") == "diverged":
                rows.append([r["arm"], diverged_text(r), *["-"] * len(columns[1:]), "-",
                             _fmt(metrics.get("parameters")), f"{metrics.get('train_wall_s', 0):.1f} s"])
                continue

            def cell(name: str, metrics=metrics) -> str:
                if name not in metrics:
                    return "-"
                spread = metrics.get(f"{name}_std")
                return _fmt(metrics[name]) + (f" ± {spread:.3f}" if spread is not None else "")

            rows.append([r["arm"], *[cell(name) for name in columns], _fmt(metrics.get("mean_segments")),
                         _fmt(metrics.get("parameters")), f"{metrics.get('train_wall_s', 0):.1f} s"])
        tables.append(f"**{task}**\n\n" + _table(rows, headers=["arm", *columns, "segments", "parameters",
                                                                    "wall"]))
    return "\n\n".join(tables)


def _memory_table(records: list[Record]) -> str:
    """Per task x arm: bytes saved at each T, then the fitted slopes."""
    sweep = [r for r in records if r["params"].get("sweep") == "T"]
    t_values = sorted({r["params"]["T"] for r in sweep})
    rows = []
    for r in (r for r in records if "sweep" not in r["params"]):
        saved = {p["params"]["T"]: p["metrics"]["saved_bytes"] for p in sweep
                 if p["task"] == r["task"] and p["arm"] == r["arm"]}
        slopes = [r["metrics"].get(name) for name in
                  ("slope_saved_bytes_vs_T", "slope_saved_bytes_vs_N", "slope_cuda_peak_bytes_vs_T")]
        rows.append([r["task"], r["arm"], *[_fmt(saved.get(t), "bytes") for t in t_values],
                     *[f"{value:,.0f}" if value is not None else "-" for value in slopes]])
    return _table(rows, headers=["task", "arm", *[f"saved, T={t}" for t in t_values], "slope vs T (B per step)",
                                   "slope vs N (B per cycle)", "CUDA peak slope vs T"])


def _throughput_table(records: list[Record]) -> str:
    names = ("train_samples_per_s", "train_tokens_per_s", "train_mfu", "infer_samples_per_s", "infer_tokens_per_s",
             "infer_mfu")
    rows = [[r["task"], r["arm"], r["params"]["device"], r["params"]["batch_size"],
             *[_fmt(r["metrics"].get(name)) for name in names]] for r in records]
    return _table(rows, headers=["task", "arm", "device", "batch", *names])


def _act_table(records: list[Record]) -> str:
    """ACT halting against the fixed Mmax it was trained with, then exact accuracy at each inference Mmax."""
    fixed = {(r["task"], r["arm"], r["params"]["max_segments"]): r["metrics"] for r in records
             if r["params"]["mode"] == "fixed"}
    halting = []
    for r in (r for r in records if r["params"]["mode"] == "act"):
        if r.get("status") == "diverged":
            halting.append([r["task"], r["arm"], r["params"]["max_segments"], diverged_text(r), "-", "-", "-"])
            continue
        m, at_max = r["metrics"], fixed.get((r["task"], r["arm"], r["params"]["max_segments"]), {})
        halting.append([r["task"], r["arm"], r["params"]["max_segments"], _fmt(m.get("mean_segments")),
                        _fmt(m.get("exact_accuracy")), _fmt(at_max.get("exact_accuracy")),
                        _fmt(m.get("q_halt_accuracy"))])
    budgets = sorted({key[2] for key in fixed})
    cases = list(dict.fromkeys(key[:2] for key in fixed))
    scaling = [[task, arm, *[_fmt(fixed.get((task, arm, m), {}).get("exact_accuracy")) for m in budgets]]
               for task, arm in cases]
    return "\n\n".join([
        _table(halting, headers=["task", "arm", "Mmax", "mean segments (ACT)", "exact_accuracy (ACT)",
                                   "exact_accuracy (fixed Mmax)", "q_halt_accuracy (ACT)"]),
        "Exact accuracy against the inference Mmax (fixed mode; trained with the Mmax above):",
        _table(scaling, headers=["task", "arm", *[f"Mmax={m}" for m in budgets]]),
    ])


def _figures(records: list[Record], tasks: list[str], directory: Path) -> list[tuple[str, Path]]:
    figures = []
    for title, draw in plots.FIGURES.items():
        draw: Callable
        for task in tasks:
            path = draw(records, task, directory / f"{title.replace(' ', '_')}-{task}.png")
            if path is not None:
                figures.append((f"{task}: {title}", path))
    return figures


def _relative(path: Path, directory: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(directory.resolve()))
    except ValueError:
        return str(path)
