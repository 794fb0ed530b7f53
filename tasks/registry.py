"""Task registry: name -> Task class, one line per task.

The runner and `python -m tasks` never know a task's specifics: they resolve its config with `task_config`
(the task's defaults with `field=value` overrides, converted to each field's type and validated by the
config itself) and build it with `get_task`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from tasks.arc import ARCTask
from tasks.base import Task, TaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

TASKS: dict[str, type[Task]] = {
    "maze": MazeTask,
    "sudoku": SudokuTask,
    "arc": ARCTask,
}


def task_names() -> list[str]:
    """The registered task names, in registration order."""
    return list(TASKS)


def get_task_class(name: str) -> type[Task]:
    """The Task class registered as `name`; TaskError listing the known names otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise TaskError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


def get_task(name: str, config: Any = None) -> Task:
    """Task `name` with `config` (its own config dataclass; None means the defaults)."""
    return get_task_class(name)(config)


def task_config(name: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """Task `name`'s default config with `overrides` applied; string values are converted to the field's
    type (int, float, bool, str), so command-line `field=value` pairs can be passed as they are."""
    config_class = get_task_class(name).config_class
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    changes = {}
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise TaskError(f"unknown {config_class.__name__} field {key!r}; fields: {', '.join(fields)}")
        changes[key] = _convert(config_class.__name__, key, fields[key], value)
    return config_class(**changes)


def _convert(owner: str, key: str, spec: dataclasses.Field, value: Any) -> Any:
    kind = type(spec.default) if spec.default is not dataclasses.MISSING else str
    if not isinstance(value, str) or kind is str:
        return value
    if kind is bool:
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise TaskError(f"{owner}.{key} must be a boolean (true/false), got {value!r}")
    try:
        return kind(value)
    except ValueError:
        raise TaskError(f"{owner}.{key} must be {kind.__name__}, got {value!r}") from None
