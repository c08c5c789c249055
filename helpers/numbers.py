"""Phone numbers: any common written form to E.164, with the phonenumbers library."""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache, lru_cache

import numpy as np
import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers.phonemetadata import PhoneMetadata

from .errors import BadInput

_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
# A number column saved as decimals (pandas writes a column with blanks as floats: 49301234567.0):
# the digits before the point, as the Excel reader reads a number cell. Not "." as a separator: that
# would read 49301234567.0 as +493012345670, another valid German number, and never say so.
_DECIMALS = re.compile(r"(\+?\d{6,15})\.0+")
# 6.59123E+09: how a spreadsheet shows a long number, most often with its last digits gone: refused, never guessed.
_SCIENTIFIC = re.compile(r"\+?\d(?:[.,]\d+)?[eE]\+?\d{1,2}")


@lru_cache(maxsize=1)
def _unseen() -> dict[int, str | None]:
    """What copying a number carries along unseen, as a translation table: Unicode's format
    characters (WhatsApp's exports wrap each number in U+202A ... U+202C, web pages add zero-width
    spaces, a pasted cell can hold a BOM or a direction mark), dropped as separators are; and the
    full-width plus of CJK input, a plus. So a cell that shows +6591234567 in a spreadsheet is read
    as +6591234567, never "not a phone number". Not the right-to-left controls (_RIGHT_TO_LEFT):
    those can show a cell's characters in another order than it holds them, so such a cell is
    refused with its reason. Made on the first cell that is not ASCII (a tenth of a second)."""
    return {
        c: None
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cf" and chr(c) not in _RIGHT_TO_LEFT
    } | {0xFF0B: "+"}


# RLM, ALM, RLE, RLO, RLI: "\u202e7654321956+" shows as +6591234567 (the strict reading: any of them
# may reorder what is shown, so none is dropped unseen)
_RIGHT_TO_LEFT = frozenset("\u200f\u061c\u202b\u202e\u2067")


_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "no country: add a leading + and country code, or give a default region",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_LONG: "too long",
}


class InvalidNumber(BadInput):
    """Not a phone number that can be written in E.164 (also a ValueError, as BadInput is)."""


def digits_key(msisdn: str) -> str:
    """The digits only: how 8x8 matches msisdns ("+6591234567" and "6591234567" are one)."""
    if msisdn[:1] == "+" and msisdn[1:].isdigit():  # E.164, the common case, without a regex
        return msisdn[1:]
    return re.sub(r"\D", "", msisdn)


# 8x8's own pattern for a contact's ``addresses.msisdn`` (the Contacts API refuses anything else, 400 code 1002).
_PLATFORM_MSISDN = re.compile(r"\+?([1-9][0-9]{6,14})")


def platform_number(raw: object) -> str:
    """A sender or member as 8x8 gave it (a run's webhook, a group member): "+" and its digits when it
    is a phone number by 8x8's own pattern (``^\\+?[1-9][0-9]{6,14}$``, separators aside), else "" (a
    sender that is no phone number: an alphanumeric sender id such as INFO, a short code such as
    72345, a WhatsApp BSUID). Never judged by the phone-number metadata: a range it does not know
    yet (a new mobile range, Brazil's 8-digit mobiles) is still the customer's number, and 8x8
    matches numbers by their digits. The metadata judges only what people type (:func:`to_e164`)."""
    if raw is None or isinstance(raw, bool):
        return ""
    text = str(raw).strip()
    if text[:1] == "+" and text[1:].isdigit() and text.isascii():  # the common case, without a regex
        digits = text[1:]
    else:
        digits = _SEPARATORS.sub("", text)
    matched = _PLATFORM_MSISDN.fullmatch(digits) if digits.isascii() else None
    return "+" + matched.group(1) if matched else ""


def to_e164(raw: str, region: str | None = None) -> str:
    """'+65 9123-4567', '0065 91234567', '(9123) 4567' with region SG -> '+6591234567'.

    A number written without + or 00 is read in ``region`` when one is given; without a
    region, digits alone are read as international without the + (as 8x8 stores them).
    """
    return _to_e164(raw, region, fast=True)


