"""The output folder: one live run at a time, resumable only as the run it holds, bad folders refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from benchmarks import run_folder
from benchmarks.run import main


def _argv(out, data_cache, *extra: str) -> list[str]:
    return ["--scale", "smoke", "--suite", "accuracy", "--tasks", "sudoku", "--arms", "transformer", "--out", str(out),
            "--set", f"train.cache_dir={data_cache}", "--set", "train.progress=false", *extra]


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    return err


def test_resume_with_other_settings_is_refused_naming_each_difference(tmp_path, data_cache, tracking_uri, capsys):
    out = tmp_path / "run"
    assert main(_argv(out, data_cache)) == 0
    capsys.readouterr()
    assert main(_argv(out, data_cache, "--resume", "--set", "optim.lr=0.002", "--set", "train.steps=9")) == 2
    err = _error(capsys)
    assert "made with other settings" in err
    assert "config.optim.lr: 0.001 -> 0.002" in err and "config.train.steps: 6 -> 9" in err


def test_resume_may_change_how_a_run_goes_but_not_what_it_computes(tmp_path, data_cache, tracking_uri):
    out = tmp_path / "run"
    assert main(_argv(out, data_cache)) == 0
    assert main(_argv(out, data_cache, "--resume", "--set", "train.workers=2", "--set", "train.progress=true")) == 0


def test_resume_with_another_selection_is_refused(tmp_path, data_cache, tracking_uri, capsys):
    out = tmp_path / "run"
    assert main(_argv(out, data_cache)) == 0
    capsys.readouterr()
    assert main(_argv(out, data_cache, "--resume", "--seeds", "0,1")) == 2
    assert "selection.seeds: [0] -> [0, 1]" in _error(capsys)


def test_resume_into_a_folder_without_a_run_is_an_error(tmp_path, data_cache, capsys):
    assert main(_argv(tmp_path / "missing", data_cache, "--resume")) == 2
    assert "is not a folder holding a run" in _error(capsys)
    (tmp_path / "empty").mkdir()
    assert main(_argv(tmp_path / "empty", data_cache, "--resume")) == 2
    assert "holds no run (run.json is missing)" in _error(capsys)


def test_a_new_run_into_a_folder_holding_one_is_refused(tmp_path, data_cache, tracking_uri, capsys):
    out = tmp_path / "run"
    assert main(_argv(out, data_cache)) == 0
    before = (out / "results.json").read_text()
    capsys.readouterr()
    assert main(_argv(out, data_cache)) == 2
    assert "already holds a run" in _error(capsys) and (out / "results.json").read_text() == before


def test_a_second_run_into_a_folder_a_live_run_holds_is_refused_naming_its_pid(tmp_path, data_cache, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with run_folder.hold(out):
        assert main(_argv(out, data_cache)) == 2
    err = _error(capsys)
    assert "in use by a live run" in err and f"pid {__import__('os').getpid()}" in err


def test_resume_from_a_truncated_checkpoint_names_it_and_how_to_start_afresh(tmp_path, data_cache, tracking_uri,
                                                                             capsys):
    out = tmp_path / "run"
    assert main(_argv(out, data_cache)) == 0
    checkpoint = out / "cases" / "accuracy-sudoku-transformer-0" / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:500])
    capsys.readouterr()
    assert main(_argv(out, data_cache, "--resume")) == 2
    err = _error(capsys)
    assert f"checkpoint {checkpoint} is corrupted or truncated" in err and f"rm {checkpoint}" in err


def test_a_checkpoint_trained_with_other_settings_is_not_resumed(smoke_config, cpu, tmp_path):
    from benchmarks.errors import BenchmarkError
    from benchmarks.suites.accuracy import run_case

    run_case(smoke_config("train.steps=4"), "sudoku", "hrm", 0, device=cpu, out_dir=tmp_path)
    with pytest.raises(BenchmarkError, match=r"other settings \(train\.steps: 4 -> 5\)"):
        run_case(smoke_config("train.steps=5"), "sudoku", "hrm", 0, device=cpu, out_dir=tmp_path, resume=True)
    with pytest.raises(BenchmarkError, match=r"seed: 0 -> 1"):
        run_case(smoke_config("train.steps=4"), "sudoku", "hrm", 1, device=cpu, out_dir=tmp_path, resume=True)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=False)["step"] == 4


def test_results_json_and_the_manifest_carry_the_settings_hash(tmp_path, data_cache, tracking_uri):
    out = tmp_path / "run"
    assert main(_argv(out, data_cache)) == 0
    manifest = json.loads((out / "run.json").read_text())
    results = json.loads((out / "results.json").read_text())
    assert results["settings_hash"] == manifest["settings_hash"] == run_folder.settings_hash(manifest["settings"])


@pytest.mark.parametrize("make_out", [
    lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt",
    lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt" / "run",
    lambda tmp: __import__("pathlib").Path("/proc/hrm-bench-no-such-place/run"),
], ids=["a file", "under a file", "unwritable"])
def test_an_output_folder_that_cannot_be_written_is_one_clear_error(make_out, tmp_path, data_cache, capsys):
    assert main(_argv(make_out(tmp_path), data_cache)) == 2
    err = _error(capsys)
    assert "output folder" in err and "choose another --out" in err


def test_an_unwritable_dataset_cache_folder_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "cache").write_text("not a folder")
    assert main(["--scale", "smoke", "--suite", "memory", "--out", str(tmp_path / "run"),
                 "--set", f"train.cache_dir={tmp_path / 'cache'}"]) == 2
    assert "dataset cache folder" in _error(capsys)


@pytest.mark.parametrize(("argv", "message"), [
    (["--seeds", "-1"], "--seeds must be integers >= 0, got -1"),
    (["--seeds", "0,0"], "--seeds names 0 more than once"),
    (["--tasks", "sudoku,sudoku"], "--tasks names sudoku more than once"),
    (["--arms", "hrm,trm,hrm"], "--arms names hrm more than once"),
])
def test_repeated_or_negative_selections_are_one_clear_error(argv, message, capsys):
    assert main(["--scale", "smoke", "--dry-run", *argv]) == 2
    assert message in _error(capsys)


def test_data_the_builds_left_out_is_named_in_the_console_results_and_report(tmp_path, data_cache, tracking_uri,
                                                                           capsys):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks" / "arc"))
    from arc_fixtures import write_tasks

    data = write_tasks(tmp_path / "arc")
    (data / "evaluation" / "broken.json").write_text("{not json")
    out = tmp_path / "run"
    assert main(["--scale", "smoke", "--suite", "memory", "--tasks", "arc", "--arms", "hrm", "--out", str(out),
                 "--set", f"train.cache_dir={data_cache}", "--set", f"task.arc.data_dir={data}"]) == 0
    assert "data: arc: skipped 1 malformed task file" in capsys.readouterr().err
    notes = json.loads((out / "results.json").read_text())["data_notes"]
    assert len(notes) == 2 and "unidentified set" in notes[0] and "broken.json" in notes[1]
    assert "## Data" in (out / "report.md").read_text() and "broken.json" in (out / "report.md").read_text()
