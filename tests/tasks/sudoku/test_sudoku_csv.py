import numpy as np
import pytest
from sudoku_fixtures import EASY_PUZZLE, EASY_SOLUTION, grid

from tasks.base import TaskError
from tasks.sudoku.csv_data import read_csv

HEADER = "source,question,answer,rating\n"
ZERO_BLANKS = EASY_PUZZLE.replace(".", "0")


def write(tmp_path, rows, header=HEADER):
    path = tmp_path / "train.csv"
    path.write_text(header + "".join(f"{row}\n" for row in rows))
    return path


def test_reads_the_papers_format_with_dot_and_zero_blanks(tmp_path):
    rows = [f"puzzles0_kaggle,{EASY_PUZZLE},{EASY_SOLUTION},0", f"forum,{ZERO_BLANKS},{EASY_SOLUTION},22"]
    path = write(tmp_path, rows)
    records = read_csv(path)
    assert records.questions.shape == records.answers.shape == (2, 9, 9)
    assert (records.questions == grid(EASY_PUZZLE)).all() and (records.answers == grid(EASY_SOLUTION)).all()
    assert records.ratings.tolist() == [0, 22]
    assert records.questions.dtype == np.int8


@pytest.mark.parametrize(
    "row, message",
    [
        (f"s,{EASY_PUZZLE[:-1]},{EASY_SOLUTION},0", "line 3: question has 80 characters, expected 81"),
        (f"s,{EASY_PUZZLE},{EASY_SOLUTION}9,0", "line 3: answer has 82 characters"),
        (f"s,{EASY_PUZZLE[:-1]}x,{EASY_SOLUTION},0", "line 3: question has the bad character 'x'"),
        (f"s,{EASY_PUZZLE},{EASY_SOLUTION[:-1]}.,0", "line 3: answer has the bad character '.'"),
        (f"s,{EASY_PUZZLE},{EASY_SOLUTION[:-2]}97,0", "line 3: answer is not a valid solution"),
        (f"s,{EASY_PUZZLE[:-1]}8,{EASY_SOLUTION},0", "line 3: answer is not a valid solution of the question"),
        (f"s,{EASY_PUZZLE},{EASY_SOLUTION},hard", "line 3: rating 'hard'"),
    ],
    ids=["short question", "long answer", "bad question char", "blank in answer", "invalid answer",
         "answer contradicts a given", "bad rating"],
)
def test_malformed_row_is_an_error_naming_its_line(tmp_path, row, message):
    path = write(tmp_path, [f"ok,{EASY_PUZZLE},{EASY_SOLUTION},1", row])
    with pytest.raises(TaskError, match=message) as error:
        read_csv(path)
    assert str(path) in str(error.value)


def test_wrong_header_is_an_error(tmp_path):
    path = write(tmp_path, [f"s,{EASY_PUZZLE},{EASY_SOLUTION},0"], header="question,answer\n")
    with pytest.raises(TaskError, match="header"):
        read_csv(path)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(TaskError, match="no such"):
        read_csv(tmp_path / "absent.csv")
