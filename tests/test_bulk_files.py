"""Bulk work, stage 1: reading the files operators really have (CSV of every kind, Excel), streamed,
with every bad file refused by a message that says what to do, and every bad row kept and reported."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from helpers.bulk import BadFile, read_numbers
from helpers.numbers import InvalidNumber, to_e164
from helpers.reports import safe_for_spreadsheets, write_report

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "notebooks" / "data" / "sample_opt_ins.csv"


def write(folder: Path, content: str | bytes, name: str = "numbers.csv") -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,region,expected",
    [
        ("+65 9123 4567", None, "+6591234567"),
        ("0065 9123-4567", None, "+6591234567"),
        ("(9123) 4567", "SG", "+6591234567"),
        ("6591234567", None, "+6591234567"),
        ("+1 (415) 555-0100", None, "+14155550100"),
        ("07911 123456", "GB", "+447911123456"),
        ("+44 7911 123456", None, "+447911123456"),
        ("9123.4567", "sg", "+6591234567"),
        ("\u00a0+65\u00a091234567 ", None, "+6591234567"),
    ],
)
def test_common_formats_normalise_to_e164(raw, region, expected):
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "\u202a+65 9123 4567\u202c",  # as WhatsApp's exports write every number: embedding marks around it
        "\u200b+6591234567",
        "+65\u200d9123\u200b4567",  # zero-width spaces and joiners, pasted from a web page
        "\ufeff+6591234567",
        "\u200e+65 9123 4567\u2069",  # a BOM inside a cell; a left-to-right mark, an isolate's end
        "\uff0b\uff16\uff15\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17",  # full width, as CJK input writes it
        "\uff0b65 9123 4567",
    ],
)
def test_a_number_with_characters_nobody_sees_is_the_number_shown(raw):
    """Each of these shows as +65 9123 4567 in a spreadsheet: it was "not a phone number", so an
    opt-out list exported from WhatsApp could not be imported at all."""
    from helpers.numbers import looks_like_number

    assert to_e164(raw) == "+6591234567" and looks_like_number(raw)


@pytest.mark.parametrize("raw", ["\u202e7654321956+", "\u202e+6591234567", "+65 9123 4567\u200f", "\u202b+6591234567"])
def test_a_right_to_left_control_is_refused_with_its_reason(raw):
    """ "\u202e7654321956+" shows as +6591234567 and holds other digits: such a cell is never read as
    what it shows, nor as what it holds; the report names the character."""
    from helpers.numbers import looks_like_number

    with pytest.raises(InvalidNumber, match=r"right-to-left control \(U\+[0-9A-F]{4}\).*type the number again"):
        to_e164(raw)
    assert not looks_like_number(raw)


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("", "empty"),
        ("call me", "not a phone number"),
        ("+65 123", "not a valid"),
        ("07911 123456", "default region"),
        ("+999 1234567", "unknown country code"),
        # a 0 after the +: the fast path once read it as +20 and kept it as written
        ("+02033123494", "unknown country code"),
    ],
)
def test_invalid_numbers_say_why(raw, reason):
    with pytest.raises(InvalidNumber, match=reason):
        to_e164(raw)


REGIONS = ["SG", "GB", "US", "FR", "IN", "ID", "MY", "JP", "DE", "BR"]


@hsettings(max_examples=200, deadline=None)
@given(st.sampled_from(REGIONS), st.sampled_from(["", " ", "-", "."]), st.sampled_from(["", " ", "\u00a0"]))
def test_any_written_form_gives_the_same_e164(region, sep, pad):
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", sep)
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL).replace(" ", sep)
    assert to_e164(pad + national + pad, region) == e164
    assert to_e164(international) == e164
    assert to_e164("00" + international[1:]) == e164
    assert to_e164(e164[1:]) == e164  # digits alone: international without the +, as 8x8 stores them


# --- CSV layouts -----------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_delimiters_and_bom(tmp_path, delimiter, bom):
    text = (
        delimiter.join(["name", "Mobile", "note"])
        + "\n"
        + delimiter.join(["A", "+65 9123 4567", "x"])
        + "\n"
        + delimiter.join(["B", "+65 9123 4568", "y"])
        + "\n"
    )
    numbers = read_numbers(write(tmp_path, bom + text.encode()))
    assert numbers.column == "Mobile" and numbers.delimiter == delimiter
    assert list(numbers.valid["msisdn"]) == ["+6591234567", "+6591234568"]


MOBILES = [
    phonenumbers.format_number(
        phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.MOBILE),
        phonenumbers.PhoneNumberFormat.E164,
    )
    for r in REGIONS
]


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    delimiter=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    header=st.booleans(),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    extra=st.integers(0, 3),
    position=st.integers(0, 3),
    blank_lines=st.booleans(),
    picks=st.lists(st.sampled_from(MOBILES), min_size=1, max_size=12),
)
def test_any_csv_layout_reads_the_same_numbers(
    tmp_path, delimiter, newline, bom, header, quoting, extra, position, blank_lines, picks
):
    width = extra + 1
    position = min(position, extra)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    if header:
        writer.writerow([("phone" if i == position else f"note {i}") for i in range(width)])
    for n, msisdn in enumerate(picks):
        writer.writerow([(msisdn if i == position else f"name {n}") for i in range(width)])
        if blank_lines and n == 0:
            buffer.write(newline)
    path = write(tmp_path, (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(), "layout.csv")
    numbers = read_numbers(path)
    expected = list(dict.fromkeys(picks))
    assert list(numbers.valid["msisdn"]) == expected
    assert len(numbers.rows) == len(picks)  # every row accounted for: duplicates kept, as duplicates
    assert (numbers.rows["status"] == "duplicate").sum() == len(picks) - len(expected)


def test_old_mac_line_ends(tmp_path):
    numbers = read_numbers(write(tmp_path, b"phone\r+6591234567\r+6591234568\r"))
    assert list(numbers.valid["msisdn"]) == ["+6591234567", "+6591234568"]
    assert list(numbers.rows["row"]) == [2, 3]


def test_headerless_single_column_and_named_column(tmp_path):
    assert list(read_numbers(write(tmp_path, "+6591234567\n+6591234568\n")).valid["row"]) == [1, 2]
    numbers = read_numbers(write(tmp_path, "a,b\n+6591234567,+6591234568\n"), column="B")
    assert list(numbers.valid["msisdn"]) == ["+6591234568"]


def test_sample_file_reports_bad_rows_and_duplicates():
    numbers = read_numbers(SAMPLE, default_region="SG")
    assert numbers.counts() == {"valid": 9, "invalid": 2, "duplicate": 1}
    invalid = numbers.rows[numbers.rows["status"] == "invalid"].set_index("row")["reason"].to_dict()
    assert invalid == {7: "not a phone number", 10: "no number in this row"}


def test_a_bad_row_never_stops_the_good_ones(tmp_path):
    rows = ["phone", "+6591234567", "x" * 5000, "=cmd|' /C calc'!A0", "", "+6591234568", "\u202e+6591234569"]
    numbers = read_numbers(write(tmp_path, "\n".join(rows) + "\n"))
    assert list(numbers.valid["msisdn"]) == ["+6591234567", "+6591234568"]
    bad = numbers.rows[numbers.rows["status"] == "invalid"]
    assert len(bad) == 3 and bad["reason"].str.len().gt(0).all()
    assert bad["input"].str.len().max() <= 65  # a huge cell is cut in the report, not copied whole


def test_national_numbers_mixed_with_international_get_the_region_hint(tmp_path):
    numbers = read_numbers(write(tmp_path, "phone\n+6591234567\n+6591234568\n91234569\n"))
    reason = numbers.rows.set_index("row").at[4, "reason"]
    assert "+6591234569" in reason and "--default-region SG" in reason
    with_region = read_numbers(write(tmp_path, "phone\n+6591234567\n91234569\n"), default_region="SG")
    assert list(with_region.valid["msisdn"]) == ["+6591234567", "+6591234569"]


def test_a_report_can_be_read_back(tmp_path):
    numbers = read_numbers(write(tmp_path, "phone\n+6591234567\n=1+1\n"))
    path = write_report(numbers.rows, tmp_path / "report.csv")
    assert "'+6591234567" in path.read_text()  # formula-safe: Excel would read +659... as a formula
    again = read_numbers(path, column="msisdn")
    assert list(again.valid["msisdn"]) == ["+6591234567"]


@pytest.mark.parametrize("cell", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")'])
def test_report_cells_never_start_a_formula(cell):
    import pandas as pd

    frame = safe_for_spreadsheets(pd.DataFrame({"input": [cell], "reason": [cell]}))
    assert frame.at[0, "input"] == "'" + cell and frame.at[0, "reason"] == "'" + cell


def test_report_columns_of_every_kind_are_written():
    """Columns without strings (all empty, booleans, nullable integers) pass as they are; mixed and
    categorical ones are neutralised cell by cell (the ledger has all of these)."""
    import pandas as pd

    frame = safe_for_spreadsheets(
        pd.DataFrame(
            {
                "mixed": ["=1", "x", None, 3],
                "category": pd.Categorical(["=x", "y", "=x", "y"]),
                "empty": [None] * 4,
                "flag": [True, False, True, False],
                "count": pd.array([1, None, 3, 4], dtype="Int64"),
            }
        )
    )
    assert list(frame["mixed"]) == ["'=1", "x", None, 3] and list(frame["category"]) == ["'=x", "y", "'=x", "y"]
    assert list(frame["empty"]) == [None] * 4 and list(frame["flag"]) == [True, False, True, False]


# --- Excel -----------------------------------------------------------------------------------


def test_excel_workbook(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone", "Country"])
    sheet.append(["Ana", 6591234567, None])  # typed as a number
    sheet.append(["Ben", "+65 9123 4568", None])
    sheet.append(["Cho", "91234569", "SG"])
    sheet.append([None, None, None])
    sheet.append(["Dee", "call me", None])
    book.save(tmp_path / "list.xlsx")
    numbers = read_numbers(tmp_path / "list.xlsx")
    assert numbers.delimiter is None and numbers.column == "Phone"
    assert list(numbers.valid["msisdn"]) == ["+6591234567", "+6591234568", "+6591234569"]
    assert numbers.rows.set_index("row").at[6, "status"] == "invalid"


# --- files that cannot be used: BadFile, with what to do --------------------------------------


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        # Excel's "Unicode Text" is UTF-16: its NUL bytes made it "binary", which says nothing of what to do
        ("name;phone\nA;+6591234567\n".encode("utf-16"), "is UTF-16 text .* save it as 'CSV UTF-8'"),
        ("phone\n+6591234567\n".encode("utf-16-be").join([b"\xfe\xff", b""]), "is UTF-16 text"),
        (b"phone\n\xff\xfe+6591234567\n", "not UTF-8"),
        (b"name,city\nAna,Singapore\nBen,London\n", "no column of phone numbers"),
        (b"phone\nnot a number\nnor this\n", "no row"),
        (b"phone\n", "header row .* but no rows"),
        (b"name,phone\r\n", "header row .* but no rows"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, r"old Excel \(.xls\)"),
        (b"PK\x03\x04 not really a workbook", "cannot be opened"),
        (b'phone\n+6591234567\n"' + b"9" * (130 * 1024) + b"\n", "longer than 128 KiB"),
        (b"phone\n+6591234567\n" + b"+65912345\x0068\n", "binary"),
        (b"phone\n" + b"+6591234567\n" * 5000 + b"\xff\xfe\n", "not UTF-8"),  # past the first block
        # past the reader's first chunk of a MiB, where the quote-free fast path reads
        (b"phone\n" + b"+6591234567\n" * 100_000 + b"\xff\xfe\n", "not UTF-8"),
        (
            b"phone\n" + b"+6591234567\n" * 100_000 + b'"' + b"9" * (130 * 1024) + b"\n",
            "row 100002 .* longer than 128 KiB",
        ),
        (b"phone\n" + b"+6591234567\n" * 100_000 + b"9" * (130 * 1024) + b"\n", "row 100002 .* longer than 128 KiB"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path, content, message):
    with pytest.raises(BadFile, match=message):
        read_numbers(write(tmp_path, content))


def test_a_nul_past_the_files_head_is_one_bad_row(tmp_path):
    """A NUL in the first 64 KiB refuses the file as binary; one further on (past the fast path's
    first chunk, where the csv module reads on) is a bad cell: that row is reported, the rest read."""
    numbers = read_numbers(write(tmp_path, b"phone\n" + b"+6591234567\n" * 100_000 + b"+65912345\x0068\n+6591234568\n"))
    assert numbers.counts() == {"valid": 2, "duplicate": 99_999, "invalid": 1}
    assert numbers.rows.set_index("row").at[100_002, "reason"] == "not a phone number"


def test_missing_file_and_unknown_options(tmp_path):
    with pytest.raises(BadFile, match="does not exist"):
        read_numbers(tmp_path / "nope.csv")
    with pytest.raises(BadFile, match="is a folder"):
        read_numbers(tmp_path)
    with pytest.raises(BadFile, match="columns are: name, phone"):
        read_numbers(write(tmp_path, "name,phone\nA,+6591234567\n"), column="msisdn")
    with pytest.raises(BadFile, match="--default-region 'XX'"):
        read_numbers(write(tmp_path, "phone\n+6591234567\n"), default_region="XX")


def test_reading_in_steps_gives_what_reading_at_once_gives(tmp_path):
    """A bulk run advances the file's reading one step per page of the group (helpers.groups.Steps)."""
    from helpers.bulk.read import STEP_ROWS, open_numbers
    from helpers.concurrency import Steps

    rows = [f"+6590{i:06d}" for i in range(3 * STEP_ROWS + 7)] + ["junk"]
    path = write(tmp_path, "phone\n" + "\n".join(rows) + "\n")
    steps = Steps(open_numbers(path).read_in_steps())
    taken = 0
    while not steps.done:
        steps.step()
        taken += 1
    assert taken >= 4 and steps.finish() is steps.result
    assert steps.result.rows.equals(open_numbers(path).read().rows)
    bad = Steps(open_numbers(write(tmp_path, "phone\njunk\nmore junk\n")).read_in_steps())
    with pytest.raises(BadFile, match="no row of column 'phone' holds a valid phone number"):
        bad.finish()