@cache
def _parsing_prefix(country_code: int) -> str | None:
    """The national prefix that phonenumbers' parse may strip after this country code (None: none)."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, phonenumbers.region_code_for_country_code(country_code)
    )
    return (metadata.national_prefix_for_parsing or None) if metadata is not None else None


def _fast_international(candidate: str) -> str | None:
    """``candidate`` ('+' and digits) itself when it is a valid number that a full parse would keep
    exactly as written; None whenever the parse could change it (the caller then does the parse).

    One dictionary lookup and one regular expression a number (a million numbers: about a second):
    the country code is read as phonenumbers reads it (the first of 1, 2 or 3 digits that is a
    country code), and the country's one pattern (:func:`_fast_pattern`) holds the rest.
    """
    digits = candidate[1:]
    if not 7 <= len(digits) <= 15 or digits[0] == "0":  # no country code begins with 0 (int() would drop it)
        return None
    split = _country_splits().get(digits[:3])
    if split is None:
        return None
    size, country_code = split
    pattern = _fast_pattern(country_code)
    return candidate if pattern is not None and pattern.fullmatch(digits[size:]) else None


# The fast path for a whole column at once: the cells joined into one text, one number a line,
# and each step done by the regular expression engine or numpy over the block instead of one
# Python call a cell (a million cells: about a second instead of two). It settles exactly the
# cells _to_e164's fast path settles, with its answer: "+" or "00" and 7 to 15 ASCII digits (or
# the digits alone, read as international when no region applies), after the same separators
# are removed; every other cell is left to the caller's one-by-one parse.
_WIDTH = 17  # "00" and 15 digits: the longest candidate
_CANDIDATE = re.compile(r"^(?:(\+[1-9][0-9]{6,14}|00[1-9][0-9]{6,14}|[1-9][0-9]{6,14})$|.*$)", re.M)


def e164_many(cells: list[str], regionless: bool | list[bool]) -> np.ndarray:
    """For each cell (stripped, as to_e164 reads it), its E.164 where the fast path settles it, else
    None (the caller then calls to_e164 for that cell): an array of objects. ``regionless``: True when no cell has a
    region, else one bool a cell (digits alone are read as international only without a region).
    A cell holding a line break is left to the caller."""
    count = len(cells)
    text = "\n".join(cells)
    if text.count("\n") != count - 1:  # a cell with a line break of its own would shift the lines
        text = "\n".join("" if "\n" in cell else cell for cell in cells)
    if "." in text:  # 49301234567.0 (see _DECIMALS) goes the full way: here the point would be a separator
        text = "\n".join("" if _DECIMALS.fullmatch(cell) else cell for cell in text.split("\n"))
    candidates = _CANDIDATE.findall(_separators_but_line_break().sub("", text))
    points = np.array(candidates, dtype=f"<U{_WIDTH}").view(np.uint32).reshape(count, _WIDTH)
    first = points[:, 0]
    marker = np.where(first == ord("+"), 1, np.where(first == ord("0"), 2, 0))
    candidate = first != 0
    if regionless is not True:
        candidate &= (marker > 0) | np.asarray(regionless, dtype=bool)
    rows = np.flatnonzero(candidate)
    out = np.full(count, None, dtype=object)
    if not len(rows):
        return out
    # each candidate's digits from column 0 (the marker dropped), zero-padded
    columns = np.arange(_WIDTH)[None, :] + marker[rows, None]
    digits = np.take_along_axis(points[rows], np.minimum(columns, _WIDTH - 1), axis=1)
    digits[columns >= _WIDTH] = 0
    start = (digits[:, 0] - 48) * 100 + (digits[:, 1] - 48) * 10 + (digits[:, 2] - 48)
    sizes, codes = _split_tables()
    size, code = sizes[start], codes[start]
    length = (digits != 0).sum(axis=1) - size  # of the national number
    settled = np.zeros(len(rows), dtype=bool)  # a flag a candidate
    for key in np.unique((code * 100 + length)[size > 0]).tolist():  # a pattern per code and length
        country_code, national_length = divmod(key, 100)
        pattern = _lines_pattern(country_code, national_length)
        if pattern is None:
            continue
        of_key = np.flatnonzero((code == country_code) & (length == national_length))
        cut = int(size[of_key[0]])
        national = (
            np.ascontiguousarray(digits[of_key, cut : cut + national_length]).view(f"<U{national_length}").ravel()
        )
        found = pattern.findall("\n".join(national.tolist()))
        if pattern.groups > 1:  # the country's own pattern has groups: findall answers tuples, ours first
            found = [groups[0] for groups in found]
        settled[of_key[np.array(found, dtype=f"<U{_WIDTH}") != ""]] = True
    # A cell written so (a "+", nothing removed) is its own answer: the cell's string, not a copy of
    # it (a million numbers: 60 MB less); the others are "+" and their digits.
    as_written = (
        settled
        & (marker[rows] == 1)
        & (np.fromiter(map(len, cells), np.int64, count)[rows] == (points[rows] != 0).sum(axis=1))
    )
    source = np.empty(count, dtype=object)
    source[:] = cells
    out[rows[as_written]] = source[rows[as_written]]
    rebuilt = settled & ~as_written
    out[rows[rebuilt]] = np.char.add("+", np.ascontiguousarray(digits[rebuilt]).view(f"<U{_WIDTH}").ravel())
    return out


@lru_cache(maxsize=1)
def _separators_but_line_break() -> re.Pattern:
    """_SEPARATORS without the line break (e164_many's lines end with it), as one character class."""
    return re.compile(
        "[" + re.escape("".join(chr(c) for c in range(0x3001) if c != 10 and _SEPARATORS.match(chr(c)))) + "]"
    )


@lru_cache(maxsize=1)
def _split_tables() -> tuple[np.ndarray, np.ndarray]:
    """_country_splits as two arrays indexed by the three-digit start: code length (0: none), code."""
    sizes, codes = np.zeros(1000, np.int64), np.zeros(1000, np.int64)
    for start, (size, code) in _country_splits().items():
        sizes[int(start)], codes[int(start)] = size, code
    return sizes, codes


@cache
def _lines_pattern(country_code: int, length: int) -> re.Pattern | None:
    """_fast_pattern over one national number of ``length`` digits a line: findall answers the line
    where it matches, else "" (None: no number of that length is valid)."""
    source = _fast_source(country_code, "$", length)
    return re.compile(rf"^(?:({source})$|.*$)", re.M) if source is not None else None


@lru_cache(maxsize=1)
def _country_splits() -> dict[str, tuple[int, int]]:
    """Every three-digit start of an international number -> (length of its country code, the code)."""
    codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    out = {}
    for start in range(1000):
        digits = f"{start:03d}"
        size = next((n for n in (1, 2, 3) if int(digits[:n]) in codes), None)
        if size is not None:
            out[digits] = (size, int(digits[:size]))
    return out


# phonenumbers' parse and is_valid_number, for the national number after the country code,
# folded into one pattern per country code, compiled once. Each condition is one of the parse's
# own steps, and the pattern accepts only where none of them could act:
#   (?!0)                 a national number starting with 0 could be stripped or rejected;
#   (?!(?:P)(?<=\d))     the country's national prefix for parsing, where it matches something
#                        (the parse would strip or transform it);
#   (?=L)                 where the code has several regions: the first region's leading digits
#                        (phonenumbers' region_code_for_number picks the first region whose leading
#                        digits match, or, without them, whose number types accept the number);
#   (?=(?:G)\Z) and one  the general pattern, and the number types that allow the number's
#   alternative a length  length (premium, toll-free, ..., fixed line and mobile, as phonenumbers
#                        asks them): is_valid_number's check.
# A number another region of a shared code (+1, +44, +7) would claim goes the full way: the
# pattern declines it. tests/test_numbers_fast_path.py and benchmarks/phone_numbers.py prove
# identical answers.
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)


