"""ACT suite: segments used with ACT halting vs a fixed Mmax, and exact accuracy vs inference Mmax.

Covers every arm whose resolved Mmax is above 1 (the arms with an outer loop). The evaluated model is the
accuracy suite's (first seed) when this invocation trained one with the same config; otherwise it is trained
here. It was trained with Mmax = `act.train_max_steps` (default: the model's), and is evaluated
- in `act` mode at that Mmax (each example stops at its first halt): mean and histogram of segments used,
  exact accuracy, Q-halt accuracy, against `fixed` mode at the same Mmax (every example runs Mmax segments);
- in `fixed` mode at every inference Mmax of `act.eval_max_segments` (inference-time scaling).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import torch

from baselines.registry import build_arm
from benchmarks.config import RunConfig
from benchmarks.context import Record, SuiteContext, TrainedModel, case_model_config, prepare_task
from benchmarks.errors import BenchmarkError
from benchmarks.evaluation import Evaluation, evaluate_split
from benchmarks.suites.accuracy import run_case


def act_config(config: RunConfig, arm: str) -> RunConfig:
    """`config` with the arm trained at Mmax = act.train_max_steps (unchanged when that is 0)."""
    if not config.act.train_max_steps:
        return config
    arms = {**config.arm_overrides, arm: {**config.arm_overrides.get(arm, {}),
                                          "halt_max_steps": config.act.train_max_steps}}
    return dataclasses.replace(config, arm_overrides=arms)


def run(ctx: SuiteContext) -> Iterator[Record]:
    """Per task x outer-loop arm (first seed): the ACT-halting record, then one fixed-mode record per budget."""
    seed = ctx.seeds[0]
    settings = ctx.config.act
    for task in ctx.tasks:
        prepared = prepare_task(ctx.config, task)
        for arm in ctx.arms:
            if case_model_config(ctx.config, arm, prepared.train).halt_max_steps < 2:
                continue  # a single-pass arm has no segments to halt or to add
            config = act_config(ctx.config, arm)
            model_config = case_model_config(config, arm, prepared.train)
            with ctx.tracker.run(f"act/{task}/{arm}/{seed}", parent=ctx.parent,
                                 tags={"suite": "act", "task": task, "arm": arm, "seed": str(seed)}) as run:
                trained = _trained(ctx, config, task, arm, seed, model_config)
                train_max = model_config.halt_max_steps
                if trained.diverged_at is not None:
                    run.fail(f"training diverged at step {trained.diverged_at}")
                    yield {"suite": "act", "task": task, "arm": arm, "seed": seed, "status": "diverged",
                           "diverged_at_step": trained.diverged_at,
                           "params": {"mode": "act", "max_segments": train_max, "train_max_segments": train_max},
                           "metrics": {}}
                    continue
                model = _load_model(arm, trained).to(ctx.device)

                def evaluate(max_segments: int, mode: str, model=model, dataset=prepared) -> Evaluation:
                    return evaluate_split(model, dataset.test, dataset.task, batch_size=ctx.config.train.batch_size,
                                          max_segments=max_segments, mode=mode, device=ctx.device)

                halting = evaluate(train_max, "act")
                yield _record(task, arm, seed, "act", train_max, train_max, halting)
                run.log_metrics({f"act_{name}": value for name, value in halting.metrics.items()})
                for max_segments in sorted({*settings.eval_max_segments, train_max}):
                    fixed = evaluate(max_segments, "fixed")
                    yield _record(task, arm, seed, "fixed", max_segments, train_max, fixed)
                    run.log_metrics({f"fixed_{name}": value for name, value in fixed.metrics.items()},
                                    step=max_segments)


def _trained(ctx: SuiteContext, config: RunConfig, task: str, arm: str, seed: int, model_config) -> TrainedModel:
    """The accuracy suite's model for (task, arm, seed) when its config matches; else one trained now."""
    trained = ctx.trained.get((task, arm, seed))
    if trained is None or trained.model_config != model_config or trained.checkpoint is None:
        out_dir = ctx.out_dir / "cases" / f"act-{task}-{arm}-{seed}"
        result = run_case(config, task, arm, seed, device=ctx.device, out_dir=out_dir, resume=ctx.resume)
        trained = TrainedModel(result.model_config, result.checkpoint, result.diverged_at)
    return trained


def _load_model(arm: str, trained: TrainedModel):
    model = build_arm(arm, trained.model_config)
    try:
        model.load_state_dict(torch.load(trained.checkpoint, map_location="cpu", weights_only=False)["model"])
    except Exception as error:  # a damaged file fails in zipfile, pickle or torch itself
        raise BenchmarkError(f"cannot load the trained {arm} model from {trained.checkpoint}: {error}; delete "
                             "the file to train that case afresh") from error
    return model


def _record(task: str, arm: str, seed: int, mode: str, max_segments: int, train_max: int,
            evaluation: Evaluation) -> Record:
    """One evaluation, with the histogram of segments used ([segments, examples] pairs) as its series."""
    histogram = np.bincount(evaluation.steps, minlength=max_segments + 1)[1:]
    return {
        "suite": "act", "task": task, "arm": arm, "seed": seed, "status": "ok",
        "params": {"mode": mode, "max_segments": max_segments, "train_max_segments": train_max},
        "metrics": dict(evaluation.metrics),
        "series": {"segments_histogram": [[k + 1, int(count)] for k, count in enumerate(histogram)]},
    }
