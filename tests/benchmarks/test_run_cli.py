"""`python -m benchmarks.run`: argument errors, dry run, and MLflow failures that must not lose results."""

from __future__ import annotations

import json
import re
import signal

import pytest

from benchmarks import run, runner
from benchmarks.record import Record
from benchmarks.run import main


@pytest.mark.parametrize(("argv", "message"), [
    (["--tasks", "chess"], "unknown task chess; known tasks: "),
    (["--arms", "hrm,lstm"], "unknown arm lstm; known arms: "),
    (["--set", "train.stepz=3"], "TrainConfig has no field 'stepz'"),
    (["--set", "train.steps=many"], "train.steps: expected an integer, got 'many'"),
    (["--seeds", "0,x"], "--seeds must be comma-separated integers"),
    (["--resume"], "--resume needs --out"),
])
def test_bad_arguments_give_one_clear_error_and_exit_status_2(argv, message, capsys):
    assert main(["--scale", "smoke", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_suite_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--suite", "speed"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'speed'" in capsys.readouterr().err


def test_dry_run_prints_the_plan_and_trains_nothing(tmp_path, capsys):
    assert main(["--scale", "smoke", "--dry-run", "--tasks", "sudoku", "--arms", "hrm,transformer",
                 "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "| sudoku | hrm " in out and "| sudoku | transformer " in out
    assert "est. time" in out and "parameters" in out and "step (measured)" in out
    assert re.search(r"estimated time: about [\d.]+ s \(accuracy [\d.]+ s, memory [\d.]+ s, throughput [\d.]+ s, "
                     r"act [\d.]+ s, claims [\d.]+ s\), from training steps and evaluations timed on this machine", out)
    assert not (tmp_path / "run").exists()


def test_a_command_without_arguments_prints_its_plan_and_estimate_before_it_starts(tmp_path, data_cache,
                                                                                   tracking_uri, capsys):
    parser = run.parser()
    args = parser.parse_args(["--scale", "smoke", "--suite", "memory", "--tasks", "sudoku", "--arms", "hrm",
                              "--out", str(tmp_path / "run"), "--set", f"train.cache_dir={data_cache}"])
    assert runner.main(args, parser, bare=True) == 0  # what `python -m benchmarks.run` alone does, at smoke scale
    err = capsys.readouterr().err
    assert err.index("estimated time: about") < err.index("starting; Ctrl-C stops it") < err.index("memory: sudoku")


@pytest.mark.parametrize(("flag", "shown"), [("-q", False), (None, True)])
def test_quiet_leaves_out_progress_and_headlines_but_not_the_results(flag, shown, tmp_path, data_cache, tracking_uri,
                                                                      capsys):
    argv = ["--scale", "smoke", "--suite", "memory", "--tasks", "sudoku", "--arms", "hrm", "--out",
            str(tmp_path / "run"), "--set", f"train.cache_dir={data_cache}"]
    assert main([flag, *argv] if flag else argv) == 0
    captured = capsys.readouterr()
    assert ("] memory: sudoku / hrm: slope per" in captured.err) is shown
    assert "report:" in captured.out and "results:" in captured.out


def test_argument_errors_answer_before_torch_is_imported():
    import subprocess
    import sys

    code = ("import sys\nfrom benchmarks.run import main\ntry:\n    main(['--bogus'])\nexcept SystemExit as e:\n"
            "    print(e.code, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["2", "False"], done.stderr


def test_results_and_report_are_written_when_mlflow_fails(tmp_path, monkeypatch, smoke_config, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "unknown-scheme://nowhere")
    out = tmp_path / "run"
    code = main(["--scale", "smoke", "--suite", "memory", "--tasks", "sudoku", "--arms", "hrm", "--out", str(out),
                 "--set", f"train.cache_dir={smoke_config().train.cache_dir}"])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["mlflow"]["error"] and "unknown-scheme://nowhere" in results["mlflow"]["error"]
    assert results["records"]
    assert "Tracking failed" in (out / "report.md").read_text()
    assert "MLflow tracking failed" in capsys.readouterr().err


def test_sigterm_stops_the_run_and_keeps_the_records_finished_so_far(tmp_path, monkeypatch, capsys):
    record = Record("accuracy", "sudoku", "hrm", 0, {"x": 1.0})

    class Finished(type(runner.SUITES["accuracy"])):
        def run(self, ctx):
            yield record

    class Stopped(type(runner.SUITES["memory"])):
        def run(self, ctx):
            signal.raise_signal(signal.SIGTERM)
            yield from ()

    monkeypatch.setitem(runner.SUITES, "accuracy", Finished())
    monkeypatch.setitem(runner.SUITES, "memory", Stopped())
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "unknown-scheme://nowhere")
    out = tmp_path / "run"
    assert main(["--scale", "smoke", "--tasks", "sudoku", "--arms", "hrm", "--out", str(out)]) == 130
    assert json.loads((out / "results.json").read_text())["records"] == [record.to_dict()]
    assert "continue with --resume" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
