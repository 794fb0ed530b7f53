"""Memory suite: activation memory of one training step per arm as each of its two loops grows.

The two loops are the core's `L_cycles` (HRM's T, low-level steps per cycle; TRM's n, latent updates) and
`H_cycles` (HRM's N; TRM's T, recursions); each arm's own names for them (`ArmSpec.loop_names`) are in the
records and the report. Bytes saved for backward are exact on any device (`hrm.memory.measure_activation_memory`);
on CUDA the allocator peak is recorded too. The least-squares slope per loop shows O(1) (HRM's one-step
gradient: slope 0) against O(T) (BPTT: positive slope).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from baselines.registry import build_arm, get_arm
from benchmarks import engine, plots
from benchmarks.config import check_positive
from benchmarks.context import SuiteContext, case_model_config, prepare_task
from benchmarks.errors import BenchmarkError
from benchmarks.estimate import CostModel
from benchmarks.evaluation import to_device
from benchmarks.progress import Work
from benchmarks.record import Record
from benchmarks.suite import Suite, format_metric, markdown_table, task_figures
from benchmarks.suites.accuracy import case_params, case_tags
from benchmarks.tracking import run_name
from hrm.memory import measure_activation_memory
from tasks.base import Task
from tasks.dataset import test_batches
from tasks.metric import Metric

LOOPS = ("L_cycles", "H_cycles")  # each swept with the other fixed at the arm's resolved value


@dataclass
class MemoryConfig:
    """The batch measured and the values each loop is swept over."""

    batch_size: int = 32
    L_cycles_values: tuple[int, ...] = (1, 2, 4, 8)
    H_cycles_values: tuple[int, ...] = (1, 2, 4, 8)

    def __post_init__(self) -> None:
        check_positive(self, "memory", ("batch_size",))
        for loop in LOOPS:
            values = getattr(self, f"{loop}_values")
            if len(values) < 2 or min(values) < 1:
                raise BenchmarkError(f"memory.{loop}_values needs at least two values >= 1 to fit a slope, "
                                     f"got {values!r}")


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys against xs (exactly 0.0 when ys are all equal)."""
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)


def saved_bytes(arm: str, model_config, batch, device) -> dict[str, float]:
    """`saved_bytes` (and `cuda_peak_bytes` on CUDA) of one training step of `arm` built from `model_config`."""
    engine.seed_everything(0)
    measured = measure_activation_memory(build_arm(arm, model_config).to(device), batch)
    metrics = {"saved_bytes": float(measured.saved_bytes)}
    if measured.cuda_peak_bytes is not None:
        metrics["cuda_peak_bytes"] = float(measured.cuda_peak_bytes)
    return metrics


def loop_sweep(arm: str, base, loop: str, values: list[int], batch, device) -> list[dict[str, float]]:
    """`saved_bytes` (and `cuda_peak_bytes`) of `arm` at each value of the ModelConfig field `loop`, every other
    field as in `base`: the measurement behind the memory suite's records and the C1 claim."""
    return [saved_bytes(arm, base.replace(**{loop: value}), batch, device) for value in values]


def memory_cost(config, costs: CostModel, task: str, arm: str) -> float:
    """Estimated seconds of one arm's loop sweeps: one step per value, its cost in proportion to the value."""
    settings = config.suite("memory")
    base = costs.model_config(config, task, arm)
    step_s = costs.step_s(config, task, arm, settings.batch_size)
    return sum(step_s * value / getattr(base, loop) for loop in LOOPS for value in getattr(settings, f"{loop}_values"))


