"""The fast path for numbers already written internationally gives exactly what the full parse gives.

Numbers in mixed formats, from every region phonenumbers knows: E.164, spaced, 00-prefixed,
digits alone, national with their region, and look-alikes (a digit more or less, a 0 after the
country code or right after the +, Argentina's mobile 9, digits that are not ASCII, a line break or
another separator inside): each is normalised with and without the fast path, and the two answers
(the number, or the reason it is invalid) must be identical. The fast path for a whole column
(e164_many, what the file reader uses) must answer the same wherever it answers.

The suite compares 16,000 of them (seconds: the full parse is the cost). ``benchmarks/phone_numbers.py`` compares one million with
the same generator: the full parse of mixed and invalid numbers costs about 0.2 ms each, so that
run takes minutes, too long for every test run.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from helpers.numbers import InvalidNumber, _to_e164, e164_many

TOTAL = 16_000
TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP)


def _examples() -> list[tuple[str, str, str, str, int]]:
    """(region, E.164, international, national, country code) of every example number phonenumbers has."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                out.append(
                    (
                        region,
                        phonenumbers.format_number(number, PhoneNumberFormat.E164),
                        phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
                        phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
                        number.country_code,
                    )
                )
    return out


def _retail(written: str, tail: str) -> str:
    """``written`` with its last len(tail) digits replaced by ``tail``, its other characters kept."""
    chars, todo = list(written), list(tail)
    for i in range(len(chars) - 1, -1, -1):
        if not todo:
            break
        if chars[i].isdigit():
            chars[i] = todo.pop()
    return "".join(chars)


def _variant(rng: random.Random, example) -> tuple[str, str | None]:
    region, e164, international, national, code = example
    tail = "".join(str(rng.randrange(10)) for _ in range(rng.randrange(1, 4)))
    mutated = _retail(e164, tail)  # another number of the same shape: valid or not
    choice = rng.randrange(13)
    if choice == 0:
        return mutated, None
    if choice == 1:
        return _retail(international, tail), None
    if choice == 2:
        return "00" + mutated[1:], None
    if choice == 3:
        return mutated[1:], None  # digits alone: read as international
    if choice == 4:
        return _retail(national, tail), region
    if choice == 5:
        return mutated + str(rng.randrange(10)), None  # one digit too many
    if choice == 6:
        return mutated[:-1], None  # one too few
    if choice == 7:
        return f"+{code}0{mutated[1 + len(str(code)) :]}", None  # a national 0 kept after the country code
    if choice == 8:
        return f"+549{mutated[3:]}", None  # Argentina's mobile 9, which the parse transforms
    if choice == 9:
        return f"+0{mutated[1:]}", None  # a 0 after the +: no country code begins with 0
    if choice == 11:
        return mutated.translate(ARABIC_INDIC), None  # digits that are decimal but not ASCII
    if choice == 12:
        cut = rng.randrange(1, len(mutated))
        return mutated[:cut] + rng.choice(["\n", "\r", "\u2028", "/", "\u00a0", "\t"]) + mutated[cut:], None
    return mutated.replace("+", "+ ", 1), rng.choice([None, region])


ARABIC_INDIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")


def compare(seed: int, count: int) -> tuple[int, list]:
    """``count`` mixed numbers from ``seed``, through the fast path one by one, the full parse, and
    the fast path for a whole column (e164_many, which may leave a cell undecided but never answers
    otherwise): (count, the ones that differ)."""
    rng = random.Random(seed)
    examples = _examples()
    differ = []
    cells, regions, full = [], [], []
    for _ in range(count):
        raw, where = _variant(rng, rng.choice(examples))
        answers = []
        for fast in (True, False):
            try:
                answers.append(_to_e164(raw, where, fast=fast))
            except InvalidNumber as exc:
                answers.append(f"invalid: {exc}")
        if answers[0] != answers[1]:
            differ.append((raw, where, *answers))
        cells.append(raw.strip())
        regions.append(where)
        full.append(answers[1])
    for start in range(0, count, 1000):  # blocks, as the reader hands them over
        block = e164_many(cells[start : start + 1000], [r is None for r in regions[start : start + 1000]])
        for cell, where, settled, answer in zip(cells[start:], regions[start:], block, full[start:]):
            if settled is not None and settled != answer:
                differ.append(("column", cell, where, settled, answer))
    return count, differ


def test_fast_path_gives_what_the_full_parse_gives():
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(compare, range(8), [TOTAL // 8] * 8))
    assert sum(n for n, _ in results) == TOTAL
    differ = [d for _, ds in results for d in ds]
    assert differ == [], differ[:10]
