"""The shared CSV reader of the paper's data files: structure faults named by file and line, fields exact."""

import numpy as np
import pytest

from tasks.base import TaskError
from tasks.csv_table import read_table

COLUMNS = ("name", "code", "count")


def _write(tmp_path, text: str | bytes):
    path = tmp_path / "table.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _read(path, **options):
    return list(read_table(path, COLUMNS, kind="test CSV", what="test", **options))


def _column(blocks, name):
    return [block.text(name, row) for block in blocks for row in range(len(block))]


def test_a_missing_file_is_rejected_naming_it(tmp_path):
    with pytest.raises(TaskError, match="absent.csv: no such test CSV file"):
        _read(tmp_path / "absent.csv")


def test_a_folder_in_place_of_the_file_is_rejected_saying_so(tmp_path):
    with pytest.raises(TaskError, match="no such test CSV file .it is a folder"):
        _read(tmp_path)


def test_an_empty_file_is_rejected_naming_the_expected_header(tmp_path):
    with pytest.raises(TaskError, match="table.csv: empty file; .*header name,code,count"):
        _read(_write(tmp_path, ""))


def test_a_header_without_rows_is_rejected_saying_there_are_no_rows(tmp_path):
    with pytest.raises(TaskError, match=r"table.csv: no test rows \(only a header\)"):
        _read(_write(tmp_path, "name,code,count\n\n"))


@pytest.mark.parametrize("header, detail", [("name,code", "missing count"),
                                            ("name,key,count", "missing code; unexpected 'key'"),
                                            ("code,name,count", "the same names in another order")])
def test_a_header_with_other_columns_names_the_missing_and_unexpected_ones(tmp_path, header, detail):
    with pytest.raises(TaskError, match=f"line 1: header must be name,code,count, got '{header}' .{detail}"):
        _read(_write(tmp_path, f"{header}\na,b,1\n"))


@pytest.mark.parametrize("rows, line, fields", [("a,b,1,x\nc,d,2\n", 2, 4), ("a,b,1\nc,d,2,x,y\n", 3, 5),
                                                ("x,a,b,1\n", 2, 4)])
def test_a_row_with_extra_fields_is_rejected_naming_the_line_and_the_field_count(tmp_path, rows, line, fields):
    with pytest.raises(TaskError, match=f"line {line}: expected 3 columns, got {fields} fields"):
        _read(_write(tmp_path, "name,code,count\n" + rows))


def test_a_row_with_too_few_fields_is_rejected_naming_the_line_and_the_field_count(tmp_path):
    with pytest.raises(TaskError, match=r"line 3: expected 3 columns, got 2 fields \(the header is name,code,count\)"):
        _read(_write(tmp_path, "name,code,count\na,b,1\nc,2\n"))


def test_a_trailing_comma_is_named_as_an_extra_empty_field(tmp_path):
    with pytest.raises(TaskError, match="line 2: expected 3 columns, got 4 fields: the last is empty, from a trailing"):
        _read(_write(tmp_path, "name,code,count\na,b,1,\n"))


@pytest.mark.parametrize("content, line, reason", [(b"\x89PNG\r\n\x1a\n\x00\x00", 1, "not UTF-8 text .byte 0x89"),
                                                   (b"name,code,count\nb\xe9,c,1\n", 2, "not UTF-8 text .byte 0xe9"),
                                                   (b"name,code,count\na,b,1\na\x00,b,1\n", 3, "a NUL byte")])
def test_a_binary_or_non_utf8_file_is_rejected_naming_the_line(tmp_path, content, line, reason):
    with pytest.raises(TaskError, match=f"table.csv, line {line}: {reason}.*not a test CSV file"):
        _read(_write(tmp_path, content))


def test_blank_lines_are_skipped_and_still_counted_in_line_numbers(tmp_path):
    path = _write(tmp_path, "name,code,count\n\na,b,1\n\nc,d,x\n")
    blocks = _read(path)
    assert _column(blocks, "name") == ["a", "c"] and blocks[0].lines.tolist() == [3, 5]
    with pytest.raises(TaskError, match="line 5: count 'x' is not a whole number"):
        blocks[0].integers("count")


