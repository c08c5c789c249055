"""Phone numbers: any common written form to E.164, with the phonenumbers library."""
from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException

_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "no country: add a leading + and country code, or give a default region",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_LONG: "too long",
}


class InvalidNumber(ValueError):
    pass


def digits_key(msisdn: str) -> str:
    """The digits only: how 8x8 matches msisdns ("+6591234567" and "6591234567" are one)."""
    return re.sub(r"\D", "", msisdn)


@lru_cache(maxsize=65536)
def to_e164(raw: str, region: str | None = None) -> str:
    """'+65 9123-4567', '0065 91234567', '(9123) 4567' with region SG -> '+6591234567'.

    A number written without + or 00 is read in ``region`` when one is given; without a
    region, digits alone are read as international without the + (as 8x8 stores them).
    """
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
