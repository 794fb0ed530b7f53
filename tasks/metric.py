"""Metric declarations: what each reported number means, declared by whoever reports it.

A task declares the scores its `score` returns, a suite the numbers it measures. The runner writes every
declaration into results.json, and the report and `benchmarks.compare` read them there: the report formats
a value by its kind, the regression gate judges it by its direction and tolerance. Nothing is guessed from
a metric's name, so a new task's metric is shown and gated like the built-in ones.

    Metric.proportion("exact_accuracy", "every supervised token right", denominator="examples")
    Metric.rate("train_samples_per_s", "example-segments trained per second")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["proportion", "count", "bytes", "rate", "seconds", "value"]
Better = Literal["higher", "lower", "neither"]
KINDS: tuple[str, ...] = ("proportion", "count", "bytes", "rate", "seconds", "value")

# Default gate tolerances (their measurement is in benchmarks/compare.py's docstring).
PROPORTION_TOLERANCE = 0.07  # absolute: one flipped example of a 16-example smoke split is 6.25 points
BYTES_TOLERANCE = 0.05  # relative: saved-for-backward bytes are fixed by shapes and dtypes
RATE_TOLERANCE = 0.90  # relative, same device class only: smoke timings swing with the machine's load


@dataclass(frozen=True)
class Metric:
    """One reported number's meaning.

    kind: proportion (a fraction of `denominator`, another metric that counts what it is over), count,
      bytes, rate (per second), seconds, or value (anything else, e.g. a fitted slope).
    better: which direction is an improvement; "neither" for numbers that only describe the run.
    tolerance: the regression gate's allowance, in absolute points for proportions and relative to the
      baseline otherwise; None: shown side by side, not gated.
    per_device: only comparable between runs on the same device class (timings, MFU).
    """

    name: str
    kind: Kind
    better: Better
    description: str = ""
    tolerance: float | None = None
    per_device: bool = False
    denominator: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"metric {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.better not in ("higher", "lower", "neither"):
            raise ValueError(f"metric {self.name!r}: better must be higher, lower or neither, got {self.better!r}")
        if self.tolerance is not None and (self.tolerance < 0 or self.better == "neither"):
            raise ValueError(f"metric {self.name!r}: a gate needs a direction and a tolerance >= 0")

    @classmethod
    def proportion(cls, name: str, description: str = "", *, denominator: str = "examples",
                   better: Better = "higher", gated: bool = True) -> Metric:
        """A fraction in [0, 1] of `denominator`, gated by `PROPORTION_TOLERANCE` points."""
        return cls(name, "proportion", better, description, PROPORTION_TOLERANCE if gated else None,
                   denominator=denominator)

    @classmethod
    def rate(cls, name: str, description: str = "") -> Metric:
        """Per second, higher is better, gated by `RATE_TOLERANCE` on the same device class only."""
        return cls(name, "rate", "higher", description, RATE_TOLERANCE, per_device=True)

    @classmethod
    def memory(cls, name: str, description: str = "") -> Metric:
        """Bytes, lower is better, gated by `BYTES_TOLERANCE`."""
        return cls(name, "bytes", "lower", description, BYTES_TOLERANCE)

    @classmethod
    def info(cls, name: str, kind: Kind, description: str = "", *, per_device: bool = False) -> Metric:
        """A number that describes the run (its size, its time, a fit): shown, never gated by default."""
        return cls(name, kind, "neither", description, per_device=per_device)

    def spread(self) -> Metric:
        """The declaration of this metric's standard deviation over seeds (`<name>_std`): same unit, not gated."""
        return self._over_seeds("std", f"standard deviation over seeds of {self.name}")

    def bound(self, side: str) -> Metric:
        """The declaration of the `side` ("low" or "high") end of this metric's 95% interval over seeds."""
        return self._over_seeds(f"ci_{side}", f"{side} end of the 95% interval over seeds of {self.name}")

    def _over_seeds(self, suffix: str, description: str) -> Metric:
        """A statistic of this metric over seeds: same kind and unit, describing the run, never gated."""
        return dataclasses.replace(self, name=f"{self.name}_{suffix}", better="neither", tolerance=None,
                                   description=description, denominator=None)

    def format(self, value: float | None) -> str:
        """The value as the report prints it: proportions to 3 decimals, bytes in MiB, counts whole."""
        if value is None:
            return "-"
        if self.kind == "proportion":
            return f"{value:.3f}"
        if self.kind == "bytes":
            return f"{value / 2**20:,.2f} MiB"
        if self.kind == "count":
            return f"{value:,.0f}"
        if self.kind == "seconds":
            return f"{value:,.1f} s"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Metric:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


def declarations(metrics: Iterable[Metric]) -> dict[str, Metric]:
    """name -> Metric; ValueError when one name is declared twice with different meanings."""
    found: dict[str, Metric] = {}
    for metric in metrics:
        if metric.name in found and found[metric.name] != metric:
            raise ValueError(f"metric {metric.name!r} is declared twice with different meanings: "
                             f"{found[metric.name]} and {metric}")
        found[metric.name] = metric
    return found
