"""Stage 1, read: a CSV or Excel file of phone numbers, streamed, every row accounted for.

CSV: comma, semicolon or tab; UTF-8 with or without BOM; any line ends (Unix, Windows, old
Mac). Excel: the first sheet of an .xlsx workbook, read row by row (openpyxl's read-only
mode, the engine pandas uses for .xlsx, without loading the sheet whole). The number column
is named or found from the header or the values; numbers in any common format become E.164.

A row that cannot be used is kept with status ``invalid`` and its reason; a repeated number
is kept with status ``duplicate``: nothing is dropped, and a bad row never stops the good
ones. A file that cannot be used at all raises :class:`BadFile`, before anything is sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers

from ..concurrency import Steps, no_cycle_collection
from ..errors import BadFile
from ..numbers import InvalidNumber, e164_many, looks_like_number, to_e164
from .records import file_digest, file_records
from .statuses import STATUS_CATEGORIES, Status

NUMBER_HEADERS = (
    "msisdn",
    "phone",
    "phone_number",
    "phonenumber",
    "mobile",
    "number",
    "tel",
    "telephone",
    "whatsapp",
    "cell",
    "contact",
)


COUNTRY_HEADERS = ("country", "country_code", "countrycode", "region", "iso_country")


# A WhatsApp customer's business-scoped user id (Meta's BSUID, 8x8's user.channelUserId): the audience
# check leaves out those the ledger has as opted out, whom no group can hold.
BSUID_HEADERS = (
    "bsuid",
    "whatsapp_bsuid",
    "business_scoped_user_id",
    "channel_user_id",
    "channeluserid",
    "whatsapp_user_id",
)


MAX_NUMBER_CHARS = 64  # longer than any written phone number; the report keeps this much of the cell


MAX_ID_CHARS = 256  # a BSUID cell is kept up to this (a longer one is no id: it matches nothing)


SAMPLE_ROWS = 1000  # rows read before deciding which column holds the numbers


@dataclass
class Numbers:
    """What a file holds: one row per input row (row, input, msisdn, status, reason)."""

    rows: pd.DataFrame
    column: str
    delimiter: str | None  # None for Excel
    has_header: bool
    path: Path
    digest: str  # sha256 of the file's bytes: a journal belongs to this content only
    country: str | None = None  # the column the rows' countries came from, if any
    bsuid: str | None = None  # the column of WhatsApp BSUIDs (rows' "bsuid"), when one was asked for and found

    @property
    def valid(self) -> pd.DataFrame:
        return self.rows[self.rows["status"] == Status.VALID]

    def counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.rows["status"].value_counts().items() if v}

    @property
    def source(self) -> str:
        kind = "Excel sheet" if self.delimiter is None else f"CSV, delimiter {self.delimiter!r}"
        return (
            f"{self.path.name} ({kind}); numbers from column {self.column!r}"
            + (f", countries from column {self.country!r}" if self.country else "")
            + (f", WhatsApp BSUIDs from column {self.bsuid!r}" if self.bsuid else "")
        )


# --- the numbers ----------------------------------------------------------------------------


def read_numbers(
    path: str | Path, *, column: str | None = None, default_region: str | None = None, country_column: str | None = None
) -> Numbers:
    """Read and normalise the numbers of a CSV or .xlsx file. Raises BadFile for a file that cannot be used."""
    return open_numbers(path, column=column, default_region=default_region, country_column=country_column).read()


@dataclass
class OpenedFile:
    """A file whose format, header and number column are known (every check that needs only its
    first rows is done); ``read()`` normalises the rest. Bulk runs read the group meanwhile."""

    path: Path
    body: Iterator
    index: int
    country_index: int | None
    default_region: str | None
    name: str
    head: list[str]
    delimiter: str | None
    has_header: bool
    bsuid_index: int | None = None

    def read(self) -> Numbers:
        with no_cycle_collection():  # a million rows are millions of objects, walked again and again
            return Steps(self.read_in_steps()).finish()

    def read_in_steps(self) -> Generator[None, None, Numbers]:
        """``read()`` in steps of STEP_ROWS rows: a generator whose return value is the Numbers. A bulk
        run advances it while the group's pages arrive (see groups.read_group's ``meanwhile``)."""
        frame = yield from _normalise(self.body, self.index, self.country_index, self.default_region, self.bsuid_index)
        if frame.empty:
            raise BadFile(
                f"{self.path} has a header row ({', '.join(self.head)}) but no rows below it: nothing to "
                "do. Check that this is the file you meant."
            )
        if self.default_region is None and self.country_index is None:
            _refuse_guessed_internationals(frame)
            _refuse_other_countries_digits(frame)
        if not (frame["status"] != Status.INVALID).any():
            hint = _other_sheets_hint(self.path) if self.delimiter is None else ""
            raise BadFile(
                f"{self.path}: no row of column {self.name!r} holds a valid phone number. Name the column "
                "with --column, or give --default-region for national numbers." + (f" {hint}" if hint else "")
            )
        _hint_national(frame, self.default_region)
        country = None if self.country_index is None else self.head[self.country_index]
        bsuid = None if self.bsuid_index is None else self.head[self.bsuid_index]
        return Numbers(
            frame, self.name, self.delimiter, self.has_header, self.path, file_digest(self.path), country, bsuid
        )


def open_numbers(
    path: str | Path,
    *,
    column: str | None = None,
    default_region: str | None = None,
    country_column: str | None = None,
    bsuid_column: str | None = None,
    find_bsuid: bool = False,
) -> OpenedFile:
    """Open a CSV or .xlsx file of numbers: its format, header and columns checked (BadFile when they
    cannot be used), the rows not read yet. ``bsuid_column`` (or, with ``find_bsuid``, a column
    named as BSUID_HEADERS): a column of WhatsApp BSUIDs, read into the rows' "bsuid"."""
    path = Path(path)
    region_option = _check_region(default_region)
    delimiter, records = file_records(path)
    try:
        return _open_numbers(path, delimiter, records, column, region_option, country_column, bsuid_column, find_bsuid)
    except BadFile as exc:
        hint = _other_sheets_hint(path) if delimiter is None else ""
        if not hint:
            raise
        raise BadFile(f"{exc} {hint}") from None


