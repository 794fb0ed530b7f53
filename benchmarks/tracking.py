"""MLflow logging that can never lose a run's results.

One `Tracker` per invocation talks to the tracking store through `MlflowClient` with explicit run ids
(no global "active run"), so parent and nested runs, Optuna trials and suites can interleave. Every call
is guarded: the first MLflow failure is recorded in `Tracker.error`, reported once as a warning line,
tracking is switched off for the rest of the invocation (a dead server would otherwise cost a timeout per
call), and the caller carries on writing its JSON and Markdown.

A failing store is found fast. An HTTP store gets short timeouts and few retries while it is first
contacted and bounded ones after that (MLflow's own defaults retry for minutes); settings the user put in
the environment win. A SQLite store is checked for writes with `sqlite3` before MLflow sees it (MLflow
retries an unopenable file for a minute and a half) and is created under a file lock beside the `.db`,
so that processes starting together do not race in MLflow's schema migration.

    tracker = Tracker(resolve_tracking_uri(results_root), artifact_root=results_root / "mlartifacts")
    with tracker.run("smoke-2026...") as parent:
        parent.log_params(flatten(config.to_dict()))
        with tracker.run("sudoku · hrm · seed 0", parent=parent) as child:
            child.log_metrics({"loss": 1.2}, step=10)
            if diverged:
                child.fail("diverged at step 10")  # ends FAILED; an interrupt leaving the body ends KILLED

A parallel worker re-opens the store from `tracker.target(parent)` (a picklable `RunTarget`) and nests its
case's run under the same parent, so each case's run lives while the case trains.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import interrupts

EXPERIMENT = "hrm-bench"
_PARAM_VALUE_LIMIT = 6000  # MLflow's limit on one parameter value
_REASON_LIMIT = 1000  # the `status_reason` tag: one line, well under MLflow's 8000 for a tag
_BATCH_LIMIT = 100  # MLflow's limit on params or tags per log_batch call
_METRIC_BATCH_LIMIT = 1000

# MLflow's HTTP settings for our calls, where the user has not set them: while the store is first contacted
# (a dead or silent server is found in 2 x 4 s) and afterwards (a server that dies mid-run costs one call of
# at most 3 x 10 s + 3 s of backoff, then tracking is off).
_CONNECT_HTTP = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "4", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
                 "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
_CALL_HTTP = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "10", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
              "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
# Loggers whose warnings and tracebacks repeat a failure the tracker reports itself in one line.
_QUIET_LOGGERS = ("mlflow.store.db.utils", "urllib3.connectionpool")
_SQLITE_BUSY_S = 20.0  # how long the write check waits for another writer (MLflow's own busy timeout)
_LOCK_WAIT_S = 120.0  # a holder slower than this is taken to be stuck; the store is set up without the lock


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


def run_name(*parts: object) -> str:
    """A run's name in the MLflow runs table: its distinguishing parts first, e.g. `sudoku · hrm · seed 0`."""
    return " · ".join(str(part) for part in parts)


def print_warning(line: str) -> None:
    """The default way a tracker reports that tracking is off: one line on stderr."""
    print(line, file=sys.stderr, flush=True)


