"""A new task, arm and suite are each one file plus one registry line: nothing in benchmarks/ names them.

The toy ones (toy_task.py, toy_arm.py, toy_suite.py) are registered here, each by its one line, and run
through `python -m benchmarks.run`'s entry point at the smoke scale; their records, metric declarations,
report sections and regression gate must then work exactly as for the built-in ones.
"""

from __future__ import annotations

import ast
import copy
import io
import json
import re
import tokenize
from pathlib import Path

import pytest
from toy_arm import ONE_CYCLE
from toy_suite import SizeSuite
from toy_task import ReverseTask

from baselines.registry import ARMS
from benchmarks import compare
from benchmarks.run import main
from benchmarks.suites import SUITES
from tasks.registry import TASKS

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setitem(TASKS, "toy-reverse", ReverseTask)  # the task's registry line
    monkeypatch.setitem(ARMS, "toy-one-cycle", ONE_CYCLE)  # the arm's registry line
    monkeypatch.setitem(SUITES, "toy-size", SizeSuite())  # the suite's registry line


def test_a_toy_task_arm_and_suite_run_through_the_runner_report_and_compare(toys, tmp_path, data_cache,
                                                                            tracking_uri):
    out = tmp_path / "toy"
    assert main(["--suite", "all", "--scale", "smoke", "--tasks", "toy-reverse,sudoku", "--arms",
                 "toy-one-cycle,hrm", "--out", str(out), "--set", f"train.cache_dir={data_cache}"]) == 0
    results = json.loads((out / "results.json").read_text())
    records = results["records"]
    assert results["suites"] == ["accuracy", "memory", "throughput", "act", "claims", "toy-size"]
    accuracy = {(r["task"], r["arm"]): r for r in records if r["suite"] == "accuracy"}
    assert set(accuracy) == {(t, a) for t in ("toy-reverse", "sudoku") for a in ("toy-one-cycle", "hrm")}
    toy_case = accuracy[("toy-reverse", "toy-one-cycle")]
    assert 0.0 <= toy_case["metrics"]["first_token_accuracy"] <= 1.0
    assert toy_case["params"]["H_cycles"] == 1 and toy_case["params"]["hidden_size"] == 32  # identity, arm scale
    assert toy_case["metrics"]["examples"] == 8  # the task's own smoke size
    sizes = {(r["task"], r["arm"]): r["metrics"] for r in records if r["suite"] == "toy-size"}
    assert len(sizes) == 4 and all(m["model_parameters"] > 0 and "parameters_per_block" in m for m in sizes.values())
    assert {"first_token_accuracy", "model_parameters"} <= set(results["metrics"])
    assert results["metrics"]["first_token_accuracy"]["kind"] == "proportion"
    assert results["config"]["toy-size"] == {"per_block": True}

    report = (out / "report.md").read_text()
    assert "**toy-reverse**" in report and "first_token_accuracy" in report
    assert "## Model size" in report and "model_parameters" in report

    same = compare.compare(results, results)
    assert same.passed() and not same.undeclared
    worse = copy.deepcopy(results)
    for record in worse["records"]:
        if record["suite"] == "accuracy" and record["task"] == "toy-reverse" and record["seed"] == 0:
            record["metrics"]["first_token_accuracy"] -= 0.5
        if record["suite"] == "toy-size":
            record["metrics"]["model_parameters"] += 1
    regressed = {(row.record.split()[0], row.metric) for row in compare.compare(results, worse).regressions}
    assert ("accuracy/toy-reverse/hrm", "first_token_accuracy") in regressed
    assert ("toy-size/toy-reverse/hrm", "model_parameters") in regressed


def test_the_toys_settings_are_set_like_the_built_in_ones(toys, capsys):
    assert main(["--scale", "smoke", "--dry-run", "--tasks", "toy-reverse", "--arms", "toy-one-cycle",
                 "--set", "task.toy-reverse.length=5", "--set", "toy-size.per_block=false",
                 "--set", "model.H_cycles=4"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"task\.length\s+= 5  \(user\)", out)
    assert re.search(r"model\.H_cycles\s+= 1  \(arm toy-one-cycle identity\)", out)
    assert re.search(r"task\.train_count\s+= 32  \(task toy-reverse\)", out)


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal of a module that is not a docstring."""
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value,
                                                                                                    str):
                docstrings.add(first.lineno)
    return [(token.start[0], token.string) for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.STRING and token.start[0] not in docstrings]


def test_no_code_in_benchmarks_names_a_task_or_an_arm():
    names = sorted({*TASKS, *ARMS}, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w./-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])")
    found = [f"{path.relative_to(BENCHMARKS.parent)}:{line}: {text}" for path in sorted(BENCHMARKS.rglob("*.py"))
             for line, text in _code_strings(path) if pattern.search(text)]
    assert found == []
