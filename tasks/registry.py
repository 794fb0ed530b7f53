"""Task registry: name -> Task class, one line per task.

The runner and `python -m tasks` never know a task's specifics: they resolve its config with `task_config`
(the task's defaults with `field=value` overrides, converted to each field's type by `tasks.values` and
validated by the config itself) and build it with `get_task`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

from tasks.arc import ARCTask
from tasks.base import Task, TaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.values import parse_value

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
    """Task `name`'s default config with `overrides` applied, each value converted to its field's declared
    type by `tasks.values.parse_value`, so command-line `field=value` strings can be passed as they are."""
    config_class = get_task_class(name).config_class
    hints = typing.get_type_hints(config_class)
    fields = [spec.name for spec in dataclasses.fields(config_class) if spec.init]
    changes = {}
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise TaskError(f"unknown {config_class.__name__} field {key!r}; fields: {', '.join(fields)}")
        changes[key] = parse_value(f"{config_class.__name__}.{key}", hints[key], value)
    return config_class(**changes)
