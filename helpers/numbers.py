"""Phone numbers: any common written form to E.164, with the phonenumbers library."""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers.phonemetadata import PhoneMetadata

from .errors import BadInput

_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
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


def to_e164(raw: str, region: str | None = None) -> str:
    """'+65 9123-4567', '0065 91234567', '(9123) 4567' with region SG -> '+6591234567'.

    A number written without + or 00 is read in ``region`` when one is given; without a
    region, digits alone are read as international without the + (as 8x8 stores them).
    """
    return _to_e164(raw, region, fast=True)


@lru_cache(maxsize=None)
def _parsing_prefix(country_code: int) -> str | None:
    """The national prefix that phonenumbers' parse may strip after this country code (None: none)."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, phonenumbers.region_code_for_country_code(country_code))
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
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line")


@lru_cache(maxsize=None)
def _fast_pattern(country_code: int) -> re.Pattern | None:
    """The country code's one pattern over its national number (None: every number goes the full way)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if not regions:
        return None
    region = regions[0]
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    own = region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY or \
        phonenumbers.country_code_for_valid_region(region) == country_code
    general = _lengths_and_pattern(metadata.general_desc) if metadata is not None else None
    if general is None or not own:
        return None
    lengths, general_pattern = general
    by_length = _types_by_length(metadata, lengths)
    if not by_length:
        return None
    prefix = _parsing_prefix(country_code)
    leading = metadata.leading_digits if len(regions) > 1 else None
    return re.compile("(?!0)" + (rf"(?!(?:{prefix})(?<=\d))" if prefix else "") + (f"(?={leading})" if leading else "")
                      + rf"(?=(?:{general_pattern})\Z)(?:{'|'.join(by_length)})")


def _types_by_length(metadata, lengths: frozenset | None) -> list[str]:
    """One alternative a national number length (that the general description allows): the length,
    then any number type that allows it (premium, toll-free, ..., fixed line and mobile, as
    phonenumbers asks them)."""
    names = _TYPES if metadata.same_mobile_and_fixed_line_pattern else (*_TYPES, "mobile")
    types = [t for t in (_lengths_and_pattern(getattr(metadata, name)) for name in names) if t is not None]
    out = []
    for length in range(2, 18):  # national numbers are at least 2 and at most 17 digits
        patterns = [p for allowed, p in types if allowed is None or length in allowed]
        if patterns and (lengths is None or length in lengths):
            out.append(rf"(?=\d{{{length}}}\Z)(?:{'|'.join(f'(?:{p})' for p in patterns)})")
    return out


def _lengths_and_pattern(desc):
    """(possible lengths or None for any, the pattern), or None when the description matches nothing."""
    if desc is None or not desc.national_number_pattern:
        return None
    return (frozenset(desc.possible_length) or None), desc.national_number_pattern


def _to_e164(raw: str, region: str | None, *, fast: bool) -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidNumber("empty")
    written_international = text[:1] == "+" and text[1:].isdecimal()
    if fast and written_international:  # E.164 as written, the common case
        quick = _fast_international(text)
        if quick is not None:
            return quick
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not (compact[1:] if compact[:1] == "+" else compact).isdecimal():  # what \d matches: Unicode digits
        raise InvalidNumber("not a phone number")
    if not compact.startswith("+") and not region and compact.startswith("0"):
        raise InvalidNumber("a national number (leading 0) with no country: give a default region or a country column")
    attempts = [(compact, None)] if compact.startswith("+") else []
    if not attempts:
        if region:
            attempts.append((compact, region.upper()))
        attempts.append(("+" + compact, None))
    if fast and attempts[0][0].startswith("+") and not written_international:  # international once compacted
        quick = _fast_international(attempts[0][0])
        if quick is not None:
            return quick
    return _parse(tuple(attempts))


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
    compact = _SEPARATORS.sub("", (raw or "").strip())
    return bool(re.fullmatch(r"(\+|00)?\d{6,16}", compact))
