"""MLflow tracking helpers: the store's address, flattened params, failures recorded, not raised, and how
a run ends (FINISHED, FAILED when the body raises or says so, KILLED when it is interrupted)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from benchmarks.tracking import Tracker, _file_lock, flatten, metric_name, resolve_tracking_uri


def test_tracking_uri_is_the_users_when_set_else_sqlite_under_the_results_folder(tmp_path):
    assert resolve_tracking_uri(tmp_path, {"MLFLOW_TRACKING_URI": "http://mlflow:5000"}) == "http://mlflow:5000"
    assert resolve_tracking_uri(tmp_path, {}) == f"sqlite:///{Path(tmp_path).resolve() / 'mlflow.db'}"


def test_flatten_gives_dotted_keys_and_json_values():
    assert flatten({"model": {"H_cycles": 2, "mode": "bptt"}, "T": [1, 2], "on": True}) == {
        "model.H_cycles": "2", "model.mode": "bptt", "T": "[1, 2]", "on": "true",
    }


def test_a_failing_store_is_recorded_and_turns_tracking_off():
    tracker = Tracker("unknown-scheme://nowhere")
    with tracker.run("parent") as run:
        run.log_metrics({"x": 1.0})
    assert run.run_id is None
    assert tracker.error.startswith("starting run parent failed on unknown-scheme://nowhere")
    assert not tracker.enabled


def test_tracker_without_a_uri_tracks_nothing():
    tracker = Tracker(None)
    with tracker.run("parent") as run:
        run.log_params({"a": 1})
    assert run.run_id is None and tracker.error is None


def test_metric_names_are_made_acceptable_to_mlflow():
    assert metric_name("reference:per_test:pass@2") == "reference:per_test:pass_at_2"
    assert metric_name("exact_accuracy") == "exact_accuracy"
    assert metric_name("a+b") == "a_b"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[str, Path]:
    """One SQLite store for the run-status tests (setting up a new store takes seconds): (uri, artifacts)."""
    folder = tmp_path_factory.mktemp("store")
    return f"sqlite:///{folder / 'mlflow.db'}", folder / "mlartifacts"


def ended(store, body) -> tuple[str, str | None]:
    """Run `body(run)` inside `tracker.run`, swallowing what it raises; the run's (status, status_reason)."""
    uri, artifacts = store
    tracker = Tracker(uri, artifact_root=artifacts)
    with contextlib.suppress(BaseException), tracker.run("case") as run:
        body(run)
    assert tracker.error is None and run.run_id is not None
    info = MlflowClient(tracking_uri=uri).get_run(run.run_id)
    return info.info.status, info.data.tags.get("status_reason")


def test_a_run_whose_body_returns_ends_finished(store):
    assert ended(store, lambda run: run.log_metrics({"x": 1.0})) == ("FINISHED", None)


def test_a_run_whose_body_raises_ends_failed_with_the_error_as_its_reason(store):
    def body(run):
        raise ValueError("loss is nan\nsecond line")

    assert ended(store, body) == ("FAILED", "ValueError: loss is nan")


def test_a_run_the_body_fails_ends_failed_without_raising(store):
    assert ended(store, lambda run: run.fail("diverged at step 4")) == ("FAILED", "diverged at step 4")


class Stop(BaseException):
    """Like the runner's SIGTERM exception: a BaseException that is not an Exception."""


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), SystemExit(2), Stop("SIGTERM")], ids=type)
def test_a_run_left_by_an_interrupt_ends_killed(store, stop):
    def body(run):
        raise stop

    status, reason = ended(store, body)
    assert status == "KILLED" and reason.startswith(type(stop).__name__)


def test_a_run_the_body_kills_after_catching_an_interrupt_ends_killed(store):
    def body(run):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            run.kill("interrupted (Ctrl-C)")

    assert ended(store, body) == ("KILLED", "interrupted (Ctrl-C)")


def test_what_the_body_said_stands_when_it_is_then_interrupted(store):
    def body(run):
        run.fail("diverged at step 4")
        raise KeyboardInterrupt

    assert ended(store, body) == ("FAILED", "diverged at step 4")


def test_a_bad_value_turns_tracking_off_instead_of_raising(store):
    uri, artifacts = store
    tracker = Tracker(uri, artifact_root=artifacts, warn=None)
    with tracker.run("bad value") as run:
        run.log_metrics({"x": "not a number"})
        run.log_metrics({"y": 1.0})
    assert tracker.error.startswith("logging metrics failed on ") and "ValueError" in tracker.error
    assert MlflowClient(tracking_uri=uri).get_run(run.run_id).data.metrics == {}  # tracking stayed off


def test_tracking_off_is_warned_once_in_one_line():
    lines: list[str] = []
    tracker = Tracker("unknown-scheme://nowhere", warn=lines.append)
    for name in ("first", "second"):
        with tracker.run(name) as run:
            run.log_metrics({"x": 1.0})
    assert len(lines) == 1 and "\n" not in lines[0] and lines[0].startswith("warning: MLflow tracking is off")


def test_http_settings_are_bounded_for_our_calls_only_and_the_users_win(monkeypatch):
    for name in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "77")
    seen: dict[str, str] = {}
    Tracker("http://127.0.0.1:1").guard("probing", lambda: seen.update(os.environ))
    assert seen["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "77" and seen["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "1"
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "77" and "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ


def test_the_store_lock_fails_soft_where_its_file_cannot_be_made(tmp_path):
    with _file_lock(tmp_path / "missing" / "mlflow.db.lock"):
        pass
