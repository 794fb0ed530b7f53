"""What `python -m benchmarks.evaluate` writes: its record, results.json, report.md, figure and MLflow run.

One evaluation is one `Record` of suite "evaluate" (no seed): the task's scores, the mean segments, the
Q-halt accuracy, the measured speed, and as series the accuracy after each segment and, in act mode, the
segments histogram. Its results.json has the runner's schema, so `benchmarks.compare` reads it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks import plots
from benchmarks.evaluation import Evaluation
from benchmarks.record import Record
from benchmarks.report import write_html
from benchmarks.results import build_results, git_commit, write_results
from benchmarks.statistics import over_examples
from benchmarks.suite import format_metric, markdown_table
from benchmarks.suites.accuracy import EVALUATION_METRICS
from benchmarks.tracking import Tracker, flatten, metric_name, resolve_tracking_uri
from tasks.base import Task
from tasks.files import write_text_atomic
from tasks.metric import Metric, declarations

SUITE = "evaluate"
PROGRAM = "python -m benchmarks.evaluate"
SPEED = (Metric.rate("examples_per_s", "test examples evaluated per second (every segment of the budget run)"),
         Metric.info("eval_wall_s", "seconds", "wall time of the evaluation, model loading excluded", per_device=True))


@dataclass
class Written:
    report: Path
    results: Path
    tracking: str


def record(task: Task, context: dict[str, Any], evaluation: Evaluation, wall: float) -> Record:
    """The evaluation's record: metrics, the per-segment curves and (act mode) the segments histogram."""
    examples = len(evaluation.predictions)
    metrics = {**evaluation.metrics, "examples_per_s": examples / max(wall, 1e-9), "eval_wall_s": wall}
    steps = range(1, len(evaluation.segment_exact) + 1)
    series = {"exact_by_segment": [[s, float(v)] for s, v in zip(steps, evaluation.segment_exact, strict=True)],
              "token_by_segment": [[s, float(v)] for s, v in zip(steps, evaluation.segment_token, strict=True)]}
    settings = context["evaluation"]
    if settings["mode"] == "act":
        counts = np.bincount(evaluation.segments, minlength=settings["halt_max_steps"] + 1)[1:]
        series["segments_histogram"] = [[s, int(c)] for s, c in zip(steps, counts, strict=True)]
    params = {"mode": settings["mode"], "halt_max_steps": settings["halt_max_steps"],
              "split": context["data"]["split"], "limit": context["data"]["limit"]}
    return Record(SUITE, task.name, context["checkpoint"]["arm"], None, metrics, params, series=series)


def declared(task: Task) -> dict[str, Metric]:
    return declarations([*task.metrics(), *EVALUATION_METRICS, *SPEED])


