"""tasks.values.parse_value: command-line strings and values written in code, to a field's declared type."""

from typing import Literal

import pytest

from tasks.base import TaskError
from tasks.values import parse_value


@pytest.mark.parametrize("raw, value", [("true", True), ("False", False), ("YES", True), ("no", False),
                                        ("on", True), ("Off", False), ("1", True), ("0", False), (" true ", True),
                                        (True, True), (False, False)])
def test_booleans_from_every_spelling_in_any_case(raw, value):
    assert parse_value("f", bool, raw) is value


@pytest.mark.parametrize("hint, raw, value", [(int, "42", 42), (int, "-3", -3), (int, 7, 7), (float, "0.25", 0.25),
                                              (float, "1e-3", 1e-3), (float, "2", 2.0), (float, 0.5, 0.5),
                                              (str, "abc", "abc"), (str, "", "")])
def test_numbers_and_strings(hint, raw, value):
    parsed = parse_value("f", hint, raw)
    assert parsed == value and type(parsed) is hint


def test_an_int_written_in_code_is_accepted_for_a_float_and_becomes_one():
    assert type(parse_value("f", float, 3)) is float


@pytest.mark.parametrize("raw", ["none", "None", "NULL", None])
def test_optional_fields_take_none_from_none_or_null(raw):
    assert parse_value("f", int | None, raw) is None


def test_optional_fields_otherwise_parse_their_type():
    assert parse_value("f", int | None, "5") == 5
    assert parse_value("f", str | None, "x") == "x"


def test_literal_fields_take_one_of_their_values():
    assert parse_value("f", Literal["fixed", "act"], "act") == "act"
    assert parse_value("f", Literal[1, 2, 4], "4") == 4
    assert parse_value("f", Literal[1, 2, 4], 2) == 2


@pytest.mark.parametrize("raw, value", [("1,2,8", (1, 2, 8)), (" 1, 2 ,", (1, 2)), ("", ()), ((1, 2), (1, 2)),
                                        ([3], (3,))])
def test_tuples_from_comma_separated_text_or_a_tuple_or_list(raw, value):
    assert parse_value("f", tuple[int, ...], raw) == value


def test_tuple_items_take_the_item_type():
    assert parse_value("f", tuple[float, ...], "1,0.5") == (1.0, 0.5)
    assert parse_value("f", tuple[str, ...], "a, b") == ("a", "b")


BOOLEAN = "a boolean (true/false, yes/no, on/off, 1/0)"


@pytest.mark.parametrize("hint, raw, expected", [
    (bool, "maybe", BOOLEAN), (bool, "", BOOLEAN), (bool, 1, BOOLEAN),
    (int, "tall", "an integer"), (int, "2.5", "an integer"), (int, 2.5, "an integer"), (int, True, "an integer"),
    (int, None, "an integer"),
    (float, "fast", "a finite number"), (float, "inf", "a finite number"), (float, "nan", "a finite number"),
    (float, float("inf"), "a finite number"), (float, "1,2", "a finite number"), (float, False, "a finite number"),
    (str, 5, "a string"),
    (int | None, "nothing", "an integer"),
    (Literal["fixed", "act"], "ACT", "one of fixed, act"), (Literal["fixed", "act"], 1, "one of fixed, act"),
    (Literal[1, 2], True, "one of 1, 2"), (Literal[1, 2], "3", "one of 1, 2"),
    (tuple[int, ...], 5, "comma-separated values or a tuple"),
])
def test_a_bad_value_is_one_task_error_naming_the_label_what_was_expected_and_the_value(hint, raw, expected):
    with pytest.raises(TaskError) as error:
        parse_value("MazeConfig.height", hint, raw)
    assert str(error.value) == f"MazeConfig.height: expected {expected}, got {raw!r}"


def test_a_bad_tuple_item_is_named_in_the_error():
    with pytest.raises(TaskError, match=r"^memory.T_values: expected an integer, got 'x'$"):
        parse_value("memory.T_values", tuple[int, ...], "1,x")


@pytest.mark.parametrize("hint", [dict[str, int], int | str | None, int | str, tuple[int, int], list[int]])
def test_a_type_that_cannot_be_set_is_a_task_error_naming_it(hint):
    with pytest.raises(TaskError, match="f: a field of type .* cannot be set"):
        parse_value("f", hint, "1")
