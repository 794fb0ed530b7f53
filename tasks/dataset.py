"""The shared on-disk dataset format (compatible with the reference implementation) and its samplers.

One split of one task is a `PuzzleDataset`: token arrays plus CSR offsets grouping examples into puzzles and
puzzles into groups (a group = one original puzzle and its augmented versions). On disk a split is a folder in
the reference layout, `{set}__{field}.npy` + `dataset.json` + `identifiers.json`, so folders written by the
reference's own builders load here and folders written here load there. Generated splits are cached on disk
under a hash of everything that determines them, and checked against a manifest of file sizes and digests
whenever they are reused (`cached_build`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tasks.base import TaskError
from tasks.files import atomic_path, write_text_atomic

IGNORE_LABEL_ID = -100  # what a batch's labels hold where the loss ignores them (hrm.interface.IGNORE_LABEL_ID)
ARRAY_FIELDS = ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")
METADATA_FIELDS = (
    "pad_id", "ignore_label_id", "blank_identifier_id", "vocab_size", "seq_len",
    "num_puzzle_identifiers", "total_groups", "mean_puzzle_examples", "sets",
)
MANIFEST = "manifest.json"  # in each cache entry: size and SHA-256 of its other files (see `cached_build`)
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
    extra:               task-specific per-dataset data a task needs to score (e.g. ARC's augmentation map);
                         arrays named example_* are per example, identifier_* per identifier, others of the
                         puzzle list's length per puzzle (`leading_groups` cuts them by that rule)
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
    """Raise TaskError naming the first inconsistent field (metadata types, array ranks, shapes, offsets,
    token and identifier ranges)."""
    meta = dataset.metadata
    if not isinstance(meta, dict):
        raise TaskError(f"{where}: metadata must be a JSON object, got {type(meta).__name__}")
    missing = [name for name in METADATA_FIELDS if name not in meta]
    if missing:
        raise TaskError(f"{where}: metadata lacks {', '.join(missing)}")
    for name in ("pad_id", "blank_identifier_id", "vocab_size", "seq_len", "num_puzzle_identifiers", "total_groups"):
        if not _is_int(meta[name]):
            raise TaskError(f"{where}: metadata {name} must be an integer, got {meta[name]!r}")
    ignore = meta["ignore_label_id"]
    if ignore is not None and not _is_int(ignore):
        raise TaskError(f"{where}: metadata ignore_label_id must be an integer or null, got {ignore!r}")
    if not isinstance(meta["sets"], list) or not meta["sets"] or not all(isinstance(s, str) for s in meta["sets"]):
        raise TaskError(f"{where}: metadata sets must be a non-empty list of names, got {meta['sets']!r}")
    for name in ARRAY_FIELDS:
        rank = 2 if name in ("inputs", "labels") else 1
        if getattr(dataset, name).ndim != rank:
            raise TaskError(f"{where}: {name} has shape {getattr(dataset, name).shape}, expected {rank} dimensions")
    n, seq_len = dataset.inputs.shape
    if n == 0:
        raise TaskError(f"{where}: no examples")
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


def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def row_keys(rows: np.ndarray) -> np.ndarray:
    """[rows, ...] array -> [rows] opaque keys that compare equal exactly when the rows do (for np.isin)."""
    flat = np.ascontiguousarray(rows.reshape(len(rows), -1))
    return flat.view(np.dtype((np.void, flat.shape[1] * flat.dtype.itemsize))).ravel()


def example_puzzles(dataset: PuzzleDataset) -> np.ndarray:
    """[examples] index of the puzzle each example belongs to."""
    return np.repeat(np.arange(len(dataset.puzzle_identifiers)), np.diff(dataset.puzzle_indices))


def leading_groups(dataset: PuzzleDataset, examples: int) -> PuzzleDataset:
    """The first whole groups of `dataset` holding at least `examples` examples (all of it when it has fewer),
    so a quick evaluation still scores every augmented version of each puzzle it keeps.

    `extra` arrays are cut by their names: `example_*` per example, `identifier_*` (per puzzle identifier)
    kept whole, any other array as long as the puzzle list per puzzle; lists and scalars are kept.
    """
    if examples < 1:
        raise TaskError(f"the number of examples to keep must be >= 1, got {examples}")
    group_ends = dataset.puzzle_indices[dataset.group_indices[1:]]
    groups = min(int(np.searchsorted(group_ends, examples)) + 1, len(group_ends))
    puzzles = int(dataset.group_indices[groups])
    kept = int(dataset.puzzle_indices[puzzles])
    total_puzzles = len(dataset.puzzle_identifiers)
    extra = {}
    for key, value in dataset.extra.items():
        if isinstance(value, np.ndarray) and key.startswith("example_"):
            value = value[:kept]
        elif isinstance(value, np.ndarray) and value.ndim and not key.startswith("identifier_") \
                and len(value) == total_puzzles:
            value = value[:puzzles]
        extra[key] = value
    return PuzzleDataset(
        inputs=dataset.inputs[:kept], labels=dataset.labels[:kept],
        puzzle_identifiers=dataset.puzzle_identifiers[:puzzles], puzzle_indices=dataset.puzzle_indices[:puzzles + 1],
        group_indices=dataset.group_indices[:groups + 1],
        metadata=dataset.metadata | {"total_groups": groups, "mean_puzzle_examples": kept / puzzles},
        identifiers=dataset.identifiers, extra=extra,
    )


# ------------------------------------------------------------------------------------------------ disk I/O


def save_dataset(dataset: PuzzleDataset, directory: Path) -> Path:
    """Write one split in the reference layout (plus `extra`: arrays as extra__{key}.npy, the rest extra.json).

    Tokens are stored as uint8 when the vocabulary fits (as the reference's builders do), int32 otherwise;
    `load_dataset` returns int32 either way. Layout files already in `directory` that this dataset does not
    write (another set's arrays, another dataset's extra) are removed, so a rewritten folder never mixes two
    datasets. A folder that cannot be written is a TaskError naming it.
    """
    directory = Path(directory)
    try:
        _write_split(dataset, directory)
    except OSError as error:
        raise TaskError(f"{directory}: cannot write the dataset there ({_write_failure(directory, error)})") from None
    return directory


def _write_split(dataset: PuzzleDataset, directory: Path) -> None:
    """`save_dataset` without its error translation: raises OSError when the folder cannot be written."""
    validate(dataset)
    directory.mkdir(parents=True, exist_ok=True)
    set_name = "all" if len(dataset.metadata["sets"]) != 1 else dataset.metadata["sets"][0]
    token_dtype = np.uint8 if dataset.metadata["vocab_size"] <= 256 else np.int32  # as small as the reference's
    arrays = {k: v for k, v in dataset.extra.items() if isinstance(v, np.ndarray)}
    for key, value in arrays.items():
        if value.dtype == object:
            raise TaskError(f"extra[{key!r}] is an object array; store a typed array or a JSON-able list")
    rest = {k: v for k, v in dataset.extra.items() if k not in arrays}
    written = {f"{set_name}__{name}.npy" for name in ARRAY_FIELDS} | {f"extra__{key}.npy" for key in arrays}
    for stale in [*directory.glob("*__*.npy"), directory / "extra.json"]:
        if stale.name not in written and stale.is_file() and not (stale.name == "extra.json" and rest):
            stale.unlink()
    for name in ARRAY_FIELDS:
        dtype = token_dtype if name in ("inputs", "labels") else _DTYPES[name]
        _save_array(directory / f"{set_name}__{name}.npy", getattr(dataset, name).astype(dtype))
    metadata = {key: dataset.metadata[key] for key in METADATA_FIELDS} | {"sets": [set_name]}
    _write_json(directory / "dataset.json", metadata)
    _write_json(directory / "identifiers.json", dataset.identifiers)
    for key, value in arrays.items():
        _save_array(directory / f"extra__{key}.npy", value)
    if rest:
        _write_json(directory / "extra.json", rest)


def _write_failure(path: Path, error: OSError) -> str:
    """Why writing under `path` failed, in words: names a file standing where a folder is needed."""
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"{existing} is a file, not a folder"
    return error.strerror or str(error)


def load_dataset(directory: Path) -> PuzzleDataset:
    """Read one split folder written by `save_dataset` or by the reference's builders.

    The reference keeps identifiers.json in the parent of the split folders; several sets in one split are
    concatenated (offsets shifted) into one dataset whose metadata lists them. Every fault (a file missing,
    truncated or not what its name says, arrays that do not fit together) is a TaskError naming the file or
    folder and the field.
    """
    directory = Path(directory)
    meta_path = directory / "dataset.json"
    metadata = read_metadata(directory)
    sets = metadata.get("sets", ["all"]) if isinstance(metadata, dict) else None
    if not isinstance(sets, list) or not sets or not all(isinstance(name, str) for name in sets):
        raise TaskError(f"{meta_path}: must be a JSON object whose 'sets' lists the set names, got {_clip(metadata)}")
    parts = {name: [] for name in ARRAY_FIELDS}
    examples = puzzles = 0
    for set_name in sets:
        arrays = {}
        for name in ARRAY_FIELDS:
            path = directory / f"{set_name}__{name}.npy"
            if not path.is_file():
                raise TaskError(f"{directory}: missing {path.name}")
            arrays[name] = _read_array(path, integers=True).astype(_DTYPES[name])
            rank = 2 if name in ("inputs", "labels") else 1
            if arrays[name].ndim != rank:
                raise TaskError(f"{path}: shape {arrays[name].shape}, expected {rank} dimensions")
        skip = 1 if parts["inputs"] else 0  # later sets: drop the leading 0 offset, shift the rest
        parts["puzzle_indices"].append(arrays["puzzle_indices"][skip:] + examples)
        parts["group_indices"].append(arrays["group_indices"][skip:] + puzzles)
        for name in ("inputs", "labels", "puzzle_identifiers"):
            parts[name].append(arrays[name])
        examples += len(arrays["inputs"])
        puzzles += len(arrays["puzzle_identifiers"])
    identifiers_path = next((p for p in (directory / "identifiers.json", directory.parent / "identifiers.json")
                             if p.is_file()), None)
    identifiers = _read_json(identifiers_path) if identifiers_path else ["<blank>"]
    if not isinstance(identifiers, list):
        raise TaskError(f"{identifiers_path}: must be a JSON list of identifier names, got {_clip(identifiers)}")
    dataset = PuzzleDataset(
        **{name: np.concatenate(parts[name]) for name in ARRAY_FIELDS},
        metadata=metadata,
        identifiers=identifiers,
        extra=_load_extra(directory),
    )
    validate(dataset, where=str(directory))
    return dataset


def read_metadata(directory: Path) -> dict:
    """The `dataset.json` of the split folder `directory` (sizes, vocabulary, identifiers), without reading
    its arrays; TaskError when the folder has none or it is not JSON. `load_dataset` checks the fields."""
    path = Path(directory) / "dataset.json"
    if not path.is_file():
        raise TaskError(f"{directory}: no dataset.json (not a dataset split folder)")
    return _read_json(path)


def _load_extra(directory: Path) -> dict:
    path = directory / "extra.json"
    extra = _read_json(path) if path.is_file() else {}
    if not isinstance(extra, dict):
        raise TaskError(f"{path}: must be a JSON object, got {_clip(extra)}")
    for path in sorted(directory.glob("extra__*.npy")):
        extra[path.name[len("extra__"):-len(".npy")]] = _read_array(path)
    return extra


def _read_json(path: Path):
    """The JSON value in `path`; TaskError naming the file when it is unreadable, not UTF-8 or not JSON."""
    try:
        return json.loads(path.read_bytes())
    except OSError as error:
        raise TaskError(f"{path}: cannot read ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TaskError(f"{path}: not valid JSON ({error})") from None


def _read_array(path: Path, integers: bool = False) -> np.ndarray:
    """The array in the .npy file `path` (no pickled objects); TaskError naming the file when it is
    truncated or not a .npy array, or (`integers`) when its values are not integers."""
    try:
        array = np.load(path, allow_pickle=False)
    except OSError as error:
        raise TaskError(f"{path}: cannot read ({error.strerror or error})") from None
    except (ValueError, EOFError) as error:  # numpy reports a truncated or foreign file as ValueError
        raise TaskError(f"{path}: not a readable .npy array ({error})") from None
    if not isinstance(array, np.ndarray):
        raise TaskError(f"{path}: holds several arrays (an .npz archive), expected one .npy array")
    if integers and not (np.issubdtype(array.dtype, np.integer) and array.dtype != bool):
        raise TaskError(f"{path}: has dtype {array.dtype}, expected integers")
    return array


def _clip(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _write_json(path: Path, value) -> None:
    write_text_atomic(path, json.dumps(value, sort_keys=True, indent=1, default=_json_value) + "\n")


def _save_array(path: Path, array: np.ndarray) -> None:
    """`np.save` to `path` atomically (the temporary name keeps the .npy suffix, so numpy adds none)."""
    with atomic_path(path) as temporary:
        np.save(temporary, array)


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

    Damage is caught on every reuse by a manifest written last into each entry: the size and SHA-256 of every
    other file in it. Sizes alone catch truncation (an interrupted copy, a full disk) at no cost; the digest
    also catches a changed byte or a file swapped for another of the same size, for one more pass over bytes
    that loading reads next anyway (SHA-256 runs at over 1 GB/s, little beside a build or a training run).
    An entry whose manifest is missing or unreadable, whose files differ from it, whose key.json is not
    `key`, or that fails `load_dataset`'s checks is damaged: a one-line warning on stderr names its folder,
    it is removed and built again, once; a rebuilt entry that still fails is a TaskError. A cache folder that
    cannot be written is a TaskError saying to set train.cache_dir (or --cache-dir) elsewhere, raised before
    the build starts.
    """
    if cache_dir is None:
        return build()
    cache_dir = Path(cache_dir)
    folder = cache_folder(cache_dir, key)
    if folder.exists() or folder.is_symlink():
        try:
            return _load_entry(folder, key)
        except TaskError as damage:
            print(f"warning: dataset cache {folder} is damaged ({_one_line(damage)}); rebuilding it", file=sys.stderr)
            _discard(folder, cache_dir)
    _store(folder, key, build, cache_dir)
    try:
        return _load_entry(folder, key)
    except TaskError as damage:
        raise TaskError(f"dataset cache {folder} fails its check right after being written ({_one_line(damage)}); "
                        "set train.cache_dir (or --cache-dir) to a folder on another disk") from None


def _store(folder: Path, key: dict, build: Callable[[], PuzzleDataset], cache_dir: Path) -> None:
    """Build and write one cache entry: into a temporary folder beside `folder` (made before building, so an
    unwritable cache fails fast), then renamed to `folder`; losing that rename to another builder is fine."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as error:
        raise TaskError(_unwritable(cache_dir, error)) from None
    try:
        dataset = build()
        try:
            _write_split(dataset, temporary)
            _write_json(temporary / "key.json", key)
            files = {path.name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
                     for path in sorted(temporary.iterdir())}
            _write_json(temporary / MANIFEST, {"files": files})
            os.replace(temporary, folder)
        except OSError as error:
            if not (folder / MANIFEST).is_file():  # not a lost race with another builder
                raise TaskError(_unwritable(cache_dir, error)) from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _load_entry(folder: Path, key: dict) -> PuzzleDataset:
    """The dataset of cache entry `folder` after checking it against its manifest and `key`; TaskError
    saying what is wrong otherwise."""
    if not folder.is_dir():
        raise TaskError(f"{folder} is not a folder")
    if not (folder / MANIFEST).is_file():
        raise TaskError(f"no {MANIFEST} (an entry written before manifests, or not by this code)")
    manifest = _read_json(folder / MANIFEST)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, dict) and _is_int(v.get("bytes"))
                                              and isinstance(v.get("sha256"), str) for v in files.values()):
        raise TaskError(f"{folder / MANIFEST}: not a manifest of file sizes and digests")
    try:
        present = {path.name for path in folder.iterdir()} - {MANIFEST}
        if present != set(files):
            lost, unexpected = sorted(set(files) - present), sorted(present - set(files))
            raise TaskError("; ".join(([f"missing {', '.join(lost)}"] if lost else [])
                                      + ([f"unexpected {', '.join(unexpected)}"] if unexpected else []))
                            + " (against its manifest)")
        for name, expected in sorted(files.items()):
            size = (folder / name).stat().st_size
            if size != expected["bytes"]:
                raise TaskError(f"{name} has {size} bytes, its manifest says {expected['bytes']}")
        for name, expected in sorted(files.items()):
            if _sha256(folder / name) != expected["sha256"]:
                raise TaskError(f"{name} does not match its SHA-256 in the manifest")
    except OSError as error:
        raise TaskError(f"{folder}: cannot read ({error.strerror or error})") from None
    if _read_json(folder / "key.json") != json.loads(json.dumps(key)):
        raise TaskError("its key.json is not the key it is stored under")
    return load_dataset(folder)


def _discard(folder: Path, cache_dir: Path) -> None:
    """Remove a damaged cache entry: renamed aside first (atomic), so no reader sees it half deleted."""
    trash = folder.with_name(f".{folder.name}-damaged-{secrets.token_hex(4)}")
    try:
        os.replace(folder, trash)
    except FileNotFoundError:
        return  # another builder removed it first
    except OSError as error:
        raise TaskError(_unwritable(cache_dir, error)) from None
    if trash.is_dir() and not trash.is_symlink():
        shutil.rmtree(trash, ignore_errors=True)
    else:
        trash.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _unwritable(cache_dir: Path, error: OSError) -> str:
    return (f"cannot write the dataset cache in {cache_dir} ({_write_failure(cache_dir, error)}); "
            "set train.cache_dir (or --cache-dir) to a writable folder")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


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


def test_batches(dataset: PuzzleDataset, batch_size: int,
                 part: tuple[int, int] = (0, 1)) -> Iterator[tuple[dict[str, np.ndarray], int]]:
    """Every example once, in order; the last batch is padded (inputs pad_id, labels -100, identifier blank).

    Yields (batch, real) where the first `real` rows of the batch are examples and the rest padding.
    `part` (index, parts): only the index-th of `parts` contiguous runs of those batches, each of
    ceil(batches / parts) batches (the last ones may be shorter or empty). One rank's share under data
    parallelism: the runs in index order are every batch, and each batch is the same as without `part`.
    """
    if batch_size < 1:
        raise TaskError(f"batch_size must be >= 1, got {batch_size}")
    index, parts = part
    if parts < 1 or not 0 <= index < parts:
        raise TaskError(f"part must be (index, parts) with 0 <= index < parts, got {part}")
    owners = example_puzzles(dataset)
    n = len(dataset.inputs)
    starts = range(0, n, batch_size)
    share = -(-len(starts) // parts)
    for start in starts[index * share:(index + 1) * share]:
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
