"""The search space of a sweep: `--space N=1:4,T=1:8,Mmax=1:16,lr=log:1e-5:1e-3`.

Each item is `NAME=LOW:HIGH` (integers when both bounds are integers, floats otherwise) or
`NAME=log:LOW:HIGH` (sampled on a log scale). NAME is a short alias (N, T, Mmax, lr) or any
`--set` key of the run config (`model.hidden_size=64:256`); a trial's values become `--set` overrides,
so the runner validates them exactly as it validates the command line. The model aliases set the swept
arm's own fields (`arm.<arm>.H_cycles`), which win over the arm's registry defaults and the scale preset.
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from benchmarks.errors import BenchmarkError

ALIASES = {"N": "arm.{arm}.H_cycles", "T": "arm.{arm}.L_cycles", "Mmax": "arm.{arm}.halt_max_steps", "lr": "optim.lr"}
DEFAULT_SPACE = "N=1:4,T=1:8,Mmax=1:16"


@dataclass(frozen=True)
class Dimension:
    """One searched setting: its name in the study, its config key and its range."""

    name: str  # as written on the command line, and the Optuna parameter name: "N"
    key: str  # the run-config key it overrides: "model.H_cycles"
    low: int | float
    high: int | float
    log: bool = False

    def suggest(self, trial: optuna.Trial) -> int | float:
        if isinstance(self.low, int):
            return trial.suggest_int(self.name, self.low, self.high, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def __str__(self) -> str:
        """The `--space` item that parses back to this dimension."""
        return f"{self.name}={'log:' if self.log else ''}{self.low}:{self.high}"

    def override(self, value: int | float) -> str:
        """The `--set` item for `value`."""
        return f"{self.key}={value}"


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _dimension(item: str, arm: str) -> Dimension:
    name, sep, spec = (part.strip() for part in item.partition("="))
    parts = spec.split(":")
    log = parts[0] == "log"
    bounds = parts[1:] if log else parts
    if not sep or not name or len(bounds) != 2:
        raise BenchmarkError(f"--space item {item!r}: expected NAME=LOW:HIGH or NAME=log:LOW:HIGH")
    if name not in ALIASES and "." not in name:
        raise BenchmarkError(
            f"--space item {item!r}: unknown parameter {name!r} (use {', '.join(ALIASES)} or a config key "
            "such as model.hidden_size)"
        )
    try:
        low, high = (_number(bound) for bound in bounds)
    except ValueError:
        raise BenchmarkError(f"--space item {item!r}: bounds must be numbers") from None
    if isinstance(low, int) != isinstance(high, int):
        low, high = float(low), float(high)
    if low > high:
        raise BenchmarkError(f"--space item {item!r}: low bound {low} is above high bound {high}")
    if log and low <= 0:
        raise BenchmarkError(f"--space item {item!r}: a log range needs a low bound > 0")
    return Dimension(name, ALIASES.get(name, name).format(arm=arm), low, high, log)


def parse_space(text: str, arm: str) -> list[Dimension]:
    """Parse the comma-separated `--space` value for a sweep of `arm`; one BenchmarkError names the bad item."""
    space = [_dimension(item, arm) for item in text.split(",") if item.strip()]
    if not space:
        raise BenchmarkError("--space is empty: name at least one parameter, e.g. N=1:4")
    names = [dimension.name for dimension in space]
    keys = [dimension.key for dimension in space]
    for values in (names, keys):
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            raise BenchmarkError(f"--space names {duplicates[0]!r} twice")
    return space
