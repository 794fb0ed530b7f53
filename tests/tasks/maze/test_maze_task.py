"""MazeTask: cached builds, split disjointness, augmentation, metrics, decoding, drawing, config checks."""

import sys
import types

import numpy as np
import pytest
from maze_fixtures import ROOM, SNAKE, SNAKE_SOLVED, grid

from tasks.base import TaskError
from tasks.dataset import from_arrays
from tasks.maze import MazeConfig, MazeTask
from tasks.maze.csv_format import write_maze_csv
from tasks.maze.grid import PATH, dihedral, is_optimal

SMALL = dict(height=6, width=6, train_count=40, test_count=20, min_path_length=8)


def _task(**changes):
    return MazeTask(MazeConfig(**{**SMALL, **changes}))


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_key_gives_byte_identical_dataset_files(tmp_path):
    task = _task()
    task.build("train", seed=3, cache_dir=tmp_path / "a")
    task.build("train", seed=3, cache_dir=tmp_path / "b")
    folders = [sorted((tmp_path / name).glob("maze-train-*")) for name in ("a", "b")]
    assert len(folders[0]) == 1 and folders[0][0].name == folders[1][0].name
    assert _files(folders[0][0]) == _files(folders[1][0])


def test_a_second_build_reads_the_cache(tmp_path, monkeypatch):
    task = _task()
    first = task.build("test", seed=0, cache_dir=tmp_path)
    monkeypatch.setattr(MazeTask, "_make", lambda *args: pytest.fail("rebuilt despite the cache"))
    np.testing.assert_array_equal(task.build("test", seed=0, cache_dir=tmp_path).inputs, first.inputs)


def test_different_seeds_give_different_mazes():
    first, other = _task().build("test", seed=0), _task().build("test", seed=1)
    assert not {row.tobytes() for row in first.inputs} & {row.tobytes() for row in other.inputs}


def test_train_and_test_are_disjoint_even_where_small_mazes_repeat(tmp_path):
    task = _task(height=4, width=4, min_path_length=4, train_count=100, test_count=60)
    train, test = task.build("train", cache_dir=tmp_path), task.build("test", cache_dir=tmp_path)
    train_rows = {row.tobytes() for row in train.inputs}
    assert len(train_rows) == 100 and len({row.tobytes() for row in test.inputs}) == 60
    assert not train_rows & {row.tobytes() for row in test.inputs}


def test_dataset_layout_and_recorded_difficulty():
    dataset = _task().build("train")
    assert dataset.inputs.shape == (40, 36) and dataset.metadata["vocab_size"] == 6
    assert dataset.metadata["seq_len"] == 36 and dataset.metadata["total_groups"] == 40
    assert (dataset.puzzle_identifiers == 0).all()
    lengths = (dataset.labels == PATH).sum(axis=1) + 1
    np.testing.assert_array_equal(dataset.extra["difficulty"], lengths)
    assert (lengths >= 8).all() and dataset.extra["unique_path"].dtype == bool


def test_augmentation_puts_the_eight_dihedral_versions_of_a_maze_in_one_group():
    dataset = _task(augment=True, train_count=5).build("train")
    assert dataset.group_indices.tolist() == list(range(0, 41, 8))
    grids = dataset.inputs.reshape(5, 8, 6, 6)
    labels = dataset.labels.reshape(5, 8, 6, 6)
    for t in range(8):
        np.testing.assert_array_equal(grids[:, t], dihedral(grids[:, 0], t))
    lengths = np.repeat(dataset.extra["difficulty"].reshape(5, 8)[:, :1], 8, axis=1).reshape(-1)
    assert is_optimal(grids.reshape(-1, 6, 6), labels.reshape(-1, 6, 6), lengths).all()
    assert _task(augment=True).build("test").metadata["total_groups"] == 20  # test stays unaugmented


