"""Reading the paper's CSV data files (Sudoku-Extreme, Maze-Hard), validated where they are read.

Both formats are a header line naming the columns, then one record per line. No valid field of either holds
a comma, a quote or a line break, so this reader splits the raw bytes itself, a block of whole lines at a
time, with numpy over each block (no Python loop over rows: the Sudoku training file has 3.8M). That keeps
every record tied to its physical line, which a general CSV parser loses: pandas, for one, drops blank
lines, turns the first column into an index when the first row has one field too many (shifting every
column by one, so a solution is read as the puzzle), and pads a short row with empty fields. Lines that do
hold a double quote (from a writer that quotes every field) are split by the csv module, one such line at a
time; a quoted field may not span lines.

Every fault is one TaskError naming the file, the line (or record) and what was expected: a missing, empty
or non-UTF-8 (binary) file, a header with other column names, a record with too many or too few fields (a
trailing comma is named as such), no record after the header and, through `Rows`, a field of the wrong
length, a character outside its alphabet, or a number that is not a whole number. Blank lines hold no
record and are skipped (line numbers still count them); a UTF-8 byte-order mark and CRLF line ends are read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tasks.base import TaskError

BLOCK_BYTES = 1 << 24  # read at a time (about 95k Sudoku rows): bounds memory on the 650 MB training file
MAX_LINE_BYTES = 1 << 20  # no record of these formats comes near this; a longer line is reported, not buffered
MAX_DIGITS = 18  # whole numbers of up to 18 digits fit int64 exactly
_NEWLINE, _RETURN, _COMMA, _QUOTE = (ord(c) for c in "\n\r,\"")
_BOM = b"\xef\xbb\xbf"
Numbering = Literal["line", "row"]  # a record is named by its physical line (header = 1) or its record number


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _where(path: Path, numbering: Numbering, line: int, number: int) -> str:
    return f"{path} row {number}" if numbering == "row" else f"{path}, line {line}"


@dataclass(frozen=True)
class Rows:
    """A block of consecutive records of one file; each field is a byte range of `buffer` (UTF-8).

    lines:   [rows] physical line of each record (the header is line 1)
    numbers: [rows] record number (the first record after the header is 1)
    starts, lengths: column -> [rows] byte offset into `buffer` and byte length of the field
    tails:   [len(buffer) + 1] UTF-8 continuation bytes before each offset (None when the block is ASCII),
             so that a field's length in characters is its bytes less the continuation bytes in it
    """

    path: Path
    numbering: Numbering
    lines: np.ndarray
    numbers: np.ndarray
    buffer: np.ndarray
    starts: dict[str, np.ndarray]
    lengths: dict[str, np.ndarray]
    tails: np.ndarray | None

    def __len__(self) -> int:
        return len(self.lines)

    def where(self, row: int) -> str:
        """The file and line (or record number) of record `row` of this block, for messages."""
        return _where(self.path, self.numbering, int(self.lines[row]), int(self.numbers[row]))

    def text(self, column: str, row: int) -> str:
        start = self.starts[column][row]
        return bytes(self.buffer[start:start + self.lengths[column][row]]).decode()

    def characters(self, column: str, width: int, alphabet: str) -> np.ndarray:
        """[rows, width] uint8 codes of `column`, whose every field must be `width` characters of `alphabet`
        (ASCII); TaskError naming the first record with another length or a character outside it."""
        starts, lengths = self.starts[column], self.lengths[column]
        chars = lengths if self.tails is None else lengths - (self.tails[starts + lengths] - self.tails[starts])
        wrong = np.flatnonzero(chars != width)
        if len(wrong):
            raise TaskError(f"{self.where(wrong[0])}: {column} has {chars[wrong[0]]} characters, expected {width}")
        wide = np.flatnonzero(lengths != width)  # a non-ASCII character takes more than one byte
        if len(wide):
            self._bad_character(column, int(wide[0]), alphabet)
        codes = sliding_window_view(self.buffer, width)[starts]
        allowed = np.zeros(256, dtype=bool)
        allowed[list(alphabet.encode("ascii"))] = True
        bad = np.flatnonzero(~allowed[codes].all(axis=1))
        if len(bad):
            self._bad_character(column, int(bad[0]), alphabet)
        return codes

    def _bad_character(self, column: str, row: int, alphabet: str) -> None:
        char = next(c for c in self.text(column, row) if c not in alphabet)
        raise TaskError(f"{self.where(row)}: {column} has the bad character {char!r} (allowed: {alphabet!r})")

    def integers(self, column: str) -> np.ndarray:
        """[rows] int64 values of `column`, whose every field must be a whole number written in 1 to
        MAX_DIGITS digits 0-9 (exact: no float on the way); TaskError naming the first record otherwise."""
        starts, lengths = self.starts[column], self.lengths[column]
        places = np.arange(MAX_DIGITS)
        inside = places < lengths[:, None]
        digits = self.buffer[np.minimum(starts[:, None] + places, len(self.buffer) - 1)].astype(np.int64) - ord("0")
        ok = (lengths >= 1) & (lengths <= MAX_DIGITS) & (((digits >= 0) & (digits <= 9)) | ~inside).all(axis=1)
        bad = np.flatnonzero(~ok)
        if len(bad):
            text = self.text(column, int(bad[0]))
            reason = (f"has more than {MAX_DIGITS} digits" if text.isascii() and text.isdigit()
                      else "is not a whole number (digits 0-9 only)")
            raise TaskError(f"{self.where(bad[0])}: {column} {_clip(text)!r} {reason}")
        powers = np.where(inside, 10 ** np.clip(lengths[:, None] - 1 - places, 0, None), 0)
        return (digits * powers).sum(axis=1)


def read_table(
    path: Path,
    columns: Sequence[str],
    *,
    kind: str,
    what: str,
    numbering: Numbering = "line",
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[Rows]:
    """The records of the CSV file `path`, whose header must be `columns`, a block of lines at a time.

    kind names the file in messages ("Sudoku CSV"), what names one record ("puzzle"); see the module
    docstring for what is checked. The file is read lazily: a fault is raised when its block is reached.
    """
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"{path}: no such {kind} file" + (" (it is a folder)" if path.is_dir() else ""))
    try:
        handle = path.open("rb")
    except OSError as error:
        raise TaskError(f"{path}: cannot read this {kind} file ({error.strerror or error})") from None
    with handle:
        yield from _blocks(handle, path, list(columns), kind, what, numbering, block_bytes)


def _blocks(handle: BinaryIO, path: Path, columns: list[str], kind: str, what: str, numbering: Numbering,
            block_bytes: int) -> Iterator[Rows]:
    pending, line, records, header_read = b"", 1, 0, False
    while True:
        try:
            data = handle.read(block_bytes)
        except OSError as error:
            raise TaskError(f"{path}: cannot read this {kind} file ({error.strerror or error})") from None
        block = pending + data
        if data:  # keep the unfinished last line for the next block
            cut = block.rfind(b"\n") + 1
            block, pending = block[:cut], block[cut:]
            if len(pending) > MAX_LINE_BYTES:
                long_line = line + block.count(b"\n")
                _check_text(pending, path, long_line, kind)
                raise TaskError(f"{path}, line {long_line}: longer than {MAX_LINE_BYTES} bytes; not a {kind} file")
            if not block:
                continue
        if not header_read:
            if not block:
                raise TaskError(f"{path}: empty file; a {kind} file starts with the header {','.join(columns)}")
            block = block.removeprefix(_BOM)
            _check_text(block, path, line, kind)
            end = block.find(b"\n")
            _check_header(block[: end if end >= 0 else len(block)], path, columns)
            block, line, header_read = (block[end + 1:] if end >= 0 else b""), line + 1, True
        else:
            _check_text(block, path, line, kind)
        if block:
            rows = _split(block, path, columns, numbering, line, records)
            line += block.count(b"\n") + (not block.endswith(b"\n"))
            records += len(rows)
            if len(rows):
                yield rows
        if not data:
            break
    if records == 0:
        raise TaskError(f"{path}: no {what} rows (only a header)")


def _check_text(block: bytes, path: Path, line: int, kind: str) -> None:
    """TaskError naming the line of the first byte that is not UTF-8 text, or of a NUL byte (a binary file)."""
    try:
        block.decode("utf-8")
        at = block.find(b"\0")
        reason = "a NUL byte"
    except UnicodeDecodeError as error:
        at = error.start
        reason = f"not UTF-8 text (byte 0x{block[at]:02x})"
    if at >= 0:
        line += block.count(b"\n", 0, at)
        raise TaskError(f"{path}, line {line}: {reason}; a binary or differently encoded file, not a {kind} file")


def _check_header(raw: bytes, path: Path, columns: list[str]) -> None:
    text = raw.decode().removesuffix("\r")
    names = [name.strip() for name in next(csv.reader([text]), [])]
    if names == columns:
        return
    missing = [c for c in columns if c not in names]
    unexpected = [n for n in names if n not in columns]
    detail = "; ".join(part for part in (missing and f"missing {', '.join(missing)}",
                                         unexpected and f"unexpected {', '.join(map(repr, unexpected))}") if part)
    raise TaskError(f"{path}, line 1: header must be {','.join(columns)}, got {_clip(text)!r} "
                    f"({detail or 'the same names in another order'})")


def _split(block: bytes, path: Path, columns: list[str], numbering: Numbering, first_line: int,
           records_before: int) -> Rows:
    """Block (whole lines, UTF-8) -> its records with every field's byte range; TaskError for a wrong field count."""
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == _NEWLINE)
    if not block.endswith(b"\n"):
        ends = np.append(ends, len(data))
    starts = np.concatenate([[0], ends[:-1] + 1])
    lines = first_line + np.arange(len(starts))
    stops = ends - ((ends > starts) & (data[np.maximum(ends - 1, 0)] == _RETURN))
    filled = stops > starts  # blank lines hold no record
    starts, stops, lines = starts[filled], stops[filled], lines[filled]
    numbers = records_before + 1 + np.arange(len(starts))
    commas = np.flatnonzero(data == _COMMA)
    fields = np.searchsorted(commas, stops) - np.searchsorted(commas, starts) + 1
    quotes = np.flatnonzero(data == _QUOTE)
    quoted = np.flatnonzero(np.searchsorted(quotes, stops) > np.searchsorted(quotes, starts))
    parsed = {}
    for row in quoted:  # rare: neither format needs quotes
        try:
            parsed[row] = next(csv.reader([block[starts[row]:stops[row]].decode()], strict=True))
        except csv.Error as error:
            where = _where(path, numbering, int(lines[row]), int(numbers[row]))
            raise TaskError(f"{where}: bad quoting ({error}; a quoted field must end on its own line)") from None
        fields[row] = len(parsed[row])
    wrong = np.flatnonzero(fields != len(columns))
    if len(wrong):
        row = wrong[0]
        where = _where(path, numbering, int(lines[row]), int(numbers[row]))
        message = f"{where}: expected {len(columns)} columns, got {fields[row]} fields"
        if fields[row] > len(columns) and data[stops[row] - 1] == _COMMA and row not in parsed:
            raise TaskError(f"{message}: the last is empty, from a trailing comma")
        raise TaskError(f"{message} (the header is {','.join(columns)})")
    plain = np.ones(len(starts), dtype=bool)
    plain[quoted] = False
    cuts = commas[plain[np.searchsorted(starts, commas, side="right") - 1]].reshape(int(plain.sum()), len(columns) - 1)
    field_starts = np.empty((len(starts), len(columns)), dtype=np.int64)
    field_ends = np.empty_like(field_starts)
    field_starts[plain] = np.concatenate([starts[plain, None], cuts + 1], axis=1)
    field_ends[plain] = np.concatenate([cuts, stops[plain, None]], axis=1)
    buffer = data
    if parsed:  # quoted records: their unquoted fields are appended to the buffer
        extra, offset = bytearray(), len(data)
        for row, values in parsed.items():
            for k, value in enumerate(values):
                encoded = value.encode()
                field_starts[row, k], field_ends[row, k] = offset + len(extra), offset + len(extra) + len(encoded)
                extra += encoded
        buffer = np.concatenate([data, np.frombuffer(bytes(extra), dtype=np.uint8)])
    tails = None
    if len(buffer) and buffer.max() >= 0x80:
        tails = np.concatenate([[0], np.cumsum((buffer & 0xC0) == 0x80, dtype=np.int32)])
    return Rows(path, numbering, lines, numbers, buffer,
                {name: field_starts[:, k] for k, name in enumerate(columns)},
                {name: field_ends[:, k] - field_starts[:, k] for k, name in enumerate(columns)}, tails)
