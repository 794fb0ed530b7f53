"""Regression comparison of two benchmark results: `python -m benchmarks.compare BASE NEW`.

BASE and NEW are `results.json` files (or result directories holding one) in the agreed schema
(schema_version 2). Records are matched by (suite, task, arm, seed, params); every metric present in
both is printed side by side with its change, and gated by its declaration: the results' `metrics`
section, where whoever reports a metric declares its kind, which direction is better and its tolerance
(`tasks.metric.Metric`). NEW's declaration is used, BASE's when NEW has none; nothing is read from a name.

| better  | proportion (tol in absolute points) | bytes, count, rate, seconds, value (tol relative) |
|---------|-------------------------------------|---------------------------------------------------|
| higher  | new < base - tol                    | new < base - tol * |base|                         |
| lower   | new > base + tol                    | new > base + tol * |base|                         |
| neither | not gated                           | not gated                                         |

A declaration with tolerance null is shown, not gated. A `per_device` metric (rates, MFU) is gated only when
both runs report the same known `device.class`; otherwise it is shown and marked "other device". A metric
that neither file declares is shown, not gated, and listed as undeclared, so a forgotten declaration is
visible. Changes are printed in points for proportions and in percent otherwise.

`--tolerance NAME=VALUE` sets the tolerance of one metric (or of every metric matching a glob such as
`*accuracy=0.02`) in place of its declaration's; a metric without a direction (better "neither", or
undeclared) is then gated both ways, |new - base| > tol (times |base| unless a proportion), because nothing
says which direction is better for, say, a slope. A NaN new value against a finite base is a regression of
a gated metric. Records or metrics in BASE but not in NEW are listed and fail the comparison unless
`--allow-missing`; those only in NEW are listed. A record of NEW whose training diverged (`status:
"diverged"`) is a regression, whatever BASE says.

Why the default tolerances (`PROPORTION_TOLERANCE`, `BYTES_TOLERANCE` and `RATE_TOLERANCE` in
`tasks/metric.py`, which `Metric.proportion`, `Metric.memory` and `Metric.rate` declare) hold for the
seeded smoke suite on CPU across machines (measured with `python -m benchmarks.run --suite all --scale
smoke --tasks maze,sudoku --set train.threads=1` (and =2) three times on one 2-core machine shared with
other jobs):
- PROPORTION_TOLERANCE 0.07: with the same code every accuracy was bit-for-bit identical, whatever the
  thread count. Another CPU can still differ: its SIMD width and BLAS/oneDNN kernels round float sums
  differently, and training amplifies last-bit differences until a test example flips. Smoke test splits
  hold 16 examples, so one flipped example moves exact accuracy by 6.25 points; 7 points tolerates that
  one flip and still catches a model that stopped learning: trained for 1 step instead of the smoke
  scale's 6, 9 of the 12 maze/sudoku cases lost 15 to 68 points of token accuracy.
- BYTES_TOLERANCE 0.05: bytes saved for backward were identical in every run (they are fixed by tensor
  shapes and dtypes); the slack covers autograd saving one more small tensor after an upgrade, while an
  O(1) -> O(T) regression grows by a multiple.
- RATE_TOLERANCE 0.90: smoke cases last milliseconds. Between two single-thread runs of the same code
  minutes apart, samples/s and MFU fell by up to 87% and rose by up to 3.2x, because the machine's load
  changed (a 2-thread run on the oversubscribed machine lost 99.8%). So only a 10x slowdown, the size of a
  Python loop sneaking into a hot path, is flagged by default; pass a tighter tolerance (`--tolerance
  '*_per_s=0.2'`) on a quiet, dedicated machine. Across device classes the numbers are not comparable
  at all, hence not gated.

Exit status: 0 when nothing regressed, 1 on a regression (or a missing metric/record without
`--allow-missing`), 2 on unreadable input or bad arguments.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tabulate import tabulate

from benchmarks.errors import BenchmarkError
from tasks.metric import Kind, Metric

SCHEMA_VERSION = 2
RESULTS_FILE = "results.json"

RecordKey = tuple[str, str, str, int | None, str]
Status = Literal["ok", "REGRESSED", "not gated", "other device"]


@dataclass(frozen=True)
class Tolerances:
    """User overrides of declared tolerances, by exact metric name or else the first matching glob pattern."""

    overrides: dict[str, float] = field(default_factory=dict)

    def for_metric(self, name: str) -> float | None:
        """The override for `name`, or None when its declaration decides."""
        if name in self.overrides:
            return self.overrides[name]
        for pattern, value in self.overrides.items():
            if fnmatch.fnmatchcase(name, pattern):
                return value
        return None

    @classmethod
    def parse(cls, items: list[str]) -> Tolerances:
        """Build from `["exact_accuracy=0.02", "*_bytes=0.1"]`; one BenchmarkError names a bad item."""
        overrides = {}
        for item in items:
            name, sep, value = item.partition("=")
            try:
                tolerance = float(value)
            except ValueError:
                tolerance = math.nan
            if not sep or not name or not math.isfinite(tolerance) or tolerance < 0:
                raise BenchmarkError(f"--tolerance {item!r}: expected METRIC=VALUE with a number >= 0")
            overrides[name] = tolerance
        return cls(overrides=overrides)


@dataclass(frozen=True)
class Row:
    """One metric of one matched record, compared; `kind` is None for a metric declared in neither file."""

    record: str
    metric: str
    kind: Kind | None
    base: float | None
    new: float | None
    tolerance: float | None
    status: Status

    @property
    def tolerance_text(self) -> str:
        """The tolerance in the change's unit: points for proportions, percent otherwise."""
        if self.tolerance is None:
            return "n/a"
        unit = " pt" if self.kind == "proportion" else "%"
        return f"{self.tolerance * 100:g}{unit}"

    @property
    def change(self) -> str:
        if self.base is None or self.new is None:
            return "n/a"
        if self.kind == "proportion":
            return f"{(self.new - self.base) * 100:+.2f} pt"
        if self.base == 0:
            return "0" if self.new == 0 else f"{self.new - self.base:+.4g}"
        return f"{(self.new - self.base) / abs(self.base) * 100:+.1f}%"


