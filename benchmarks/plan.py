"""The plan of a run (`--dry-run`, and a bare `python -m benchmarks.run` before it starts): every training case
(task x arm: parameters, block applications, steps, the time of one step measured now, estimated time), each
suite's estimated time and the total, then every case's resolved settings with the layer each one came from
(scale, task, arm, arm identity, user).

The estimate is measured, not assumed: `benchmarks.estimate.CostModel` builds each (task, arm) at its resolved
size and times a few training steps and one evaluation on this machine, with the thread count the run's training
processes use; each suite turns those into its items' seconds (`Suite.work`). Nothing is trained; the task
datasets are built (or read from the cache) because the evaluations' cost depends on the test split's size.
Accuracy cases run `train.workers` at a time, so their wall time is their sum over the workers.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from tabulate import tabulate

from baselines.registry import build_arm
from benchmarks.config import CaseSettings, RunConfig
from benchmarks.context import SuiteContext, training_workers, worker_threads
from benchmarks.estimate import CostModel
from benchmarks.progress import duration
from benchmarks.suites import SUITES
from benchmarks.tracking import TrackedRun, Tracker
from hrm.layers import count_parameters


def estimate(config: RunConfig, suites: list[str], tasks: list[str], arms: list[str], seeds: list[int],
             device: torch.device) -> tuple[dict[str, float], CostModel]:
    """Estimated wall seconds of each suite (accuracy: over its workers), and the probes behind them."""
    workers = training_workers(config, len(tasks) * len(arms) * len(seeds))
    costs = CostModel(device, probe=True, threads=worker_threads(config, workers))
    tracker = Tracker(None)
    ctx = SuiteContext(config, tasks, arms, seeds, device, Path("."), tracker, TrackedRun(tracker, None),
                       suites=suites)
    walls = {}
    for suite in suites:
        seconds = sum(item.cost for item in SUITES[suite].work(ctx, costs))
        walls[suite] = seconds / workers if suite == "accuracy" else seconds
    return walls, costs


def describe_plan(config: RunConfig, suites: list[str], tasks: list[str], arms: list[str], seeds: list[int],
                  device: torch.device, settings: bool = True) -> str:
    """The table of training cases, the estimated time per suite, then (with `settings`) each case's settings."""
    started = time.perf_counter()
    walls, costs = estimate(config, suites, tasks, arms, seeds, device)
    rows, cases = [], []
    for task in tasks:
        task_train = config.train_for(task)
        for arm in arms:
            model_config = costs.model_config(config, task, arm)
            with torch.device("meta"):
                model = build_arm(arm, model_config)
            rows.append([task, arm, f"{count_parameters(model):,}", model.block_applications_per_segment(),
                         model_config.halt_max_steps, task_train.steps, len(seeds),
                         f"{costs.step_s(config, task, arm, task_train.batch_size) * 1e3:,.0f} ms",
                         duration(costs.case_s(config, task, arm) * len(seeds))])
            cases.append(config.case(task, arm))
    table = tabulate(rows, headers=["task", "arm", "parameters", "blocks/segment", "halt_max_steps", "steps",
                                    "seeds", "step (measured)", "est. time"], tablefmt="github", disable_numparse=True)
    workers = training_workers(config, len(rows) * len(seeds))
    threads = worker_threads(config, workers) or torch.get_num_threads()
    per_suite = ", ".join(f"{suite} {duration(seconds)}" for suite, seconds in walls.items())
    lines = [
        f"scale {config.scale}; suites {', '.join(suites)}; device {device}; {workers} training worker(s) with "
        f"{threads} thread(s) each",
        "",
        table,
        "",
        f"estimated time: about {duration(sum(walls.values()))} ({per_suite}), from training steps and "
        f"evaluations timed on this machine just now ({time.perf_counter() - started:.0f} s of probing); "
        "data builds, checkpoints and figures come on top",
    ]
    if settings:
        lines += ["", "Resolved settings of each case that differ from the defaults, and the layer that set each one "
                  "(lowest first: scale, task, arm, user, arm identity, user's per-task or per-arm keys):",
                  *(_settings(case) for case in cases)]
    return "\n".join(lines)


def _settings(case: CaseSettings) -> str:
    """`task / arm:` then one `key = value  (source)` line per non-default setting, suite settings left out."""
    lines = [f"\n{case.task} / {case.arm}:"]
    shown = {key: entry for key, entry in case.folded.items()
             if key.partition(".")[0] in ("model", "optim", "train", "task")}
    width = max((len(key) for key in shown), default=0)
    for key, (value, source) in sorted(shown.items()):
        text = ",".join(map(str, value)) if isinstance(value, tuple) else value
        lines.append(f"  {key:<{width}} = {text}  ({source})")
    return "\n".join(lines)