# --- the quote-free fast path reads exactly what the csv module reads ---------------------------


def _csv_module(path: Path, delimiter: str) -> list:
    """The reference: the csv module over the whole file, as the reader did before its fast path."""
    from helpers.bulk.records import _csv_module_records

    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(_csv_module_records(path, handle, delimiter, 0))


CELLS = st.sampled_from(
    [
        "+6591234567",
        "+65 9123 4567",
        "",
        " ",
        "\t",
        "a b",
        "ÿ",
        "\u2028",
        "\x0c",
        "12",
        "'+44",
        "x\x1cy",
        "\u00a0",
        "=1+2",
    ]
)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    delimiter=st.sampled_from([",", ";", "\t"]),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=4), max_size=30),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=3),
    bom=st.booleans(),
    last_end=st.booleans(),
    chunk=st.sampled_from([1, 7, 64, 1 << 20]),
    quote_at=st.none() | st.integers(0, 29),
)
def test_the_fast_path_reads_the_records_the_csv_module_reads(
    tmp_path, monkeypatch, delimiter, rows, ends, bom, last_end, chunk, quote_at
):
    """Random files (ragged rows, blank and whitespace-only lines, every line end mixed, tiny chunks
    that cut lines and \\r\\n in two, a quote somewhere that hands the rest to the csv module):
    the same records, numbered the same, as the csv module gives."""
    from helpers.bulk import records

    monkeypatch.setattr(records, "CHUNK_CHARS", chunk)
    lines = [delimiter.join(cells) for cells in rows]
    if quote_at is not None and quote_at < len(lines):
        lines[quote_at] = f'"quoted{delimiter} cell"{delimiter}{lines[quote_at]}'
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    if lines and not last_end:
        text = text.rstrip("\r\n")
    path = write(tmp_path, ("\ufeff" if bom else "") + text + "+6591234567\n")
    assert list(records._csv_file_records(path, delimiter)) == _csv_module(path, delimiter)


