"""Check numbers against the opt-out group before sending: closes the hourly-sync gap.

8x8 syncs the blacklist to messaging hourly, so a customer who opted out a minute ago can
still receive a campaign. Checking the opt-out group itself right before a send closes that
gap. One number costs one request; an audience costs one paged read of the group (500
members a request, read again if the group changed meanwhile), never one request per number.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from .client import Client
from .concurrency import Steps
from .errors import BadInput
from .groups import read_group
from .numbers import InvalidNumber, digits_key, platform_number, to_e164


class Reason:
    IN_GROUP = "in the opt-out group"
    IN_GROUP_SYNC = "in the opt-out group; opted out within the hour, so 8x8's blacklist may not hold it yet"
    LEDGER_ONLY = "opted out (the ledger has the STOP; the group does not hold it yet: lost, or a retry waiting)"
    IN_OWN_LIST = "in this subaccount's own opt-out list"
    IN_OTHER_BLACKLIST = "in another blacklisted group of the account (8x8 blocks its members too)"
    BSUID_ONLY = (
        "opted out (the ledger has the STOP of this row's WhatsApp BSUID, sent without a phone number: no "
        "group can hold a BSUID)"
    )
    INVALID = "invalid"
    DUPLICATE = "duplicate"

    @staticmethod
    def kind(reason: str) -> str:
        """The few words a count or a chart shows for a reason."""
        return {
            Reason.IN_GROUP: "in the group",
            Reason.IN_GROUP_SYNC: "in the group, opted out within the hour",
            Reason.LEDGER_ONLY: "opted out, not in the group yet",
            Reason.IN_OWN_LIST: "in the subaccount's list",
            Reason.BSUID_ONLY: "opted out by BSUID",
        }.get(reason, reason.split(":")[0].split(" (")[0])


def leave_out_reasons(
    msisdns: pd.Series,
    *,
    members: Collection[str],
    own_list: Collection[str] = frozenset(),
    asked: Collection[str] = frozenset(),
    recent: Collection[str] = frozenset(),
) -> pd.Series:
    """Why each number may not receive a message (None: it may), for a whole column at once: the one
    decision of the audience command and of :func:`filter_audience`.

    ``msisdns``: E.164 numbers as the reader writes them ("+" and digits), None for rows not to
    judge; the sets hold digit keys (digits_key): the opt-out group's members (the blacklisted
    group first: its reason wins), this subaccount's own list, numbers the ledger has as opted out,
    and members who joined within the blacklist's sync hour.
    """
    valid = msisdns.notna().to_numpy()
    # E.164 is "+" and at most 15 digits, the first never 0: its digits as an int64 are its key, and
    # int64s are compared in C (strings: four times slower). int() reads the "+" itself.
    keys = np.full(len(msisdns), -1, dtype=np.int64)
    keys[valid] = np.fromiter(map(int, msisdns.to_numpy()[valid]), dtype=np.int64, count=int(valid.sum()))
    keys = pd.Series(keys, index=msisdns.index)
    in_group, in_own, in_ledger, in_sync = (
        keys.isin(_int_keys(s)).to_numpy() if s else np.zeros(len(keys), bool)
        for s in (members, own_list, asked, recent)
    )
    reason = np.full(len(msisdns), None, dtype=object)
    reason[valid & in_ledger & ~in_group & ~in_own] = Reason.LEDGER_ONLY
    reason[valid & in_own & ~in_group] = Reason.IN_OWN_LIST
    reason[valid & in_group & ~in_sync] = Reason.IN_GROUP
    reason[valid & in_group & in_sync] = Reason.IN_GROUP_SYNC
    return pd.Series(reason, index=msisdns.index, dtype=object)


def _int_keys(digit_keys) -> np.ndarray:
    """Digit keys as int64 (a key that starts with 0 or is longer than E.164 matches no valid number)."""
    return np.fromiter(
        (int(k) for k in digit_keys if k and k[0] != "0" and len(k) <= 15 and k.isascii() and k.isdigit()),
        dtype=np.int64,
    )


def is_opted_out(client: Client, group_id: int, msisdn: str) -> bool:
    """Is this one number in the opt-out group now? One request."""
    return bool(member_ids(client, group_id, msisdn))


def member_ids(client: Client, group_id: int, msisdn: str) -> list[int]:
    """The ids of the group's members with this number (none, or one): one request. A number written
    as E.164 ("+" and digits, as 8x8 gives them) is taken by its digits, whatever the phone-number
    metadata knows of it; any other form is read by to_e164 (InvalidNumber when it is none)."""
    key = (platform_number(msisdn) if str(msisdn).startswith("+") else "")[1:] or digits_key(to_e164(msisdn))
    return [
        int(c["id"])
        for c in client.contacts.search_contacts(key, group_id=group_id)
        if digits_key((c.get("addresses") or {}).get("msisdn", "")) == key
    ]


def filter_audience(
    client: Client,
    group_id: int,
    audience: pd.DataFrame,
    column: str = "msisdn",
    *,
    default_region: str | None = None,
    ledger: Any = None,  # a helpers.ledger.Ledger (a layer above this one)
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split an audience into (who may be sent to, who was removed and why).

    Numbers that are opted out, or that cannot be read as phone numbers, are removed. With a
    ``ledger`` (helpers.ledger.build_ledger), numbers whose latest message in its window is an
    opt-out are removed too, even when the group does not hold them yet (a lost opt-out not
    repaired, or one the group has not caught up with): the customer asked, that is enough.
    """
    if column not in audience.columns:
        raise BadInput(f"the audience has no column {column!r}; its columns: {', '.join(map(str, audience.columns))}")
    raws = audience[column].astype("string").fillna("").tolist()
    invalid: dict[int, str] = {}

    def normalise():  # in steps of 500 numbers, run while the group's pages arrive
        found = []
        for start in range(0, len(raws), 500):
            for i, raw in enumerate(raws[start : start + 500], start):
                try:
                    found.append(to_e164(raw, default_region))
                except InvalidNumber as exc:
                    found.append(None)
                    invalid[i] = f"{Reason.INVALID}: {exc}"
            yield
        return found

    reading = Steps(normalise())
    opted_out = read_group(client, group_id, meanwhile=reading).ever  # a member at any point of the read counts
    asked = {digits_key(n) for n in ledger.opted_out_numbers()} if ledger is not None else set()
    numbers = pd.Series(reading.finish(), index=audience.index, dtype=object)
    reason = leave_out_reasons(numbers, members=opted_out.keys(), asked=asked)
    for i, why in invalid.items():
        reason.iloc[i] = why
    left_out = reason.notna()
    return audience[~left_out], audience[left_out].assign(reason=reason[left_out])
