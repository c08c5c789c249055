"""A file of numbers as records: CSV (its delimiter sniffed, read in blocks) or an Excel sheet
(streamed), each record with its row number; the file's digest; its rows copied as it holds them."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import BadFile

MAX_CELL_BYTES = 128 * 1024  # no list of numbers holds such a cell: it is a broken quote or the wrong file


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- records: (row number, list of cell strings), streamed -------------------------------


def _excel_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    handle = open(path, "rb")  # a file object: openpyxl then ignores the name's extension
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # a zip that is no workbook fails in many ways inside openpyxl
        handle.close()
        raise BadFile(
            f"{path} looks like an Excel file but cannot be opened ({type(exc).__name__}): "
            "open it in Excel and save it again as .xlsx, or export it as CSV UTF-8."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_excel_cell(v) for v in values]
            if "".join(cells).strip():  # blank rows skipped, as in a CSV
                yield number, cells
    finally:
        workbook.close()
        handle.close()


def _excel_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 6591234567 typed as a number comes back as 6591234567.0
    return str(value)


def _sniff_delimiter(sample: str) -> str:
    lines = "\n".join(sample.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(lines, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: lines.count(d) for d in ",;\t"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv_records(path: Path, head: bytes) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    try:
        sample = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sample's end
            raise BadFile(f"{path} is not UTF-8 text (byte {exc.start}): save it as CSV UTF-8 and try again.") from None
        sample = head[: exc.start].decode("utf-8-sig")
    delimiter = _sniff_delimiter(sample)
    return delimiter, _csv_file_records(path, delimiter)


def _csv_file_records(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    blank = _WHITESPACE + delimiter

    def records_of(block):
        if isinstance(block, _Lines):  # one list a block: no Python call a record
            return [(n, line.split(delimiter)) for n, line in enumerate(block.lines, block.first) if line.strip(blank)]
        return block

    return chain.from_iterable(records_of(block) for block in _csv_blocks(path, delimiter))


# A CSV is read a chunk (a MiB of text, cut at a line end) at a time. A chunk without a quote
# character is split at line ends and delimiters by str methods, one C call a line: exactly the
# csv module's records there (its default dialect treats only quotes specially; \r, \n and \r\n
# end a record), about three times faster. From the first chunk with a quote, a NUL or a line
# longer than the cell limit, the csv module reads the rest (quoted cells may span lines, and it
# words the errors). tests/test_bulk_files.py compares the two on generated files.
CHUNK_CHARS = 1 << 20


_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # what str.strip() removes


@dataclass
class _Lines:
    """A run of a CSV with no quote in it: each line one record."""

    first: int  # the record number of lines[0] (the file's first record is 1)
    lines: list[str]


def _csv_blocks(path: Path, delimiter: str) -> Iterator[_Lines | Iterator[tuple[int, list[str]]]]:
    """The file as _Lines runs, then, from the first chunk the str methods cannot read, the csv
    module's (record number, cells) records of the rest, blank records skipped."""
    csv.field_size_limit(MAX_CELL_BYTES)
    number = 0  # records before this chunk
    with open(path, encoding="utf-8-sig", newline="") as handle:
        while True:
            try:
                chunk = handle.read(CHUNK_CHARS)
                if chunk and not chunk.endswith("\n"):
                    chunk += handle.readline()  # to the line's end (a \r\n cut in two is made whole)
            except UnicodeDecodeError as exc:
                raise BadFile(
                    f"{path} is not UTF-8 text (after row {number}, byte {exc.start} of a block): save it "
                    "as CSV UTF-8 and try again."
                ) from None
            if not chunk:
                return
            lines = chunk.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if lines[-1] == "":
                lines.pop()  # the chunk ended at a line end
            if '"' in chunk or "\x00" in chunk or max(map(len, lines)) > MAX_CELL_BYTES:
                yield _csv_module_records(path, chain(io.StringIO(chunk, newline=""), handle), delimiter, number)
                return
            yield _Lines(number + 1, lines)
            number += len(lines)