def _send_list_before(path: Path, drop: set[int]) -> str:
    """The send list as the audience check wrote it before copy_records: every record re-written by csv.writer."""
    from helpers.bulk.records import file_records

    delimiter, records = file_records(path)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter or ",")
    for row, cells in records:
        if row not in drop:
            writer.writerow(cells)
    return out.getvalue()


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=3), min_size=1, max_size=25),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    drop=st.sets(st.integers(1, 26)),
    quote_at=st.none() | st.integers(0, 24),
    chunk=st.sampled_from([5, 1 << 20]),
)
def test_copy_records_writes_what_the_csv_writer_wrote(tmp_path, monkeypatch, rows, end, drop, quote_at, chunk):
    """The send list's rows, copied as the file holds them, are byte for byte what re-writing each
    record with csv.writer gave (no cell of a quote-free line needs a quote), blank lines left out
    as before; from a quote on, the csv module's records are re-written as before."""
    from helpers.bulk import records

    monkeypatch.setattr(records, "CHUNK_CHARS", chunk)
    lines = [",".join(cells) for cells in rows]
    if quote_at is not None and quote_at < len(lines):
        lines[quote_at] = '"a, b",' + lines[quote_at]
    path = write(tmp_path, "phone,name\n" + "".join(line + end for line in lines))
    out = io.StringIO(newline="")
    written = records.copy_records(path, out, drop, records.file_records(path)[0])
    assert out.getvalue() == _send_list_before(path, drop)
    assert written == out.getvalue().count("\r\n")