@cache
def _fast_pattern(country_code: int) -> re.Pattern | None:
    """The country code's one pattern over its national number (None: every number goes the full way)."""
    source = _fast_source(country_code, r"\Z")
    return re.compile(source) if source is not None else None


def _fast_source(country_code: int, end: str, length: int | None = None) -> str | None:
    """:func:`_fast_pattern`'s text, with ``end`` where the national number must end (``\\Z`` for one
    number, ``$`` for one number a line); ``length``: only its alternative for national numbers of
    that many digits (None: when no number of that length can be valid)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if not regions:
        return None
    region = regions[0]
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    own = (
        region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
        or phonenumbers.country_code_for_valid_region(region) == country_code
    )
    general = _lengths_and_pattern(metadata.general_desc) if metadata is not None else None
    if general is None or metadata is None or not own:
        return None
    lengths, general_pattern = general
    by_length = _types_by_length(metadata, lengths, end, length)
    if not by_length:
        return None
    prefix = _parsing_prefix(country_code)
    leading = metadata.leading_digits if len(regions) > 1 else None
    return (
        "(?!0)"
        + (rf"(?!(?:{prefix})(?<=\d))" if prefix else "")
        + (f"(?={leading})" if leading else "")
        + rf"(?=(?:{general_pattern}){end})(?:{'|'.join(by_length)})"
    )


def _types_by_length(metadata, lengths: frozenset | None, end: str, only: int | None = None) -> list[str]:
    """One alternative a national number length (that the general description allows): the length,
    then any number type that allows it (premium, toll-free, ..., fixed line and mobile, as
    phonenumbers asks them)."""
    names = _TYPES if metadata.same_mobile_and_fixed_line_pattern else (*_TYPES, "mobile")
    types = [t for t in (_lengths_and_pattern(getattr(metadata, name)) for name in names) if t is not None]
    out = []
    for length in range(2, 18) if only is None else (only,):  # national numbers: 2 to 17 digits
        patterns = [p for allowed, p in types if allowed is None or length in allowed]
        if patterns and (lengths is None or length in lengths):
            out.append(rf"(?=\d{{{length}}}{end})(?:{'|'.join(f'(?:{p})' for p in patterns)})")
    return out


def _lengths_and_pattern(desc):
    """(possible lengths or None for any, the pattern), or None when the description matches nothing."""
    if desc is None or not desc.national_number_pattern:
        return None
    return (frozenset(desc.possible_length) or None), desc.national_number_pattern


def _seen(text: str) -> str:
    """``text`` without the characters nobody sees (see _unseen), stripped; InvalidNumber for a
    right-to-left control, which can make the cell show another number than it holds."""
    if text.isascii():
        return text
    control = next((c for c in text if c in _RIGHT_TO_LEFT), None)
    if control is not None:
        raise InvalidNumber(
            f"holds a right-to-left control (U+{ord(control):04X}), which can show other digits, or "
            "in another order, than the cell holds: type the number again"
        )
    return text.translate(_unseen()).strip()


def _to_e164(raw: str, region: str | None, *, fast: bool) -> str:
    text = _without_decimals(_seen((raw or "").strip()))
    written_international = text[:1] == "+" and text[1:].isdecimal()
    if fast and written_international:  # E.164 as written, the common case
        quick = _fast_international(text)
        if quick is not None:
            return quick
    attempts = _readings(_compact(text), region)
    if fast and attempts[0][0].startswith("+") and not written_international:  # international once compacted
        quick = _fast_international(attempts[0][0])
        if quick is not None:
            return quick
    return _parse(attempts)


def _without_decimals(text: str) -> str:
    """``text`` without a spreadsheet's ".0"; InvalidNumber when empty or in scientific notation."""
    if not text:
        raise InvalidNumber("empty")
    if "." in text or "e" in text or "E" in text:
        decimals = _DECIMALS.fullmatch(text)
        if decimals:
            return decimals.group(1)
        if _SCIENTIFIC.fullmatch(text):
            raise InvalidNumber(
                "written in scientific notation, as a spreadsheet shows a long number: its last digits "
                "are lost. Format the column as text in the spreadsheet, then export the file again"
            )
    return text