def test_a_byte_order_mark_and_windows_line_ends_are_read(tmp_path):
    blocks = _read(_write(tmp_path, "\ufeffname,code,count\r\na,b,1\r\nc,d,2"))
    assert _column(blocks, "name") == ["a", "c"] and _column(blocks, "count") == ["1", "2"]


def test_quoted_fields_are_unquoted_and_an_unclosed_quote_is_rejected(tmp_path):
    blocks = _read(_write(tmp_path, 'name,code,count\n"a,x","b",1\nc,d,2\n'))
    assert _column(blocks, "name") == ["a,x", "c"] and _column(blocks, "code") == ["b", "d"]
    with pytest.raises(TaskError, match="line 2: bad quoting"):
        _read(_write(tmp_path, 'name,code,count\n"a,b,1\n'))


def test_records_read_in_many_small_blocks_keep_their_line_numbers(tmp_path):
    rows = "".join(f"n{i},c{i},{i}\n" for i in range(200))
    blocks = _read(_write(tmp_path, "name,code,count\n" + rows), block_bytes=64)
    assert len(blocks) > 10
    assert np.concatenate([b.lines for b in blocks]).tolist() == list(range(2, 202))
    assert np.concatenate([b.integers("count") for b in blocks]).tolist() == list(range(200))


def test_a_line_too_long_for_any_record_is_rejected_without_reading_it_all(tmp_path, monkeypatch):
    monkeypatch.setattr("tasks.csv_table.MAX_LINE_BYTES", 100)
    with pytest.raises(TaskError, match="line 3: longer than 100 bytes"):
        _read(_write(tmp_path, "name,code,count\na,b,1\n" + "x" * 500), block_bytes=64)


def test_integers_are_exact_as_int64_and_more_than_18_digits_are_rejected(tmp_path):
    big = 2**59 + 1  # 18 digits, far beyond int32 and float64 precision
    blocks = _read(_write(tmp_path, f"name,code,count\na,b,{big}\nc,d,{2**31}\n"))
    assert blocks[0].integers("count").tolist() == [big, 2**31] and blocks[0].integers("count").dtype == np.int64
    with pytest.raises(TaskError, match="line 2: count '1234567890123456789' has more than 18 digits"):
        _read(_write(tmp_path, "name,code,count\na,b,1234567890123456789\n"))[0].integers("count")


@pytest.mark.parametrize("value", ["1.5", "-1", "", " 7", "1e3", "0x10"])
def test_a_field_that_is_not_a_whole_number_is_rejected_naming_the_line(tmp_path, value):
    blocks = _read(_write(tmp_path, f"name,code,count\na,b,1\nc,d,{value}\n"))
    with pytest.raises(TaskError, match=f"line 3: count '{value}' is not a whole number"):
        blocks[0].integers("count")


def test_fixed_width_fields_are_measured_in_characters_and_checked_against_their_alphabet(tmp_path):
    blocks = _read(_write(tmp_path, "name,code,count\na,abc,1\nb,ab\u00e9,2\nc,abcd,3\n"))
    with pytest.raises(TaskError, match="line 4: code has 4 characters, expected 3"):
        blocks[0].characters("code", 3, "abc")
    with pytest.raises(TaskError, match="line 3: code has the bad character 'é'"):
        _read(_write(tmp_path, "name,code,count\na,abc,1\nb,ab\u00e9,2\n"))[0].characters("code", 3, "abc")
    codes = _read(_write(tmp_path, "name,code,count\na,abc,1\nb,cab,2\n"))[0].characters("code", 3, "abc")
    assert codes.tolist() == [list(b"abc"), list(b"cab")]


def test_records_can_be_named_by_row_number_instead_of_line(tmp_path):
    with pytest.raises(TaskError, match=r"table.csv row 2: expected 3 columns"):
        _read(_write(tmp_path, "name,code,count\n\na,b,1\nc\n"), numbering="row")
