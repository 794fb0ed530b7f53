"""`--dry-run`: the resolved plan (task x arm: parameters, block applications, steps, estimated time) and every
case's resolved settings with the layer each one came from (scale, task, arm, arm identity, user).

Nothing is trained and no dataset is built: the models are built on the meta device (shapes only, no memory,
no initialisation, so a paper-size plan is instant) and sized from the task's declared vocabulary and sequence
length. The time estimate is rough by design: training FLOPs are estimated as 3x the forward FLOPs of a
segment (forward + backward through every block, an upper bound for the one-step gradient) plus one more
forward for the Q-learning target, at an assumed 30% of the dense-matmul FLOP/s measured now.
"""

from __future__ import annotations

import torch
from tabulate import tabulate

from baselines.registry import build_arm
from benchmarks.config import CaseSettings, RunConfig
from benchmarks.flops import matmul_flops_per_s, segment_forward_flops
from hrm.layers import count_parameters
from tasks.registry import get_task

ASSUMED_MFU = 0.3


def describe_plan(config: RunConfig, suites: list[str], tasks: list[str], arms: list[str], seeds: list[int],
                  device: torch.device) -> str:
    """A table of every training case the accuracy suite would run, then each case's settings and sources."""
    rate = matmul_flops_per_s(device, 1024)
    rows, cases = [], []
    total = 0.0
    for task_name in tasks:
        task = get_task(task_name, config.task_config(task_name))
        task_train = config.train_for(task_name)
        for arm in arms:
            model_config = config.model_for(arm, task_name, {"vocab_size": task.vocab_size, "seq_len": task.seq_len})
            with torch.device("meta"):
                model = build_arm(arm, model_config)
            blocks = model.block_applications_per_segment()
            forward = segment_forward_flops(model_config, blocks)
            extra = 1 if model_config.halting == "q_learning" and model_config.halt_max_steps > 1 else 0
            step_flops = task_train.batch_size * forward * (3 + extra)
            seconds = task_train.steps * step_flops / (rate * ASSUMED_MFU) * len(seeds)
            total += seconds
            rows.append([task_name, arm, f"{count_parameters(model):,}", blocks, model_config.halt_max_steps,
                         task_train.steps, len(seeds), f"{step_flops / 1e9:,.1f}", _duration(seconds)])
            cases.append(config.case(task_name, arm))
    table = tabulate(rows, headers=["task", "arm", "parameters", "blocks/segment", "halt_max_steps", "steps",
                                    "seeds", "GFLOP/step", "est. time"], tablefmt="github", disable_numparse=True)
    train = config.train
    workers = min(train.workers, len(rows))
    return "\n".join([
        f"scale {config.scale}; suites {', '.join(suites)}; device {device}",
        "",
        table,
        "",
        f"accuracy-suite training, estimated {_duration(total)} at {ASSUMED_MFU:.0%} of the measured "
        f"{rate / 1e9:,.1f} GFLOP/s dense matmul, about {_duration(total / workers)} of wall time with "
        f"{workers} worker(s) (rough; parameters exclude puzzle-embedding tables)",
        "",
        "Resolved settings of each case that differ from the defaults, and the layer that set each one "
        "(lowest first: scale, task, arm, user, arm identity, user's per-task or per-arm keys):",
        *(_settings(case) for case in cases),
    ])


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


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"