def write(out_dir: Path, task: Task, context: dict[str, Any], result: Record, device: torch.device,
          outputs: list[Path]) -> Written:
    """results.json, report.md and the figure in `out_dir`, and one MLflow run holding them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = declared(task)
    figure = plots.segment_curves(result, out_dir / f"segments-{task.name}.png")
    tracker = Tracker(resolve_tracking_uri(out_dir.parent), artifact_root=out_dir.parent / "mlartifacts")
    name = f"evaluate · {task.name} · {Path(context['checkpoint']['path']).parent.name} · {out_dir.name}"
    tags = {"suite": SUITE, "task": task.name, "arm": result.arm, "layout": context["checkpoint"]["layout"],
            "git_commit": str(git_commit(Path(__file__).resolve().parent))}
    with tracker.run(name, tags=tags) as run:
        run.log_params(flatten(context))
        run.log_metrics({metric_name(key): value for key, value in result.metrics.items()})
        run.log_series({metric_name(key): [(int(s), v) for s, v in points]
                        for key, points in result.series.items()})
        mlflow = {"tracking_uri": tracker.tracking_uri, "parent_run_id": run.run_id, "error": tracker.error}
        results = build_results(run_name=out_dir.name, scale="checkpoint", suites=[SUITE], device=device,
                                config=context, mlflow=mlflow, metrics=metrics, records=[result], program=PROGRAM)
        results_path = write_results(results, out_dir)
        report = write_text_atomic(out_dir / "report.md", report_text(results, result, metrics, figure, out_dir))
        for path in (report, write_html(report), results_path, figure, *outputs):
            run.log_artifact(path)
    tracking = f"{tracker.tracking_uri} (run {run.run_id})" if tracker.error is None else f"off ({tracker.error})"
    return Written(report, results_path, tracking)


def intervals(result: Record, metrics: dict[str, Metric]) -> list[list[str]]:
    """Rows of (metric, value, 95% interval, n) for every declared metric the record has, in declared order."""
    rows = []
    for name, metric in metrics.items():
        if name not in result.metrics or metric.kind == "count":
            continue
        value = result.metrics[name]
        interval, n = "", ""
        if metric.kind == "proportion" and metric.denominator in result.metrics:
            n = f"{int(result.metrics[metric.denominator]):,} {metric.denominator}"
            estimate = over_examples(metric, result.metrics)
            if estimate is not None:
                interval = f"[{metric.format(estimate.low)}, {metric.format(estimate.high)}]"
        rows.append([name, format_metric(metrics, name, value), interval, n])
    return rows


def report_text(results: dict, result: Record, metrics: dict[str, Metric], figure: Path, out_dir: Path) -> str:
    context = results["config"]
    checkpoint, data, settings = context["checkpoint"], context["data"], context["evaluation"]
    model = context["model"]
    step = f", step {checkpoint['step']}" if checkpoint["step"] is not None else ""
    device = results["device"]
    about = [
        ["checkpoint", f"`{checkpoint['path']}` ({checkpoint['layout']} layout, arm {result.arm}{step})"],
        ["data", f"`{data['name']}`: {data['examples']:,} of {data['examples_in_split']:,} examples"
                 + (f" (--limit {data['limit']}, whole puzzle groups)" if data["limit"] else "")],
        ["model", f"hidden {model['hidden_size']}, layers H {model['H_layers']} / L {model['L_layers']}, "
                  f"cycles H {model['H_cycles']} / L {model['L_cycles']}, trained Mmax {model['halt_max_steps']}"],
        ["evaluation", f"{settings['mode']} mode, {settings['halt_max_steps']} segments, "
                       f"batch {settings['batch_size']}"],
        ["speed", f"{result.metrics['examples_per_s']:.3g} examples/s ({result.metrics['eval_wall_s']:.1f} s)"],
        ["device", f"{device['name']} ({device['type']}, {device['threads']} threads)"],
        ["git commit", results.get("git_commit") or "unknown"], ["command", f"`{results['command']}`"],
    ]
    lines = [f"# Checkpoint evaluation: {results['run_name']}", "", markdown_table(about, ("", "")), "",
             "## Scores", "",
             "Each proportion with its n; the interval is the 95% Wilson score interval over test examples (or "
             "evaluation tasks). Token accuracy has none: the tokens of one example are not independent.", "",
             markdown_table(intervals(result, metrics), ("metric", "value", "95% interval", "n")), "",
             "## Accuracy after each segment", "",
             "The prediction every example makes after each segment of the budget (whatever its halting says).", ""]
    token = dict((int(s), v) for s, v in result.series["token_by_segment"])
    rows = [[str(int(s)), f"{v:.3f}", f"{token[int(s)]:.3f}"] for s, v in result.series["exact_by_segment"]]
    lines += [markdown_table(rows, ("segment", "exact accuracy", "token accuracy")), ""]
    if "segments_histogram" in result.series:
        lines += ["## Segments used (act mode)", "", "Each example stops at its first halt decision.", "",
                  markdown_table([[str(int(s)), f"{int(c):,}"] for s, c in result.series["segments_histogram"]],
                                 ("segments", "examples")), ""]
    lines += ["## Figure", "", f"![accuracy after each segment]({figure.relative_to(out_dir)})", ""]
    return "\n".join(lines)


def summary(task: Task, result: Record) -> list[str]:
    """The console's lines: every proportion with its interval."""
    return [f"{name}: {value} {interval} (n = {n})".replace("  ", " ")
            for name, value, interval, n in intervals(result, declared(task)) if n]
