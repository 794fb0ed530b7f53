"""The results JSON (schema_version 2, read by `benchmarks.compare` and the report) and its provenance.

Schema 2: provenance (run name, time, git commit, device, versions, command), the resolved settings
(`config`), `metrics` (every metric's declaration, `tasks.metric.Metric.to_dict`, keyed by name) and
`records` (`benchmarks.record.Record.to_dict`).
"""

from __future__ import annotations

import datetime
import json
import math
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from benchmarks.record import Record
from tasks.files import write_text_atomic
from tasks.metric import Metric

SCHEMA_VERSION = 2
RESULTS_FILE = "results.json"
_PACKAGES = ("numpy", "mlflow-skinny", "optuna", "pandas")


def git_commit(directory: Path) -> str | None:
    """HEAD's sha of the repository holding `directory`, or None outside one (or without git)."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def device_info(device: torch.device) -> dict[str, Any]:
    """type, name, class (what compare matches throughput on) and CPU threads of the run's device."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = _cpu_model()
    return {"type": device.type, "name": name, "class": f"{device.type}:{name}", "threads": torch.get_num_threads()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version(), "torch": torch.__version__}
    for package in _PACKAGES:
        try:
            found[package.removesuffix("-skinny")] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package.removesuffix("-skinny")] = None
    return found


def build_results(*, run_name: str, scale: str, suites: list[str], device: torch.device, config: dict[str, Any],
                  mlflow: dict[str, Any], metrics: dict[str, Metric], records: list[Record],
                  program: str = "python -m benchmarks.run") -> dict[str, Any]:
    """The results document in the agreed schema; `program` is how the command that wrote it starts."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run_name": run_name,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "suites": list(suites),
        "scale": scale,
        "device": device_info(device),
        "versions": versions(),
        "command": " ".join([program, *sys.argv[1:]]),
        "config": config,
        "mlflow": mlflow,
        "metrics": {name: metric.to_dict() for name, metric in metrics.items()},
        "records": [record.to_dict() for record in records],
    }


def write_results(results: dict[str, Any], directory: Path) -> Path:
    """`directory/results.json`, written atomically; NaN and infinities become null (valid JSON)."""
    return write_text_atomic(directory / RESULTS_FILE, json.dumps(_finite(results), indent=1) + "\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
