"""`python -m benchmarks.compare`: side-by-side table, gating by metric declaration, missing metrics, bad input."""

import copy
import json

import pytest

from benchmarks.compare import Tolerances, compare, format_comparison, load_results, main
from benchmarks.errors import BenchmarkError
from tasks.metric import RATE_TOLERANCE, Metric

DECLARATIONS = [
    Metric.proportion("exact_accuracy", "every supervised token right"),
    Metric.proportion("token_accuracy", "supervised tokens right", denominator="tokens"),
    Metric.info("train_wall_s", "seconds", "training wall time"),
    Metric.memory("saved_bytes", "bytes saved for backward"),
    Metric.rate("train_samples_per_s", "example-segments trained per second"),
    Metric("mfu", "value", "higher", "model FLOPs utilization", RATE_TOLERANCE, per_device=True),
]


def _results(device_class="cpu:Test CPU"):
    return {
        "schema_version": 2,
        "run_name": "smoke",
        "scale": "smoke",
        "device": {"type": "cpu", "name": "Test CPU", "class": device_class, "threads": 2},
        "metrics": {metric.name: metric.to_dict() for metric in DECLARATIONS},
        "records": [
            {
                "suite": "accuracy", "task": "sudoku", "arm": "hrm", "seed": 0, "params": {},
                "metrics": {"exact_accuracy": 0.40, "token_accuracy": 0.90, "train_wall_s": 12.0},
            },
            {
                "suite": "memory", "task": "sudoku", "arm": "hrm", "seed": 0, "params": {"H_cycles": 2, "L_cycles": 4},
                "metrics": {"saved_bytes": 1000},
            },
            {
                "suite": "memory", "task": "sudoku", "arm": "hrm", "seed": 0, "params": {"L_cycles": 8, "H_cycles": 2},
                "metrics": {"saved_bytes": 1000},
            },
            {
                "suite": "throughput", "task": "sudoku", "arm": "hrm", "seed": 0, "params": {},
                "metrics": {"train_samples_per_s": 100.0, "mfu": 0.2},
            },
        ],
    }


def _with_task(data, metrics, *declarations):
    """`data` plus a record of a task compare has never heard of, and the declarations of its metrics."""
    data["records"].append({"suite": "accuracy", "task": "lights", "arm": "hrm", "seed": 0, "params": {},
                            "metrics": dict(metrics)})
    data["metrics"] |= {metric.name: metric.to_dict() for metric in declarations}
    return data


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def _metric(data, suite, name):
    return next(r for r in data["records"] if r["suite"] == suite and name in r["metrics"])["metrics"]


def _statuses(comparison, name):
    return [row.status for row in comparison.rows if row.metric == name]