def test_a_list_exported_from_whatsapp_is_read_whole(tmp_path):
    """WhatsApp writes each number between U+202A and U+202C: every row of such a list was invalid,
    and without a header its column was not even found."""
    cells = ["\u202a+65 9123 4567\u202c", "\u202a+44 7911 123456\u202c", "\u202e+6591234569"]
    numbers = read_numbers(write(tmp_path, "name,phone\n" + "".join(f"n{i},{c}\n" for i, c in enumerate(cells))))
    assert list(numbers.valid["msisdn"]) == ["+6591234567", "+447911123456"]
    assert "right-to-left control (U+202E)" in numbers.rows.set_index("row").at[4, "reason"]
    headerless = read_numbers(write(tmp_path, "".join(f"n{i};{c}\n" for i, c in enumerate(cells[:2] * 3))))
    assert headerless.column == "column 2" and headerless.counts() == {"valid": 2, "duplicate": 4}


@pytest.mark.parametrize(
    "raw,region,expected",
    [
        (
            "49301234567.0",
            None,
            "+49301234567",
        ),  # the point as a separator read +493012345670: valid, and another number
        ("6591234567.0", None, "+6591234567"),
        ("91234567.0", "SG", "+6591234567"),
        ("+6591234567.00", None, "+6591234567"),
    ],
)
def test_a_number_column_saved_as_decimals_is_read_as_its_digits(tmp_path, raw, region, expected):
    """pandas writes a phone column with a blank in it as floats (49301234567.0), as Excel's reader
    already read a number cell: the file reader (its fast path) and to_e164 agree on the digits."""
    assert to_e164(raw, region) == expected
    numbers = read_numbers(write(tmp_path, f"phone\n{raw}\n+447911123456\n"), default_region=region)
    assert list(numbers.valid["msisdn"]) == [expected, "+447911123456"]


