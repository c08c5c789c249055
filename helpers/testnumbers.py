"""The numbers test messages may go to: never a stranger's.

Notebook 04's test messages and the health check's canary go through the deployed workflows, which
answer them: on 8x8 each answer is a real message to that number, and each test STOP puts the number
in the account-wide blacklist for a while. So on 8x8 a test number is one of two kinds, and anything
else is refused before a message is sent (:func:`check_may_send`):

- a number of a range set aside for fiction, which no customer can have (:data:`FICTION_RANGES`);
- a number of the prefix the operator named as theirs (``EIGHTXEIGHT_TEST_NUMBER_PREFIX``).

On the sandbox nothing reaches anyone: every number may be used. The ledger counts the runs of test
numbers as tests, not customers (:func:`is_test_number`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .config import Settings
from .errors import BadInput
from .text import some_of

# Ranges regulators set aside for drama and examples: no subscriber is given one.
FICTION_RANGES = {
    "North America: 555-0100 to 555-0199 of every area code": re.compile(r"\+1[2-9][0-9]{2}55501[0-9]{2}"),
    "United Kingdom (Ofcom): mobile 07700 900000 to 900999": re.compile(r"\+447700900[0-9]{3}"),
}


class StrangerRefused(BadInput):
    """A test message would go to a number that is neither the operator's nor fiction (exit code 2)."""


def is_fiction(number: str) -> bool:
    return any(pattern.fullmatch(str(number)) for pattern in FICTION_RANGES.values())


def _of_prefix(prefix: str, number: str) -> bool:
    return (
        bool(prefix)
        and str(number).startswith(prefix)
        and len(str(number)) == len(prefix) + 3
        and str(number)[len(prefix) :].isdigit()
    )


def is_test_number(settings: Settings, number: str) -> bool:
    """A number whose runs are tests, not a customer's: fiction, or of the settings' test prefix (on the
    sandbox, its default range too). On 8x8 a number of the sandbox's default range is a customer's."""
    return bool(number) and (is_fiction(number) or _of_prefix(settings.test_number_prefix, number))


def check_may_send(settings: Settings, numbers: Iterable[str], what: str = "A test message") -> None:
    """Refuse (StrangerRefused), before anything is sent, a test message to any of ``numbers`` that on 8x8
    is neither fiction nor of the prefix the operator set as theirs. On the sandbox: every number."""
    if settings.sandbox_mode:
        return
    strangers = [
        n
        for n in ([numbers] if isinstance(numbers, str) else numbers)
        if not is_fiction(n) and not _of_prefix(settings.test_prefix_setting, n)
    ]
    if strangers:
        shown = some_of(strangers, 3)
        raise StrangerRefused(
            f"{what} would go to {shown} on 8x8: the workflow would answer, and a STOP would blacklist the number. "
            "It is neither of a range set aside for fiction nor of your test prefix, so nothing was sent. Set "
            "EIGHTXEIGHT_TEST_NUMBER_PREFIX (in .env) to the first digits of numbers that are yours (+ and the digits "
            "before the last three), or leave the prefix unset to test from Ofcom's drama range +447700900xxx."
        )
