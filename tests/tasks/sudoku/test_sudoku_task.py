import filecmp
import shutil
import sys
import types

import numpy as np
import pytest

from tasks.base import TaskError
from tasks.sudoku import SudokuConfig, SudokuTask
from tasks.sudoku.generator import generate
from tasks.sudoku.metrics import is_valid_solution, keeps_givens


def small(**changes) -> SudokuTask:
    settings = {"size": 4, "train_count": 12, "test_count": 8, "num_aug": 0, "min_rating": 0} | changes
    return SudokuTask(SudokuConfig(**settings))


def grids(task: SudokuTask, tokens: np.ndarray) -> np.ndarray:
    return np.stack([task.decode(row) for row in tokens])


@pytest.mark.parametrize(
    "changes, field",
    [({"size": 5}, "size"), ({"source": "web"}, "source"), ({"source": "csv"}, "data_dir"),
     ({"train_count": 0}, "train_count"), ({"test_count": 0}, "test_count"), ({"num_aug": -1}, "num_aug"),
     ({"min_rating": -2}, "min_rating"), ({"size": 4, "min_rating": 1}, "min_rating")],
)
def test_bad_config_is_an_error_naming_the_field(changes, field):
    with pytest.raises(TaskError, match=f"SudokuConfig.{field}"):
        SudokuConfig(**changes)


@pytest.mark.parametrize("size", [4, 6, 9])
def test_vocabulary_and_sequence_follow_the_board_size(size):
    task = SudokuTask(SudokuConfig(size=size, min_rating=0))
    assert (task.vocab_size, task.seq_len) == (size + 2, size * size)


def test_built_split_holds_puzzles_as_inputs_and_full_solutions_as_labels():
    task = small(size=6, train_count=5)
    data = task.build("train", seed=0)
    puzzles, solutions = grids(task, data.inputs), grids(task, data.labels)
    assert data.inputs.shape == (5, 36) and data.metadata["vocab_size"] == 8
    assert data.inputs.min() >= 1 and data.labels.min() >= 2 and data.labels.max() <= 7
    assert is_valid_solution(solutions).all() and keeps_givens(puzzles, solutions).all()
    assert data.extra["difficulty"].shape == (5,)


def test_same_key_gives_byte_identical_files(tmp_path):
    first = small().build("train", seed=3, cache_dir=tmp_path / "a")
    again = small().build("train", seed=3, cache_dir=tmp_path / "b")
    folders = [next((tmp_path / name).iterdir()) for name in ("a", "b")]
    names = sorted(p.name for p in folders[0].iterdir())
    assert names == sorted(p.name for p in folders[1].iterdir())
    assert all(filecmp.cmp(folders[0] / n, folders[1] / n, shallow=False) for n in names)
    assert (first.inputs == again.inputs).all()


def test_cache_key_names_everything_that_changes_the_data(tmp_path):
    small().build("train", seed=0, cache_dir=tmp_path)
    small(train_count=13).build("train", seed=0, cache_dir=tmp_path)
    small().build("train", seed=1, cache_dir=tmp_path)
    assert len(list(tmp_path.iterdir())) == 3


def test_different_seed_gives_different_puzzles():
    a, b = small(size=9, train_count=4).build("train", seed=0), small(size=9, train_count=4).build("train", seed=1)
    assert not {r.tobytes() for r in a.inputs} & {r.tobytes() for r in b.inputs}


def test_generated_train_and_test_are_disjoint():
    task = small(train_count=30, test_count=30)
    train, test = task.build("train", seed=0), task.build("test", seed=0)
    assert not {r.tobytes() for r in train.inputs} & {r.tobytes() for r in test.inputs}


def test_augmented_training_groups_hold_the_original_then_valid_copies():
    task = small(size=9, train_count=3, num_aug=4)
    data = task.build("train", seed=0)
    assert data.group_indices.tolist() == [0, 5, 10, 15] and len(data.inputs) == 15
    original = small(size=9, train_count=3).build("train", seed=0)
    assert (data.inputs[::5] == original.inputs).all()
    puzzles, solutions = grids(task, data.inputs), grids(task, data.labels)
    assert is_valid_solution(solutions).all() and keeps_givens(puzzles, solutions).all()
    assert (data.extra["difficulty"] == np.repeat(original.extra["difficulty"], 5)).all()


def test_augmented_copies_never_repeat_a_test_puzzle(tmp_path):
    task = small(size=4, train_count=40, test_count=40, num_aug=50)  # 4x4: few puzzles, so copies do collide
    train = task.build("train", seed=0, cache_dir=tmp_path)
    test = task.build("test", seed=0, cache_dir=tmp_path)
    assert train.extra["augmented_dropped"] > 0
    assert len(train.inputs) == 40 * 51 - train.extra["augmented_dropped"] == train.group_indices[-1]
    assert not {r.tobytes() for r in train.inputs} & {r.tobytes() for r in test.inputs}
    assert len(train.extra["difficulty"]) == len(train.inputs)


