"""Check numbers against the opt-out group before sending: closes the hourly-sync gap.

8x8 syncs the blacklist to messaging hourly, so a customer who opted out a minute ago can
still receive a campaign. Checking the opt-out group itself right before a send closes that
gap. One number costs one request; an audience costs one paged read of the group (500
members a request, read again if the group changed meanwhile), never one request per number.
"""
from __future__ import annotations

import pandas as pd

from .client import Client
from .errors import BadInput
from .groups import Steps, read_group
from .numbers import InvalidNumber, digits_key, to_e164


def is_opted_out(client: Client, group_id: int, msisdn: str) -> bool:
    """Is this one number in the opt-out group now? One request."""
    return bool(member_ids(client, group_id, msisdn))


def member_ids(client: Client, group_id: int, msisdn: str) -> list[int]:
    """The ids of the group's members with this number (none, or one): one request."""
    key = digits_key(to_e164(msisdn))
    return [int(c["id"]) for c in client.contacts.search_contacts(key, group_id=group_id)
            if digits_key((c.get("addresses") or {}).get("msisdn", "")) == key]


def filter_audience(client: Client, group_id: int, audience: pd.DataFrame, column: str = "msisdn", *,
                    default_region: str | None = None, ledger=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split an audience into (who may be sent to, who was removed and why).

    Numbers that are opted out, or that cannot be read as phone numbers, are removed. With a
    ``ledger`` (helpers.ledger.build_ledger), numbers whose latest message in its window is an
    opt-out are removed too, even when the group does not hold them yet (a lost opt-out not
    repaired, or one the group has not caught up with): the customer asked, that is enough.
    """
    if column not in audience.columns:
        raise BadInput(f"the audience has no column {column!r}; its columns: {', '.join(map(str, audience.columns))}")
    raws = audience[column].astype("string").fillna("").tolist()

    def normalise():  # in steps of 500 numbers, run while the group's pages arrive
        found = []
        for start in range(0, len(raws), 500):
            for raw in raws[start:start + 500]:
                try:
                    found.append(digits_key(to_e164(raw, default_region)))
                except InvalidNumber as exc:
                    found.append(InvalidNumber(f"invalid number: {exc}"))
            yield
        return found

    reading = Steps(normalise())
    opted_out = read_group(client, group_id, meanwhile=reading).ever  # a member at any point of the read counts
    asked = {digits_key(n) for n in ledger.opted_out_numbers()} if ledger is not None else set()
    reasons = [str(key) if isinstance(key, InvalidNumber) else
               "opted out" if key in opted_out else
               "opted out (in the ledger; not in the group yet)" if key in asked else "" for key in reading.finish()]
    reason = pd.Series(reasons, index=audience.index)
    removed = audience[reason != ""].assign(reason=reason[reason != ""])
    return audience[reason == ""], removed
