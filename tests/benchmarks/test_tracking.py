"""MLflow tracking helpers: the store's address, flattened params, and failures recorded, not raised."""

from __future__ import annotations

from pathlib import Path

from benchmarks.tracking import Tracker, flatten, metric_name, resolve_tracking_uri


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