def test_test_split_is_never_augmented():
    data = small(num_aug=3).build("test", seed=0)
    assert len(data.inputs) == 8 and data.group_indices.tolist() == list(range(9))


def write_csv(path, puzzles, solutions, ratings):
    def text(g, blank):
        return "".join(blank if d == 0 else str(d) for d in g.ravel())

    rows = [f"gen,{text(p, '.')},{text(s, '0')},{r}" for p, s, r in zip(puzzles, solutions, ratings, strict=True)]
    path.write_text("source,question,answer,rating\n" + "\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("csv")
    train, test = generate(10, size=9, seed=0, split="train"), generate(4, size=9, seed=0, split="test")
    # The last training row repeats a test puzzle: the loader must never pick it for training.
    write_csv(tmp_path / "train.csv", np.concatenate([train.puzzles, test.puzzles[:1]]),
              np.concatenate([train.solutions, test.solutions[:1]]), list(range(11)))
    write_csv(tmp_path / "test.csv", test.puzzles, test.solutions, [5, 6, 7, 8])
    return tmp_path


def csv_task(data_dir, **changes) -> SudokuTask:
    settings = {"source": "csv", "data_dir": str(data_dir), "train_count": 10, "test_count": 0, "num_aug": 0}
    return SudokuTask(SudokuConfig(**(settings | changes)))


def test_csv_training_sample_is_seeded_recorded_and_disjoint_from_test(data_dir):
    train = csv_task(data_dir).build("train", seed=0)
    test = csv_task(data_dir).build("test", seed=0)
    assert sorted(train.extra["source_rows"].tolist()) == list(range(10))  # the repeated test puzzle is skipped
    assert len(test.inputs) == 4 and not {r.tobytes() for r in train.inputs} & {r.tobytes() for r in test.inputs}
    sample = csv_task(data_dir, train_count=4).build("train", seed=7)
    again = csv_task(data_dir, train_count=4).build("train", seed=7)
    other = csv_task(data_dir, train_count=4).build("train", seed=8)
    assert sample.extra["sample_seed"] == 7
    assert (sample.extra["source_rows"] == again.extra["source_rows"]).all()
    assert (sample.extra["source_rows"] != other.extra["source_rows"]).any()


def test_csv_minimum_rating_filters_rows(data_dir):
    data = csv_task(data_dir, train_count=3, csv_min_rating=7).build("train", seed=0)
    assert set(data.extra["source_rows"].tolist()) <= {7, 8, 9} and (data.extra["difficulty"] >= 7).all()


def test_csv_asking_for_more_puzzles_than_eligible_is_an_error(data_dir):
    with pytest.raises(TaskError, match="only 10 eligible"):
        csv_task(data_dir, train_count=11).build("train", seed=0)


def test_csv_cache_key_changes_when_the_file_changes(data_dir, tmp_path):
    shutil.copytree(data_dir, tmp_path / "data")
    data_dir = tmp_path / "data"
    task = csv_task(data_dir)
    first = task.build("test", seed=0, cache_dir=tmp_path / "cache")
    (data_dir / "test.csv").write_text((data_dir / "test.csv").read_text().rsplit("\n", 2)[0] + "\n")
    second = task.build("test", seed=0, cache_dir=tmp_path / "cache")
    assert len(first.inputs) == 4 and len(second.inputs) == 3


def test_score_reports_token_exact_and_valid_accuracy():
    task = small(size=9, train_count=2)
    data = task.build("train", seed=0)
    predictions = data.labels.copy()
    predictions[1, :2] = 0  # PAD in two cells of the second example
    scores = task.score(data, predictions)
    assert scores == {"token_accuracy": 1 - 2 / 162, "exact_accuracy": 0.5, "valid_accuracy": 0.5,
                      "valid_but_different": 0.0, "examples": 2, "tokens": 162}


def test_score_returns_exactly_the_declared_metrics_and_valid_but_different_only_describes():
    task = small()
    data = task.build("test", seed=0)
    assert set(task.score(data, data.labels)) == {m.name for m in task.metrics()}
    declared = {m.name: m for m in task.metrics()}
    assert [m.name for m in task.metrics()][:4] == ["exact_accuracy", "token_accuracy", "valid_accuracy",
                                                    "valid_but_different"]
    assert declared["valid_accuracy"].better == "higher" and declared["valid_accuracy"].tolerance is not None
    assert (declared["valid_but_different"].better, declared["valid_but_different"].tolerance) == ("neither", None)


def test_score_rejects_predictions_of_the_wrong_shape():
    task = small()
    data = task.build("test", seed=0)
    with pytest.raises(TaskError, match="predictions"):
        task.score(data, data.labels[:, :5])


def test_decode_maps_tokens_back_to_digits():
    task = small(size=4)
    assert task.decode(np.array([0, 1, 2, 5] * 4)).tolist() == [[-1, 0, 1, 4]] * 4
    with pytest.raises(TaskError, match="sequence"):
        task.decode(np.zeros(15, dtype=np.int32))


def test_draw_and_draw_segments_write_pngs(tmp_path):
    task = small(size=9, train_count=1)
    data = task.build("train", seed=0)
    prediction = data.labels[0].copy()
    prediction[:3] = 2
    drawn = task.draw(tmp_path / "one.png", data.inputs[0], data.labels[0], prediction)
    strip = task.draw_segments(tmp_path / "strip.png", data.inputs[0], np.stack([data.inputs[0], prediction]))
    for path in (drawn, strip):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_download_without_huggingface_hub_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(TaskError, match="huggingface_hub"):
        small().download(tmp_path)


def test_download_without_network_is_a_clear_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=offline))
    with pytest.raises(TaskError, match="sapientinc/sudoku-extreme.*connection refused"):
        small().download(tmp_path)


