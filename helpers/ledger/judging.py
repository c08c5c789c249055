"""Judging the rows: per number, the latest word counts; what each row needs; the time to honour
and the deadlines missed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pandas as pd

from ..groups import GroupSnapshot
from ..numbers import digits_key
from .rows import (
    _OPT_IN,
    _OPT_OUT,
    ALREADY,
    NOT_MEASURED,
    Action,
    Deadlines,
    Matched,
    Window,
    _succeeded,
    add_business_days,
    parse_time,
)


def _numbers_of_channel_users(records: list[dict]) -> None:
    """A message that came with a channel user id alone (a v3 WhatsApp webhook with the BSUID and no
    number) takes the number another message of the same channel user carried in the window: the
    customer is known, so their STOP can be put in the group (and a number that does is never kept
    on a send list). In place; the Contacts answer says where the number came from."""
    known: dict[tuple, str] = {}
    for r in records:
        if r["number"] and r["channel_user_id"]:
            known.setdefault((r["channel"], r["channel_user_id"]), r["number"])
    if not known:
        return
    for r in records:
        if not r["number"] and r["channel_user_id"]:
            number = known.get((r["channel"], r["channel_user_id"]))
            if number:
                r["number"] = number
                r["contacts_answer"] = (
                    f"{r['contacts_answer']}; the number is this channel user's, from their other messages"
                ).lstrip("; ")


def _redeliveries(records: list[dict]) -> None:
    """8x8 delivers a webhook again when the first delivery failed (after 1, 10, 30 and 90 s), and each
    delivery starts the workflow: the runs of one message (the same ``payload.umid``) after the first
    are marked, so the message counts once (records oldest first)."""
    first: dict[str, str] = {}
    for r in records:
        umid = r.get("_umid")
        if umid:
            if umid in first:
                r["_repeat_of"] = first[umid]
            else:
                first[umid] = r["workflow_id"] or "an earlier run"


def _judge(
    records: list[dict],
    groups: dict[int, GroupSnapshot],
    window: Window,
    test_numbers: set[str] | frozenset = frozenset(),
) -> None:
    """Fill member_now, awaiting_sync and action, in place (records oldest first)."""
    sync_boundary = window.iso(window.end.replace(minute=0, second=0, microsecond=0))
    latest: dict[tuple, int] = {}
    opt_out, opt_in, none = Matched.OPT_OUT.value, Matched.OPT_IN.value, Action.NONE.value  # once, not per row
    members = {g: snapshot.keys for g, snapshot in groups.items()}
    for i, r in enumerate(records):
        number, matched = r["number"], r["matched"]
        member = (number[1:] if number[:1] == "+" else digits_key(number)) in members[r["group_id"]] if number else None
        r["member_now"] = member
        r["awaiting_sync"] = bool(member) and matched == opt_out and r["time"] >= sync_boundary
        r["action"] = none
        if r.get("_repeat_of"):
            continue  # the same message again: its first run is the one that counts
        if number and (matched == opt_out or matched == opt_in):
            latest[(r["group_id"], number)] = i
    latest_rows = set(latest.values())
    for i, r in enumerate(records):
        r["action"] = Action.REDELIVERY.value if r.get("_repeat_of") else _action(r, i in latest_rows, test_numbers)


def _action(r: dict, latest: bool, test_numbers) -> str:
    """What a run needs: nothing, a repair (add, remove), waiting (in progress), or a note."""
    matched, number = r["matched"], r["number"]
    if number and number in test_numbers:  # a test's every run, opt-out or not, is no customer's
        return Action.TEST.value
    if matched != _OPT_OUT and matched != _OPT_IN:
        return r["action"]
    if not number:
        return Action.NO_NUMBER.value if matched == _OPT_OUT else Action.NONE.value
    if not latest:
        return Action.SUPERSEDED.value
    if matched == _OPT_OUT and not r["member_now"]:
        if _succeeded(r["contacts_answer"]):
            return Action.LEFT_SINCE.value
        # a run still Runnable waits to try again: in progress, not lost
        return Action.IN_PROGRESS.value if r["status"] == "Runnable" else Action.ADD.value
    if matched == _OPT_IN and r["member_now"]:
        return Action.IN_PROGRESS.value if r["status"] == "Runnable" else Action.REMOVE.value
    return r["action"]


def _time_to_honour(records: list[dict], window: Window, seen: dict[str, str], deadlines: Deadlines) -> None:
    """For each opt-out that counts (the latest word of its number): when a read-back first saw it in
    the group, how it got there, the hourly blacklist sync after that, and the deadlines missed."""
    counting = (Action.NONE.value, Action.ADD.value, Action.IN_PROGRESS.value)
    honour_days, confirm_within = deadlines.honour_business_days, timedelta(minutes=deadlines.confirm_minutes)
    # business days to calendar days, per weekday of the start (a hundred thousand rows: computed once)
    span = {
        weekday: (
            add_business_days(datetime(2024, 1, 1 + weekday, tzinfo=UTC), honour_days)
            - datetime(2024, 1, 1 + weekday, tzinfo=UTC)
        )
        for weekday in range(7)
    }
    parsed: dict[str, tuple] = {}  # in-group time -> (datetime, the hourly sync after it): few distinct ones

    def seen_and_sync(text: str):
        if text not in parsed:
            at = parse_time(text)
            parsed[text] = (
                at,
                window.iso(at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
                if at is not None
                else "",
            )
        return parsed[text]

    opt_out = Matched.OPT_OUT.value
    for r in records:
        if r["matched"] != opt_out or r["action"] not in counting:
            r["honoured_by"] = ""
            continue
        received = parse_time(r["time"])
        deadline = received + span[received.weekday()] if received is not None else None
        if r["member_now"]:
            late = _late_into_group(r, seen.get(r["number"]), deadline, honour_days, seen_and_sync)
            if late is None:  # not measured: no time to judge by
                continue
        else:
            r["honoured_by"] = ""
            late = (
                [f"not in the group after {honour_days} business days"]
                if deadline is not None and window.end > deadline
                else []
            )
        late += _late_confirmation(r, received, window.end, confirm_within, deadlines.confirm_minutes)
        r["late"] = "; ".join(late)


def _late_into_group(r: dict, seen_before: str | None, deadline, honour_days: int, seen_and_sync) -> list[str] | None:
    """A member's row: sets in_group_at, honoured_by and the sync; the deadline it missed, if any.
    None when its time in the group is not measured (then late is "")."""
    # a time 8x8 stated (the run whose Contacts call succeeded: its confirmation, else its end)
    # or an earlier read-back saw; this read's own time says nothing of when it got there
    in_group = min(
        (t for t in (seen_before, _stated_in_group(r)) if t),
        default="",
        key=lambda t: parse_time(t) or datetime.min.replace(tzinfo=UTC),
    )
    r["in_group_at"] = in_group
    if not _succeeded(r["contacts_answer"]):
        r["honoured_by"] = "repair"
    if not in_group:
        r["honoured_by"] = f"{r['honoured_by']}; {NOT_MEASURED}".lstrip("; ")
        r["late"] = ""
        return None
    seen_at, r["blacklist_sync_at"] = seen_and_sync(in_group)
    if seen_at is not None and deadline is not None and seen_at > deadline:
        return [f"in the group after {honour_days} business days"]
    return []


def _late_confirmation(r: dict, received, read_at: datetime, confirm_within: timedelta, minutes: int) -> list[str]:
    """The confirmation's deadline missed, if any: sent too late, or (honoured by its own run) not sent."""
    confirmed = parse_time(r["confirmation_sent_at"]) if r["confirmation_sent_at"] else None
    if confirmed is not None and received is not None and confirmed - received > confirm_within:
        return [f"confirmation after {minutes} minutes"]
    if (
        r["member_now"]
        and _succeeded(r["contacts_answer"])
        and r["confirmation_sent"].startswith("no")
        and r["contacts_answer"] != ALREADY
        and received is not None
        and read_at - received > confirm_within
    ):
        return [
            f"no confirmation within {minutes} minutes"
            + (f" ({r['confirmation_sent']})" if r["confirmation_sent"] != "no" else "")
        ]
    return []


