"""The opt-out group: create it once, find it again, never change it silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from .client import Client
from .concurrency import Steps, no_cycle_collection
from .errors import BadInput, Conflict, GroupNotFound
from .numbers import digits_key

if TYPE_CHECKING:  # for annotations only
    from .config import Settings

DEFAULT_GROUP_NAME = "WhatsApp opt-out"  # the account-wide blacklisted group (notebook 01's default)
# A subaccount's own opt-out list (EIGHTXEIGHT_OPT_OUT_LIST=subaccount) is a group that is NOT
# blacklisted, named after its subaccount: 8x8 does not enforce it (a blacklisted group stops
# messages on every subaccount), the audience check does. The name is how the runbook tells the two
# kinds apart: a group named with this prefix is a subaccount's list, and is never marked blacklisted.
SUBACCOUNT_LIST_PREFIX = "Opt-out: "


def subaccount_list_name(subaccount_id: str) -> str:
    return SUBACCOUNT_LIST_PREFIX + subaccount_id


def is_subaccount_list(name: str) -> bool:
    return str(name).startswith(SUBACCOUNT_LIST_PREFIX)


def opt_out_list_name(settings: Settings, name: str | None = None) -> str:
    """The group the settings' opt-outs go to: ``name`` when given, else the account-wide blacklisted
    group (EIGHTXEIGHT_OPT_OUT_LIST=account) or this subaccount's own list (=subaccount). An empty
    name is refused, not read as "the default": `--group "$GROUP"` with GROUP unset would otherwise
    work on a list nobody named."""
    if name is not None and not str(name).strip():
        raise BadInput(
            f"The opt-out group's name is empty ({name!r}): give its name or id, or leave it out "
            "(--group, OPT_OUT_GROUP_NAME) for the settings' list. Nothing was changed."
        )
    if name:
        return name
    if settings.opt_out_group and settings.opt_out_list == "account":  # EIGHTXEIGHT_OPT_OUT_GROUP: one adopted
        return settings.opt_out_group
    return subaccount_list_name(settings.subaccount_id) if settings.opt_out_list == "subaccount" else DEFAULT_GROUP_NAME


def blacklisted_groups(client: Client) -> list[dict]:
    """Every blacklisted group of the account (8x8 blocks the members of each), with its size."""
    return [g for g in client.contacts.search_groups() if g.get("isBlacklist")]


def who_enforces(name: str) -> str:
    """Said wherever a list is created or used: who stops the messages to its members."""
    if is_subaccount_list(name):
        return (
            f"{name!r} is a subaccount's own list, not blacklisted: 8x8 does not stop messages to its members; "
            "only sends that go through the audience check (notebook 08, python -m helpers audience "
            "--subaccount) leave them out."
        )
    return (
        f"{name!r} is blacklisted: 8x8 stops messages to its members on every subaccount of the account "
        "(after its hourly sync)."
    )


# JSON Patch exactly as the official definition's example "Mark group as a blacklist" writes it.
MARK_BLACKLISTED = [{"op": "replace", "path": "/isblacklist", "value": "true"}]
GROUP_COLUMNS = ["id", "name", "isBlacklist", "contacts", "description", "createdAt"]


@dataclass
class GroupOutcome:
    group: dict
    created: bool
    message: str

    @property
    def needs_blacklist(self) -> bool:
        """An account-wide group that is not blacklisted yet (a subaccount's own list never is)."""
        return not self.group.get("isBlacklist") and not is_subaccount_list(self.group.get("name", ""))


def ensure_opt_out_group(client: Client, name: str | None = None, description: str | None = None) -> GroupOutcome:
    """Create the blacklisted group (or, for a subaccount's list, a group that is not blacklisted),
    or find the one of that name (409, code 5003). ``name`` None: the settings' list."""
    name = opt_out_list_name(client.settings, name)
    own_list = is_subaccount_list(name)
    if name == DEFAULT_GROUP_NAME and not client.settings.opt_out_group:
        adopted = _adopt_existing(client)
        if adopted is not None:
            return adopted
    try:
        group = client.contacts.create_group(name, description, is_blacklist=not own_list)
        kind = "group (a subaccount's own list, not blacklisted)" if own_list else "blacklisted group"
        return GroupOutcome(group, True, f"Created {kind} {name!r} with id {group['id']}.")
    except Conflict as exc:
        if exc.code != 5003:
            raise
    lookup = find_opt_out_group(client, name, blacklisted_only=False)
    if lookup.group is None:
        raise GroupNotFound(
            f"8x8 says a group named {name!r} exists (code 5003), but no group of that exact name "
            f"was found. {lookup.advice}"
        )
    group = lookup.group
    if own_list:
        blocked = (
            " It IS blacklisted, so 8x8 stops its members' messages on every subaccount, not only this one; "
            "left unchanged."
            if group.get("isBlacklist")
            else ""
        )
        return GroupOutcome(group, False, f"Group {name!r} already exists (id {group['id']}): nothing to do.{blocked}")
    if group.get("isBlacklist"):
        return GroupOutcome(
            group, False, f"Group {name!r} already exists (id {group['id']}) and is blacklisted: nothing to do."
        )
    return GroupOutcome(
        group,
        False,
        f"Group {name!r} exists (id {group['id']}) but is NOT blacklisted, so its "
        "members still receive messages. It was left unchanged: mark it blacklisted "
        "with mark_blacklisted() if that is what you want.",
    )


def _adopt_existing(client: Client) -> GroupOutcome | None:
    """Where the account already has blacklisted groups (a hand-made "Opt Out" of 8x8's tutorial) and not
    the runbook's own: never a second list beside them. One is adopted (its name saved as
    EIGHTXEIGHT_OPT_OUT_GROUP, and this client uses it from now on); with several the operator chooses,
    and until then nothing is made (BadInput). None: the runbook's own exists, or there is none."""
    from .config import save_settings

    groups = blacklisted_groups(client)
    if not groups or any(g["name"] == DEFAULT_GROUP_NAME for g in groups):
        return None
    if len(groups) > 1:
        raise BadInput(
            f"The account has {len(groups)} blacklisted groups ({', '.join(repr(g['name']) for g in groups)}) "
            "and none is the runbook's: choose the one to use (EIGHTXEIGHT_OPT_OUT_GROUP in .env, or python "
            "-m helpers adopt --group NAME). Nothing was made: a second list beside them would split the "
            "opt-outs."
        )
    group = groups[0]
    save_settings({"EIGHTXEIGHT_OPT_OUT_GROUP": group["name"]})
    client.settings = client.settings.for_group(group["name"])
    return GroupOutcome(
        group,
        False,
        f"Adopted {group['name']!r} (id {group['id']}), the account's blacklisted group, "
        "instead of making a second one beside it: saved as EIGHTXEIGHT_OPT_OUT_GROUP, so "
        "every command and notebook uses it.",
    )


def mark_blacklisted(client: Client, group_id: int) -> dict:
    return client.contacts.update_group(group_id, MARK_BLACKLISTED)


def groups_table(groups: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(groups, columns=GROUP_COLUMNS).set_index("id")


@dataclass
class GroupLookup:
    query: str
    matches: list[dict] = field(default_factory=list)
    group: dict | None = None
    advice: str = ""

    def table(self) -> pd.DataFrame:
        frame = groups_table(self.matches)
        frame["chosen"] = frame.index == (self.group["id"] if self.group else None)
        return frame


def find_opt_out_group(
    client: Client, name: str | None = None, *, search: str | None = None, blacklisted_only: bool | None = None
) -> GroupLookup:
    """Search by full or partial name (``search``, default ``name``; every page) and pick the
    blacklisted group named exactly ``name`` (any group of that name, for a subaccount's own list).
    ``name`` None: the settings' list."""
    name = opt_out_list_name(client.settings, name)
    if blacklisted_only is None:
        blacklisted_only = not is_subaccount_list(name)
    matches = list(client.contacts.search_groups(search or name))
    lookup = GroupLookup(search or name, matches)
    exact = [g for g in matches if g["name"].casefold() == name.casefold()]
    candidates = [g for g in exact if g.get("isBlacklist")] if blacklisted_only else exact
    if len(candidates) == 1:
        lookup.group = candidates[0]
        lookup.advice = f"Using group {lookup.group['id']} ({lookup.group['name']!r})."
    elif not candidates and exact:
        lookup.advice = (
            f"A group named {name!r} exists but is not blacklisted. Run notebook 01, which offers "
            "to mark it, or pick another name."
        )
    elif not candidates:
        others = ", ".join(repr(g["name"]) for g in matches[:5])
        lookup.advice = (
            f"No group is named exactly {name!r}"
            + (f" (similar: {others})" if others else "")
            + ". Run notebook 01 to create it, or fix OPT_OUT_GROUP_NAME."
        )
    else:
        lookup.advice = (
            f"{len(candidates)} groups match {name!r} exactly; 8x8 should not allow that. "
            "Check them in Connect and pass the id you mean."
        )
    return lookup


def opt_out_group_id(client: Client, name: str | None = None, *, create_if_missing: bool = False) -> int:
    """The id of the blacklisted group of that name (None: the settings' list), as later notebooks need it.

    ``create_if_missing`` (used on a fresh sandbox, so each notebook runs on its own) does
    what notebook 01 does when the group is not there yet.
    """
    lookup = find_opt_out_group(client, name)
    if lookup.group is not None:
        return lookup.group["id"]
    if create_if_missing and not lookup.matches:
        return ensure_opt_out_group(client, name).group["id"]
    raise GroupNotFound(lookup.advice)


# Reading a group's members. 8x8 pages them by offset: a member added or removed while the pages
# are read shifts the later pages, so one pass can miss members. read_group() therefore reads
# the member count before and after the pages and accepts the read only when both agree with the
# members seen; otherwise it reads again (up to ``attempts`` times). When the group never holds
# still (a busy opt-out workflow), the snapshot keeps the union of what the reads saw (``ever``:
# a removal re-checks, and a pre-send check leaves out, a number that was a member at any point)
# besides the last read (``keys``: an import counts as added only what the last read saw). Each
# errs on the side of reporting a failure, never a success.


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
        return (
            f"the group kept changing while it was read ({self.reads} passes; member counts "
            f"{', '.join(map(str, self.counts))}): numbers seen in any pass count as members"
        )


def read_group(client: Client, group_id: int, *, attempts: int = 3, meanwhile: Steps | None = None) -> GroupSnapshot:
    """Every member of the group, read until the member count holds still around the read.

    ``meanwhile``: other work, advanced a step at a time whenever the next page is not there yet
    (this thread would only wait for it; a second thread would fight this one for the interpreter
    lock), and never a step per page regardless, which holds the pages up (benchmarks/audience.py)."""
    with no_cycle_collection():
        return _read_group(client, group_id, attempts, meanwhile)


def _read_group(client: Client, group_id: int, attempts: int, meanwhile: Steps | None) -> GroupSnapshot:
    snapshot = GroupSnapshot(group_id, {})
    for _ in range(attempts):
        before = client.contacts.get_group(group_id)["contacts"]
        keys, ids = {}, set()
        for contact in client.contacts.group_members(group_id, idle=meanwhile.step if meanwhile is not None else None):
            contact_id = int(contact["id"])
            ids.add(contact_id)
            msisdn = (contact.get("addresses") or {}).get("msisdn")
            if msisdn:
                # the common "+digits" without a regular expression (a million members: a second saved)
                keys[msisdn[1:] if msisdn[:1] == "+" and msisdn[1:].isdigit() else digits_key(msisdn)] = contact_id
        after = client.contacts.get_group(group_id)["contacts"]
        snapshot.keys = keys
        snapshot.ever.update(keys)
        snapshot.counts += [before, after] if not snapshot.counts or snapshot.counts[-1] != before else [after]
        snapshot.reads += 1
        if before == after == len(ids):
            snapshot.stable = True
            break
    return snapshot
