import filecmp

import numpy as np
import pytest
from arc_fixtures import EVALUATION_TASKS, TRAINING_TASKS, big_task, write_tasks

from tasks.arc import ARCConfig, ARCTask
from tasks.arc.augment import stack_grids
from tasks.arc.encoding import PAD, decode, render
from tasks.base import TaskError
from tasks.dataset import example_puzzles


def arc(tmp_path, **changes) -> ARCTask:
    if not (tmp_path / "tasks").exists():
        write_tasks(tmp_path / "tasks")
    settings = {"data_dir": str(tmp_path / "tasks"), "augmentations": 4, "canvas": 10} | changes
    return ARCTask(ARCConfig(**settings))


def puzzle_tasks(dataset) -> list[str]:
    """Task name of each puzzle."""
    owners = dataset.extra["identifier_task"][dataset.puzzle_identifiers]
    return [dataset.extra["task_names"][k] for k in owners]


def pair_counts(dataset) -> dict[str, set[int]]:
    """Task name -> set of example counts of its puzzles."""
    counts = {}
    for name, size in zip(puzzle_tasks(dataset), np.diff(dataset.puzzle_indices), strict=True):
        counts.setdefault(name, set()).add(int(size))
    return counts


def test_reference_protocol_trains_on_all_demonstrations_and_training_test_pairs(tmp_path):
    train = arc(tmp_path).build("train")
    assert pair_counts(train) == {"aaa00001": {3}, "aaa00002": {3}, "eee00001": {2}, "eee00002": {1}}
    assert train.extra["protocol"] == "reference"


def test_test_split_holds_only_the_evaluation_tasks_test_pairs(tmp_path):
    test = arc(tmp_path).build("test")
    assert pair_counts(test) == {"eee00001": {2}, "eee00002": {1}}
    assert np.all(test.extra["example_test_index"] >= 0)


def test_strict_protocol_puts_no_evaluation_task_pair_into_the_training_split(tmp_path):
    task = arc(tmp_path, protocol="strict")
    train = task.build("train")
    sources = [train.extra["task_sources"][k] for k in train.extra["identifier_task"][train.puzzle_identifiers]]
    assert set(sources) == {"training"}
    assert set(pair_counts(train)) == set(TRAINING_TASKS)
    assert pair_counts(task.build("adapt")) == {"eee00001": {2}, "eee00002": {1}}


def test_each_task_augmentation_has_its_own_identifier_shared_by_all_splits(tmp_path):
    task = arc(tmp_path)
    train, test = task.build("train"), task.build("test")
    assert train.metadata["num_puzzle_identifiers"] == test.metadata["num_puzzle_identifiers"] == 4 * 5 + 1
    assert len(set(train.puzzle_identifiers.tolist())) == len(train.puzzle_identifiers) == 20
    assert set(test.puzzle_identifiers.tolist()) <= set(train.puzzle_identifiers.tolist())
    assert 0 not in train.puzzle_identifiers and train.identifiers[0] == "<blank>"
    assert train.identifiers == test.identifiers
    assert train.identifiers[test.puzzle_identifiers[0]] == "eee00001"
    assert np.diff(train.group_indices).tolist() == [5, 5, 5, 5]


def test_the_identifier_map_reproduces_every_stored_test_example(tmp_path):
    test = arc(tmp_path).build("test")
    identifiers = test.puzzle_identifiers[example_puzzles(test)]
    pairs = [EVALUATION_TASKS[test.extra["task_names"][test.extra["identifier_task"][i]]]["test"][k]
             for i, k in zip(identifiers, test.extra["example_test_index"], strict=True)]
    for field, key in (("inputs", "input"), ("labels", "output")):
        stacked, heights, widths = stack_grids([np.array(p[key], dtype=np.uint8) for p in pairs], 10)
        expected = render(stacked, heights, widths, test.extra["identifier_transform"][identifiers],
                          test.extra["identifier_colours"][identifiers])
        np.testing.assert_array_equal(getattr(test, field), expected)