def _csv_module_records(
    path: Path, lines: Iterator[str], delimiter: str, before: int
) -> Iterator[tuple[int, list[str]]]:
    """The csv module's records of ``lines`` (the file after its first ``before`` lines, each of
    which was one record), blank ones skipped; a file it cannot read is BadFile."""
    number = before
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        for number, record in enumerate(reader, start=before + 1):
            if "".join(record).strip():  # one C call a record
                yield number, record
    except csv.Error as exc:
        where = f"row {number + 1} (line {before + reader.line_num})"
        if "field larger than field limit" in str(exc):
            raise BadFile(
                f"{path}: {where} has a cell longer than {MAX_CELL_BYTES // 1024} KiB. A list of "
                'numbers never does: usually a quote (") that is never closed. Fix that row '
                "and try again."
            ) from None
        if "NUL" in str(exc):
            raise BadFile(
                f"{path} looks binary (a NUL byte at {where}): export it as CSV (UTF-8) and try again."
            ) from None
        raise BadFile(f"{path}: {where} is not valid CSV ({exc}): fix it and try again.") from None
    except UnicodeDecodeError as exc:
        raise BadFile(
            f"{path} is not UTF-8 text (after row {number}, byte {exc.start} of a block): save it "
            "as CSV UTF-8 and try again."
        ) from None


def _open_records(path: Path) -> tuple[str | None, Iterator[tuple[int, list[str]]]]:
    if not path.is_file():
        raise BadFile(f"{path} does not exist{' (it is a folder)' if path.is_dir() else ''}: check the path.")
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise BadFile(f"{path} cannot be read ({exc.strerror}): check its permissions.") from None
    if not head.strip():
        raise BadFile(f"{path} is empty: expected a CSV or Excel file with a column of phone numbers.")
    if head.startswith(b"PK\x03\x04"):
        return None, _excel_records(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise BadFile(
            f"{path} is an old Excel (.xls) file or a password-protected workbook: save it without a "
            "password as .xlsx (Excel workbook) or as CSV UTF-8."
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # its NUL bytes are no sign of a binary file
        raise BadFile(
            f"{path} is UTF-16 text (what Excel saves as 'Unicode Text'): save it as 'CSV UTF-8' and try again."
        )
    if b"\x00" in head:
        raise BadFile(f"{path} looks binary (it contains NUL bytes): export it as CSV (UTF-8) and try again.")
    return _csv_records(path, head)


def file_records(path: str | Path) -> tuple[str | None, Iterator[tuple[int, list[str]]]]:
    """(delimiter or None for Excel, the file's (row number, cells) records), blank rows skipped: what
    open_numbers reads."""
    return _open_records(Path(path))


def copy_records(path: str | Path, handle: IO[str], drop: set[int], delimiter: str | None) -> int:
    """Write the records of a file read before (``delimiter`` as its Numbers has it: None for Excel)
    to ``handle`` (text), blank ones and those numbered in ``drop`` left out, each as the file holds
    it: a CSV's line as written, an Excel row as CSV. Answers how many records were written. (The
    audience's send list: the file's own rows, for the sending tool.)"""
    path = Path(path)
    writer = csv.writer(handle, delimiter=delimiter or ",")
    blocks: Iterable[_Lines | Iterator[tuple[int, list[str]]]]
    if delimiter is None:
        blocks = [_excel_records(path)]
    else:
        blocks = _csv_blocks(path, delimiter)
        blank = _WHITESPACE + delimiter
        keep = np.ones(max(drop, default=0) + 2, dtype=bool)  # by record number
        keep[np.fromiter(drop, dtype=np.int64, count=len(drop))] = False
    written = 0
    for block in blocks:
        if isinstance(block, _Lines):
            kept = keep[block.first : block.first + len(block.lines)].tolist()
            kept += [True] * (len(block.lines) - len(kept))
            lines = [line for line, ok in zip(block.lines, kept) if ok and line.strip(blank)]
            if lines:  # the csv module would write each line so (no cell of it needs a quote): \r\n after each
                handle.write("\r\n".join(lines) + "\r\n")
            written += len(lines)
            continue
        for number, cells in block:
            if number not in drop:
                writer.writerow(cells)
                written += 1
    return written