def test_identical_results_exit_zero(tmp_path, capsys):
    base = _write(tmp_path, "base.json", _results())
    new = _write(tmp_path, "new.json", _results())
    assert main([base, new]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PASS: 0 regression(s)") and "exact_accuracy" not in out and "--full shows" in out
    assert main([base, new, "--full"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PASS: 0 regression(s)") and "exact_accuracy" in out  # the tables on request


def test_the_verdict_and_regressions_come_first(tmp_path, capsys):
    new = _results()
    _metric(new, "accuracy", "exact_accuracy")["exact_accuracy"] = 0.0
    assert main([_write(tmp_path, "base.json", _results()), _write(tmp_path, "new.json", new), "--full"]) == 1
    first, second = capsys.readouterr().out.splitlines()[:2]
    assert first.startswith("FAIL: 1 regression(s)") and second.startswith("REGRESSED ")


def test_accuracy_lowered_past_tolerance_exits_nonzero(tmp_path, capsys):
    new = _results()
    _metric(new, "accuracy", "exact_accuracy")["exact_accuracy"] = 0.32
    assert main([_write(tmp_path, "base.json", _results()), _write(tmp_path, "new.json", new)]) == 1
    assert "REGRESSED accuracy/sudoku/hrm seed 0: exact_accuracy 0.4 -> 0.32 (-8.00 pt, tolerance 7 pt)" in (
        capsys.readouterr().out
    )


def test_accuracy_lowered_within_tolerance_passes():
    new = _results()
    _metric(new, "accuracy", "exact_accuracy")["exact_accuracy"] = 0.34
    assert compare(_results(), new).passed()


def test_tolerance_flag_overrides_the_default_by_name_or_glob():
    new = _results()
    _metric(new, "accuracy", "exact_accuracy")["exact_accuracy"] = 0.39
    assert not compare(_results(), new, Tolerances.parse(["exact_accuracy=0.005"])).passed()
    assert not compare(_results(), new, Tolerances.parse(["*_accuracy=0.005"])).passed()
    assert compare(_results(), new, Tolerances.parse(["*_accuracy=0.02"])).passed()


def test_disappeared_metric_is_reported_and_fails_unless_allowed(tmp_path, capsys):
    new = _results()
    del _metric(new, "accuracy", "token_accuracy")["token_accuracy"]
    paths = [_write(tmp_path, "base.json", _results()), _write(tmp_path, "new.json", new)]
    assert main(paths) == 1
    assert "Missing in new: accuracy/sudoku/hrm seed 0: token_accuracy" in capsys.readouterr().out
    assert main([*paths, "--allow-missing"]) == 0


def test_disappeared_record_is_reported():
    new = _results()
    new["records"] = [r for r in new["records"] if r["params"] != {"H_cycles": 2, "L_cycles": 8}]
    comparison = compare(_results(), new)
    assert comparison.missing == ['memory/sudoku/hrm seed 0 (H_cycles=2, L_cycles=8)']
    assert not comparison.passed()


def test_extra_metric_is_listed_without_failing():
    new = _results()
    _metric(new, "accuracy", "exact_accuracy")["q_halt_accuracy"] = 0.7
    comparison = compare(_results(), new)
    assert comparison.extra == ["accuracy/sudoku/hrm seed 0: q_halt_accuracy"]
    assert comparison.passed()


def test_records_are_matched_by_params_regardless_of_key_order():
    new = _results()
    new["records"][2]["metrics"]["saved_bytes"] = 8000  # the L_cycles=8 record only
    regressed = compare(_results(), new).regressions
    assert [(row.record, row.metric) for row in regressed] == [
        ('memory/sudoku/hrm seed 0 (H_cycles=2, L_cycles=8)', "saved_bytes")
    ]


def test_memory_growth_is_gated_relatively():
    new = _results()
    _metric(new, "memory", "saved_bytes")["saved_bytes"] = 1040
    assert compare(_results(), new).passed()
    _metric(new, "memory", "saved_bytes")["saved_bytes"] = 1100
    assert not compare(_results(), new).passed()


def test_throughput_drop_is_gated_only_on_the_same_device_class():
    new = _results()
    _metric(new, "throughput", "mfu")["mfu"] = 0.01
    assert not compare(_results(), new).passed()
    other_device = copy.deepcopy(new)
    other_device["device"]["class"] = "cuda:NVIDIA H100"
    comparison = compare(_results(), other_device)
    assert comparison.passed()
    assert _statuses(comparison, "mfu") == ["other device"]


def test_other_metrics_are_shown_not_gated_unless_given_a_tolerance():
    new = _results()
    _metric(new, "accuracy", "train_wall_s")["train_wall_s"] = 60.0
    comparison = compare(_results(), new)
    assert comparison.passed()
    assert _statuses(comparison, "train_wall_s") == ["not gated"]
    assert not compare(_results(), new, Tolerances.parse(["train_wall_s=1.0"])).passed()
    _metric(new, "accuracy", "train_wall_s")["train_wall_s"] = 5.0  # better "neither": gated both ways
    assert not compare(_results(), new, Tolerances.parse(["train_wall_s=0.5"])).passed()
    assert compare(_results(), new, Tolerances.parse(["train_wall_s=0.6"])).passed()


def test_nan_accuracy_counts_as_a_regression():
    new = _results()
    _metric(new, "accuracy", "exact_accuracy")["exact_accuracy"] = float("nan")
    assert not compare(_results(), new).passed()


def test_a_new_tasks_declared_metric_is_gated_by_its_declaration(tmp_path, capsys):
    lights = Metric.proportion("lights_out", "boards switched off")  # a name no suffix rule ever knew
    base = _with_task(_results(), {"lights_out": 0.50}, lights)
    new = _with_task(_results(), {"lights_out": 0.42}, lights)
    assert main([_write(tmp_path, "base.json", base), _write(tmp_path, "new.json", new)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED accuracy/lights/hrm seed 0: lights_out 0.5 -> 0.42 (-8.00 pt, tolerance 7 pt)" in out
    assert "Undeclared" not in out and "0 undeclared" in out
    _metric(new, "accuracy", "lights_out")["lights_out"] = 0.45
    assert compare(base, new).passed()


def test_a_declaration_missing_from_new_falls_back_to_bases():
    lights = Metric("moves", "count", "lower", "moves to switch every light off", 0.1)
    base = _with_task(_results(), {"moves": 10}, lights)
    new = _with_task(_results(), {"moves": 12})
    comparison = compare(base, new)
    assert _statuses(comparison, "moves") == ["REGRESSED"] and not comparison.undeclared


def test_news_declaration_wins_over_bases():
    base = _with_task(_results(), {"moves": 10}, Metric("moves", "count", "lower", tolerance=0.1))
    new = _with_task(_results(), {"moves": 12}, Metric.info("moves", "count"))
    assert _statuses(compare(base, new), "moves") == ["not gated"]


def test_undeclared_metric_is_listed_and_not_gated_unless_given_a_tolerance():
    base = _with_task(_results(), {"lights_out": 0.50})
    new = _with_task(_results(), {"lights_out": 0.05})
    comparison = compare(base, new)
    assert comparison.passed()
    assert comparison.undeclared == ["lights_out"]
    assert _statuses(comparison, "lights_out") == ["not gated"]
    out = format_comparison(comparison)
    assert "Undeclared: lights_out (declared in neither file; gated only by --tolerance)" in out
    assert "1 undeclared" in out
    # Without a declaration there is no direction, and no kind: a tolerance gates both ways, relatively.
    _metric(new, "accuracy", "lights_out")["lights_out"] = 0.60
    overridden = compare(base, new, Tolerances.parse(["lights_out=0.1"]))
    (row,) = (row for row in overridden.rows if row.metric == "lights_out")
    assert (row.status, row.change, row.tolerance_text) == ("REGRESSED", "+20.0%", "10%")


def test_lower_is_better_bytes_regress_upward_only():
    new = _results()
    _metric(new, "memory", "saved_bytes")["saved_bytes"] = 100  # saving 90% is an improvement
    comparison = compare(_results(), new)
    assert comparison.passed() and _statuses(comparison, "saved_bytes") == ["ok", "ok"]
    _metric(new, "memory", "saved_bytes")["saved_bytes"] = 1051
    (row,) = compare(_results(), new).regressions
    assert (row.metric, row.change, row.tolerance_text) == ("saved_bytes", "+5.1%", "5%")


def test_per_device_rate_is_not_gated_across_devices():
    new = _results()
    _metric(new, "throughput", "train_samples_per_s")["train_samples_per_s"] = 5.0  # 20x slower
    assert _statuses(compare(_results(), new), "train_samples_per_s") == ["REGRESSED"]
    new["device"]["class"] = "cuda:NVIDIA H100"
    comparison = compare(_results(), new)
    assert comparison.passed() and _statuses(comparison, "train_samples_per_s") == ["other device"]
    assert "Per-device metrics not gated: device class 'cpu:Test CPU' (base) vs 'cuda:NVIDIA H100' (new)." in (
        format_comparison(comparison)
    )
    del new["device"]  # an unknown device class is not the same one either
    assert _statuses(compare(_results(), new), "train_samples_per_s") == ["other device"]


def test_a_diverged_record_in_new_is_a_regression():
    new = _results()
    new["records"][0] |= {"status": "diverged", "diverged_at_step": 4, "metrics": {"train_wall_s": 1.0}}
    comparison = compare(_results(), new)
    assert comparison.diverged == ["accuracy/sudoku/hrm seed 0: diverged at step 4"]
    assert not comparison.passed()
    assert "REGRESSED accuracy/sudoku/hrm seed 0: diverged at step 4" in format_comparison(comparison)


def test_directory_argument_reads_its_results_json(tmp_path):
    (tmp_path / "run").mkdir()
    _write(tmp_path / "run", "results.json", _results())
    assert load_results(tmp_path / "run")["run_name"] == "smoke"


def test_malformed_json_gives_one_error_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 2, "records": [')
    with pytest.raises(BenchmarkError, match="bad.json: not valid JSON"):
        load_results(bad)
    assert main([str(bad), str(bad)]) == 2
    assert "bad.json: not valid JSON" in capsys.readouterr().err


def test_a_binary_file_gives_one_error_naming_it(tmp_path, capsys):
    binary = tmp_path / "checkpoint.pt"
    binary.write_bytes(bytes(range(256)) * 4)
    assert main([str(binary), str(binary)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: {binary}: not a results JSON file (binary or not UTF-8 text)"


def test_wrong_schema_version_is_rejected(tmp_path):
    path = _write(tmp_path, "v3.json", _results() | {"schema_version": 3})
    with pytest.raises(BenchmarkError, match=r"v3.json: schema_version 3 is not supported \(expected 2\)"):
        load_results(path)


def test_schema_1_is_refused_as_predating_declarations(tmp_path, capsys):
    old = _results() | {"schema_version": 1}
    del old["metrics"]
    path = _write(tmp_path, "v1.json", old)
    assert main([path, path]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {path}: schema_version 1 predates metric declarations; regenerate it with python -m benchmarks.run"
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"kind": "ratio"}, "kind 'ratio' is not one of"),
        ({"better": "up"}, "better must be higher, lower or neither"),
        ({"better": "neither"}, "a gate needs a direction"),
        ({"tolerance": "0.07"}, "'<' not supported"),
        ({"tolerance": float("nan")}, "tolerance must be a finite number or null, got nan"),
        ({"name": "exact_acc"}, "it is named 'exact_acc'"),
    ],
)
def test_malformed_declaration_is_refused_naming_the_file_and_metric(tmp_path, capsys, change, problem):
    new = _results()
    new["metrics"]["exact_accuracy"] |= change
    path = _write(tmp_path, "new.json", new)
    with pytest.raises(BenchmarkError, match=r"new.json: declaration of metric 'exact_accuracy' is invalid: .*"
                       + problem.replace("(", r"\(")):
        load_results(path)
    assert main([_write(tmp_path, "base.json", _results()), path]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({"exact_accuracy": {"name": "exact_accuracy", "kind": "proportion"}},
         "declaration of metric 'exact_accuracy' is invalid: .*missing 1 required positional argument: 'better'"),
        ({"exact_accuracy": "proportion"}, "declaration of metric 'exact_accuracy' is invalid: expected an object"),
        ([], "'metrics' must be an object of metric declarations"),
        (None, "'metrics' must be an object of metric declarations"),
    ],
)
def test_malformed_declarations_section_is_refused(tmp_path, metrics, message):
    new = _results() | {"metrics": metrics}
    with pytest.raises(BenchmarkError, match="new.json: " + message):
        load_results(_write(tmp_path, "new.json", new))
    with pytest.raises(BenchmarkError, match="NEW: " + message):
        compare(_results(), new)


def test_record_without_a_field_is_rejected_naming_its_index():
    new = _results()
    del new["records"][1]["arm"]
    with pytest.raises(BenchmarkError, match=r"NEW: records\[1\]: missing field 'arm'"):
        compare(_results(), new)


def test_non_numeric_metric_is_rejected_naming_it():
    new = _results()
    _metric(new, "accuracy", "exact_accuracy")["exact_accuracy"] = "0.4"
    with pytest.raises(BenchmarkError, match="metric 'exact_accuracy' must be a number"):
        compare(_results(), new)


@pytest.mark.parametrize("item", ["exact_accuracy", "exact_accuracy=abc", "=0.1", "mfu=-1"])
def test_bad_tolerance_argument_is_rejected(item):
    with pytest.raises(BenchmarkError, match="--tolerance"):
        Tolerances.parse([item])
