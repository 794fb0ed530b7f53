"""`--dry-run`: the resolved plan (task x arm: parameters, block applications, steps, estimated time).

Nothing is trained and no dataset is built: the model is sized from the task's declared vocabulary and
sequence length. The time estimate is rough by design: training FLOPs are estimated as 3x the forward
FLOPs of a segment (forward + backward through every block, an upper bound for the one-step gradient) plus
one more forward for the Q-learning target, at an assumed 30% of the dense-matmul FLOP/s measured now.
"""

from __future__ import annotations

import torch
from tabulate import tabulate

from baselines.registry import build_arm
from benchmarks.config import RunConfig
from benchmarks.flops import matmul_flops_per_s, segment_forward_flops
from hrm.layers import count_parameters
from tasks.registry import get_task

ASSUMED_MFU = 0.3


def describe_plan(config: RunConfig, suites: list[str], tasks: list[str], arms: list[str], seeds: list[int],
                  device: torch.device) -> str:
    """A table of every training case the accuracy suite would run, and the settings around it."""
    rate = matmul_flops_per_s(device, min(config.throughput.matmul_size, 1024))
    rows = []
    total = 0.0
    for task_name in tasks:
        task_train = config.train_for(task_name)
        task = get_task(task_name, config.tasks[task_name])
        shared = config.model.replace(vocab_size=task.vocab_size, seq_len=task.seq_len)
        for arm in arms:
            model_config = config.model_for(arm, shared)
            model = build_arm(arm, model_config)
            blocks = model.block_applications_per_segment()
            forward = segment_forward_flops(model_config, blocks)
            extra = 1 if model_config.halting == "q_learning" and model_config.halt_max_steps > 1 else 0
            step_flops = task_train.batch_size * forward * (3 + extra)
            seconds = task_train.steps * step_flops / (rate * ASSUMED_MFU) * len(seeds)
            total += seconds
            rows.append([task_name, arm, f"{count_parameters(model):,}", blocks, model_config.halt_max_steps,
                         task_train.steps, len(seeds), f"{step_flops / 1e9:,.1f}", _duration(seconds)])
    table = tabulate(rows, headers=["task", "arm", "parameters", "blocks/segment", "Mmax", "steps", "seeds",
                                    "GFLOP/step", "est. time"], tablefmt="github", disable_numparse=True)
    train = config.train
    workers = min(train.workers, len(rows))
    return "\n".join([
        f"scale {config.scale}; suites {', '.join(suites)}; device {device}; batch {train.batch_size}; "
        f"evaluation every {train.eval_interval or train.steps} steps ({train.eval_mode} mode); "
        f"per-task settings: {_task_overrides(config, tasks)}",
        "",
        table,
        "",
        f"accuracy-suite training, estimated {_duration(total)} at {ASSUMED_MFU:.0%} of the measured "
        f"{rate / 1e9:,.1f} GFLOP/s dense matmul, about {_duration(total / workers)} of wall time with "
        f"{workers} worker(s) (rough; parameters exclude puzzle-embedding tables)",
    ])


def _task_overrides(config: RunConfig, tasks: list[str]) -> str:
    items = [f"{section}.{task}.{name}={value}" for task in tasks
             for section, values in config.task_overrides.get(task, {}).items() for name, value in values.items()]
    return ", ".join(items) or "none"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"
