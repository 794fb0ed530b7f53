"""The paper's Maze-Hard CSV format: a fixture in the exact format, round trips, and row-level errors."""

import numpy as np
import pytest
from maze_fixtures import ROOM, SNAKE, SNAKE_SOLVED, grid

from tasks.base import TaskError
from tasks.maze.csv_format import read_maze_csv, write_maze_csv

HEADER = "source,question,answer,rating\n"
SNAKE_ROW = f"lehnert,{''.join(SNAKE)},{''.join(SNAKE_SOLVED)},16\n"


def _write(tmp_path, *rows, header=HEADER):
    path = tmp_path / "train.csv"
    path.write_text(header + "".join(rows))
    return path


def test_reads_a_fixture_in_the_papers_format(tmp_path):
    inputs, labels, lengths = read_maze_csv(_write(tmp_path, SNAKE_ROW, SNAKE_ROW), 5, 5)
    np.testing.assert_array_equal(inputs, np.stack([grid(SNAKE)] * 2))
    np.testing.assert_array_equal(labels, np.stack([grid(SNAKE_SOLVED)] * 2))
    assert lengths.tolist() == [16, 16]


def test_write_then_read_round_trips(tmp_path):
    inputs = np.stack([grid(ROOM), grid(ROOM)])
    labels = np.stack([grid(["Soo", "  o", "  G"]), grid(["S  ", "o  ", "ooG"])])
    path = write_maze_csv(tmp_path / "test.csv", inputs, labels)
    assert path.read_text().split("\n")[1] == f"generated,{''.join(ROOM)},Soo  o  G,4"
    read_inputs, read_labels, lengths = read_maze_csv(path, 3, 3)
    np.testing.assert_array_equal(read_inputs, inputs)
    np.testing.assert_array_equal(read_labels, labels)
    assert lengths.tolist() == [4, 4]


def _bad(question, answer):
    return f"x,{''.join(question)},{''.join(answer)},0\n"


@pytest.mark.parametrize(
    "row, message",
    [
        (_bad([" " * 5] + SNAKE[1:], [" " * 5] + SNAKE[1:]), "exactly one S"),
        (_bad(SNAKE[:4] + ["     "], SNAKE[:4] + ["     "]), "exactly one G"),
        (_bad(["SS   "] + SNAKE[1:], ["SS   "] + SNAKE[1:]), "exactly one S, has 2"),
        (_bad(SNAKE + [" "], SNAKE_SOLVED), "question has 26 characters, expected 25"),
        (_bad(SNAKE, SNAKE_SOLVED[:4]), "answer has 20 characters"),
        (_bad(["S  x "] + SNAKE[1:], SNAKE_SOLVED), "character 'x'"),
        (_bad(SNAKE, ["Soooo", "####o", "ooooo", "o####", "oo oG"]), "not the question plus a shortest path"),
        (_bad(SNAKE, ["Soooo", "###oo", "ooooo", "o####", "ooooG"]), "not the question plus a shortest path"),
        (_bad(["S  # ", "#### ", "     ", " ####", "    G"], ["S  # "] + SNAKE[1:]), "G is unreachable"),
        ("x,y\n", "expected 4 columns, got 2"),
    ],
)
def test_a_malformed_row_is_a_task_error_naming_the_row(tmp_path, row, message):
    path = _write(tmp_path, SNAKE_ROW, row)
    with pytest.raises(TaskError, match=f"train.csv row 2: .*{message}"):
        read_maze_csv(path, 5, 5)


def test_a_wrong_header_is_a_task_error(tmp_path):
    with pytest.raises(TaskError, match="header must be source,question,answer,rating"):
        read_maze_csv(_write(tmp_path, SNAKE_ROW, header="q,a\n"), 5, 5)


def test_a_missing_file_is_a_task_error_naming_it(tmp_path):
    with pytest.raises(TaskError, match="no such maze CSV"):
        read_maze_csv(tmp_path / "nope.csv", 5, 5)


@pytest.mark.parametrize("content, message", [
    (b"", "train.csv: empty file"),
    (HEADER.encode(), r"train.csv: no maze rows \(only a header\)"),
    ((HEADER + SNAKE_ROW).encode() + b"\x89PNG\x00\n", r"train.csv, line 3: not UTF-8 text \(byte 0x89\)"),
    ((HEADER + SNAKE_ROW.replace(",16\n", ",16,\n")).encode(),
     "row 1: expected 4 columns, got 5 fields: the last is empty"),
], ids=["empty", "header only", "binary", "trailing comma"])
def test_a_malformed_file_is_a_task_error_naming_the_file_and_fault(tmp_path, content, message):
    path = tmp_path / "train.csv"
    path.write_bytes(content)
    with pytest.raises(TaskError, match=message):
        read_maze_csv(path, 5, 5)


def test_blank_lines_are_skipped_and_rows_keep_their_numbers(tmp_path):
    inputs, _, _ = read_maze_csv(_write(tmp_path, SNAKE_ROW, "\n", SNAKE_ROW), 5, 5)
    assert len(inputs) == 2
    with pytest.raises(TaskError, match="train.csv row 2: question has 24 characters"):
        read_maze_csv(_write(tmp_path, SNAKE_ROW, "\n", _bad(SNAKE[:4] + ["    "], SNAKE_SOLVED)), 5, 5)