class MemorySuite(Suite):
    name = "memory"
    title = "Memory"
    note = ("Bytes autograd saves for backward in one training step (exact), as the inner loop (L_cycles) grows "
            "with the outer fixed, and as the outer loop (H_cycles) grows with the inner fixed; each arm's own "
            "name for the loop is in brackets. Slopes are least-squares fits in bytes per loop iteration.")
    settings_class = MemoryConfig
    scales = {
        "cpu": {"memory.batch_size": 16},
        "smoke": {"memory.batch_size": 2, "memory.L_cycles_values": (1, 2, 3), "memory.H_cycles_values": (1, 2)},
    }

    def run(self, ctx: SuiteContext) -> Iterator[Record]:
        """Per task x arm: one record per swept point, and one record with the fitted slopes."""
        settings = ctx.config.suite(self.name)
        for task in ctx.tasks:
            prepared = prepare_task(ctx.config, task)
            batch = to_device(next(test_batches(prepared.test, settings.batch_size))[0], ctx.device)
            for arm in ctx.arms:
                base = case_model_config(ctx.config, task, arm, prepared.train)
                names = get_arm(arm).loop_names
                slopes: dict[str, float] = {}
                with ctx.tracker.run(run_name(task, arm, "memory"), parent=ctx.parent,
                                     tags=case_tags("memory", task, arm)) as run:
                    run.log_params({**case_params(ctx.config, task, arm, base), "memory.batch_size":
                                    settings.batch_size, **{f"memory.{loop}_values": ",".join(
                                        map(str, getattr(settings, f"{loop}_values"))) for loop in LOOPS}})
                    for loop in LOOPS:
                        values = list(getattr(settings, f"{loop}_values"))
                        points = loop_sweep(arm, base, loop, values, batch, ctx.device)
                        for value, metrics in zip(values, points, strict=True):
                            params = {"sweep": loop, "loop": names.get(loop, loop), "H_cycles": base.H_cycles,
                                      "L_cycles": base.L_cycles, loop: value, "batch_size": settings.batch_size}
                            yield Record("memory", task, arm, None, metrics, params)
                            run.log_metrics({f"{name}_vs_{loop}": v for name, v in metrics.items()}, step=value)
                        for name in points[0]:
                            slopes[f"slope_{name}_vs_{loop}"] = slope(values, [point[name] for point in points])
                    run.log_metrics(slopes)
                yield Record("memory", task, arm, None, slopes, {"batch_size": settings.batch_size})
                slope_text = ", ".join(f"{loop} {slopes[f'slope_saved_bytes_vs_{loop}']:,.0f} B" for loop in LOOPS)
                ctx.progress.finish(("memory", task, arm), f"memory: {task} / {arm}: slope per {slope_text}")

    def work(self, ctx: SuiteContext, costs: CostModel) -> list[Work]:
        """One item per task x arm: a training step at every swept loop value (cost in proportion to it)."""
        return [Work(("memory", task, arm), memory_cost(ctx.config, costs, task, arm))
                for task in ctx.tasks for arm in ctx.arms]

    def metrics(self, tasks: list[Task]) -> list[Metric]:
        declared = [Metric.memory("saved_bytes", "bytes saved for backward in one training step"),
                    Metric.memory("cuda_peak_bytes", "CUDA allocator peak during one training step")]
        for loop in LOOPS:
            declared += [Metric.info(f"slope_saved_bytes_vs_{loop}", "value", f"bytes saved per unit of {loop}"),
                         Metric.info(f"slope_cuda_peak_bytes_vs_{loop}", "value", f"CUDA peak bytes per {loop}")]
        return declared

    def report(self, records: list[Record], metrics: dict[str, Metric]) -> str:
        """Per task x arm: bytes saved at each inner-loop value, then the fitted slopes."""
        sweep = [r for r in records if r.params.get("sweep") == "L_cycles"]
        values = sorted({r.params["L_cycles"] for r in sweep})
        slopes = ("slope_saved_bytes_vs_L_cycles", "slope_saved_bytes_vs_H_cycles", "slope_cuda_peak_bytes_vs_L_cycles")
        rows = []
        for r in (r for r in records if "sweep" not in r.params):
            mine = [p for p in sweep if p.task == r.task and p.arm == r.arm]
            saved = {p.params["L_cycles"]: p.metrics["saved_bytes"] for p in mine}
            loop = mine[0].params.get("loop", "L_cycles") if mine else "L_cycles"
            rows.append([r.task, r.arm, loop, *[format_metric(metrics, "saved_bytes", saved.get(v)) for v in values],
                         *[format_metric(metrics, name, r.metrics.get(name)) for name in slopes]])
        return markdown_table(rows, ["task", "arm", "L_cycles is", *[f"saved, L_cycles={v}" for v in values],
                                     "slope vs L_cycles (B)", "slope vs H_cycles (B)", "CUDA peak slope vs L_cycles"])

    def figures(self, records: list[Record], directory: Path) -> list[tuple[str, Path]]:
        return task_figures(records, directory, [("activation memory vs L_cycles", plots.memory_vs_inner_loop,
                                                  "memory_vs_L_cycles")])
