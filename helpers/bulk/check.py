"""Reading the group as it is: for the plan, and for the check that decides every outcome.

8x8 pages a group's members by offset. A member added or removed while the pages are read
shifts the later pages, so one pass can miss members. :func:`read_group` therefore reads the
member count before and after the pages and accepts the read only when both counts agree with
the members seen; otherwise it reads again (up to ``attempts`` times). When the group never
holds still (a busy opt-out workflow), the snapshot keeps the union of what the reads saw
(``ever``: a removal re-checks a number that was a member at any point) besides the last read
(``keys``: an import counts as added only what the last read saw): each errs on the side of
reporting a failure, never a success.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..client import Client
from ..numbers import digits_key


@dataclass
class GroupSnapshot:
    group_id: int
    keys: dict[str, int]  # msisdn digits -> contact id, in the last read
    ever: dict[str, int] = field(default_factory=dict)  # the same over every read of this snapshot
    counts: list[int] = field(default_factory=list)  # member counts read around the pages
    reads: int = 0
    stable: bool = False

    @property
    def size(self) -> int:
        return self.counts[-1] if self.counts else len(self.keys)

    def describe(self) -> str:
        if self.stable:
            return f"{self.size} member(s), read in {self.reads} pass(es)"
        return (f"the group kept changing while it was read ({self.reads} passes; member counts "
                f"{', '.join(map(str, self.counts))}): numbers seen in any pass count as members")


def read_group(client: Client, group_id: int, *, attempts: int = 3) -> GroupSnapshot:
    """Every member of the group, read until the member count holds still around the read."""
    snapshot = GroupSnapshot(group_id, {})
    for _ in range(attempts):
        before = client.contacts.get_group(group_id)["contacts"]
        keys, ids = {}, set()
        for contact in client.contacts.group_members(group_id):
            ids.add(int(contact["id"]))
            msisdn = (contact.get("addresses") or {}).get("msisdn")
            if msisdn:
                keys[digits_key(msisdn)] = int(contact["id"])
        after = client.contacts.get_group(group_id)["contacts"]
        snapshot.keys = keys
        snapshot.ever.update(keys)
        snapshot.counts += [before, after] if not snapshot.counts or snapshot.counts[-1] != before else [after]
        snapshot.reads += 1
        if before == after == len(ids):
            snapshot.stable = True
            break
    return snapshot


def key_of(msisdn: str) -> str:
    """The digits of an E.164 number: how 8x8 matches numbers (with or without the +)."""
    return msisdn[1:] if msisdn.startswith("+") else digits_key(msisdn)
