"""The paper's Maze-Hard CSV format (`sapientinc/maze-30x30-hard-1k`: train.csv and test.csv).

Columns `source,question,answer,rating`; question and answer are the grid as row-major text in the charset
"# SGo" (wall, open, start, goal, path), H*W characters with no separators. The answer is the question with
the cells of a shortest S-to-G path marked `o`. Every row is checked and a bad one is a TaskError naming the
file and row: wrong length, a character outside the charset, not exactly one S and one G, or an answer that
is not the question plus a shortest path.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tasks.base import TaskError
from tasks.maze.grid import CHARSET, GOAL, PATH, START, is_optimal, shortest_paths, to_text

COLUMNS = ("source", "question", "answer", "rating")
_TOKEN_OF_BYTE = np.full(256, -1, dtype=np.int32)
_TOKEN_OF_BYTE[[ord(c) for c in CHARSET]] = np.arange(1, len(CHARSET) + 1)


def _tokens(text: str, cells: int, where: str, column: str) -> np.ndarray:
    if len(text) != cells:
        raise TaskError(f"{where}: {column} has {len(text)} characters, expected {cells}")
    tokens = _TOKEN_OF_BYTE[np.frombuffer(text.encode("latin-1", errors="replace"), dtype=np.uint8)]
    if (tokens < 0).any():
        bad = text[int(np.argmax(tokens < 0))]
        raise TaskError(f"{where}: {column} has character {bad!r} outside {CHARSET!r}")
    return tokens


def read_maze_csv(path: Path, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a Maze-Hard CSV into (inputs [rows, H, W], labels [rows, H, W], lengths [rows] shortest-path
    moves), validating every row (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"{path}: no such maze CSV file")
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise TaskError(f"{path}: header must be {','.join(COLUMNS)}, got {header}")
        questions, answers = [], []
        for number, row in enumerate(reader, start=1):
            where = f"{path} row {number}"
            if len(row) != len(COLUMNS):
                raise TaskError(f"{where}: expected {len(COLUMNS)} columns, got {len(row)}")
            question = _tokens(row[1], height * width, where, "question")
            answer = _tokens(row[2], height * width, where, "answer")
            for token, name in ((START, "S"), (GOAL, "G")):
                if (question == token).sum() != 1:
                    raise TaskError(f"{where}: question needs exactly one {name}, has {(question == token).sum()}")
            if (question == PATH).any():
                raise TaskError(f"{where}: question contains path cells 'o'")
            questions.append(question)
            answers.append(answer)
    if not questions:
        raise TaskError(f"{path}: no rows")
    inputs = np.stack(questions).reshape(-1, height, width)
    labels = np.stack(answers).reshape(-1, height, width)
    lengths, _ = shortest_paths(inputs)
    bad = np.flatnonzero((lengths < 0) | ~is_optimal(inputs, labels, lengths))
    if len(bad):
        number = int(bad[0]) + 1
        reason = "G is unreachable from S" if lengths[bad[0]] < 0 else "answer is not the question plus a shortest path"
        raise TaskError(f"{path} row {number}: {reason}")
    return inputs, labels, lengths


def write_maze_csv(path: Path, inputs: np.ndarray, labels: np.ndarray, source: str = "generated") -> Path:
    """Write mazes ([rows, H, W] tokens) in the same format; rating = shortest-path length of each."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = (np.asarray(labels) == PATH).reshape(len(labels), -1).sum(axis=1) + 1
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for question, answer, length in zip(inputs, labels, lengths, strict=True):
            writer.writerow([source, to_text(question), to_text(answer), int(length)])
    return path