@pytest.mark.parametrize("raw", ["6.59123E+09", "6,59123E+09", "+6.591234567e+10"])
def test_a_number_in_scientific_notation_says_its_digits_are_lost(raw):
    with pytest.raises(InvalidNumber, match="scientific notation.*Format the column as text"):
        to_e164(raw)


def test_a_workbook_whose_numbers_are_not_on_its_first_sheet_says_which_sheets_it_has(tmp_path):
    """Only the first sheet is read: an "Instructions" sheet first said only "found no column of phone
    numbers" (or "has no rows"), with no word of the sheet the numbers are on."""
    from openpyxl import Workbook

    for first in ([["Read me: the numbers are on the next sheet"]], [], [["phone"], ["call me"]]):
        book = Workbook()
        book.active.title = "Instructions"
        for row in first:
            book.active.append(row)
        book.create_sheet("Numbers").append(["+6591234567"])
        book.save(tmp_path / "book.xlsx")
        with pytest.raises(
            BadFile,
            match=r"first sheet, 'Instructions', is read; it also has 'Numbers': move the "
            r"sheet with the numbers first",
        ):
            read_numbers(tmp_path / "book.xlsx")
    book = Workbook()
    book.active.append(["name"])
    book.save(tmp_path / "one.xlsx")
    with pytest.raises(BadFile) as one_sheet:  # one sheet: nothing to point at
        read_numbers(tmp_path / "one.xlsx")
    assert "sheet" not in str(one_sheet.value)