def _stated_in_group(r: dict) -> str:
    """When 8x8 says the number was in the group: the run whose Contacts call answered 2xx sent its
    confirmation after it (the time 8x8 stamped on that message), else it ended after it ("" otherwise)."""
    if not _succeeded(r["contacts_answer"]):
        return ""
    for text in (r["confirmation_sent_at"], r.get("_completed_at")):
        if text and parse_time(text) is not None:
            return text
    return ""


def after_repair(
    rows: pd.DataFrame,
    is_member: Callable[[str], bool],
    refused: Callable[[str], str | None],
    read_at: str,
    honour_days: int,
) -> tuple[pd.DataFrame, dict[Action, int]]:
    """Rows that needed a repair, as the group read back after it shows them (``is_member``): a row is
    repaired only when the group says so, first seen there at ``read_at``; a refused repair says why
    (``refused``). Answers changed copies of the rows, and the repairs per action."""
    rows = rows.copy()
    repaired = {Action.ADD: 0, Action.REMOVE: 0}
    for i in rows.index:
        number, action = rows.at[i, "number"], rows.at[i, "action"]
        member = is_member(number)
        rows.at[i, "member_now"] = member
        if (action == Action.ADD and member) or (action == Action.REMOVE and not member):
            rows.at[i, "action"] = (Action.REPAIRED_ADD if action == Action.ADD else Action.REPAIRED_REMOVE).value
            repaired[Action(action)] += 1
            if action == Action.ADD:  # first seen in the group by this read-back
                rows.at[i, "in_group_at"], rows.at[i, "honoured_by"] = read_at, "repair"
                rows.at[i, "confirmation_sent"] = "no: a repair sends no confirmation"
                received, seen = parse_time(rows.at[i, "time"]), parse_time(read_at)
                in_time = received is None or seen is None or seen <= add_business_days(received, honour_days)
                rows.at[i, "late"] = "" if in_time else f"in the group after {honour_days} business days (repaired)"
        elif (why := refused(number)) is not None:
            rows.at[i, "contacts_answer"] += f"; repair refused: {why}"
    return rows, repaired