class Tracker:
    """Opens runs on one tracking store; `error` holds the first failure (then tracking is off).

    `Tracker(None)` tracks nothing (every run is a no-op), for callers that only want the results.
    `warn` gets one line when tracking is switched off (None: stay silent, `error` still says why).
    `tags` go on every run it starts (the scale, the git commit).
    """

    def __init__(self, tracking_uri: str | None, experiment: str = EXPERIMENT,
                 artifact_root: Path | None = None, warn: Callable[[str], None] | None = print_warning,
                 tags: Mapping[str, str] | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.artifact_root = artifact_root
        self.warn = warn
        self.tags = dict(tags or {})
        self.error: str | None = None
        self._client = None
        self._experiment_id: str | None = None

    @property
    def enabled(self) -> bool:
        return self.tracking_uri is not None and self.error is None

    def guard(self, action: str, call, *args, **kwargs) -> Any:
        """Run one MLflow call; on failure record it, switch tracking off, warn once and return None."""
        if not self.enabled:
            return None
        http = _CONNECT_HTTP if self._client is None else _CALL_HTTP
        try:  # a stop arriving inside the call waits for it (`interrupts`): a half-done call can wedge the store
            with interrupts.protected(), _environ_defaults(http), _without_warnings(_QUIET_LOGGERS):
                return call(*args, **kwargs)
        except Exception as error:  # any MLflow, SQL or network failure must not stop the benchmark
            self.error = f"{action} failed on {self.tracking_uri}: {_describe(error)}"
            if self.warn is not None:
                self.warn(f"warning: MLflow tracking is off from here on (results are still written): {self.error}")
            return None

    def target(self, parent: TrackedRun | None) -> RunTarget | None:
        """This store and `parent` for another process to nest runs under; None while tracking is off."""
        if not self.enabled:
            return None
        return RunTarget(self.tracking_uri, self.experiment, self.artifact_root, self.tags,
                         None if parent is None else parent.run_id)

    @contextlib.contextmanager
    def run(self, name: str, parent: TrackedRun | str | None = None, tags: Mapping[str, str] | None = None
            ) -> Iterator[TrackedRun]:
        """Start a run (nested under `parent`, a run or its id, when given) and end it when the body is left.

        It ends as the body said (`TrackedRun.fail` / `kill`), else FINISHED when the body returns, FAILED
        when it raises an Exception, and KILLED when it is left by KeyboardInterrupt, SystemExit or another
        BaseException (an interrupted run is neither still running nor a failure). A reason goes into the
        run's `status_reason` tag.
        """
        parent_id = parent.run_id if isinstance(parent, TrackedRun) else parent
        run_id = self.guard("starting run " + name, self._create_run, name, parent_id, {**self.tags, **(tags or {})})
        tracked = TrackedRun(self, run_id)
        status, reason = "FINISHED", None
        try:
            yield tracked
        except Exception as error:
            status, reason = "FAILED", _describe(error)
            raise
        except BaseException as stop:
            status, reason = "KILLED", _describe(stop)
            raise
        finally:
            if tracked.status is not None:
                status, reason = tracked.status, tracked.reason
            if run_id is not None:
                if reason:
                    self.guard("tagging run " + name, self._client.set_tag, run_id, "status_reason",
                               reason[:_REASON_LIMIT])
                self.guard("ending run " + name, self._client.set_terminated, run_id, status)

    def _create_run(self, name: str, parent_id: str | None, tags: dict[str, str]) -> str:
        if self._client is None:
            self._connect()
        if parent_id is not None:
            tags["mlflow.parentRunId"] = parent_id
        return self._client.create_run(self._experiment_id, tags=tags, run_name=name).info.run_id

    def _connect(self) -> None:
        """Make the client and find or create the experiment; a SQLite store is checked and set up first.

        The SQLite store's schema is created or migrated by MLflow on the client's first call; doing that
        call under the lock means one process migrates and the others find the schema done.
        """
        from mlflow.tracking import MlflowClient

        path = _sqlite_path(self.tracking_uri)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(None if path is None else path.with_name(path.name + ".lock")):
            if path is not None:
                _check_writable(path)
            client = MlflowClient(tracking_uri=self.tracking_uri)
            self._experiment_id = self._find_or_create_experiment(client)
        self._client = client

    def _find_or_create_experiment(self, client) -> str:
        found = client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        location = self.artifact_root.resolve().as_uri() if self.artifact_root else None
        try:
            return client.create_experiment(self.experiment, artifact_location=location)
        except Exception:  # created meanwhile by another process (one without our lock, or on a server)
            found = client.get_experiment_by_name(self.experiment)
            if found is None:
                raise
            return found.experiment_id


@dataclass(frozen=True)
class RunTarget:
    """A tracking store and a parent run, to be re-opened in another process (`Tracker.target`); picklable."""

    tracking_uri: str
    experiment: str
    artifact_root: Path | None
    tags: dict[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None

    def open(self, warn: Callable[[str], None] | None = print_warning) -> Tracker:
        return Tracker(self.tracking_uri, self.experiment, self.artifact_root, warn, self.tags)


class TrackedRun:
    """One MLflow run; every method is a no-op once tracking is off (or when the run failed to start).

    `status` and `reason` are None unless the body decided how the run ends (`fail`, `kill`).
    """

    def __init__(self, tracker: Tracker, run_id: str | None) -> None:
        self.tracker = tracker
        self.run_id = run_id
        self.status: str | None = None
        self.reason: str | None = None

    def fail(self, reason: str) -> None:
        """End this run FAILED when the body is left, without raising (a diverged case is a result)."""
        self.status, self.reason = "FAILED", reason

    def kill(self, reason: str) -> None:
        """End this run KILLED when the body is left: for an interrupt that the body catches itself."""
        self.status, self.reason = "KILLED", reason

    def _active(self) -> bool:
        return self.run_id is not None and self.tracker.enabled

    def log_params(self, params: Mapping[str, Any]) -> None:
        items = [(key, str(value)[:_PARAM_VALUE_LIMIT]) for key, value in params.items()]
        for start in range(0, len(items), _BATCH_LIMIT):
            if self._active():
                self.tracker.guard("logging params", self._log_batch, params=items[start:start + _BATCH_LIMIT])

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        self.log_series({name: [(step, value)] for name, value in metrics.items()})

    def log_series(self, series: Mapping[str, list[tuple[int, float]] | list[list[float]]]) -> None:
        """Stepped metrics: {name: [(step, value), ...]}."""
        items = [(name, step, value) for name, points in series.items() for step, value in points]
        for start in range(0, len(items), _METRIC_BATCH_LIMIT):
            if self._active():
                chunk = items[start:start + _METRIC_BATCH_LIMIT]
                self.tracker.guard("logging metrics", self._log_batch, metrics=chunk)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        items = [(key, str(value)) for key, value in tags.items()]
        for start in range(0, len(items), _BATCH_LIMIT):
            if self._active():
                self.tracker.guard("setting tags", self._log_batch, tags=items[start:start + _BATCH_LIMIT])

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        if self._active():
            self.tracker.guard(
                f"logging artifact {path}", self.tracker._client.log_artifact, self.run_id, str(path), artifact_path
            )

    def _log_batch(self, params: list[tuple[str, str]] = (), metrics: list[tuple[str, int, float]] = (),
                   tags: list[tuple[str, str]] = ()) -> None:
        """One `log_batch` call; the entities are built here so that a bad value is a guarded failure."""
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        self.tracker._client.log_batch(
            self.run_id,
            params=[Param(key, value) for key, value in params],
            metrics=[Metric(metric_name(name), float(value), now, int(step)) for name, step, value in metrics],
            tags=[RunTag(key, value) for key, value in tags],
        )


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:` URI; None for other stores and in-memory databases."""
    if not uri.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    return Path(database) if database and database != ":memory:" else None


def _check_writable(path: Path) -> None:
    """Raise sqlite3.Error unless `path` can be opened and written (a write that is rolled back).

    MLflow finds a read-only store only at its first insert, with a traceback, and an unopenable one only
    after retrying for a minute and a half.
    """
    import sqlite3

    connection = sqlite3.connect(path, timeout=_SQLITE_BUSY_S, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        connection.execute(f"PRAGMA user_version = {version}")
        connection.execute("ROLLBACK")
    finally:
        connection.close()


@contextlib.contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created if missing) for the body; None: no lock.

    Fails soft: where there is no `fcntl` (not POSIX), the lock file cannot be opened (read-only folder: the
    write check then reports the store) or the holder is stuck past `_LOCK_WAIT_S`, the body runs unlocked.
    """
    try:
        import fcntl

        handle = open(path, "a") if path is not None else None  # noqa: SIM115 (closed below)
    except (ImportError, OSError):
        handle = None
    if handle is None:
        yield
        return
    with handle:  # closing the file releases the lock
        deadline = time.monotonic() + _LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            except OSError:  # a file system without flock
                break
        yield


@contextlib.contextmanager
def _environ_defaults(values: Mapping[str, str]) -> Iterator[None]:
    """Set the variables of `values` that the environment lacks for the body, then remove them again."""
    added = [key for key in values if key not in os.environ]
    os.environ.update({key: values[key] for key in added})
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


@contextlib.contextmanager
def _without_warnings(names: tuple[str, ...]) -> Iterator[None]:
    """Drop warnings and errors (with their tracebacks) of the named loggers for the body."""
    loggers, quiet = [logging.getLogger(name) for name in names], _BelowWarning()
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def _describe(error: BaseException) -> str:
    """One line: the error's type and first line, and its root cause's when it wraps one."""
    root, seen = error, {id(error)}
    while True:
        inner = root.__cause__ or (None if root.__suppress_context__ else root.__context__)
        if inner is None or id(inner) in seen:
            break
        root = inner
        seen.add(id(root))
    text = _first_line(error)
    return text if root is error else f"{text} (cause: {_first_line(root)})"


def _first_line(error: BaseException) -> str:
    """"Type: first line of the message", or the type alone for an empty message (KeyboardInterrupt)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0][:_REASON_LIMIT]}" if lines else type(error).__name__