def test_download_fetches_both_csv_files(tmp_path, monkeypatch):
    fetched = []

    def fake(repo, name, repo_type, local_dir):
        fetched.append((repo, name, repo_type))
        (local_dir / name).write_text("")

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=fake))
    assert small().download(tmp_path) == tmp_path
    assert fetched == [("sapientinc/sudoku-extreme", n, "dataset") for n in ("train.csv", "test.csv")]


@pytest.mark.parametrize("name, split, problem", [("absent", "test", "does not exist"),
                                                  ("file", "test", "is a file, not a folder"),
                                                  ("", "test", "has no test.csv"),
                                                  ("", "train", "has no train.csv and no test.csv")])
def test_data_dir_that_is_missing_a_file_or_not_a_folder_is_an_error_naming_the_field(tmp_path, name, split,
                                                                                       problem):
    (tmp_path / "file").write_text("")
    with pytest.raises(TaskError, match=f"SudokuConfig.data_dir: .* {problem}"):
        csv_task(tmp_path / name).build(split)


def test_a_folder_with_only_test_csv_builds_the_test_split(data_dir, tmp_path):
    shutil.copy(data_dir / "test.csv", tmp_path / "test.csv")
    only_test = csv_task(tmp_path).build("test", seed=0)
    both = csv_task(data_dir).build("test", seed=0)
    assert np.array_equal(only_test.inputs, both.inputs) and np.array_equal(only_test.labels, both.labels)
    with pytest.raises(TaskError, match="has no train.csv"):
        csv_task(tmp_path).build("train", seed=0)


def test_csv_training_rows_that_repeat_a_test_puzzle_are_left_out_and_named_in_the_data_notes(data_dir):
    task = csv_task(data_dir)
    notes = task.data_notes(task.build("train", seed=0))
    assert notes == ["sudoku: 1 row of train.csv repeats a test.csv puzzle and was never sampled for training"]
    assert task.data_notes(task.build("test", seed=0)) == []


def test_csv_with_no_eligible_puzzles_is_an_error_naming_the_file_and_why(data_dir):
    with pytest.raises(TaskError, match=r"test.csv: all puzzles wanted \(SudokuConfig.test_count\), only 0 eligible "
                                        r"of 4 rows \(4 rated below csv_min_rating 100\)"):
        csv_task(data_dir, csv_min_rating=100).build("test", seed=0)


def test_csv_asking_for_more_puzzles_than_eligible_names_the_field_and_the_rows_left_out(data_dir):
    with pytest.raises(TaskError, match=r"train.csv: 11 puzzles wanted \(SudokuConfig.train_count\), only 10 eligible "
                                        r"of 11 rows \(1 repeats a test.csv puzzle\)"):
        csv_task(data_dir, train_count=11).build("train", seed=0)


def test_augmented_copies_dropped_for_equalling_a_test_puzzle_are_named_in_the_data_notes(tmp_path):
    task = small(size=4, train_count=40, test_count=40, num_aug=50)
    train = task.build("train", seed=0, cache_dir=tmp_path)
    dropped = train.extra["augmented_dropped"]
    assert task.data_notes(train) == [f"sudoku: {dropped} augmented training copies equal a test puzzle and were "
                                      "dropped"]
    assert small().data_notes(small().build("train")) == []


def test_download_settings_point_source_and_data_dir_at_the_folder_of_9x9_boards(tmp_path):
    from tasks.registry import task_config

    settings = small().download_settings(tmp_path)
    assert settings == {"source": "csv", "data_dir": str(tmp_path), "size": "9"}
    config = task_config("sudoku", settings)  # as `--set` strings, the way the commands take them
    assert (config.source, config.data_dir, config.size) == ("csv", str(tmp_path), 9)
