"""`--suite all --scale smoke` end to end in a temporary folder: report, JSON and nested MLflow runs."""

from __future__ import annotations

import json
import re
import time

import pytest
from mlflow.tracking import MlflowClient

from benchmarks.run import main
from benchmarks.suites import SUITES


def _run_all(tmp_path, cache, tracking_uri, *selection: str) -> tuple[dict, float]:
    out = tmp_path / "results" / "smoke"
    started = time.perf_counter()
    assert main(["--suite", "all", "--scale", "smoke", "--out", str(out), "--set", f"train.cache_dir={cache}",
                 *selection]) == 0
    wall = time.perf_counter() - started
    report = (out / "report.md").read_text()
    for heading in ("## Accuracy", "## Memory", "## Throughput", "## ACT and inference-time scaling", "## Figures"):
        assert heading in report
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", report)
    assert images and all((out / image).is_file() for image in images)
    return json.loads((out / "results.json").read_text()), wall


def _check_records_and_mlflow(results: dict, tracking_uri: str, tasks: list[str], arms: list[str]) -> None:
    assert results["schema_version"] == 2 and results["scale"] == "smoke" and results["suites"] == list(SUITES)
    assert {"type", "name", "class", "threads"} <= set(results["device"])
    assert {(r["suite"], r["task"], r["arm"]) for r in results["records"] if r["suite"] not in ("act", "claims")} == {
        (suite, task, arm) for suite in ("accuracy", "memory", "throughput") for task in tasks for arm in arms
    }
    assert results["mlflow"]["error"] is None and results["mlflow"]["tracking_uri"] == tracking_uri

    client = MlflowClient(tracking_uri)
    parent = client.get_run(results["mlflow"]["parent_run_id"])
    assert parent.info.status == "FINISHED" and "wall_s" in parent.data.metrics
    assert re.fullmatch(r"smoke · \d\d-\d\d \d\d:\d\d:\d\d", parent.info.run_name)  # unique per start
    artifacts = {item.path for item in client.list_artifacts(parent.info.run_id)}
    assert {"report.md", "report.html", "results.json"} <= artifacts
    children = client.search_runs([parent.info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{parent.info.run_id}'", max_results=1000)
    names = {run.info.run_name: run for run in children}
    assert len(names) == len(children)  # every run's name is its own
    commit = results["git_commit"]
    cases = []
    for task in tasks:
        for arm in arms:
            case = names[f"{task} · {arm} · seed 0"]
            cases.append(case)
            assert case.info.status == "FINISHED"
            assert case.data.tags["suite"] == "accuracy" and case.data.tags["scale"] == "smoke"
            assert (case.data.tags["task"], case.data.tags["arm"], case.data.tags["seed"]) == (task, arm, "0")
            if commit:
                assert case.data.tags["mlflow.source.git.commit"] == commit
            assert 0.0 <= case.data.metrics["exact_accuracy"] <= 1.0
            params = case.data.params  # every resolved setting, for the runs table
            assert {"optim.lr", "train.steps", "train.batch_size", "model.hidden_size", "seed"} <= set(params)
            assert params["train.steps"] == str(results["config"]["train"]["steps"])
            assert any(key.startswith("task.") for key in params)
            assert client.get_metric_history(case.info.run_id, "test_examples") == []  # counts are no curves
            losses = client.get_metric_history(case.info.run_id, "train_loss")
            tests = client.get_metric_history(case.info.run_id, "test_exact_accuracy")
            assert len(losses) > 1 and len({point.step for point in losses}) == len(losses)
            # streamed while the case trained: after the run started, before it ended, not all at one instant
            stamps = [point.timestamp for point in (*losses, *tests)]
            assert case.info.start_time <= min(stamps) < max(stamps) <= case.info.end_time
            assert {"sample.png", "segments.png"} <= {item.path for item in client.list_artifacts(case.info.run_id)}
            for name in (f"{task} · {arm} · memory", f"{task} · {arm} · throughput cpu"):
                other = names[name]
                assert other.info.status == "FINISHED" and "model.hidden_size" in other.data.params
                assert other.data.tags["arm"] == arm and other.data.tags["task"] == task
            assert "slope_saved_bytes_vs_L_cycles" in names[f"{task} · {arm} · memory"].data.metrics
            assert "train_samples_per_s" in names[f"{task} · {arm} · throughput cpu"].data.metrics
    cases.sort(key=lambda run: run.info.start_time)  # one worker: each case's run lives while it trains
    for earlier, later in zip(cases, cases[1:], strict=False):
        assert earlier.info.end_time <= later.info.start_time


def test_smoke_suite_all_writes_report_json_and_nested_mlflow_runs(tmp_path, data_cache, tracking_uri):
    results, _ = _run_all(tmp_path, data_cache, tracking_uri, "--tasks", "sudoku", "--arms", "hrm,transformer-act")
    _check_records_and_mlflow(results, tracking_uri, ["sudoku"], ["hrm", "transformer-act"])
    act = {(r["arm"], r["params"]["mode"], r["params"]["eval_halt_max_steps"]) for r in results["records"]
           if r["suite"] == "act"}
    assert ("hrm", "act", 2) in act and ("hrm", "fixed", 4) in act
    claims = {r["params"]["claim"]: r for r in results["records"] if r["suite"] == "claims"}
    assert set(claims) == {"C3c", "C4a", "C4b", "C5a", "C5b", "C6", "C7"}  # the claims of the selected arms
    for record in claims.values():
        assert {"effect", "effect_low", "effect_high", "claim_seeds", "claim_examples"} <= set(record["metrics"])
        assert record["labels"]["verdict"] in ("supported", "contradicted", "inconclusive")
    report = (tmp_path / "results" / "smoke" / "report.md").read_text()
    assert report.index("## Claims") < report.index("## Accuracy")


@pytest.mark.slow
def test_smoke_suite_all_every_task_and_arm(tmp_path, data_cache, tracking_uri):
    from baselines.registry import ARMS
    from tasks.registry import TASKS

    results, wall = _run_all(tmp_path, data_cache, tracking_uri)
    _check_records_and_mlflow(results, tracking_uri, list(TASKS), list(ARMS))
    print(f"smoke --suite all, every task and arm: {wall:.1f} s")
