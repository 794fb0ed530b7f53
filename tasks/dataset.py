"""The shared on-disk dataset format (compatible with the reference implementation) and its samplers.

One split of one task is a `PuzzleDataset`: token arrays plus CSR offsets grouping examples into puzzles and
puzzles into groups (a group = one original puzzle and its augmented versions). On disk a split is a folder in
the reference layout, `{set}__{field}.npy` + `dataset.json` + `identifiers.json`, so folders written by the
reference's own builders load here and folders written here load there. Generated splits are cached on disk
under a hash of everything that determines them (`cached_build`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tasks.base import TaskError

IGNORE_LABEL_ID = -100  # what a batch's labels hold where the loss ignores them (hrm.interface.IGNORE_LABEL_ID)
ARRAY_FIELDS = ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")
METADATA_FIELDS = (
    "pad_id", "ignore_label_id", "blank_identifier_id", "vocab_size", "seq_len",
    "num_puzzle_identifiers", "total_groups", "mean_puzzle_examples", "sets",
)
_DTYPES = {"inputs": np.int32, "labels": np.int32, "puzzle_identifiers": np.int32,
           "puzzle_indices": np.int64, "group_indices": np.int64}

Puzzle = tuple[np.ndarray, np.ndarray, int]  # (inputs [examples, seq_len], labels [examples, seq_len], identifier)


@dataclass
class PuzzleDataset:
    """One split of a task, in the reference's array layout.

    inputs, labels:      [examples, seq_len] int32 token ids (labels use ignore_label_id where unsupervised)
    puzzle_identifiers:  [puzzles] int32 puzzle-embedding row of each puzzle
    puzzle_indices:      [puzzles + 1] int64 CSR offsets: examples of puzzle p are puzzle_indices[p]:[p+1]
    group_indices:       [groups + 1] int64 CSR offsets: puzzles of group g (one original + its augmentations)
    metadata:            pad_id, ignore_label_id, blank_identifier_id, vocab_size, seq_len,
                         num_puzzle_identifiers, total_groups, mean_puzzle_examples, sets
    identifiers:         identifier -> name map (index i names puzzle identifier i)
    extra:               task-specific per-dataset data a task needs to score (e.g. ARC's augmentation map)
    """

    inputs: np.ndarray
    labels: np.ndarray
    puzzle_identifiers: np.ndarray
    puzzle_indices: np.ndarray
    group_indices: np.ndarray
    metadata: dict
    identifiers: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- assembling


def assemble(
    groups: Sequence[Sequence[Puzzle]],
    *,
    vocab_size: int,
    seq_len: int,
    num_puzzle_identifiers: int = 1,
    identifiers: list[str] | None = None,
    extra: dict | None = None,
    ignore_label_id: int | None = 0,
    sets: Sequence[str] = ("all",),
) -> PuzzleDataset:
    """A dataset from groups of puzzles, each puzzle (inputs [examples, seq_len], labels [examples, seq_len], id)."""
    puzzles = [puzzle for group in groups for puzzle in group]
    if any(len(group) == 0 for group in groups):
        raise TaskError("assemble: every group needs at least one puzzle")
    if not puzzles:
        raise TaskError("assemble: no puzzles")
    inputs = np.concatenate([np.asarray(p[0]).reshape(-1, seq_len) for p in puzzles])
    labels = np.concatenate([np.asarray(p[1]).reshape(-1, seq_len) for p in puzzles])
    examples = np.array([np.asarray(p[0]).reshape(-1, seq_len).shape[0] for p in puzzles])
    return from_arrays(
        inputs, labels, np.array([p[2] for p in puzzles]),
        np.concatenate([[0], np.cumsum(examples)]), np.concatenate([[0], np.cumsum([len(g) for g in groups])]),
        vocab_size=vocab_size, num_puzzle_identifiers=num_puzzle_identifiers, identifiers=identifiers,
        extra=extra, ignore_label_id=ignore_label_id, sets=sets,
    )


def from_arrays(
    inputs: np.ndarray,
    labels: np.ndarray,
    puzzle_identifiers: np.ndarray | None = None,
    puzzle_indices: np.ndarray | None = None,
    group_indices: np.ndarray | None = None,
    *,
    vocab_size: int,
    num_puzzle_identifiers: int = 1,
    identifiers: list[str] | None = None,
    extra: dict | None = None,
    ignore_label_id: int | None = 0,
    sets: Sequence[str] = ("all",),
) -> PuzzleDataset:
    """A validated dataset straight from arrays; omitted indices mean one example per puzzle and one puzzle
    per group, identifiers default to 0 (blank). The vectorised path for large single-example tasks."""
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    if inputs.ndim != 2 or inputs.shape != labels.shape:
        raise TaskError(f"inputs {inputs.shape} and labels {labels.shape} must both be [examples, seq_len]")
    n = inputs.shape[0]
    if puzzle_indices is None:
        puzzle_indices = np.arange(n + 1)
    puzzles = len(puzzle_indices) - 1
    if puzzle_identifiers is None:
        puzzle_identifiers = np.zeros(puzzles)
    if group_indices is None:
        group_indices = np.arange(puzzles + 1)
    dataset = PuzzleDataset(
        inputs=inputs.astype(np.int32), labels=labels.astype(np.int32),
        puzzle_identifiers=np.asarray(puzzle_identifiers).astype(np.int32),
        puzzle_indices=np.asarray(puzzle_indices).astype(np.int64),
        group_indices=np.asarray(group_indices).astype(np.int64),
        metadata={
            "pad_id": 0, "ignore_label_id": ignore_label_id, "blank_identifier_id": 0,
            "vocab_size": int(vocab_size), "seq_len": int(inputs.shape[1]),
            "num_puzzle_identifiers": int(num_puzzle_identifiers), "total_groups": len(group_indices) - 1,
            "mean_puzzle_examples": float(n / max(puzzles, 1)), "sets": list(sets),
        },
        identifiers=list(identifiers) if identifiers is not None else ["<blank>"],
        extra=dict(extra or {}),
    )
    validate(dataset)
    return dataset


def validate(dataset: PuzzleDataset, where: str = "dataset") -> None:
    """Raise TaskError naming the first inconsistent field (shapes, offsets, token and identifier ranges)."""
    meta = dataset.metadata
    missing = [name for name in METADATA_FIELDS if name not in meta]
    if missing:
        raise TaskError(f"{where}: metadata lacks {', '.join(missing)}")
    n, seq_len = dataset.inputs.shape
    if seq_len != meta["seq_len"] or dataset.labels.shape != (n, seq_len):
        raise TaskError(f"{where}: inputs {dataset.inputs.shape} / labels {dataset.labels.shape} "
                        f"do not match seq_len {meta['seq_len']}")
    for name, indices, end in (("puzzle_indices", dataset.puzzle_indices, n),
                               ("group_indices", dataset.group_indices, len(dataset.puzzle_identifiers))):
        if len(indices) < 2 or indices[0] != 0 or indices[-1] != end or np.any(np.diff(indices) <= 0):
            raise TaskError(f"{where}: {name} must rise strictly from 0 to {end}")
    if len(dataset.puzzle_indices) != len(dataset.puzzle_identifiers) + 1:
        raise TaskError(f"{where}: puzzle_indices needs one more entry than puzzle_identifiers")
    for name in ("inputs", "labels"):
        array = getattr(dataset, name)
        if array.size and (array.min() < 0 or array.max() >= meta["vocab_size"]):
            raise TaskError(f"{where}: {name} has tokens outside [0, vocab_size={meta['vocab_size']})")
    ids = dataset.puzzle_identifiers
    if ids.min() < 0 or ids.max() >= meta["num_puzzle_identifiers"]:
        raise TaskError(f"{where}: puzzle_identifiers outside [0, {meta['num_puzzle_identifiers']})")
    if meta["total_groups"] != len(dataset.group_indices) - 1:
        raise TaskError(f"{where}: metadata total_groups {meta['total_groups']} != {len(dataset.group_indices) - 1}")


def example_puzzles(dataset: PuzzleDataset) -> np.ndarray:
    """[examples] index of the puzzle each example belongs to."""
    return np.repeat(np.arange(len(dataset.puzzle_identifiers)), np.diff(dataset.puzzle_indices))


# ------------------------------------------------------------------------------------------------ disk I/O


def save_dataset(dataset: PuzzleDataset, directory: Path) -> Path:
    """Write one split in the reference layout (plus `extra`: arrays as extra__{key}.npy, the rest extra.json).

    Tokens are stored as uint8 when the vocabulary fits (as the reference's builders do), int32 otherwise;
    `load_dataset` returns int32 either way.
    """
    validate(dataset)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    set_name = "all" if len(dataset.metadata["sets"]) != 1 else dataset.metadata["sets"][0]
    token_dtype = np.uint8 if dataset.metadata["vocab_size"] <= 256 else np.int32  # as small as the reference's
    for name in ARRAY_FIELDS:
        dtype = token_dtype if name in ("inputs", "labels") else _DTYPES[name]
        np.save(directory / f"{set_name}__{name}.npy", getattr(dataset, name).astype(dtype))
    metadata = {key: dataset.metadata[key] for key in METADATA_FIELDS} | {"sets": [set_name]}
    _write_json(directory / "dataset.json", metadata)
    _write_json(directory / "identifiers.json", dataset.identifiers)
    arrays = {k: v for k, v in dataset.extra.items() if isinstance(v, np.ndarray)}
    for key, value in arrays.items():
        if value.dtype == object:
            raise TaskError(f"extra[{key!r}] is an object array; store a typed array or a JSON-able list")
        np.save(directory / f"extra__{key}.npy", value)
    rest = {k: v for k, v in dataset.extra.items() if k not in arrays}
    if rest:
        _write_json(directory / "extra.json", rest)
    return directory


def load_dataset(directory: Path) -> PuzzleDataset:
    """Read one split folder written by `save_dataset` or by the reference's builders.

    The reference keeps identifiers.json in the parent of the split folders; several sets in one split are
    concatenated (offsets shifted) into one dataset whose metadata lists them.
    """
    directory = Path(directory)
    meta_path = directory / "dataset.json"
    if not meta_path.is_file():
        raise TaskError(f"{directory}: no dataset.json (not a dataset split folder)")
    try:
        metadata = json.loads(meta_path.read_text())
    except json.JSONDecodeError as error:
        raise TaskError(f"{meta_path}: not valid JSON ({error})") from None
    parts = {name: [] for name in ARRAY_FIELDS}
    examples = puzzles = 0
    for set_name in metadata.get("sets", ["all"]):
        arrays = {}
        for name in ARRAY_FIELDS:
            path = directory / f"{set_name}__{name}.npy"
            if not path.is_file():
                raise TaskError(f"{directory}: missing {path.name}")
            arrays[name] = np.load(path).astype(_DTYPES[name])
        skip = 1 if parts["inputs"] else 0  # later sets: drop the leading 0 offset, shift the rest
        parts["puzzle_indices"].append(arrays["puzzle_indices"][skip:] + examples)
        parts["group_indices"].append(arrays["group_indices"][skip:] + puzzles)
        for name in ("inputs", "labels", "puzzle_identifiers"):
            parts[name].append(arrays[name])
        examples += len(arrays["inputs"])
        puzzles += len(arrays["puzzle_identifiers"])
    identifiers_path = next((p for p in (directory / "identifiers.json", directory.parent / "identifiers.json")
                             if p.is_file()), None)
    dataset = PuzzleDataset(
        **{name: np.concatenate(parts[name]) for name in ARRAY_FIELDS},
        metadata=metadata,
        identifiers=json.loads(identifiers_path.read_text()) if identifiers_path else ["<blank>"],
        extra=_load_extra(directory),
    )
    validate(dataset, where=str(directory))
    return dataset


def _load_extra(directory: Path) -> dict:
    extra = json.loads((directory / "extra.json").read_text()) if (directory / "extra.json").is_file() else {}
    for path in sorted(directory.glob("extra__*.npy")):
        extra[path.name[len("extra__"):-len(".npy")]] = np.load(path)
    return extra


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, sort_keys=True, indent=1, default=_json_value) + "\n")


def _json_value(value):
    """numpy scalars and arrays nested in JSON data, as plain Python values."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TaskError(f"cannot store {type(value).__name__} {value!r} in JSON (dataset extra or metadata)")


def disk_size(directory: Path) -> int:
    """Total bytes of the files under `directory`."""
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())


def summarize(dataset: PuzzleDataset) -> dict:
    """Counts and, when the task records one, the distribution of `extra["difficulty"]` over puzzles."""
    summary = {
        "examples": int(len(dataset.inputs)),
        "puzzles": int(len(dataset.puzzle_identifiers)),
        "groups": int(len(dataset.group_indices) - 1),
        "seq_len": int(dataset.metadata["seq_len"]),
        "vocab_size": int(dataset.metadata["vocab_size"]),
    }
    difficulty = dataset.extra.get("difficulty")
    if difficulty is not None and len(difficulty):
        values = np.asarray(difficulty, dtype=np.float64)
        quantiles = np.percentile(values, [0, 10, 50, 90, 100])
        summary["difficulty"] = {"mean": float(values.mean()),
                                 **{k: float(v) for k, v in zip(("min", "p10", "median", "p90", "max"), quantiles,
                                                                 strict=True)}}
    return summary


# -------------------------------------------------------------------------------------------------- cache


def cache_folder(cache_dir: Path, key: dict) -> Path:
    """The folder under `cache_dir` that holds the dataset built for `key` (a JSON-able dict)."""
    text = json.dumps(key, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    prefix = "-".join(str(key[k]) for k in ("task", "split") if k in key)
    return Path(cache_dir) / f"{prefix}-{digest}" if prefix else Path(cache_dir) / digest


def cached_build(cache_dir: Path | None, key: dict, build: Callable[[], PuzzleDataset]) -> PuzzleDataset:
    """`build()`'s dataset, stored under `cache_dir` by a hash of `key` and reused when already there.

    `key` must hold everything that determines the data (task, split, sizes, difficulty, count, seed,
    augmentation, generator version). The folder is written under a temporary name and renamed into place,
    so concurrent builders never see half a dataset. `cache_dir=None` builds without caching.
    """
    if cache_dir is None:
        return build()
    folder = cache_folder(cache_dir, key)
    if not (folder / "dataset.json").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            save_dataset(build(), temporary)
            _write_json(temporary / "key.json", key)
            os.replace(temporary, folder)
        except OSError:
            if not (folder / "dataset.json").is_file():  # not a lost race with another builder
                raise
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
    return load_dataset(folder)


# ------------------------------------------------------------------------------------------------ samplers


def _collate(dataset: PuzzleDataset, rows: np.ndarray, puzzles: np.ndarray) -> dict[str, np.ndarray]:
    labels = dataset.labels[rows].astype(np.int64)
    ignore = dataset.metadata["ignore_label_id"]
    if ignore is not None:
        labels[labels == ignore] = IGNORE_LABEL_ID
    return {
        "inputs": dataset.inputs[rows].astype(np.int64),
        "labels": labels,
        "puzzle_identifiers": dataset.puzzle_identifiers[puzzles].astype(np.int64),
    }


def train_batches(dataset: PuzzleDataset, batch_size: int, seed: int, epoch: int) -> Iterator[dict[str, np.ndarray]]:
    """One training epoch with the reference's group semantics, reproducible from (seed, epoch).

    Groups are shuffled; each contributes one random member puzzle with all its examples, appended in turn to
    fixed-size batches. A puzzle that overflows a batch contributes a random subset of its examples that fits
    and the rest are dropped (as in the reference); the last partial batch is dropped.
    Yields {"inputs", "labels", "puzzle_identifiers"}: [batch, seq_len], [batch, seq_len], [batch] int64.
    """
    if batch_size < 1:
        raise TaskError(f"batch_size must be >= 1, got {batch_size}")
    rng = np.random.default_rng([seed, epoch])
    starts, ends = dataset.group_indices[:-1], dataset.group_indices[1:]
    order = rng.permutation(len(starts))
    chosen = starts[order] + (rng.random(len(order)) * (ends - starts)[order]).astype(np.int64)
    sizes = np.diff(dataset.puzzle_indices)[chosen]
    filled = np.cumsum(sizes)  # examples appended once chosen puzzle i is complete
    first, before = 0, 0
    while first < len(chosen) and filled[-1] - before >= batch_size:
        last = int(np.searchsorted(filled, before + batch_size, side="left"))  # the puzzle that fills the batch
        take = sizes[first:last + 1].copy()
        take[-1] = batch_size - (filled[last - 1] - before if last > first else 0)
        whole = _ranges(dataset.puzzle_indices[chosen[first:last]], take[:-1])
        partial = rng.choice(sizes[last], take[-1], replace=False) if take[-1] < sizes[last] else np.arange(take[-1])
        rows = np.concatenate([whole, dataset.puzzle_indices[chosen[last]] + np.sort(partial)])
        yield _collate(dataset, rows, np.repeat(chosen[first:last + 1], take))
        first, before = last + 1, filled[last]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of arange(start, start + length) for each pair, without a Python loop."""
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def test_batches(dataset: PuzzleDataset, batch_size: int) -> Iterator[tuple[dict[str, np.ndarray], int]]:
    """Every example once, in order; the last batch is padded (inputs pad_id, labels -100, identifier blank).

    Yields (batch, real) where the first `real` rows of the batch are examples and the rest padding.
    """
    if batch_size < 1:
        raise TaskError(f"batch_size must be >= 1, got {batch_size}")
    owners = example_puzzles(dataset)
    n = len(dataset.inputs)
    for start in range(0, n, batch_size):
        rows = np.arange(start, min(start + batch_size, n))
        batch = _collate(dataset, rows, owners[rows])
        pad = batch_size - len(rows)
        if pad:
            fill = {"inputs": dataset.metadata["pad_id"], "labels": IGNORE_LABEL_ID,
                    "puzzle_identifiers": dataset.metadata["blank_identifier_id"]}
            batch = {k: np.pad(v, ((0, pad),) + ((0, 0),) * (v.ndim - 1), constant_values=fill[k])
                     for k, v in batch.items()}
        yield batch, len(rows)


test_batches.__test__ = False  # a sampler, not a test: keeps pytest from collecting it where it is imported