def _other_sheets_hint(path: Path) -> str:
    """For a workbook of several sheets: only the first is read, and which the others are."""
    from openpyxl import load_workbook

    try:
        with open(path, "rb") as handle:
            workbook = load_workbook(handle, read_only=True)
            names = workbook.sheetnames
            workbook.close()
    except Exception:  # it opened once already; a second failure only loses the hint
        return ""
    if len(names) < 2:
        return ""
    return (
        f"Only the workbook's first sheet, {names[0]!r}, is read; it also has {', '.join(map(repr, names[1:]))}: "
        "move the sheet with the numbers first, or export that sheet as CSV UTF-8."
    )


def _open_numbers(
    path: Path,
    delimiter: str | None,
    records,
    column: str | None,
    region_option: str | None,
    country_column: str | None,
    bsuid_column: str | None,
    find_bsuid: bool,
) -> OpenedFile:
    first = next(records, None)
    if first is None:
        raise BadFile(f"{path} has no rows: expected a column of phone numbers.")
    head = [c.strip() for c in first[1]]
    has_header = column is not None or not any(looks_like_number(c) for c in head)
    header = [c.casefold() for c in head] if has_header else []
    sample = list(islice(records, SAMPLE_ROWS))
    body = chain(sample, records) if has_header else chain([first], sample, records)
    if column is not None:
        index = _named_column(path, head, header, column)
    else:
        index = _find_number_column(header, sample if has_header else [first, *sample], path)
    country_index = (
        _named_column(path, head, header, country_column)
        if country_column is not None
        else _country_column(header, sample)
    )
    bsuid_index: int | None
    if bsuid_column is not None:
        bsuid_index = _named_column(path, head, header, bsuid_column)
    else:
        bsuid_index = next((header.index(h) for h in BSUID_HEADERS if h in header), None) if find_bsuid else None
    name = head[index] if has_header else f"column {index + 1}"
    if has_header and not sample:
        raise BadFile(
            f"{path} has a header row ({', '.join(head)}) but no rows below it: nothing to do. "
            "Check that this is the file you meant."
        )
    return OpenedFile(path, body, index, country_index, region_option, name, head, delimiter, has_header, bsuid_index)


def _named_column(path: Path, head: list[str], header: list[str], name: str) -> int:
    """The index of the column the operator named (any case), or BadFile listing the file's columns."""
    if name.casefold() not in header:
        raise BadFile(f"{path} has no column {name!r}; its columns are: {', '.join(head)}.")
    return header.index(name.casefold())


