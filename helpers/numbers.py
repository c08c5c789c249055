"""Phone numbers: any common written form to E.164, with the phonenumbers library."""
from __future__ import annotations

import re
from dataclasses import dataclass
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
def _parsing_prefix(country_code: int):
    """The national prefix that phonenumbers' parse may strip after this country code (None: none)."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, phonenumbers.region_code_for_country_code(country_code))
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


def _fast_international(candidate: str) -> str | None:
    """``candidate`` ('+' and digits) itself when it is a valid number that a full parse would keep
    exactly as written; None whenever the parse could change it (the caller then does the parse).

    The parse's own steps, skipped only where they cannot act: the country code is read as
    phonenumbers reads it (the first of 1, 2 or 3 digits that is a country code); a national
    number starting with 0, or where the country's national prefix for parsing matches, goes the
    full way (the parse could strip or transform it); validity is phonenumbers' own check.
    """
    digits = candidate[1:]
    if not 7 <= len(digits) <= 15:
        return None
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if len(national) < 2 or national[0] == "0":
        return None
    prefix = _parsing_prefix(country_code)
    if prefix is not None:
        match = prefix.match(national)
        if match and (match.end() > 0 or any(g is not None for g in match.groups())):
            return None
    return candidate if _is_valid(country_code, national) else None


# phonenumbers' is_valid_number, for a national number without leading zeros, with its patterns
# compiled once (per region, one alternation of its number types for each length) and its per-call
# layers gone: three times as fast. The region is found as its region_code_for_number finds it
# (the one region of the code, or the first whose leading digits match or whose number types
# accept the number), then the number must be of a known type there. tests/test_numbers_fast_path.py
# and benchmarks/phone_numbers.py prove identical answers.
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line")


@dataclass(frozen=True)
class _Region:
    code: str
    leading: re.Pattern | None  # phonenumbers' leading digits, when the region has them
    general: tuple | None  # (lengths or None for any, pattern); None: the region accepts no number
    types: dict  # length -> one pattern: the alternation of the number types that allow that length
    own: bool  # the region's own country code is this one (phonenumbers checks it)

    def knows(self, national: str) -> bool:
        if self.general is None:
            return False
        lengths, general = self.general
        if lengths is not None and len(national) not in lengths or not general.fullmatch(national):
            return False
        pattern = self.types.get(len(national))
        return pattern is not None and pattern.fullmatch(national) is not None


def _lengths_and_pattern(desc):
    """(possible lengths or None for any, the pattern), or None when the description matches nothing."""
    if desc is None or not desc.national_number_pattern:
        return None
    return (frozenset(desc.possible_length) or None), desc.national_number_pattern


@lru_cache(maxsize=None)
def _regions(country_code: int) -> tuple:
    """The country code's regions in phonenumbers' order (None for one without metadata)."""
    out = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
        if metadata is None:
            out.append(None)
            continue
        general = _lengths_and_pattern(metadata.general_desc)
        names = _TYPES if metadata.same_mobile_and_fixed_line_pattern else (*_TYPES, "mobile")  # as phonenumbers asks
        types = [t for t in (_lengths_and_pattern(getattr(metadata, name)) for name in names) if t is not None]
        by_length = {}
        for length in range(1, 18):  # national numbers are at most 17 digits
            patterns = [p for lengths, p in types if lengths is None or length in lengths]
            if patterns:
                by_length[length] = re.compile("|".join(f"(?:{p})" for p in patterns))
        own = region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY or \
            phonenumbers.country_code_for_valid_region(region) == country_code
        out.append(_Region(region, re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None,
                           general and (general[0], re.compile(general[1])), by_length, own))
    return tuple(out)


def _is_valid(country_code: int, national: str) -> bool:
    regions = _regions(country_code)
    if len(regions) == 1:
        chosen = regions[0]
    else:
        chosen = next((r for r in regions if r is not None and (
            r.leading.match(national) if r.leading is not None else r.knows(national))), None)
    return chosen is not None and chosen.own and chosen.knows(national)


def _to_e164(raw: str, region: str | None, *, fast: bool) -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidNumber("empty")
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d+", compact):
        raise InvalidNumber("not a phone number")
    if not compact.startswith("+") and not region and compact.startswith("0"):
        raise InvalidNumber("a national number (leading 0) with no country: give a default region or a country column")
    attempts = [(compact, None)] if compact.startswith("+") else []
    if not attempts:
        if region:
            attempts.append((compact, region.upper()))
        attempts.append(("+" + compact, None))
    if fast and attempts[0][0].startswith("+"):  # already international: most files are
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
