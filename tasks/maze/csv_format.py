"""The paper's Maze-Hard CSV format (`sapientinc/maze-30x30-hard-1k`: train.csv and test.csv).

Columns `source,question,answer,rating`; question and answer are the grid as row-major text in the charset
"# SGo" (wall, open, start, goal, path), H*W characters with no separators. The answer is the question with
the cells of a shortest S-to-G path marked `o`. The file's structure (encoding, header, field counts) is
checked by `tasks.csv_table`; every row is checked here, and a bad one is a TaskError naming the file and
row: wrong length, a character outside the charset, not exactly one S and one G, or an answer that is not
the question plus a shortest path. The rating column is not read.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tasks.base import TaskError
from tasks.csv_table import read_table
from tasks.maze.grid import CHARSET, GOAL, PATH, START, is_optimal, shortest_paths, to_text

COLUMNS = ("source", "question", "answer", "rating")
_TOKEN_OF_BYTE = np.full(256, -1, dtype=np.int32)
_TOKEN_OF_BYTE[[ord(c) for c in CHARSET]] = np.arange(1, len(CHARSET) + 1)


def read_maze_csv(path: Path, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a Maze-Hard CSV into (inputs [rows, H, W], labels [rows, H, W], lengths [rows] shortest-path
    moves), validating every row (see the module docstring)."""
    path = Path(path)
    cells = height * width
    questions, answers = [], []
    for rows in read_table(path, COLUMNS, kind="maze CSV", what="maze", numbering="row"):
        question = _TOKEN_OF_BYTE[rows.characters("question", cells, CHARSET)]
        answer = _TOKEN_OF_BYTE[rows.characters("answer", cells, CHARSET)]
        for token, name in ((START, "S"), (GOAL, "G")):
            found = (question == token).sum(axis=1)
            wrong = np.flatnonzero(found != 1)
            if len(wrong):
                raise TaskError(f"{rows.where(wrong[0])}: question needs exactly one {name}, has {found[wrong[0]]}")
        marked = np.flatnonzero((question == PATH).any(axis=1))
        if len(marked):
            raise TaskError(f"{rows.where(marked[0])}: question contains path cells 'o'")
        questions.append(question)
        answers.append(answer)
    inputs = np.concatenate(questions).reshape(-1, height, width)
    labels = np.concatenate(answers).reshape(-1, height, width)
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

