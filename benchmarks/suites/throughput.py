"""Throughput suite: training and inference samples/s and tokens/s per task x arm x device, and MFU.

Training: one iteration is one supervised segment for a batch of slots (forward, backward, optimiser step),
so a "sample" is one example-segment. Inference: one iteration evaluates a batch for the model's Mmax
segments (fixed mode), so a sample is one fully evaluated example. Each is timed after `warmup` untimed
iterations as `repeats` repeats of `iterations` iterations; the median repeat is reported. MFU is the
achieved FLOP/s (FLOPs counted from the ops one iteration dispatches, see benchmarks.flops) divided by the
FLOP/s of a dense matmul measured on the same device in the same run. CUDA runs use bf16 autocast.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator

import torch

from baselines.registry import build_arm
from benchmarks import engine
from benchmarks.context import Record, SuiteContext, case_model_config, prepare_task
from benchmarks.evaluation import to_device
from benchmarks.flops import count_flops, matmul_flops_per_s, synchronize
from hrm.optim import build_optimizers
from tasks.dataset import test_batches


def devices(ctx: SuiteContext) -> list[torch.device]:
    """CPU always; CUDA too when present and asked for (and the run was not pinned to the CPU)."""
    found = [torch.device("cpu")]
    if ctx.config.throughput.cuda and torch.cuda.is_available() and ctx.device.type != "cpu":
        found.append(torch.device("cuda"))
    return found


def time_iterations(call: Callable[[], object], device: torch.device, warmup: int, iterations: int,
                    repeats: int) -> float:
    """Median seconds per iteration over `repeats` timed repeats, after `warmup` untimed calls."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        synchronize(device)
        started = time.perf_counter()
        for _ in range(iterations):
            call()
        synchronize(device)
        seconds.append((time.perf_counter() - started) / iterations)
    return statistics.median(seconds)


def run(ctx: SuiteContext) -> Iterator[Record]:
    """Per device x task x arm: one record of training and inference rates."""
    settings = ctx.config.throughput
    for device in devices(ctx):
        peak = matmul_flops_per_s(device, settings.matmul_size, settings.repeats)
        batch_size = settings.batch_size if device.type == "cuda" else settings.cpu_batch_size
        for task in ctx.tasks:
            prepared = prepare_task(ctx.config, task)
            batch = to_device(next(test_batches(prepared.test, batch_size))[0], device)
            seq_len = batch["inputs"].shape[1]
            for arm in ctx.arms:
                engine.seed_everything(0)
                model = build_arm(arm, case_model_config(ctx.config, arm, prepared.train)).to(device)
                train_step, infer = _calls(model, batch, ctx, task)
                metrics: dict[str, float] = {"matmul_flop_per_s": peak}
                for kind, call in (("train", train_step), ("infer", infer)):
                    flops = count_flops(call)
                    seconds = time_iterations(call, device, settings.warmup, settings.iterations, settings.repeats)
                    metrics[f"{kind}_samples_per_s"] = batch_size / seconds
                    metrics[f"{kind}_tokens_per_s"] = batch_size * seq_len / seconds
                    metrics[f"{kind}_flop_per_iteration"] = float(flops)
                    metrics[f"{kind}_mfu"] = flops / seconds / peak
                params = {"device": device.type, "batch_size": batch_size}
                with ctx.tracker.run(f"throughput/{task}/{arm}/{device.type}", parent=ctx.parent,
                                     tags={"suite": "throughput", "task": task, "arm": arm,
                                           "device": device.type}) as run:
                    run.log_params(params)
                    run.log_metrics(metrics)
                yield {"suite": "throughput", "task": task, "arm": arm, "seed": None, "status": "ok",
                       "params": params, "metrics": metrics}


def _calls(model, batch, ctx: SuiteContext, task: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """(one training iteration, one inference iteration) on `batch`, closures over a live carry."""
    optimizers = build_optimizers(model, ctx.config.optim_for(task))
    carry = [model.initial_carry(batch)]
    max_segments = engine.evaluation_segments(model.config, ctx.config.train_for(task).eval_max_segments)

    def train_step() -> None:
        model.train()
        carry[0], output = model.train_segment(carry[0], batch)
        output.loss.backward()
        for optimizer in optimizers:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        model.on_optimizer_step()

    def infer() -> None:
        model.eval()
        model.evaluate(batch, max_segments=max_segments, mode="fixed")

    return train_step, infer
