"""Memory suite: activation memory of one training step per arm as T (L_cycles) and N (H_cycles) grow.

Bytes saved for backward are exact on any device (`hrm.memory.measure_activation_memory`); on CUDA the
allocator peak is recorded too. The least-squares slope against T (and N) per arm shows O(1) (HRM's
one-step gradient: slope 0) against O(T) (BPTT: positive slope).
"""

from __future__ import annotations

from collections.abc import Iterator

from baselines.registry import build_arm
from benchmarks import engine
from benchmarks.context import Record, SuiteContext, case_model_config, prepare_task
from benchmarks.evaluation import to_device
from hrm.memory import measure_activation_memory
from tasks.dataset import test_batches

SWEEPS = (("T", "L_cycles", "T_values"), ("N", "H_cycles", "N_values"))  # (label, ModelConfig field, MemoryConfig)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys against xs (exactly 0.0 when ys are all equal)."""
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)


def run(ctx: SuiteContext) -> Iterator[Record]:
    """Per task x arm: one record per (N, T) point, and one record with the fitted slopes."""
    memory = ctx.config.memory
    for task in ctx.tasks:
        prepared = prepare_task(ctx.config, task)
        batch = to_device(next(test_batches(prepared.test, memory.batch_size))[0], ctx.device)
        for arm in ctx.arms:
            base = case_model_config(ctx.config, arm, prepared.train)
            slopes: dict[str, float] = {}
            with ctx.tracker.run(f"memory/{task}/{arm}", parent=ctx.parent,
                                 tags={"suite": "memory", "task": task, "arm": arm}) as run:
                for label, field, values_name in SWEEPS:
                    values = list(getattr(memory, values_name))
                    points = []
                    for value in values:
                        model_config = base.replace(**{field: value})
                        engine.seed_everything(0)
                        model = build_arm(arm, model_config).to(ctx.device)
                        measured = measure_activation_memory(model, batch)
                        metrics = {"saved_bytes": float(measured.saved_bytes)}
                        if measured.cuda_peak_bytes is not None:
                            metrics["cuda_peak_bytes"] = float(measured.cuda_peak_bytes)
                        points.append(metrics)
                        params = {"N": model_config.H_cycles, "T": model_config.L_cycles, "sweep": label,
                                  "batch_size": memory.batch_size}
                        yield {"suite": "memory", "task": task, "arm": arm, "seed": None, "status": "ok",
                               "params": params, "metrics": metrics}
                        run.log_metrics({f"{name}_vs_{label}": v for name, v in metrics.items()}, step=value)
                    for name in points[0]:
                        slopes[f"slope_{name}_vs_{label}"] = slope(values, [point[name] for point in points])
                run.log_metrics(slopes)
            yield {"suite": "memory", "task": task, "arm": arm, "seed": None, "status": "ok",
                   "params": {"batch_size": memory.batch_size}, "metrics": slopes}
