"""The shared dataset format: CSR layout, disk round trips, reading reference-built folders, the cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tasks.base import TaskError
from tasks.dataset import (
    assemble,
    cache_folder,
    cached_build,
    example_puzzles,
    from_arrays,
    leading_groups,
    load_dataset,
    save_dataset,
    summarize,
)


def _puzzle(rng, examples, seq_len=4, identifier=0):
    inputs = rng.integers(1, 5, size=(examples, seq_len))
    return inputs, inputs + 1, identifier


def _groups():
    rng = np.random.default_rng(0)
    return [[_puzzle(rng, 2, identifier=1), _puzzle(rng, 3, identifier=2)], [_puzzle(rng, 1, identifier=3)]]


def _dataset(**extra):
    return assemble(_groups(), vocab_size=6, seq_len=4, num_puzzle_identifiers=4,
                    identifiers=["<blank>", "a", "b", "c"], extra=extra)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_assemble_builds_csr_indices_over_examples_puzzles_and_groups():
    dataset = _dataset()
    assert dataset.puzzle_indices.tolist() == [0, 2, 5, 6]
    assert dataset.group_indices.tolist() == [0, 2, 3]
    assert dataset.puzzle_identifiers.tolist() == [1, 2, 3]
    assert dataset.inputs.shape == (6, 4) and dataset.inputs.dtype == np.int32
    assert example_puzzles(dataset).tolist() == [0, 0, 1, 1, 1, 2]
    meta = dataset.metadata
    assert (meta["total_groups"], meta["mean_puzzle_examples"], meta["sets"]) == (2, 2.0, ["all"])
    assert (meta["pad_id"], meta["ignore_label_id"], meta["blank_identifier_id"]) == (0, 0, 0)


def test_from_arrays_defaults_to_one_example_per_puzzle_and_one_puzzle_per_group():
    dataset = from_arrays(np.ones((3, 5)), np.ones((3, 5)), vocab_size=2)
    assert dataset.puzzle_indices.tolist() == [0, 1, 2, 3]
    assert dataset.group_indices.tolist() == [0, 1, 2, 3]
    assert dataset.puzzle_identifiers.tolist() == [0, 0, 0]
    assert dataset.identifiers == ["<blank>"]


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(inputs=np.full((3, 5), 7)), "inputs has tokens outside"),
        (dict(puzzle_indices=np.array([0, 2, 1, 3])), "puzzle_indices must rise"),
        (dict(group_indices=np.array([0, 3, 2])), "group_indices must rise"),
        (dict(puzzle_identifiers=np.array([0, 0, 5])), "puzzle_identifiers outside"),
        (dict(labels=np.ones((3, 4))), "labels"),
    ],
)
def test_inconsistent_arrays_are_a_task_error_naming_the_field(change, message):
    arrays = dict(inputs=np.ones((3, 5)), labels=np.ones((3, 5)))
    arrays.update(change)
    with pytest.raises(TaskError, match=message):
        from_arrays(vocab_size=2, **arrays)


def test_save_then_load_round_trips_arrays_metadata_identifiers_and_extra(tmp_path):
    dataset = _dataset(difficulty=np.array([1.5, 2.0, 3.0]), note={"protocol": "x", "seed": np.int64(4)},
                       names=np.array(["a", "bc"]))
    loaded = load_dataset(save_dataset(dataset, tmp_path / "train"))
    for name in ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(dataset, name))
        assert getattr(loaded, name).dtype == getattr(dataset, name).dtype
    assert loaded.metadata == dataset.metadata
    assert loaded.identifiers == dataset.identifiers
    np.testing.assert_array_equal(loaded.extra["difficulty"], [1.5, 2.0, 3.0])
    assert loaded.extra["note"] == {"protocol": "x", "seed": 4}
    assert loaded.extra["names"].tolist() == ["a", "bc"]


@pytest.mark.parametrize("value, message", [(np.array([{}, 1], dtype=object), "object array"), ({1, 2}, "set")])
def test_extra_that_cannot_be_stored_is_a_task_error_naming_it(tmp_path, value, message):
    with pytest.raises(TaskError, match=message):
        save_dataset(_dataset(bad=value), tmp_path)


def test_saving_the_same_dataset_twice_gives_byte_identical_files(tmp_path):
    save_dataset(_dataset(), tmp_path / "a")
    save_dataset(_dataset(), tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_load_reads_a_folder_written_the_way_the_reference_builders_write_it(tmp_path):
    # The reference: uint8 tokens, int32 indices, identifiers.json next to the split folders, no extra.
    split = tmp_path / "maze-ref" / "train"
    split.mkdir(parents=True)
    np.save(split / "all__inputs.npy", np.array([[1, 2, 3], [2, 2, 4]], dtype=np.uint8))
    np.save(split / "all__labels.npy", np.array([[1, 5, 3], [2, 5, 4]], dtype=np.uint8))
    np.save(split / "all__puzzle_identifiers.npy", np.array([0, 0], dtype=np.int32))
    np.save(split / "all__puzzle_indices.npy", np.array([0, 1, 2], dtype=np.int32))
    np.save(split / "all__group_indices.npy", np.array([0, 1, 2], dtype=np.int32))
    (split / "dataset.json").write_text(json.dumps({
        "pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 6, "seq_len": 3,
        "num_puzzle_identifiers": 1, "total_groups": 2, "mean_puzzle_examples": 1, "sets": ["all"]}))
    (split.parent / "identifiers.json").write_text(json.dumps(["<blank>"]))
    dataset = load_dataset(split)
    assert dataset.inputs.dtype == np.int32 and dataset.puzzle_indices.dtype == np.int64
    assert dataset.labels.tolist() == [[1, 5, 3], [2, 5, 4]]
    assert dataset.identifiers == ["<blank>"] and dataset.extra == {}


def test_load_concatenates_several_sets_with_shifted_offsets(tmp_path):
    first = _dataset()
    second = from_arrays(np.full((2, 4), 3), np.full((2, 4), 3), vocab_size=6)
    folder = tmp_path / "split"
    folder.mkdir()
    for name, part in (("a", first), ("b", second)):
        for field in ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices"):
            np.save(folder / f"{name}__{field}.npy", getattr(part, field))
    meta = dict(first.metadata, sets=["a", "b"], total_groups=4)
    (folder / "dataset.json").write_text(json.dumps(meta))
    merged = load_dataset(folder)
    assert merged.puzzle_indices.tolist() == [0, 2, 5, 6, 7, 8]
    assert merged.group_indices.tolist() == [0, 2, 3, 4, 5]
    assert len(merged.inputs) == 8


def test_load_of_a_folder_without_dataset_json_names_the_folder(tmp_path):
    with pytest.raises(TaskError, match="no dataset.json"):
        load_dataset(tmp_path)


def test_load_of_a_folder_missing_an_array_names_the_file(tmp_path):
    save_dataset(_dataset(), tmp_path)
    (tmp_path / "all__labels.npy").unlink()
    with pytest.raises(TaskError, match="all__labels.npy"):
        load_dataset(tmp_path)


def test_cached_build_builds_once_and_then_reads_the_same_bytes(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return _dataset()

    key = {"task": "toy", "split": "train", "seed": 0}
    first = cached_build(tmp_path, key, build)
    files = _files(cache_folder(tmp_path, key))
    second = cached_build(tmp_path, key, build)
    assert len(calls) == 1
    np.testing.assert_array_equal(first.inputs, second.inputs)
    assert _files(cache_folder(tmp_path, key)) == files
    assert json.loads((cache_folder(tmp_path, key) / "key.json").read_text()) == key


def test_cache_folders_differ_for_different_keys_and_not_for_key_order(tmp_path):
    assert cache_folder(tmp_path, {"task": "t", "seed": 0}) != cache_folder(tmp_path, {"task": "t", "seed": 1})
    assert cache_folder(tmp_path, {"a": 1, "b": 2}) == cache_folder(tmp_path, {"b": 2, "a": 1})


def test_cached_build_without_a_cache_dir_builds_every_time(tmp_path):
    calls = []
    cached_build(None, {"task": "t"}, lambda: calls.append(1) or _dataset())
    cached_build(None, {"task": "t"}, lambda: calls.append(1) or _dataset())
    assert len(calls) == 2 and not any(tmp_path.iterdir())


def test_summarize_reports_counts_and_difficulty_distribution():
    summary = summarize(_dataset(difficulty=np.array([1.0, 2.0, 3.0])))
    assert (summary["examples"], summary["puzzles"], summary["groups"]) == (6, 3, 2)
    assert summary["difficulty"]["mean"] == 2.0 and summary["difficulty"]["max"] == 3.0


@pytest.mark.parametrize("vocab_size, stored", [(6, np.uint8), (300, np.int32)])
def test_tokens_are_stored_as_small_as_the_vocabulary_allows_and_load_as_int32(tmp_path, vocab_size, stored):
    dataset = from_arrays(np.full((2, 3), 5), np.full((2, 3), 5), vocab_size=vocab_size)
    save_dataset(dataset, tmp_path)
    assert np.load(tmp_path / "all__inputs.npy").dtype == stored
    assert load_dataset(tmp_path).inputs.dtype == np.int32


# ------------------------------------------------------------------------------------ damaged or odd folders


def _truncate(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def _flip_last_byte(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))


def _rewrite_key(folder: Path) -> None:
    (folder / "key.json").write_text(json.dumps({"task": "other"}))


DAMAGE = {
    "truncated array": lambda f: _truncate(f / "all__inputs.npy", 100),
    "dataset.json not JSON": lambda f: (f / "dataset.json").write_text("{"),
    "array of the wrong shape": lambda f: np.save(f / "all__inputs.npy", np.ones((6, 3), dtype=np.uint8)),
    "missing array": lambda f: (f / "all__labels.npy").unlink(),
    "unexpected file": lambda f: np.save(f / "extra__stray.npy", np.zeros(3)),
    "changed byte": lambda f: _flip_last_byte(f / "all__labels.npy"),
    "no manifest": lambda f: (f / "manifest.json").unlink(),
    "manifest not JSON": lambda f: (f / "manifest.json").write_text("[1"),
    "another key": _rewrite_key,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_cache_entry_is_rebuilt_once_with_a_one_line_warning_naming_its_folder(tmp_path, capsys, damage):
    calls = []
    key = {"task": "toy", "split": "train", "seed": 0}
    cached_build(tmp_path, key, lambda: calls.append(1) or _dataset())
    folder = cache_folder(tmp_path, key)
    files = _files(folder)
    DAMAGE[damage](folder)
    rebuilt = cached_build(tmp_path, key, lambda: calls.append(1) or _dataset())
    warning = capsys.readouterr().err
    assert len(calls) == 2 and warning.count("\n") == 1
    assert warning.startswith(f"warning: dataset cache {folder} is damaged (") and warning.endswith("rebuilding it\n")
    assert _files(folder) == files and rebuilt.inputs.tolist() == _dataset().inputs.tolist()
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # nothing of the damaged entry is left


def test_a_cache_entry_that_fails_again_after_its_rebuild_is_an_error_not_a_loop(tmp_path, monkeypatch, capsys):
    key = {"task": "toy", "split": "train"}
    cached_build(tmp_path, key, _dataset)
    monkeypatch.setattr("tasks.dataset.load_dataset", lambda folder: (_ for _ in ()).throw(TaskError("bad disk")))
    calls = []
    with pytest.raises(TaskError, match="fails its check right after being written .bad disk"):
        cached_build(tmp_path, key, lambda: calls.append(1) or _dataset())
    assert len(calls) == 1 and capsys.readouterr().err.count("warning:") == 1


def test_a_cache_entry_records_the_size_and_sha256_of_every_other_file(tmp_path):
    import hashlib

    key = {"task": "toy", "split": "test"}
    cached_build(tmp_path, key, lambda: _dataset(difficulty=np.array([1.0, 2.0, 3.0])))
    folder = cache_folder(tmp_path, key)
    files = json.loads((folder / "manifest.json").read_text())["files"]
    assert set(files) == {p.name for p in folder.iterdir()} - {"manifest.json"}
    for name, entry in files.items():
        data = (folder / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_a_cache_dir_that_is_a_file_is_an_error_saying_to_set_the_cache_dir_elsewhere(tmp_path):
    (tmp_path / "cache").write_text("")
    calls = []
    with pytest.raises(TaskError, match=r"cannot write the dataset cache in .*cache/sub \(.*cache is a file, not a "
                                        r"folder\); set train.cache_dir \(or --cache-dir\)"):
        cached_build(tmp_path / "cache" / "sub", {"task": "t"}, lambda: calls.append(1) or _dataset())
    assert calls == []


def test_an_unwritable_cache_dir_is_an_error_before_anything_is_built(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tasks.dataset.tempfile.mkdtemp", refuse)
    calls = []
    with pytest.raises(TaskError, match=rf"cannot write the dataset cache in {tmp_path} \(Permission denied\); "
                                        r"set train.cache_dir \(or --cache-dir\) to a writable folder"):
        cached_build(tmp_path, {"task": "t"}, lambda: calls.append(1) or _dataset())
    assert calls == []


@pytest.mark.parametrize("damage, message", [
    (lambda f: _truncate(f / "all__inputs.npy", 60), r"all__inputs.npy: not a readable .npy array"),
    (lambda f: np.save(f / "all__labels.npy", np.ones(6, dtype=np.uint8)), r"labels.npy: shape \(6,\), expected 2 dim"),
    (lambda f: np.save(f / "all__inputs.npy", np.full((6, 4), 1.5)), "inputs.npy: has dtype float64, expected int"),
    (lambda f: (f / "identifiers.json").write_bytes(b"\xff["), "identifiers.json: not valid JSON"),
    (lambda f: (f / "identifiers.json").write_text("{}"), "identifiers.json: must be a JSON list"),
    (lambda f: (f / "dataset.json").write_text("[]"), "dataset.json: must be a JSON object"),
    (lambda f: (f / "extra.json").write_text("[]"), "extra.json: must be a JSON object"),
    (lambda f: _truncate(f / "extra__difficulty.npy", 5), "extra__difficulty.npy: not a readable .npy array"),
    (lambda f: (f / "dataset.json").write_text(json.dumps(
        json.loads((f / "dataset.json").read_text()) | {"vocab_size": "6"})), "metadata vocab_size must be an integer"),
], ids=["truncated array", "wrong rank", "float tokens", "identifiers not JSON", "identifiers not a list",
        "metadata not an object", "extra not an object", "truncated extra array", "metadata of the wrong type"])
def test_load_of_a_damaged_split_folder_is_a_task_error_naming_the_file_and_fault(tmp_path, damage, message):
    save_dataset(_dataset(difficulty=np.array([1.0, 2.0, 3.0]), note="x"), tmp_path)
    damage(tmp_path)
    with pytest.raises(TaskError, match=message):
        load_dataset(tmp_path)


def test_saving_over_another_dataset_removes_its_stale_layout_files(tmp_path):
    save_dataset(_dataset(difficulty=np.array([1.0, 2.0, 3.0]), note="x"), tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    save_dataset(from_arrays(np.ones((2, 3)), np.ones((2, 3)), vocab_size=2, sets=["b"]), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"b__{name}.npy" for name in ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")]
        + ["dataset.json", "identifiers.json", "notes.txt"])
    assert load_dataset(tmp_path).extra == {}


def test_saving_into_a_path_through_a_file_is_a_task_error_naming_it(tmp_path):
    (tmp_path / "out").write_text("")
    with pytest.raises(TaskError, match=r"out/train: cannot write the dataset there \(.*out is a file, not a folder\)"):
        save_dataset(_dataset(), tmp_path / "out" / "train")


def test_a_dataset_without_examples_is_a_task_error_saying_so():
    with pytest.raises(TaskError, match="no examples"):
        from_arrays(np.ones((0, 4)), np.ones((0, 4)), vocab_size=2)


def test_leading_groups_keeps_whole_groups_and_cuts_the_extras_by_their_names():
    dataset = assemble(_groups(), vocab_size=6, seq_len=4, num_puzzle_identifiers=10)
    examples = len(dataset.inputs)
    puzzles = len(dataset.puzzle_identifiers)
    dataset.extra = {"example_index": np.arange(examples), "identifier_table": np.arange(10),
                     "difficulty": np.arange(puzzles, dtype=float), "names": ["a", "b"], "canvas": 8}
    first_group_examples = int(dataset.puzzle_indices[dataset.group_indices[1]])
    head = leading_groups(dataset, 1)  # one example asked: the whole first group kept
    assert len(head.inputs) == first_group_examples and len(head.group_indices) == 2
    assert head.metadata["total_groups"] == 1
    assert np.array_equal(head.extra["example_index"], np.arange(first_group_examples))
    assert np.array_equal(head.extra["identifier_table"], np.arange(10))
    assert len(head.extra["difficulty"]) == len(head.puzzle_identifiers)
    assert head.extra["names"] == ["a", "b"] and head.extra["canvas"] == 8
    assert np.array_equal(head.inputs, dataset.inputs[:first_group_examples])
    everything = leading_groups(dataset, examples + 100)
    assert np.array_equal(everything.inputs, dataset.inputs) and everything.metadata == dataset.metadata
    with pytest.raises(TaskError, match=">= 1"):
        leading_groups(dataset, 0)