def _compact(text: str) -> str:
    """The number without separators, 00 as +; InvalidNumber when anything but digits is left."""
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not (compact[1:] if compact[:1] == "+" else compact).isdecimal():  # what \d matches: Unicode digits
        raise InvalidNumber("not a phone number")
    return compact


def _readings(compact: str, region: str | None) -> tuple:
    """The ways to read a compact number, in order: as written (international), in the region, or
    as an international number without its +."""
    if compact.startswith("+"):
        return ((compact, None),)
    if not region and compact.startswith("0"):
        raise InvalidNumber("a national number (leading 0) with no country: give a default region or a country column")
    return ((compact, region.upper()), ("+" + compact, None)) if region else (("+" + compact, None),)


@lru_cache(maxsize=65536)
def _parse(attempts: tuple) -> str:
    """The full parse (slow: about 25 µs), cached: repeated national numbers are common in files."""
    reasons = []  # the first attempt's reason is the one to report: it read the number as written
    for candidate, where in attempts:
        try:
            number = phonenumbers.parse(candidate, where)
        except NumberParseException as exc:
            if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and candidate.startswith("+"):
                reasons.append("unknown country code")
            else:
                reasons.append(_REASONS.get(exc.error_type, "not a phone number"))
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        reasons.append(f"not a valid number{' for ' + where if where else ''}")
    raise InvalidNumber(reasons[0])


def looks_like_number(raw: str) -> bool:
    try:
        compact = _SEPARATORS.sub("", _seen((raw or "").strip()))
    except InvalidNumber:
        return False
    return bool(re.fullmatch(r"(\+|00)?\d{6,16}", compact))
