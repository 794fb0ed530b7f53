"""`python -m benchmarks.compare`: side-by-side table, gating by metric kind, missing metrics, bad input."""

import copy
import json

import pytest

from benchmarks.compare import Tolerances, compare, load_results, main, metric_kind
from benchmarks.errors import BenchmarkError


def _results(device_class="cpu:Test CPU"):
    return {
        "schema_version": 1,
        "run_name": "smoke",
        "scale": "smoke",
        "device": {"type": "cpu", "name": "Test CPU", "class": device_class, "threads": 2},
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


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def _metric(data, suite, name):
    return next(r for r in data["records"] if r["suite"] == suite and name in r["metrics"])["metrics"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("exact_accuracy", "accuracy"), ("pass@2", "accuracy"), ("valid", "accuracy"), ("path_optimal", "accuracy"),
        ("saved_bytes", "memory"), ("infer_tokens_per_s", "throughput"), ("mfu", "throughput"),
        ("train_wall_s", "other"), ("memory_slope", "other"),
    ],
)
def test_metric_kind_is_read_from_the_name_suffix(name, kind):
    assert metric_kind(name) == kind


def test_identical_results_exit_zero(tmp_path, capsys):
    base = _write(tmp_path, "base.json", _results())
    new = _write(tmp_path, "new.json", _results())
    assert main([base, new]) == 0
    out = capsys.readouterr().out
    assert "exact_accuracy" in out and "0 regression(s)" in out


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
    assert {row.status for row in comparison.rows if row.metric == "mfu"} == {"other device"}


def test_other_metrics_are_shown_not_gated_unless_given_a_tolerance():
    new = _results()
    _metric(new, "accuracy", "train_wall_s")["train_wall_s"] = 60.0
    comparison = compare(_results(), new)
    assert comparison.passed()
    assert [row.status for row in comparison.rows if row.metric == "train_wall_s"] == ["not gated"]
    assert not compare(_results(), new, Tolerances.parse(["train_wall_s=1.0"])).passed()


def test_nan_accuracy_counts_as_a_regression():
    new = _results()
    _metric(new, "accuracy", "exact_accuracy")["exact_accuracy"] = float("nan")
    assert not compare(_results(), new).passed()


def test_directory_argument_reads_its_results_json(tmp_path):
    (tmp_path / "run").mkdir()
    _write(tmp_path / "run", "results.json", _results())
    assert load_results(tmp_path / "run")["run_name"] == "smoke"


def test_malformed_json_gives_one_error_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "records": [')
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
    path = _write(tmp_path, "v2.json", _results() | {"schema_version": 2})
    with pytest.raises(BenchmarkError, match="v2.json: schema_version 2 is not supported"):
        load_results(path)


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