@dataclass
class Comparison:
    """Everything compare found: rows for shared metrics, and what is missing from or extra in NEW."""

    rows: list[Row]
    missing: list[str]  # "record" or "record: metric" present in BASE only
    extra: list[str]  # present in NEW only
    base_device: str | None
    new_device: str | None
    diverged: list[str] = field(default_factory=list)  # "record: diverged at step k" for NEW's diverged records
    undeclared: list[str] = field(default_factory=list)  # metric names reported but declared in neither file

    @property
    def same_device(self) -> bool:
        """Per-device metrics are gated only between runs on one known device class."""
        return self.base_device is not None and self.base_device == self.new_device

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.status == "REGRESSED"]

    def passed(self, allow_missing: bool = False) -> bool:
        """No regressed metric and no diverged case (and, unless allowed, nothing missing)."""
        return not self.regressions and not self.diverged and (allow_missing or not self.missing)


def load_results(path: str | Path) -> dict:
    """Read and check a results JSON (a file, or a directory holding `results.json`) and its declarations."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchmarkError(f"{path}: no such results file") from None
    except UnicodeDecodeError:
        raise BenchmarkError(f"{path}: not a results JSON file (binary or not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise BenchmarkError(f"{path}: not valid JSON ({error})") from None
    except OSError as error:
        raise BenchmarkError(f"{path}: cannot read ({error.strerror or error})") from None
    if not isinstance(data, dict):
        raise BenchmarkError(f"{path}: expected a JSON object at the top level")
    version = data.get("schema_version")
    if version == 1:
        raise BenchmarkError(f"{path}: schema_version 1 predates metric declarations; regenerate it with "
                             "python -m benchmarks.run")
    if version != SCHEMA_VERSION:
        raise BenchmarkError(f"{path}: schema_version {version!r} is not supported (expected {SCHEMA_VERSION})")
    _declarations(data, path)
    return data


def _declarations(data: dict, path: Path | str) -> dict[str, Metric]:
    """The results' `metrics` section as name -> Metric; one error names the file and a bad declaration."""
    section = data.get("metrics")
    if not isinstance(section, dict):
        raise BenchmarkError(f"{path}: 'metrics' must be an object of metric declarations")
    declared = {}
    for name, values in section.items():
        try:
            declared[name] = _declaration(name, values)
        except (TypeError, ValueError) as error:
            raise BenchmarkError(f"{path}: declaration of metric {name!r} is invalid: {error}") from None
    return declared


