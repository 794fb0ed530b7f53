"""Throughput suite: training and inference samples/s and tokens/s per task x arm x device, and MFU.

Training: one iteration is one supervised segment for a batch of slots (forward, backward, optimiser step),
so a "sample" is one example-segment. Inference: one iteration evaluates a batch for the model's Mmax
segments (fixed mode), so a sample is one fully evaluated example. Each is timed after `warmup` untimed
iterations as `repeats` repeats of `iterations` iterations; the median repeat is reported. MFU is the
achieved FLOP/s (FLOPs counted from the ops one iteration dispatches, see benchmarks.flops) divided by the
FLOP/s of a dense matmul measured on the same device in the same run. CUDA runs use bf16 autocast.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from baselines.registry import build_arm
from benchmarks import engine
from benchmarks.config import check_non_negative, check_positive
from benchmarks.context import SuiteContext, case_model_config, prepare_task
from benchmarks.estimate import CostModel
from benchmarks.evaluation import evaluation_budget, to_device
from benchmarks.flops import count_flops, matmul_flops_per_s, synchronize
from benchmarks.progress import Work
from benchmarks.record import Record
from benchmarks.suite import Suite, format_metric, markdown_table
from benchmarks.suites.accuracy import case_params, case_tags
from benchmarks.tracking import run_name
from hrm.optim import build_optimizers
from hrm.training import training_step
from tasks.base import Task
from tasks.dataset import test_batches
from tasks.metric import RATE_TOLERANCE, Metric

RATES = ("train_samples_per_s", "train_tokens_per_s", "train_mfu", "infer_samples_per_s", "infer_tokens_per_s",
         "infer_mfu")


@dataclass
class ThroughputConfig:
    """Samples/s and tokens/s after warm-up, median of repeats, and MFU against a dense matmul."""

    batch_size: int = 768  # on CUDA
    cpu_batch_size: int = 16  # on the CPU (a paper-size batch takes minutes per step there)
    warmup: int = 3  # untimed iterations before timing
    iterations: int = 10  # iterations per timed repeat
    repeats: int = 5  # timed repeats; the median is reported
    matmul_size: int = 4096  # n of the n x n x n matmul that measures the device's dense FLOP/s
    cuda: bool = True  # also measure on CUDA when it is available

    def __post_init__(self) -> None:
        check_positive(self, "throughput", ("batch_size", "cpu_batch_size", "iterations", "repeats", "matmul_size"))
        check_non_negative(self, "throughput", ("warmup",))

    def batch_size_on(self, device: torch.device) -> int:
        """The batch measured on `device`: `batch_size` on CUDA, `cpu_batch_size` elsewhere."""
        return self.batch_size if device.type == "cuda" else self.cpu_batch_size


def devices(ctx: SuiteContext) -> list[torch.device]:
    """CPU always; CUDA too when present and asked for (and the run was not pinned to the CPU)."""
    found = [torch.device("cpu")]
    if ctx.config.suite("throughput").cuda and torch.cuda.is_available() and ctx.device.type != "cpu":
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


def _calls(model, batch, ctx: SuiteContext, task: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """(one training iteration, one inference iteration) on `batch`, closures over a live carry."""
    optimizers = build_optimizers(model, ctx.config.optim_for(task))
    carry = [model.initial_carry(batch)]
    budget = evaluation_budget(model.config, ctx.config.train_for(task).eval_halt_max_steps)

    def train_step() -> None:
        model.train()
        carry[0], _ = training_step(model, optimizers, carry[0], batch)

    def infer() -> None:
        model.eval()
        model.evaluate(batch, halt_max_steps=budget, mode="fixed")

    return train_step, infer


class ThroughputSuite(Suite):
    name = "throughput"
    title = "Throughput"
    note = ("Median over repeats after warm-up. Training: samples = example-segments (one supervised segment "
            "each); inference: examples evaluated for the whole segment budget. MFU: counted FLOPs per second over "
            "the measured dense-matmul FLOP/s of the same device.")
    settings_class = ThroughputConfig
    scales = {
        "cpu": {"throughput.batch_size": 32, "throughput.cpu_batch_size": 32, "throughput.matmul_size": 1024,
                "throughput.repeats": 3, "throughput.iterations": 3},
        "smoke": {"throughput.batch_size": 8, "throughput.cpu_batch_size": 8, "throughput.warmup": 1,
                  "throughput.iterations": 1, "throughput.repeats": 2, "throughput.matmul_size": 128},
    }

    def run(self, ctx: SuiteContext) -> Iterator[Record]:
        """Per device x task x arm: one record of training and inference rates."""
        settings = ctx.config.suite(self.name)
        for device in devices(ctx):
            peak = matmul_flops_per_s(device, settings.matmul_size, settings.repeats)
            batch_size = settings.batch_size_on(device)
            for task in ctx.tasks:
                prepared = prepare_task(ctx.config, task)
                batch = to_device(next(test_batches(prepared.test, batch_size))[0], device)
                seq_len = batch["inputs"].shape[1]
                for arm in ctx.arms:
                    engine.seed_everything(0)
                    model = build_arm(arm, case_model_config(ctx.config, task, arm, prepared.train)).to(device)
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
                    with ctx.tracker.run(run_name(task, arm, f"throughput {device.type}"), parent=ctx.parent,
                                         tags={**case_tags("throughput", task, arm), "device": device.type}) as run:
                        run.log_params({**case_params(ctx.config, task, arm, model.config), **{
                            f"throughput.{name}": value for name, value in dataclasses.asdict(settings).items()},
                            **params})
                        run.log_metrics(metrics)
                    yield Record("throughput", task, arm, None, metrics, params)
                    ctx.progress.finish(("throughput", device.type, task, arm),
                                        f"throughput: {task} / {arm} on {device.type}: "
                                        f"{metrics['train_samples_per_s']:,.0f} training samples/s")

    def work(self, ctx: SuiteContext, costs: CostModel) -> list[Work]:
        """One item per device x task x arm: the timed training and inference iterations and the FLOP count."""
        settings = ctx.config.suite(self.name)
        items = []
        for device in devices(ctx):
            batch_size = settings.batch_size_on(device)
            calls = settings.warmup + settings.iterations * settings.repeats + 1
            for task in ctx.tasks:
                for arm in ctx.arms:
                    budget = evaluation_budget(costs.model_config(ctx.config, task, arm),
                                               ctx.config.train_for(task).eval_halt_max_steps)
                    one = costs.costs(ctx.config, task, arm, batch_size)
                    items.append(Work(("throughput", device.type, task, arm),
                                      calls * (one.step_s + batch_size * budget * one.example_segment_s)))
        return items

    def metrics(self, tasks: list[Task]) -> list[Metric]:
        declared = [Metric.info("matmul_flop_per_s", "rate", "dense matmul FLOP/s of the device", per_device=True)]
        for kind, what in (("train", "example-segments trained"), ("infer", "examples evaluated")):
            declared += [
                Metric.rate(f"{kind}_samples_per_s", f"{what} per second"),
                Metric.rate(f"{kind}_tokens_per_s", f"tokens of the {what} per second"),
                Metric.info(f"{kind}_flop_per_iteration", "count", "FLOPs one iteration dispatches"),
                Metric(f"{kind}_mfu", "value", "higher", "counted FLOP/s over the dense-matmul FLOP/s",
                       RATE_TOLERANCE, per_device=True),
            ]
        return declared

    def report(self, records: list[Record], metrics: dict[str, Metric]) -> str:
        rows = [[r.task, r.arm, r.params["device"], r.params["batch_size"],
                 *[format_metric(metrics, name, r.metrics.get(name)) for name in RATES]] for r in records]
        return markdown_table(rows, ["task", "arm", "device", "batch", *RATES])