def test_builds_from_the_papers_csv_files_with_a_seeded_subsample(tmp_path):
    write_maze_csv(tmp_path / "train.csv", np.stack([grid(SNAKE)] * 3), np.stack([grid(SNAKE_SOLVED)] * 3))
    write_maze_csv(tmp_path / "test.csv", np.stack([grid(SNAKE)]), np.stack([grid(SNAKE_SOLVED)]))
    task = _task(height=5, width=5, data_dir=str(tmp_path), train_count=2, test_count=1)
    train = task.build("train", seed=0)
    assert train.inputs.shape == (2, 25) and train.extra["difficulty"].tolist() == [16.0, 16.0]
    assert train.extra["unique_path"].all()
    assert task.build("test").inputs.shape == (1, 25)


def test_a_missing_csv_is_a_task_error_pointing_at_download(tmp_path):
    with pytest.raises(TaskError, match="maze download"):
        _task(data_dir=str(tmp_path)).build("train")


def test_an_unknown_split_is_a_task_error():
    with pytest.raises(TaskError, match="split"):
        _task().build("valid")


def _room_dataset(labels):
    inputs = np.stack([grid(ROOM).reshape(-1)] * len(labels))
    return from_arrays(inputs, np.stack([grid(x).reshape(-1) for x in labels]), vocab_size=6)


def test_scores_count_an_alternative_shortest_path_as_optimal_but_not_exact():
    task = _task(height=3, width=3)
    dataset = _room_dataset([["Soo", "  o", "  G"]] * 3)
    predictions = np.stack([grid(x).reshape(-1) for x in (["Soo", "  o", "  G"], ["S  ", "o  ", "ooG"],
                                                            ["Soo", " oo", "  G"])])
    scores = task.score(dataset, predictions)
    assert scores["exact_accuracy"] == pytest.approx(1 / 3)
    assert scores["optimal_accuracy"] == pytest.approx(2 / 3)
    assert scores["alternative_path_rate"] == pytest.approx(1 / 3)
    assert scores["token_accuracy"] == pytest.approx((9 + 3 + 8) / 27)


def test_score_returns_exactly_the_declared_metrics_and_alternative_paths_only_describe():
    task = _task(height=5, width=5, min_path_length=6, test_count=4)
    data = task.build("test", seed=0)
    scores = task.score(data, data.labels)
    assert set(scores) == {m.name for m in task.metrics()}
    assert (scores["examples"], scores["tokens"]) == (4, 4 * 25)
    declared = {m.name: m for m in task.metrics()}
    assert declared["optimal_accuracy"].better == "higher" and declared["optimal_accuracy"].tolerance is not None
    assert (declared["alternative_path_rate"].better, declared["alternative_path_rate"].tolerance) == ("neither", None)


def test_score_of_wrongly_shaped_predictions_is_a_task_error():
    with pytest.raises(TaskError, match="shape"):
        _task(height=3, width=3).score(_room_dataset([ROOM]), np.zeros((1, 8)))


def test_decode_gives_the_grid_and_rejects_a_wrong_length():
    task = _task(height=5, width=5)
    np.testing.assert_array_equal(task.decode(grid(SNAKE).reshape(-1)), grid(SNAKE))
    with pytest.raises(TaskError, match="expected 25"):
        task.decode(np.zeros(24))


def test_draw_and_draw_segments_write_png_files(tmp_path):
    task = _task(height=5, width=5)
    maze, solved = grid(SNAKE).reshape(-1), grid(SNAKE_SOLVED).reshape(-1)
    drawn = task.draw(tmp_path / "maze.png", maze, solved, maze)
    strip = task.draw_segments(tmp_path / "strip.png", maze, np.stack([maze, solved, solved]))
    for path in (drawn, strip):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("height", 1, "MazeConfig.height"),
        ("train_count", 0, "MazeConfig.train_count"),
        ("min_path_length", 0, "MazeConfig.min_path_length"),
        ("wall_fraction_max", 1.0, "MazeConfig.wall_fraction_min/max"),
        ("wall_fraction_min", 0.6, "MazeConfig.wall_fraction_min/max"),
    ],
)
def test_an_impossible_config_is_a_task_error_naming_the_field(field, value, message):
    with pytest.raises(TaskError, match=message):
        MazeConfig(**{field: value})


