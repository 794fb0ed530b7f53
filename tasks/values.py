"""One conversion of setting values to the types their dataclass fields declare.

A setting arrives either as a command-line string (`--set height=8`, `augment=on`, `T_values=1,2,8`) or as a
Python value written in code (a task's `scales`); `python -m tasks` and the benchmark runner both convert it
here, so a value means the same thing, and is refused with the same words, wherever it is written.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any

from tasks.base import TaskError

BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
NONES = ("none", "null")
_WANTED = {bool: "a boolean (true/false, yes/no, on/off, 1/0)", int: "an integer", float: "a finite number",
           str: "a string"}


def parse_value(label: str, hint: Any, raw: Any) -> Any:
    """`raw` as a value of the type hint `hint` (from typing.get_type_hints of a dataclass); TaskError
    "<label>: expected ..., got <raw>" when it is not one.

    A string is parsed: bool from true/false, yes/no, on/off or 1/0 (any case), int, float (finite only),
    str as it is, `X | None` from none/null (any case), Literal[...] one of its values, tuple[T, ...] from
    comma-separated items. Any other value is checked against the type instead (a tuple or list for a
    tuple, item by item): an int is accepted for a float and becomes one, a bool is not accepted as an int.
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return _optional(label, hint, args, raw)
    if origin is typing.Literal:
        return _choice(label, args, raw)
    if origin is tuple:
        return _items(label, hint, args, raw)
    if hint not in _WANTED:
        raise TaskError(f"{label}: a field of type {hint} cannot be set from a value")
    return _scalar(label, hint, raw) if isinstance(raw, str) else _checked(label, hint, raw)


def _optional(label: str, hint: Any, args: tuple, raw: Any) -> Any:
    """`X | None`: None from None, "none" or "null"; anything else as an X."""
    others = [arg for arg in args if arg is not type(None)]
    if len(others) != 1 or len(args) != 2:
        raise TaskError(f"{label}: a field of type {hint} cannot be set from a value (only X | None can)")
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in NONES):
        return None
    return parse_value(label, others[0], raw)


def _choice(label: str, args: tuple, raw: Any) -> Any:
    """Literal[...]: one of its values, given as itself or (for a non-string value) as its text."""
    for arg in args:
        if type(raw) is type(arg) and raw == arg:
            return arg
        if isinstance(raw, str) and not isinstance(arg, str) and raw.strip().lower() == str(arg).lower():
            return arg
    raise TaskError(f"{label}: expected one of {', '.join(map(str, args))}, got {raw!r}")


def _items(label: str, hint: Any, args: tuple, raw: Any) -> tuple:
    """tuple[T, ...]: each comma-separated part of a string (empty parts skipped), or each item of a tuple
    or list, as a T."""
    if len(args) != 2 or args[1] is not Ellipsis:
        raise TaskError(f"{label}: a field of type {hint} cannot be set from a value (only tuple[T, ...] can)")
    if isinstance(raw, str):
        items = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, tuple | list):
        items = list(raw)
    else:
        raise TaskError(f"{label}: expected comma-separated values or a tuple, got {raw!r}")
    return tuple(parse_value(label, args[0], item) for item in items)


def _scalar(label: str, hint: type, raw: str) -> Any:
    """A command-line string as a bool, int, finite float or str."""
    if hint is str:
        return raw
    if hint is bool:
        if raw.strip().lower() not in BOOLEANS:
            raise TaskError(f"{label}: expected {_WANTED[bool]}, got {raw!r}")
        return BOOLEANS[raw.strip().lower()]
    try:
        value = hint(raw)
    except ValueError:
        raise TaskError(f"{label}: expected {_WANTED[hint]}, got {raw!r}") from None
    if hint is float and not math.isfinite(value):
        raise TaskError(f"{label}: expected {_WANTED[hint]}, got {raw!r}")
    return value


def _checked(label: str, hint: type, raw: Any) -> Any:
    """A value written in code, accepted when it already has the type (an int also counts as a float)."""
    if hint is float and isinstance(raw, int) and not isinstance(raw, bool):
        raw = float(raw)
    if not isinstance(raw, hint) or (hint is int and isinstance(raw, bool)):
        raise TaskError(f"{label}: expected {_WANTED[hint]}, got {raw!r}")
    if hint is float and not math.isfinite(raw):
        raise TaskError(f"{label}: expected {_WANTED[hint]}, got {raw!r}")
    return raw


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`--set FIELD=VALUE` items as {field: value} strings (converted later by `parse_value`); TaskError
    naming an item without a field or an "="."""
    fields = {}
    for item in items:
        field, separator, value = item.partition("=")
        if not separator or not field.strip():
            raise TaskError(f"--set expects field=value, got {item!r}")
        fields[field.strip()] = value.strip()
    return fields
