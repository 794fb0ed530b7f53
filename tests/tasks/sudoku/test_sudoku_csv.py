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


GOOD = f"ok,{EASY_PUZZLE},{EASY_SOLUTION},1"


def test_sudoku_csv_with_a_header_and_no_rows_is_rejected_saying_no_puzzle_rows(tmp_path):
    with pytest.raises(TaskError, match=r"train.csv: no puzzle rows \(only a header\)"):
        read_csv(write(tmp_path, []))


def test_sudoku_csv_that_is_empty_is_rejected_naming_the_header_it_needs(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("")
    with pytest.raises(TaskError, match="train.csv: empty file; .*header source,question,answer,rating"):
        read_csv(path)


@pytest.mark.parametrize("rows, line", [([GOOD, f"s,{EASY_PUZZLE},{EASY_SOLUTION},1,extra"], 3),
                                        ([f"s,{EASY_PUZZLE},{EASY_SOLUTION},1,extra", GOOD], 2),
                                        ([f"extra,s,{EASY_PUZZLE},{EASY_SOLUTION},1"], 2)],
                         ids=["extra last field", "extra field on the first row", "extra first field"])
def test_sudoku_csv_row_with_an_extra_field_is_rejected_naming_the_line(tmp_path, rows, line):
    with pytest.raises(TaskError, match=f"train.csv, line {line}: expected 4 columns, got 5 fields"):
        read_csv(write(tmp_path, rows))


def test_sudoku_csv_row_with_too_few_fields_is_rejected_naming_the_line(tmp_path):
    with pytest.raises(TaskError, match="train.csv, line 3: expected 4 columns, got 3 fields"):
        read_csv(write(tmp_path, [GOOD, f"s,{EASY_PUZZLE},{EASY_SOLUTION}"]))


def test_sudoku_csv_trailing_comma_is_named_as_an_extra_empty_field(tmp_path):
    with pytest.raises(TaskError, match="line 3: expected 4 columns, got 5 fields: the last is empty, from a trailing"):
        read_csv(write(tmp_path, [GOOD, GOOD + ","]))


def test_sudoku_csv_ratings_above_2_to_the_31_are_kept_exact_as_int64(tmp_path):
    ratings = [2**31 + 5, 2**53 + 1, 10**18 - 1]
    records = read_csv(write(tmp_path, [f"s,{EASY_PUZZLE},{EASY_SOLUTION},{r}" for r in ratings]))
    assert records.ratings.dtype == np.int64 and records.ratings.tolist() == ratings


@pytest.mark.parametrize("rating, reason", [(str(10**19), "has more than 18 digits"), ("1.5", "is not a whole number"),
                                            ("-1", "is not a whole number"), ("", "is not a whole number")])
def test_sudoku_csv_rating_that_is_not_a_whole_number_of_at_most_18_digits_is_rejected(tmp_path, rating, reason):
    with pytest.raises(TaskError, match=f"line 3: rating '{rating}' {reason}"):
        read_csv(write(tmp_path, [GOOD, f"s,{EASY_PUZZLE},{EASY_SOLUTION},{rating}"]))


def test_sudoku_csv_that_is_not_utf8_is_rejected_naming_the_line(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes((HEADER + GOOD + "\n").encode() + b"s\xff," + f"{EASY_PUZZLE},{EASY_SOLUTION},0\n".encode())
    with pytest.raises(TaskError, match=r"train.csv, line 3: not UTF-8 text \(byte 0xff\)"):
        read_csv(path)


@pytest.mark.parametrize("header, detail", [("source,question,answer\n", "missing rating"),
                                            ("source,puzzle,solution,rating\n",
                                             "missing question, answer; unexpected 'puzzle', 'solution'")])
def test_sudoku_csv_header_with_a_missing_or_renamed_column_names_it(tmp_path, header, detail):
    with pytest.raises(TaskError, match=f"line 1: header must be source,question,answer,rating, .*{detail}"):
        read_csv(write(tmp_path, [GOOD], header=header))


def test_sudoku_csv_blank_lines_are_skipped_and_later_lines_keep_their_numbers(tmp_path):
    assert len(read_csv(write(tmp_path, [GOOD, "", GOOD])).ratings) == 2
    with pytest.raises(TaskError, match="line 4: question has 80 characters"):
        read_csv(write(tmp_path, [GOOD, "", f"s,{EASY_PUZZLE[:-1]},{EASY_SOLUTION},0"]))