def _declaration(name: str, values: object) -> Metric:
    """One `metrics` entry as a Metric; TypeError or ValueError says what is wrong with it."""
    if not isinstance(values, dict):
        raise TypeError(f"expected an object, got {values!r}")
    metric = Metric.from_dict(values)
    if metric.name != name:
        raise ValueError(f"it is named {metric.name!r}")
    if metric.tolerance is not None and (isinstance(metric.tolerance, bool) or not math.isfinite(metric.tolerance)):
        raise ValueError(f"tolerance must be a finite number or null, got {metric.tolerance!r}")
    return metric


def _records_by_key(data: dict, path: Path | str) -> dict[RecordKey, dict]:
    """Index records by their identity, checking each one; errors name the file and the record index."""
    if not isinstance(data.get("records"), list):
        raise BenchmarkError(f"{path}: 'records' must be a list")
    records = {}
    for index, record in enumerate(data["records"]):
        where = f"{path}: records[{index}]"
        if not isinstance(record, dict):
            raise BenchmarkError(f"{where}: expected an object")
        for name in ("suite", "task", "arm", "seed", "metrics"):
            if name not in record:
                raise BenchmarkError(f"{where}: missing field {name!r}")
        if not isinstance(record["metrics"], dict):
            raise BenchmarkError(f"{where}: 'metrics' must be an object")
        for metric, value in record["metrics"].items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise BenchmarkError(f"{where}: metric {metric!r} must be a number or null, got {value!r}")
        key = (record["suite"], record["task"], record["arm"], record["seed"],
               json.dumps(record.get("params") or {}, sort_keys=True))
        if key in records:
            raise BenchmarkError(f"{where}: duplicate record {_label(key)}")
        records[key] = record
    return records


def _label(key: RecordKey) -> str:
    """`accuracy/sudoku/hrm seed 0 (H_cycles=2, L_cycles=4)`; `mean` for a seed-aggregate record."""
    suite, task, arm, seed, params = key
    seed_text = "mean" if seed is None else f"seed {seed}"
    items = ", ".join(f"{name}={value}" for name, value in json.loads(params).items())
    return f"{suite}/{task}/{arm} {seed_text}" + (f" ({items})" if items else "")


def _device_class(data: dict) -> str | None:
    device = data.get("device")
    return device.get("class") if isinstance(device, dict) else None


def _status(declaration: Metric | None, base: float | None, new: float | None, tolerance: float | None,
            same_device: bool) -> Status:
    """Gate one value by its declaration (None: undeclared) and tolerance (None: not gated); see the module table."""
    if tolerance is None or base is None or new is None:
        return "not gated"
    if declaration is not None and declaration.per_device and not same_device:
        return "other device"
    if math.isnan(new):
        return "ok" if math.isnan(base) else "REGRESSED"
    allowance = tolerance if declaration is not None and declaration.kind == "proportion" else tolerance * abs(base)
    better = "neither" if declaration is None else declaration.better
    if better == "higher":
        regressed = new < base - allowance
    elif better == "lower":
        regressed = new > base + allowance
    else:  # no direction: only a --tolerance override gates it, both ways
        regressed = abs(new - base) > allowance
    return "REGRESSED" if regressed else "ok"


def compare(
    base: dict, new: dict, tolerances: Tolerances | None = None, *, base_name: str = "BASE", new_name: str = "NEW"
) -> Comparison:
    """Match BASE and NEW records and gate every shared metric by its declaration (see the module docstring).

    `base_name`/`new_name` (usually the file paths) name the input in errors about a malformed record or
    declaration.
    """
    tolerances = tolerances or Tolerances()
    declared = _declarations(base, base_name) | _declarations(new, new_name)  # NEW's declaration wins
    base_records = _records_by_key(base, base_name)
    new_records = _records_by_key(new, new_name)
    comparison = Comparison([], [], [], _device_class(base), _device_class(new))
    rows, missing, extra = comparison.rows, comparison.missing, comparison.extra
    diverged = {key for key, record in new_records.items() if record.get("status", "ok") == "diverged"}
    comparison.diverged.extend(f"{_label(key)}: diverged at step {new_records[key].get('diverged_at_step')}"
                               for key in new_records if key in diverged)
    reported = dict.fromkeys(name for records in (base_records, new_records)
                             for record in records.values() for name in record["metrics"])
    comparison.undeclared.extend(name for name in reported if name not in declared)
    for key, base_record in base_records.items():
        label = _label(key)
        if key not in new_records:
            missing.append(label)
            continue
        if key in diverged:  # no metric of a diverged case is a result to compare
            continue
        base_metrics, new_metrics = base_record["metrics"], new_records[key]["metrics"]
        for name, base_value in base_metrics.items():
            new_value = new_metrics.get(name)
            if new_value is None and base_value is not None:
                missing.append(f"{label}: {name}")
                continue
            declaration = declared.get(name)
            tolerance = tolerances.for_metric(name)
            if tolerance is None and declaration is not None:
                tolerance = declaration.tolerance
            status = _status(declaration, base_value, new_value, tolerance, comparison.same_device)
            kind = None if declaration is None else declaration.kind
            rows.append(Row(label, name, kind, base_value, new_value, tolerance, status))
        extra.extend(f"{label}: {name}" for name in new_metrics if name not in base_metrics)
    extra.extend(_label(key) for key in new_records if key not in base_records)
    return comparison