def _country_column(header: list[str], sample: list) -> int | None:
    """The column a header names as the rows' countries, if any (see _holds_country_codes)."""
    return next(
        (
            header.index(h)
            for h in COUNTRY_HEADERS
            if h in header and (h != "region" or _holds_country_codes(sample, header.index(h)))
        ),
        None,
    )


def _holds_country_codes(sample: list, index: int) -> bool:
    """A column named "region" is taken for the rows' countries only when its cells are country codes
    (nine in ten of those filled): a sales region (APAC, EMEA) read as one would misread numbers."""
    cells = [_region_of(cells[index]) for _, cells in sample if index < len(cells) and cells[index].strip()]
    return bool(cells) and sum(c in phonenumbers.SUPPORTED_REGIONS for c in cells) * 10 >= len(cells) * 9


def _check_region(region: str | None) -> str | None:
    if region is None or region == "":
        return None
    code = str(region).strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise BadFile(
            f"--default-region {region!r} is not a country code phonenumbers knows: give two letters, e.g. SG, US, GB."
        )
    return code


def _find_number_column(header: list[str], sample: list, path: Path) -> int:
    for name in NUMBER_HEADERS:
        if name in header:
            return header.index(name)
    width = max((len(r) for _, r in sample), default=len(header))
    scores = [sum(looks_like_number(r[i]) for _, r in sample if i < len(r)) for i in range(width)]
    best = max(range(width), key=lambda i: scores[i]) if width else 0
    if not sample or scores[best] < max(1, len(sample) // 2):
        raise BadFile(
            f"{path}: found no column of phone numbers. Name it with --column (columns: {', '.join(header) or 'none'})."
        )
    return best


STEP_ROWS = 2000  # rows per step of read_in_steps: a few ms, run while a page is on its way


def _normalise(body, index: int, country_index: int | None, default_region: str | None, bsuid_index: int | None = None):
    """One pass over the rows, STEP_ROWS at a time (yielding after each), into compact columns;
    returns the frame (with a "bsuid" column when ``bsuid_index`` is given). Repeats are marked at
    the end, for the whole column at once."""
    rows, inputs, msisdns, reasons, bsuids = [], [], [], [], []  # a block of each column a step
    while step := list(islice(body, STEP_ROWS)):
        numbers_of_rows, records = zip(*step)  # C loops, as are the maps below
        cells = _cells(records, index)
        shown, msisdn, reason = _numbers_of_block(cells, _regions(records, country_index, default_region))
        rows.append(np.array(numbers_of_rows, dtype=np.int64))
        inputs += shown
        msisdns.append(msisdn)
        reasons.append(reason)
        if bsuid_index is not None:
            bsuids += [cell[:MAX_ID_CHARS] for cell in _cells(records, bsuid_index)]
        yield
    return _frame(rows, inputs, msisdns, reasons, bsuids if bsuid_index is not None else None)


def _cells(records, index: int) -> list[str]:
    """One column of a block of records, stripped; a short row's cell is empty."""
    try:
        return list(map(str.strip, map(itemgetter(index), records)))
    except IndexError:
        return [(record[index] if index < len(record) else "").strip() for record in records]


def _regions(records, country_index: int | None, default_region: str | None):
    """(each row's region, which rows have none): from the country column, else the default for all
    (then the second value is one bool for the whole block)."""
    if country_index is None:
        return [default_region] * len(records), default_region is None
    regions = [
        _region_of(record[country_index] if country_index < len(record) else "") or default_region for record in records
    ]
    return regions, [region is None for region in regions]


def _numbers_of_block(cells: list[str], regions_and_regionless) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A block's cells as (the inputs as reported, their E.164 numbers or None, the reasons)."""
    regions, regionless = regions_and_regionless
    long = max(map(len, cells)) > MAX_NUMBER_CHARS
    # A leading apostrophe is Excel's "this is text" mark (our reports write one before + and -).
    numbers = [cell[1:] if cell[:1] == "'" else cell for cell in cells]
    if long:  # longer than any phone number: invalid, which _msisdn_of says
        numbers = [number if len(number) <= MAX_NUMBER_CHARS else "" for number in numbers]
    msisdn = e164_many(numbers, regionless)  # most cells at once; the others one by one
    reason = np.full(len(cells), "", dtype=object)
    for i in np.flatnonzero(msisdn == None).tolist():  # noqa: E711 (numpy: each element against None)
        msisdn[i], reason[i] = _msisdn_of(cells[i], regions[i])
    shown = (
        [cell if len(cell) <= MAX_NUMBER_CHARS else cell[:MAX_NUMBER_CHARS] + "…" for cell in cells] if long else cells
    )
    return shown, msisdn, reason


def _frame(rows: list, inputs: list, msisdns: list, reasons: list, bsuids: list | None) -> pd.DataFrame:
    """The normalised frame from its blocks; repeats marked for the whole column at once."""
    extra = {"bsuid": pd.Series(bsuids, dtype=object)} if bsuids is not None else {}
    if not rows:
        return pd.DataFrame(
            {
                "row": pd.array([], dtype="int64"),
                "input": [],
                "msisdn": [],
                "status": pd.Categorical([], categories=STATUS_CATEGORIES),
                "reason": [],
                **({"bsuid": []} if bsuids is not None else {}),
            }
        )
    msisdn = pd.Series(np.concatenate(msisdns), dtype=object)
    number = msisdn.notna().to_numpy()
    repeated = number & msisdn.duplicated().to_numpy()  # the first row of a number is the valid one
    reason = np.concatenate(reasons)
    reason[repeated] = "same number as an earlier row"
    codes = {status: code for code, status in enumerate(STATUS_CATEGORIES)}
    status = np.where(repeated, codes[Status.DUPLICATE], np.where(number, codes[Status.VALID], codes[Status.INVALID]))
    # object columns, as built (pandas would otherwise infer its string type: a third of a second a million)
    return pd.DataFrame(
        {
            "row": np.concatenate(rows),
            "input": pd.Series(inputs, dtype=object),
            "msisdn": msisdn,
            "status": pd.Categorical.from_codes(status, categories=STATUS_CATEGORIES),
            "reason": pd.Series(reason, dtype=object),
            **extra,
        }
    )


UNKNOWN_COUNTRY = "its country"  # the reason's start for a row whose country column holds no code


def _region_of(cell: str) -> str:
    """A country column's cell as a region code: upper case; UK, which ISO 3166 reserves for the
    United Kingdom and people write for it, is GB."""
    code = cell.strip().upper()
    return "GB" if code == "UK" else code


def _msisdn_of(cell: str, region: str | None) -> tuple[str | None, str]:
    """(the cell's number in E.164, "") or (None, why it is not one)."""
    if not cell:
        return None, "no number in this row"
    if len(cell) > MAX_NUMBER_CHARS:
        return None, f"longer than any phone number ({len(cell)} characters)"
    try:
        # A leading apostrophe is Excel's "this is text" mark (our reports write one before + and -).
        return to_e164(cell[1:] if cell[0] == "'" else cell, region), ""
    except InvalidNumber as exc:
        if region and region not in phonenumbers.SUPPORTED_REGIONS:  # the row's country, not a missing one
            shown = region if len(region) <= 20 else region[:20] + "…"  # a hostile cell stays out of the report
            return None, (
                f"{UNKNOWN_COUNTRY} {shown!r} is not a two-letter country code (SG, GB, US, ...): write the "
                "code in the country column, or the number with + and its country code"
            )
        return None, str(exc)


def _refuse_guessed_internationals(frame: pd.DataFrame) -> None:
    """Without a region, digits alone are read as an international number without its + (as 8x8
    stores them). A file of national numbers breaks that reading: most of its digits-only rows are
    no valid international number, and some are one by chance (a tenth of US numbers: 415 555 0100
    is +41 55 550 01 00, Switzerland), which no check would then find in the opt-out group. So where
    most digits-only rows are invalid, none of them is read as international: each says why."""

    def written_as_digits(inputs: pd.Series) -> np.ndarray:
        compact = inputs.str.replace(r"[\s\-().\u00a0/']", "", regex=True)
        return compact.str.fullmatch(r"[1-9]\d{5,}", na=False).to_numpy()

    invalid_rows = np.flatnonzero((frame["status"] == Status.INVALID).to_numpy())  # few, in a file that is fine
    invalid = np.zeros(len(frame), dtype=bool)
    invalid[invalid_rows[written_as_digits(frame["input"].iloc[invalid_rows])]] = True
    if invalid.sum() < 3:
        return
    digits = written_as_digits(frame["input"])  # the whole column, only for a file that looks national
    if invalid.sum() * 2 <= digits.sum():
        return
    guessed = digits & ~invalid
    shown = frame["msisdn"].to_numpy()[guessed]
    frame.loc[guessed, "reason"] = [
        f"written without + or 00 and with no country: read as international it would be {number}, but most numbers "
        "of this file written so are not valid international numbers (national ones, then), so none is guessed: give "
        "--default-region or a country column"
        for number in shown
    ]
    frame.loc[guessed, "msisdn"] = None
    frame.loc[guessed, "status"] = Status.INVALID
    # a row written with + that repeated a number now refused is that number's first row now
    repeats = (frame["status"] == Status.DUPLICATE).to_numpy()
    if repeats.any():
        kept = set(frame.loc[frame["status"] == Status.VALID, "msisdn"])
        orphans = frame[repeats & ~frame["msisdn"].isin(kept).to_numpy()].drop_duplicates("msisdn").index
        frame.loc[orphans, "status"] = Status.VALID
        frame.loc[orphans, "reason"] = ""


def _refuse_other_countries_digits(frame: pd.DataFrame) -> None:
    """In a file written mostly with + (or 00) and mostly of one country, a row of digits alone that
    reads as another country's number is refused on its own, however few such rows there are: in a
    file of +1 numbers, 6465559876 is a New York number without its 1, not the New Zealand number
    +64 6555 9876 that the international reading makes of it (bulk-add put that one in the group and
    said "Done"). The rule of _refuse_guessed_internationals needs most digits-only rows invalid; this
    one needs the file's own country. A row written as its E.164 is read as written, so only the rows
    whose number differs from what was written are looked at (a million-row file: one comparison)."""
    valid = (frame["status"] == Status.VALID).to_numpy()
    inputs, msisdns = frame["input"].to_numpy(), frame["msisdn"].to_numpy()
    differs = np.flatnonzero(valid & (inputs != msisdns))
    suspects = np.array([i for i in differs if not str(inputs[i]).lstrip().startswith(("+", "00"))], dtype=int)
    written_so = valid.copy()
    written_so[suspects] = False
    if not len(suspects) or written_so.sum() < 2 or written_so.sum() * 2 < valid.sum():  # 8x8's exports: digits
        return
    countries = Counter(_country_code(m) for m in msisdns[written_so][:SAMPLE_ROWS])
    main, count = countries.most_common(1)[0]
    if count * 2 <= sum(countries.values()):  # no one country holds most of the file
        return
    codes = [_country_code(m) for m in msisdns[suspects]]
    other = [i for i, code in zip(suspects, codes) if code != main]
    if not other:
        return
    index = frame.index[other]
    frame.loc[index, "reason"] = [
        f"written without + or 00: read as international it would be {number} (country code +{code}), but most "
        f"numbers of this file are of country code +{main}, so it is not guessed: write it with + and its country "
        "code, or give --default-region"
        for number, code in zip(frame.loc[index, "msisdn"], (c for c in codes if c != main))
    ]
    frame.loc[index, "msisdn"] = None
    frame.loc[index, "status"] = Status.INVALID


def _country_code(msisdn: str) -> int:
    return int(phonenumbers.parse(msisdn).country_code or 0)


def _hint_national(frame: pd.DataFrame, default_region: str | None) -> None:
    """Invalid rows that are valid national numbers of the file's main country say so (and how to read them)."""
    if default_region:
        return
    invalid = frame.index[frame["status"] == Status.INVALID]
    invalid = invalid[
        frame.loc[invalid, "input"].str.fullmatch(r"[\d\s\-().]{6,}", na=False)
        & ~frame.loc[invalid, "reason"].str.startswith(UNKNOWN_COUNTRY)
    ]  # a region would not apply
    if not len(invalid):
        return
    regions = Counter(
        phonenumbers.region_code_for_country_code(_country_code(m))
        for m in frame.loc[frame["status"] == Status.VALID, "msisdn"].head(SAMPLE_ROWS)
    )
    if not regions:
        return
    region = regions.most_common(1)[0][0]
    own_code = f"+{phonenumbers.country_code_for_region(region)}"
    for i in invalid:
        try:
            national = to_e164(frame.at[i, "input"], region)
        except InvalidNumber:
            continue
        if not national.startswith(own_code):  # to_e164 fell back to the international reading: no national one
            continue
        frame.at[i, "reason"] = (
            f"{frame.at[i, 'reason']}; as a national number of {region} it would be {national}: "
            f"give --default-region {region} if that is what it is"
        )