def test_augmenting_a_non_square_maze_is_a_task_error():
    with pytest.raises(TaskError, match="MazeConfig.augment"):
        MazeConfig(height=4, width=5, augment=True)


def test_download_without_huggingface_hub_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # importing it now fails as if not installed
    with pytest.raises(TaskError, match="huggingface_hub"):
        _task().download(tmp_path)


def test_a_changed_setting_builds_a_new_cache_entry_instead_of_reusing_one(tmp_path):
    _task().build("test", cache_dir=tmp_path)
    harder = _task(min_path_length=10).build("test", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("maze-test-*"))) == 2
    assert (harder.extra["difficulty"] >= 10).all()


def test_download_fetches_the_papers_train_and_test_csv_from_the_hub(tmp_path, monkeypatch):
    calls = []
    fake_hub = types.ModuleType("huggingface_hub")
    fake_hub.hf_hub_download = lambda repo, name, repo_type, local_dir: calls.append((repo, name, repo_type, local_dir))
    monkeypatch.setitem(sys.modules, "huggingface_hub", fake_hub)
    assert _task().download(tmp_path / "maze") == tmp_path / "maze"
    assert calls == [("sapientinc/maze-30x30-hard-1k", name, "dataset", tmp_path / "maze")
                     for name in ("train.csv", "test.csv")]


def _snake_files(folder, train=3, test=1):
    write_maze_csv(folder / "train.csv", np.stack([grid(SNAKE)] * train), np.stack([grid(SNAKE_SOLVED)] * train))
    write_maze_csv(folder / "test.csv", np.stack([grid(SNAKE)] * test), np.stack([grid(SNAKE_SOLVED)] * test))
    return folder


@pytest.mark.parametrize("split, counts, message", [
    ("test", dict(test_count=2), r"test.csv: 2 mazes wanted \(MazeConfig.test_count\), only 1 present"),
    ("train", dict(train_count=4, test_count=1),
     r"train.csv: 4 mazes wanted \(MazeConfig.train_count\), only 3 present"),
])
def test_maze_csv_with_fewer_rows_than_the_config_asks_for_is_an_error_naming_the_counts(tmp_path, split, counts,
                                                                                          message):
    task = _task(height=5, width=5, data_dir=str(_snake_files(tmp_path)), **counts)
    with pytest.raises(TaskError, match=message):
        task.build(split)


@pytest.mark.parametrize("name, problem", [("absent", "does not exist"), ("file", "is a file, not a folder"),
                                           ("", "has no test.csv")])
def test_maze_data_dir_that_is_missing_a_file_or_not_a_folder_is_an_error_naming_the_field(tmp_path, name, problem):
    (tmp_path / "file").write_text("")
    with pytest.raises(TaskError, match=f"MazeConfig.data_dir: .* {problem}"):
        _task(data_dir=str(tmp_path / name)).build("test")


def test_training_mazes_that_also_appear_in_test_csv_are_named_in_the_data_notes(tmp_path):
    task = _task(height=5, width=5, data_dir=str(_snake_files(tmp_path)), train_count=2, test_count=1)
    assert task.data_notes(task.build("train")) == [
        "maze: 2 of the training mazes sampled from train.csv also appear in test.csv (kept: the paper's files are "
        "used as they are)"]
    assert task.data_notes(task.build("test")) == [] and _task().data_notes(_task().build("train")) == []


def test_download_settings_point_data_dir_at_the_folder(tmp_path):
    assert _task().download_settings(tmp_path) == {"data_dir": str(tmp_path)}
