"""`--set task.<task>.dataset_dir=DIR`: the runner trains and evaluates on a ready-made dataset folder."""

from __future__ import annotations

import json

import pytest

from benchmarks.run import main
from tasks.__main__ import main as tasks_main


@pytest.fixture(scope="module")
def sudoku_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sudoku-built")
    assert tasks_main(["sudoku", "build", "--set", "size=4", "--set", "min_rating=0", "--set", "train_count=24",
                       "--set", "test_count=12", "--set", "num_aug=0", "--seed", "3", "--out", str(folder)]) == 0
    return folder


def _run(tmp_path, data_cache, *settings: str) -> int:
    return main(["--suite", "accuracy", "--scale", "smoke", "--tasks", "sudoku", "--arms", "hrm", "--out",
                 str(tmp_path / "run"), "--set", f"train.cache_dir={data_cache}", *settings])


def test_a_case_trains_on_a_folder_built_by_the_task_command(tmp_path, data_cache, tracking_uri, sudoku_folder):
    assert _run(tmp_path, data_cache, "--set", f"task.sudoku.dataset_dir={sudoku_folder}") == 0
    (record,) = json.loads((tmp_path / "run" / "results.json").read_text())["records"]
    assert record["status"] == "ok" and record["metrics"]["examples"] == 12  # the folder's test split


def test_a_folder_that_does_not_fit_the_task_is_one_error_naming_both_sizes(tmp_path, data_cache, capsys,
                                                                            sudoku_folder):
    assert _run(tmp_path, data_cache, "--set", f"task.sudoku.dataset_dir={sudoku_folder}",
                "--set", "task.sudoku.size=6") == 2
    error = capsys.readouterr().err
    assert "vocab_size 6 and seq_len 16" in error and "vocab_size 8 and seq_len 36" in error


def test_a_missing_folder_is_one_error(tmp_path, data_cache, capsys):
    assert _run(tmp_path, data_cache, "--set", f"task.sudoku.dataset_dir={tmp_path / 'nowhere'}") == 2
    error = capsys.readouterr().err
    assert "SudokuConfig.dataset_dir" in error and "does not exist" in error