def _number(value: float | None) -> str:
    """Integers (byte counts) in full, other numbers to 6 significant digits, null as n/a."""
    if value is None:
        return "n/a"
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def format_comparison(comparison: Comparison, full: bool = False) -> str:
    """The verdict first, then each regression, the device note and what is missing; the undeclared metrics;
    then, with `full`, one side-by-side table per record and what only NEW has (else their counts)."""
    failed = len(comparison.regressions) + len(comparison.diverged)
    lines = [
        f"{'FAIL' if failed or comparison.missing else 'PASS'}: {failed} regression(s) "
        f"({len(comparison.diverged)} diverged case(s)), {len(comparison.missing)} missing, "
        f"{len(comparison.extra)} extra, {len(comparison.undeclared)} undeclared, "
        f"{len(comparison.rows)} metric(s) compared."
    ]
    lines += [
        f"REGRESSED {row.record}: {row.metric} {_number(row.base)} -> {_number(row.new)} ({row.change}, "
        f"tolerance {row.tolerance_text})"
        for row in comparison.regressions
    ]
    lines += [f"REGRESSED {item}" for item in comparison.diverged]
    if not comparison.same_device:
        lines.append(
            f"Per-device metrics not gated: device class {comparison.base_device!r} (base) vs "
            f"{comparison.new_device!r} (new)."
        )
    lines += [f"Missing in new: {item}" for item in comparison.missing]
    lines += [f"Undeclared: {name} (declared in neither file; gated only by --tolerance)"
              for name in comparison.undeclared]
    if not full:
        if comparison.rows or comparison.extra:
            lines.append(f"(--full shows the {len(comparison.rows)} compared metrics record by record and the "
                         f"{len(comparison.extra)} only in new)")
        return "\n".join(lines)
    lines.append("")
    for record in dict.fromkeys(row.record for row in comparison.rows):
        table = tabulate(
            [
                (row.metric, _number(row.base), _number(row.new), row.change, row.tolerance_text, row.status)
                for row in comparison.rows if row.record == record
            ],
            headers=("metric", "base", "new", "change", "tolerance", "status"),
            tablefmt="github",
            disable_numparse=True,
        )
        lines += [record, table, ""]
    lines += [f"Only in new: {item}" for item in comparison.extra]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare",
        description="Compare two benchmark results and exit non-zero on a regression past tolerance.",
        epilog=(
            "Each metric is gated by its declaration in the results (kind, better direction, tolerance; NEW's, "
            "else BASE's); per-device metrics only between runs on the same device class; undeclared metrics "
            "are listed, not gated. Exit status: 0 no regression, 1 regression or missing metric, 2 bad input."
        ),
    )
    parser.add_argument("base", help="baseline results.json or result directory")
    parser.add_argument("new", help="new results.json or result directory")
    parser.add_argument(
        "--tolerance", action="append", default=[], metavar="METRIC=VALUE",
        help="tolerance for a metric name or glob in place of its declaration's (proportions: absolute "
             "fraction; others: relative); gates both ways a metric with no better direction; repeatable",
    )
    parser.add_argument(
        "--allow-missing", action="store_true", help="list metrics/records missing from NEW without failing"
    )
    parser.add_argument("--full", action="store_true",
                        help="also print every compared metric, record by record, and what only NEW has")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        tolerances = Tolerances.parse(args.tolerance)
        base, new = load_results(args.base), load_results(args.new)
        comparison = compare(base, new, tolerances, base_name=args.base, new_name=args.new)
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_comparison(comparison, full=args.full))
    return 0 if comparison.passed(args.allow_missing) else 1


if __name__ == "__main__":
    sys.exit(main())
