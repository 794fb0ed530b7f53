"""What every registered task declares for the runner: scales, metrics, splits and final-evaluation outputs."""

import dataclasses
import typing

import pytest

from hrm.config import OptimConfig
from tasks.base import ACCURACIES, COUNTS, Task
from tasks.registry import TASKS, get_task, task_config
from tasks.values import parse_value


@pytest.mark.parametrize("name", list(TASKS))
def test_scales_name_only_fields_of_the_tasks_config_and_of_the_optimiser_config(name):
    cls = TASKS[name]
    known = {"task": {f.name for f in dataclasses.fields(cls.config_class)},
             "optim": {f.name for f in dataclasses.fields(OptimConfig)}}
    assert set(cls.scales) >= {"smoke", "cpu", "paper"}
    for scale, settings in cls.scales.items():
        for key in settings:
            section, _, field = key.partition(".")
            assert section in ("task", "train", "optim") and field, f"{name} {scale}: {key}"
            assert section == "train" or field in known[section], f"{name} {scale}: {key}"


@pytest.mark.parametrize("name", list(TASKS))
def test_scale_settings_are_valid_values_of_their_fields(name):
    cls = TASKS[name]
    hints = typing.get_type_hints(OptimConfig)
    for settings in cls.scales.values():
        task = {key.removeprefix("task."): value for key, value in settings.items() if key.startswith("task.")}
        assert isinstance(task_config(name, task), cls.config_class)
        optim = {key.removeprefix("optim."): value for key, value in settings.items() if key.startswith("optim.")}
        OptimConfig(**{field: parse_value(field, hints[field], value) for field, value in optim.items()})


def test_a_task_without_scores_of_its_own_declares_the_accuracies_then_the_counts():
    assert Task.metrics(get_task("maze")) == (*ACCURACIES, *COUNTS)  # the base implementation
    assert [m.name for m in ACCURACIES + COUNTS] == ["exact_accuracy", "token_accuracy", "examples", "tokens"]
    assert [m.denominator for m in ACCURACIES] == ["examples", "tokens"]


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_declares_each_metric_once_accuracies_first_and_proportions_over_a_declared_count(name):
    metrics = get_task(name).metrics()
    names = [m.name for m in metrics]
    assert len(set(names)) == len(names) and names[:2] == ["exact_accuracy", "token_accuracy"]
    counts = {m.name for m in metrics if m.kind == "count"}
    assert {"examples", "tokens"} <= counts
    assert all(m.denominator in counts for m in metrics if m.kind == "proportion")


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_builds_at_least_train_and_test(name):
    assert {"train", "test"} <= set(TASKS[name].splits)


def test_only_arc_has_an_adapt_split():
    assert [name for name, cls in TASKS.items() if "adapt" in cls.splits] == ["arc"]


def test_a_task_writes_no_outputs_by_default(tmp_path):
    assert get_task("maze").write_outputs(None, None, None, tmp_path) == []
    assert list(tmp_path.iterdir()) == []