def test_a_country_column_with_names_says_what_is_wrong(tmp_path):
    """A row whose country cell is a name ("Singapore") was "no country: ... give a default region",
    which does not apply (the row's country wins) and the cell has a country. UK is GB."""
    numbers = read_numbers(
        write(tmp_path, "name,phone,country\nA,9123 4567,Singapore\nB,07911 123456,uk\nC,+6591234569,Singapore\n")
    )
    rows = numbers.rows.set_index("row")
    assert (
        rows.at[2, "status"] == "invalid"
        and rows.at[2, "reason"].startswith("its country 'SINGAPORE' is not a two-letter country code")
        and "--default-region" not in rows.at[2, "reason"]
    )
    assert rows.at[3, "msisdn"] == "+447911123456" and rows.at[4, "msisdn"] == "+6591234569"
    long = read_numbers(write(tmp_path, "phone,country\n9123 4567," + "x" * 5000 + "\n+6591234568,SG\n"))
    assert len(long.rows.set_index("row").at[2, "reason"]) < 200  # a huge cell is not copied into the report


US_NATIONAL = [
    "364-461-8640",
    "431-218-6509",  # read as international: +36 (HU) and +43 (AT), both valid
    "980-660-7737",
    "600-643-9952",
    "913-656-4363",
    "939-434-9685",
]  # not valid international numbers


def test_a_file_of_national_numbers_without_a_region_guesses_none_of_them(tmp_path):
    """Without a region, digits alone are read as international (as 8x8 stores them). In a file of
    US numbers written nationally, about one in ten is a valid number of another country that way:
    it was read so, silently, while the others were invalid. Now none is guessed."""
    path = write(tmp_path, "phone\n" + "\n".join([*US_NATIONAL, "+447911123456"]) + "\n")
    rows = read_numbers(path).rows.set_index("row")
    assert list(rows.loc[rows["status"] == "valid", "msisdn"]) == ["+447911123456"]
    assert (
        rows.at[2, "reason"].startswith(
            "written without + or 00 and with no country: read as international it would be +3644618640"
        )
        and "--default-region" in rows.at[2, "reason"]
    )
    assert "as a national number of GB it would be +3644618640" not in rows.at[2, "reason"]  # no national reading
    assert read_numbers(path, default_region="US").counts() == {"valid": 7}
    written_with_plus = write(tmp_path, "phone\n" + "\n".join([*US_NATIONAL, "+36 44 618 640"]) + "\n")
    again = read_numbers(written_with_plus).rows.set_index("row")  # it repeated the refused reading of row 2
    assert again.at[8, "status"] == "valid" and again.at[8, "msisdn"] == "+3644618640"
    exported = write(tmp_path, "phone\n6591234567\n6591234568\n447911123456\n14155550100\n12125550199\n")
    assert read_numbers(exported).counts() == {"valid": 5}  # digits alone, as 8x8 exports them: international


def test_a_region_column_is_the_rows_country_only_when_it_holds_country_codes(tmp_path):
    """A "region" column was always read as the rows' countries: a sales region (NA, APAC, EMEA) then
    read 415 555 0100 in Namibia, or made every national number of the file invalid. Which column
    gave the countries is said."""
    sales = read_numbers(
        write(tmp_path, "phone,region\n+6591234567,APAC\n+447911123456,EMEA\n+14155550100,NA\n"), default_region="SG"
    )
    assert sales.country is None and "countries from" not in sales.source
    codes = read_numbers(write(tmp_path, "phone,region\n9123 4567,sg\n07911 123456,GB\n"))
    assert codes.country == "region" and codes.source.endswith("countries from column 'region'")
    assert list(codes.valid["msisdn"]) == ["+6591234567", "+447911123456"]
    named = read_numbers(write(tmp_path, "phone,Country\n9123 4567,SG\n"))
    assert named.source.endswith("countries from column 'Country'")
