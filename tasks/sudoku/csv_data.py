"""The paper's Sudoku CSV format (Sudoku-Extreme, on the Hugging Face hub as `sapientinc/sudoku-extreme`).

Format: a header `source,question,answer,rating`, then one puzzle per row; question and answer are
size*size characters row-major (81 for 9x9), `.` or `0` for a blank, digits 1..size; rating is the
backtrack count the dataset's solver needed, a whole number. The hub dataset has `train.csv` and `test.csv`.
The file's structure (encoding, header, field counts) is checked by `tasks.csv_table`, the fields here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tasks.base import TaskError
from tasks.csv_table import read_table
from tasks.sudoku.metrics import is_valid_solution, keeps_givens

HUB_REPO = "sapientinc/sudoku-extreme"
HUB_FILES = ["train.csv", "test.csv"]
COLUMNS = ["source", "question", "answer", "rating"]
_DIGIT_OF_CODE = np.zeros(256, dtype=np.int8)  # character code -> digit ('.' and '0' are blanks: 0)
_DIGIT_OF_CODE[[ord(str(d)) for d in range(10)]] = np.arange(10)


@dataclass
class SudokuRecords:
    """questions, answers: [rows, size, size] int8 digit grids (0 blank); ratings: [rows] int64.

    Ratings are kept exact as int64 (a backtrack count can exceed 2^31); a rating of more than 18 digits is
    rejected by the reader rather than rounded.
    """

    questions: np.ndarray
    answers: np.ndarray
    ratings: np.ndarray


def read_csv(path: Path, size: int = 9) -> SudokuRecords:
    """Read and check a Sudoku CSV, a block of rows at a time (vectorised); TaskError naming the file and
    line of the first fault: the file's structure (see `tasks.csv_table`: not UTF-8, wrong header, a row
    with too many or too few fields, no puzzle rows), a question or answer of the wrong length or with a
    bad character, a rating that is not a whole number, or an answer that is not a valid grid or that
    disagrees with the question's givens."""
    digits = "".join(str(d) for d in range(1, size + 1))
    questions, answers, ratings = [], [], []
    for rows in read_table(path, COLUMNS, kind="Sudoku CSV", what="puzzle"):
        grid_q = _DIGIT_OF_CODE[rows.characters("question", size * size, digits + ".0")].reshape(-1, size, size)
        grid_a = _DIGIT_OF_CODE[rows.characters("answer", size * size, digits)].reshape(-1, size, size)
        wrong = np.flatnonzero(~(is_valid_solution(grid_a) & keeps_givens(grid_q, grid_a)))
        if len(wrong):
            raise TaskError(f"{rows.where(wrong[0])}: answer is not a valid solution of the question")
        questions.append(grid_q)
        answers.append(grid_a)
        ratings.append(rows.integers("rating"))
    return SudokuRecords(np.concatenate(questions), np.concatenate(answers), np.concatenate(ratings))
