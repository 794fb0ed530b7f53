"""A toy suite for the extension test: each arm's parameter count per task. One file, one registry line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from baselines.registry import build_arm
from benchmarks.context import SuiteContext, case_model_config, prepare_task
from benchmarks.record import Record
from benchmarks.suite import Suite
from hrm.layers import count_parameters
from tasks.metric import Metric


@dataclass
class SizeConfig:
    per_block: bool = False  # also report parameters per block application


class SizeSuite(Suite):
    name = "toy-size"
    title = "Model size"
    note = "Parameters of each arm as built for each task (on the meta device)."
    settings_class = SizeConfig
    scales = {"smoke": {"toy-size.per_block": True}}

    def run(self, ctx: SuiteContext) -> Iterator[Record]:
        settings = ctx.config.suite(self.name)
        for task in ctx.tasks:
            prepared = prepare_task(ctx.config, task)
            for arm in ctx.arms:
                with torch.device("meta"):
                    model = build_arm(arm, case_model_config(ctx.config, task, arm, prepared.train))
                metrics = {"model_parameters": float(count_parameters(model))}
                if settings.per_block:
                    blocks = model.block_applications_per_segment()
                    metrics["parameters_per_block"] = metrics["model_parameters"] / blocks
                yield Record(self.name, task, arm, None, metrics)

    def metrics(self, tasks) -> list[Metric]:
        return [Metric("model_parameters", "count", "lower", "trainable parameters", tolerance=0.0),
                Metric.info("parameters_per_block", "value", "parameters per block application")]
