"""Chance levels: what the trivial predictions score on a test split, shown under the arms of each task."""

from __future__ import annotations

import numpy as np

from benchmarks.context import prepare_task
from benchmarks.record import Record
from benchmarks.suites import SUITES
from benchmarks.suites.accuracy import chance_levels


def test_chance_is_the_better_of_copying_the_input_and_the_most_frequent_label_token(smoke_config):
    prepared = prepare_task(smoke_config(), "maze")
    task, test = prepared.task, prepared.test
    chance = chance_levels(task, test)
    copied = task.score(test, test.inputs.astype(test.labels.dtype))
    labels = test.labels[test.labels != test.metadata["ignore_label_id"]]
    constant = task.score(test, np.full_like(test.labels, np.bincount(labels).argmax()))
    assert chance["chance_token_accuracy"] == max(copied["token_accuracy"], constant["token_accuracy"])
    assert chance["chance_exact_accuracy"] == max(copied["exact_accuracy"], constant["exact_accuracy"])
    assert set(chance) == {f"chance_{m.name}" for m in task.metrics() if m.kind == "proportion"}


def test_the_accuracy_table_ends_with_the_chance_row(smoke_config):
    config = smoke_config()
    task = prepare_task(config, "sudoku").task
    metrics = {metric.name: metric for metric in SUITES["accuracy"].metrics([task])}
    values = {"exact_accuracy": 0.5, "token_accuracy": 0.9, "examples": 16.0, "tokens": 256.0,
              "chance_exact_accuracy": 0.0, "chance_token_accuracy": 0.27}
    report = SUITES["accuracy"].report([Record("accuracy", "sudoku", "hrm", 0, values)], metrics)
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    assert rows[-1].startswith("| (chance)") and "0.270" in rows[-1] and "chance_" not in rows[0]
