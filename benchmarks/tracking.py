"""MLflow logging that can never lose a run's results.

One `Tracker` per invocation talks to the tracking store through `MlflowClient` with explicit run ids
(no global "active run"), so parent and nested runs, Optuna trials and suites can interleave. Every call
is guarded: the first MLflow failure is recorded in `Tracker.error`, tracking is switched off for the rest of
the invocation (a dead server would otherwise cost a retry timeout per call), and the caller carries on
writing its JSON and Markdown.

    tracker = Tracker(resolve_tracking_uri(results_root), artifact_root=results_root / "mlartifacts")
    with tracker.run("smoke-2026...") as parent:
        parent.log_params(flatten(config.to_dict()))
        with tracker.run("accuracy/sudoku/hrm/0", parent=parent) as child:
            child.log_metrics({"loss": 1.2}, step=10)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

EXPERIMENT = "hrm-bench"
_PARAM_VALUE_LIMIT = 6000  # MLflow's limit on one parameter value
_BATCH_LIMIT = 100  # MLflow's limit on params or tags per log_batch call
_METRIC_BATCH_LIMIT = 1000


def resolve_tracking_uri(results_root: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The user's MLFLOW_TRACKING_URI when set, else a SQLite store `<results_root>/mlflow.db`."""
    uri = environ.get("MLFLOW_TRACKING_URI", "").strip()
    return uri or f"sqlite:///{Path(results_root).resolve() / 'mlflow.db'}"


def metric_name(name: str) -> str:
    """`name` in the characters MLflow accepts ("pass@1" -> "pass_at_1"; others become "_")."""
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "_", name.replace("@", "_at_"))


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as MLflow params: dotted keys, JSON for lists, values cut to MLflow's limit."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            flat[name] = text[:_PARAM_VALUE_LIMIT]
    return flat


class Tracker:
    """Opens runs on one tracking store; `error` holds the first failure (then tracking is off).

    `Tracker(None)` tracks nothing (every run is a no-op), for callers that only want the results.
    """

    def __init__(self, tracking_uri: str | None, experiment: str = EXPERIMENT,
                 artifact_root: Path | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.artifact_root = artifact_root
        self.error: str | None = None
        self._client = None
        self._experiment_id: str | None = None

    @property
    def enabled(self) -> bool:
        return self.tracking_uri is not None and self.error is None

    def guard(self, action: str, call, *args, **kwargs) -> Any:
        """Run one MLflow call; on failure record it, switch tracking off and return None."""
        if not self.enabled:
            return None
        try:
            return call(*args, **kwargs)
        except Exception as error:  # any MLflow, SQL or network failure must not stop the benchmark
            self.error = f"{action} failed on {self.tracking_uri}: {type(error).__name__}: {error}"
            return None

    @contextlib.contextmanager
    def run(self, name: str, parent: TrackedRun | None = None, tags: Mapping[str, str] | None = None
            ) -> Iterator[TrackedRun]:
        """Start a run (nested under `parent` when given); it ends FINISHED, or FAILED if the body raises."""
        run_id = self.guard("starting run " + name, self._create_run, name, parent, dict(tags or {}))
        tracked = TrackedRun(self, run_id)
        status = "FAILED"
        try:
            yield tracked
            status = "FINISHED"
        finally:
            if run_id is not None:
                self.guard("ending run " + name, self._client.set_terminated, run_id, status)

    def _create_run(self, name: str, parent: TrackedRun | None, tags: dict[str, str]) -> str:
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(tracking_uri=self.tracking_uri)
            found = self._client.get_experiment_by_name(self.experiment)
            if found is not None:
                self._experiment_id = found.experiment_id
            else:
                location = self.artifact_root.resolve().as_uri() if self.artifact_root else None
                self._experiment_id = self._client.create_experiment(self.experiment, artifact_location=location)
        if parent is not None and parent.run_id is not None:
            tags["mlflow.parentRunId"] = parent.run_id
        return self._client.create_run(self._experiment_id, tags=tags, run_name=name).info.run_id


class TrackedRun:
    """One MLflow run; every method is a no-op once tracking is off (or when the run failed to start)."""

    def __init__(self, tracker: Tracker, run_id: str | None) -> None:
        self.tracker = tracker
        self.run_id = run_id

    def _active(self) -> bool:
        return self.run_id is not None and self.tracker.enabled

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(key, str(value)[:_PARAM_VALUE_LIMIT]) for key, value in params.items()]
        for start in range(0, len(items), _BATCH_LIMIT):
            if self._active():
                chunk = items[start:start + _BATCH_LIMIT]
                self.tracker.guard("logging params", self.tracker._client.log_batch, self.run_id, params=chunk)

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        self.log_series({name: [(step, value)] for name, value in metrics.items()})

    def log_series(self, series: Mapping[str, list[tuple[int, float]] | list[list[float]]]) -> None:
        """Stepped metrics: {name: [(step, value), ...]}."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(metric_name(name), float(value), now, int(step))
            for name, points in series.items() for step, value in points
        ]
        for start in range(0, len(items), _METRIC_BATCH_LIMIT):
            if self._active():
                chunk = items[start:start + _METRIC_BATCH_LIMIT]
                self.tracker.guard("logging metrics", self.tracker._client.log_batch, self.run_id, metrics=chunk)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            if self._active():
                self.tracker.guard("setting tags", self.tracker._client.set_tag, self.run_id, key, str(value))

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        if self._active():
            self.tracker.guard(
                f"logging artifact {path}", self.tracker._client.log_artifact, self.run_id, str(path), artifact_path
            )