def origins(tokens: np.ndarray) -> np.ndarray:
    """(row, col) of the first non-PAD cell of each canvas [n, 100]."""
    first = np.argmax(tokens != PAD, axis=1)
    return np.stack([first // 10, first % 10], axis=1)


def test_training_examples_are_translated_with_one_offset_for_input_and_output(tmp_path):
    train = arc(tmp_path).build("train")
    offsets = origins(train.inputs)
    np.testing.assert_array_equal(offsets, origins(train.labels))
    assert np.any(offsets.sum(axis=1) > 0)
    at_origin = (offsets.sum(axis=1) == 0).astype(int)
    assert np.all(np.add.reduceat(at_origin, train.puzzle_indices[:-1]) >= 1)  # one per puzzle stays put
    assert np.all(origins(arc(tmp_path / "plain", translate=False).build("train").inputs) == 0)


def test_tasks_larger_than_the_canvas_are_skipped_and_named(tmp_path):
    write_tasks(tmp_path / "tasks", evaluation=EVALUATION_TASKS | {"huge": big_task(6)})
    test = arc(tmp_path, canvas=5).build("test")
    assert test.extra["skipped_too_large"] == ["huge"]
    assert "huge" not in test.extra["task_names"] and test.metadata["seq_len"] == 25


def test_same_key_builds_byte_identical_cached_files(tmp_path):
    first = arc(tmp_path).build("train", seed=1, cache_dir=tmp_path / "cache")
    fresh = arc(tmp_path).build("train", seed=1, cache_dir=tmp_path / "again")
    folders = [p for p in (tmp_path / "cache").iterdir()], [p for p in (tmp_path / "again").iterdir()]
    names = sorted(p.name for p in folders[0][0].iterdir())
    assert filecmp.cmpfiles(folders[0][0], folders[1][0], names, shallow=False)[0] == names
    np.testing.assert_array_equal(first.inputs, fresh.inputs)
    assert first.extra["task_names"] == fresh.extra["task_names"]
    other = arc(tmp_path).build("train", seed=2, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 2 and not np.array_equal(other.inputs, first.inputs)


def test_a_split_with_no_tasks_is_an_error(tmp_path):
    write_tasks(tmp_path / "tasks", evaluation={})
    with pytest.raises(TaskError, match="test split is empty"):
        arc(tmp_path).build("test")


def test_unknown_split_is_an_error(tmp_path):
    with pytest.raises(TaskError, match="split must be one of"):
        arc(tmp_path).build("validation")


def test_translated_training_examples_decode_to_their_augmented_pairs(tmp_path):
    train = arc(tmp_path).build("train")
    identifiers = train.puzzle_identifiers[example_puzzles(train)]
    tasks = {**TRAINING_TASKS, **EVALUATION_TASKS}
    position = np.arange(len(identifiers)) - train.puzzle_indices[example_puzzles(train)]  # index within puzzle
    names = [train.extra["task_names"][train.extra["identifier_task"][i]] for i in identifiers]
    pairs = [(tasks[n]["train"] + tasks[n]["test"])[p] for n, p in zip(names, position, strict=True)]
    for field, key in (("inputs", "input"), ("labels", "output")):
        stacked, heights, widths = stack_grids([np.array(p[key], dtype=np.uint8) for p in pairs], 10)
        expected = render(stacked, heights, widths, train.extra["identifier_transform"][identifiers],
                          train.extra["identifier_colours"][identifiers])
        for row in range(len(pairs)):
            np.testing.assert_array_equal(decode(getattr(train, field)[row], 10), decode(expected[row], 10))


def test_a_split_left_empty_by_malformed_files_says_how_many_were_skipped(tmp_path):
    write_tasks(tmp_path / "tasks", evaluation={})
    (tmp_path / "tasks" / "evaluation" / "broken.json").write_text("{")
    with pytest.raises(TaskError, match=r"test split is empty .*; 1 malformed task files were skipped\)"):
        arc(tmp_path).build("test")
