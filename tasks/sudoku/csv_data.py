"""The paper's Sudoku CSV format (Sudoku-Extreme, on the Hugging Face hub as `sapientinc/sudoku-extreme`).

Format: a header `source,question,answer,rating`, then one puzzle per row; question and answer are
size*size characters row-major (81 for 9x9), `.` or `0` for a blank, digits 1..size; rating is the
backtrack count the dataset's solver needed. The hub dataset has `train.csv` and `test.csv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.base import TaskError
from tasks.sudoku.metrics import is_valid_solution, keeps_givens

HUB_REPO = "sapientinc/sudoku-extreme"
HUB_FILES = ["train.csv", "test.csv"]
COLUMNS = ["source", "question", "answer", "rating"]
_CHUNK_ROWS = 200_000  # rows parsed at once (bounds memory on the 3.8M-row training file)


@dataclass
class SudokuRecords:
    """questions, answers: [rows, size, size] int8 digit grids (0 blank); ratings: [rows] int32."""

    questions: np.ndarray
    answers: np.ndarray
    ratings: np.ndarray


def _digits(texts: pd.Series, size: int, blanks: bool, path: Path, first_line: int, column: str) -> np.ndarray:
    """Parse one column of a chunk to [rows, size*size] int8 digits, naming the first bad row."""
    cells = size * size
    lengths = texts.str.len().to_numpy()
    wrong = np.flatnonzero(lengths != cells)
    if len(wrong):
        row = wrong[0]
        raise TaskError(
            f"{path}, line {first_line + row}: {column} has {lengths[row]} characters, expected {cells}"
        )
    codes = texts.to_numpy(dtype=f"<U{cells}").view(np.uint32).reshape(len(texts), cells).astype(np.int64)
    allowed = (codes >= ord("1")) & (codes <= ord("0") + size)
    if blanks:
        allowed |= (codes == ord(".")) | (codes == ord("0"))
    bad = np.flatnonzero(~allowed.all(axis=1))
    if len(bad):
        row = bad[0]
        char = chr(codes[row][~allowed[row]][0])
        raise TaskError(f"{path}, line {first_line + row}: {column} has the bad character {char!r}")
    return np.where(codes == ord("."), 0, codes - ord("0")).astype(np.int8)


def read_csv(path: Path, size: int = 9) -> SudokuRecords:
    """Read and check a Sudoku CSV; TaskError naming the file and line of the first malformed row
    (wrong length, bad character, unreadable rating, or an answer that is not a valid grid or that
    disagrees with the question's givens)."""
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"{path}: no such Sudoku CSV file")
    questions, answers, ratings = [], [], []
    first_line = 2  # line 1 is the header
    try:
        for chunk in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=_CHUNK_ROWS):
            if list(chunk.columns) != COLUMNS:
                raise TaskError(f"{path}: header is {list(chunk.columns)}, expected {COLUMNS}")
            q = _digits(chunk["question"], size, True, path, first_line, "question")
            a = _digits(chunk["answer"], size, False, path, first_line, "answer")
            grid_q, grid_a = q.reshape(-1, size, size), a.reshape(-1, size, size)
            wrong = np.flatnonzero(~(is_valid_solution(grid_a) & keeps_givens(grid_q, grid_a)))
            if len(wrong):
                raise TaskError(
                    f"{path}, line {first_line + wrong[0]}: answer is not a valid solution of the question"
                )
            rating = pd.to_numeric(chunk["rating"], errors="coerce").to_numpy()
            bad = np.flatnonzero(np.isnan(rating) | (rating < 0) | (rating != np.round(rating)))
            if len(bad):
                raise TaskError(f"{path}, line {first_line + bad[0]}: rating {chunk['rating'].iloc[bad[0]]!r}")
            questions.append(grid_q)
            answers.append(grid_a)
            ratings.append(rating.astype(np.int32))
            first_line += len(chunk)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise TaskError(f"{path}: not a readable CSV ({error})") from error
    if not questions:
        empty = np.zeros((0, size, size), dtype=np.int8)
        return SudokuRecords(empty, empty.copy(), np.zeros(0, dtype=np.int32))
    return SudokuRecords(np.concatenate(questions), np.concatenate(answers), np.concatenate(ratings))
