"""The opt-out ledger: every inbound message the opt-out workflows handled, and what became of it.

8x8 keeps no history of group membership; the workflows' own runs are the record (NOTES.md,
"Workflow instances"). The ledger reads every run of the runbook's workflows (both channels,
every version: the list answers the latest version unless asked) in a window of time, from
the instance list alone: each run's ``data`` carries the trigger's payload (who, what, where)
and the step outputs the workflow records (``workflow.RECORDED``: the Contacts answer, the
confirmation's umid). Only runs that faulted (``Terminated``) cost one more request each, for
their error. Then it reads the opt-out group once and says, per message:

- time, number (or the channel's user id when the webhook had none), channel, subaccount, text
  (or the button's title), matched as opt-out, opt-in, help or other;
- the Contacts answer, whether the confirmation went out, membership now, and whether 8x8's
  hourly blacklist sync may not have caught up yet;
- the action needed. Per number, only the latest opt-out or opt-in counts:
  * a lost opt-out: the workflow's Contacts call did not succeed (no 2xx, or the step faulted)
    and the number is not in the group: add it;
  * an opt-in not applied: the number is still a member after the customer's latest word was
    an opt-in: remove it (the only case where a repair removes anyone);
  * an opt-out without a phone number (a v3 webhook without ``user.msisdn``): it cannot be
    repaired through the group; the operator must act (the channel user id says who).
  An opt-out whose Contacts call succeeded but whose number has left the group since is not
  re-added: someone took it out on purpose (a bulk removal of opt-ins); the ledger notes it.

Which texts count is the workflow's record where it has one (an opt-out run has a Contacts
answer, an opt-in run has its contact lookup); otherwise the deployed workflow's own Branch
conditions classify the text (run by QuickJS), so the audit judges with the languages that were
deployed. A ``policy`` given to :func:`build_ledger` classifies instead (what-if audits).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path

import pandas as pd

from .client import Client
from .config import DEFAULT_CONFIRM_MINUTES, DEFAULT_HONOUR_BUSINESS_DAYS
from .errors import BadInput
from .expressions import Expressions
from .groups import GroupSnapshot, read_group
from .numbers import InvalidNumber, digits_key, to_e164
from .policy import KeywordPolicy, message_texts
from .workflow import DEFAULT_NAME, RECORDED, DeployedWorkflow, deployed_workflows, redact

DEFAULT_HOURS = 7 * 24
COLUMNS = ["time", "number", "channel_user_id", "channel", "subaccount", "text", "matched", "contacts_answer",
           "confirmation_sent", "member_now", "awaiting_sync", "action",
           # time to honour (opt-outs): "time" is when it was received
           "in_group_at", "honoured_by", "confirmation_sent_at", "blacklist_sync_at", "late",
           "workflow_id", "status", "version"]


class Matched(StrEnum):
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"
    OTHER = "other"


class Action(StrEnum):
    NONE = ""
    ADD = "lost opt-out: add to the group"
    REMOVE = "opt-in not applied: remove from the group"
    NO_NUMBER = "cannot repair: no phone number"
    LEFT_SINCE = "note: left the group after a successful opt-out"
    SUPERSEDED = "superseded by a later message"
    IN_PROGRESS = "in progress: the workflow retries the call"
    TEST = "test number: not a customer"
    REPAIRED_ADD = "repaired: added to the group"
    REPAIRED_REMOVE = "repaired: removed from the group"


REPAIRS = (Action.ADD, Action.REMOVE)
UNRESOLVED = (Action.ADD, Action.REMOVE, Action.NO_NUMBER)


class BadWindow(BadInput):
    """--hours or --since cannot be used (exit code 2)."""


def iso(when: datetime) -> str:
    """8x8's timestamp shape: 2022-04-18T07:39:55.52Z."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-4] + "Z"


def parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(text).strip().replace("z", "Z"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` business days (Monday to Friday) after ``start``; public holidays are not known, so
    the deadline may be a day early where one falls in between (the strict side)."""
    when = start
    left = days
    while left > 0:
        when += timedelta(days=1)
        if when.weekday() < 5:
            left -= 1
    return when


@dataclass(frozen=True)
class Deadlines:
    """The deadlines the ledger flags (settings EIGHTXEIGHT_HONOUR_WITHIN_BUSINESS_DAYS and
    EIGHTXEIGHT_CONFIRM_WITHIN_MINUTES)."""
    honour_business_days: int = DEFAULT_HONOUR_BUSINESS_DAYS
    confirm_minutes: int = DEFAULT_CONFIRM_MINUTES

    @classmethod
    def of(cls, settings) -> "Deadlines":
        return cls(settings.honour_business_days, settings.confirm_minutes)


@dataclass
class Window:
    start: datetime
    end: datetime  # the platform's "now" when the ledger was read

    def iso(self, when: datetime) -> str:
        return iso(when)

    def describe(self) -> str:
        return f"{self.iso(self.start)} to {self.iso(self.end)}"


def make_window(client: Client, *, hours: float | None = None, since: str | datetime | None = None) -> Window:
    """From ``since`` (ISO 8601) or the last ``hours`` (default 7 days) to the platform's now."""
    if hours is not None and since is not None:
        raise BadWindow("Give --hours or --since, not both.")
    end = client.platform_time()
    if since is not None:
        if isinstance(since, str):
            try:
                start = datetime.fromisoformat(since.strip().replace("z", "Z"))
            except ValueError:
                raise BadWindow(f"--since {since!r} is not an ISO 8601 time: write it like 2026-01-05T09:00:00Z.") \
                    from None
        else:
            start = since
        start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    else:
        hours = DEFAULT_HOURS if hours is None else hours
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 366:
            raise BadWindow(f"--hours must be a number of hours from 1 to {24 * 366}, not {hours!r}.")
        start = end - timedelta(hours=hours)
    if start > end:
        raise BadWindow(f"--since {since} is after the platform's time now ({Window(end, end).iso(end)}).")
    return Window(start, end)


@dataclass
class Ledger:
    rows: pd.DataFrame  # COLUMNS, oldest first
    window: Window
    workflows: dict[str, DeployedWorkflow]
    groups: dict[int, GroupSnapshot] = field(default_factory=dict)

    @property
    def group_id(self) -> int:
        return next(iter(self.workflows.values())).group_id

    def needing(self, *actions: Action) -> pd.DataFrame:
        return self.rows[self.rows["action"].isin([a.value for a in actions])]

    @property
    def lost(self) -> pd.DataFrame:
        """Opt-outs not honoured (and opt-ins not applied) that a repair can fix."""
        return self.needing(*REPAIRS)

    @property
    def unrepairable(self) -> pd.DataFrame:
        return self.needing(Action.NO_NUMBER)

    def opted_out_numbers(self) -> set[str]:
        """Numbers whose latest word in the window is an opt-out (members or not): for the pre-send check."""
        latest = self._latest()
        return set(latest.loc[latest["matched"] == Matched.OPT_OUT, "number"])

    def _latest(self) -> pd.DataFrame:
        decided = self.rows[self.rows["matched"].isin([Matched.OPT_OUT, Matched.OPT_IN]) & self.rows["number"].ne("")]
        return decided.drop_duplicates("number", keep="last")

    def per_day(self) -> pd.DataFrame:
        """Opt-outs per day (UTC) and channel: a table for a chart."""
        opt_outs = self.rows[self.rows["matched"] == Matched.OPT_OUT]
        if opt_outs.empty:
            return pd.DataFrame()
        day = pd.to_datetime(opt_outs["time"], utc=True).dt.strftime("%Y-%m-%d")
        return opt_outs.assign(day=day).pivot_table(index="day", columns="channel", values="workflow_id",
                                                    aggfunc="count", fill_value=0)

    def counts(self) -> dict[str, int]:
        matched = self.rows["matched"].value_counts()
        return {m.value: int(matched.get(m.value, 0)) for m in Matched}

    def lines(self) -> list[str]:
        names = ", ".join(f"{w.channel} ({w.definition_id}, v{w.version})" for w in self.workflows.values())
        counts = self.counts()
        out = [f"Workflows: {names}.", f"Window: {self.window.describe()} (the platform's time).",
               f"Runs read: {len(self.rows)}: " + ", ".join(f"{n} {m}" for m, n in counts.items()) + ".",
               "Opt-out group read: " + "; ".join(f"group {g}: {s.describe()}" for g, s in self.groups.items()) + "."]
        waiting = int(self.rows["awaiting_sync"].sum())
        if waiting:
            out.append(f"{waiting} opt-out(s) of the last hour are in the group but may not be in 8x8's blacklist "
                       "yet (hourly sync): check audiences with helpers.suppression before sending.")
        in_progress = self.needing(Action.IN_PROGRESS)
        if len(in_progress):
            out.append(f"{len(in_progress)} opt-out(s) or opt-in(s) in progress: the workflow waits to try the "
                       "Contacts call again (the run is Runnable); not lost yet.")
        honoured = self.rows[self.rows["in_group_at"].ne("")]
        if len(honoured):
            ways = honoured["honoured_by"].value_counts()
            late = self.rows[self.rows["late"].ne("")]
            out.append(f"Time to honour: {len(honoured)} opt-out(s) in the group ("
                       + ", ".join(f"{n} {how}" for how, n in ways.items()) + "); "
                       + (f"{len(late)} past a deadline (see the 'late' column)." if len(late)
                          else "none past a deadline."))
        for action in (Action.ADD, Action.REMOVE, Action.NO_NUMBER, Action.LEFT_SINCE):
            rows = self.needing(action)
            if len(rows):
                out.append(f"{len(rows)} {action.value}:")
                for _, row in rows.head(20).iterrows():
                    who = row["number"] or f"channel user {row['channel_user_id'] or '?'}"
                    out.append(f"  {row['time']} {row['channel']} {who}: {row['text']!r}; Contacts answer: "
                               f"{row['contacts_answer'] or 'none'}")
                if len(rows) > 20:
                    out.append(f"  ... and {len(rows) - 20} more (see the ledger CSV)")
        if self.needing(*UNRESOLVED).empty:
            out.append("Nothing lost: every opt-out in the window is honoured.")
        return out


def build_ledger(client: Client, *, name: str = DEFAULT_NAME, hours: float | None = None,
                 since: str | datetime | None = None, policy: KeywordPolicy | None = None,
                 window: Window | None = None, seen_in_group: dict[str, str] | None = None,
                 deadlines: Deadlines | None = None, test_numbers: set[str] | frozenset = frozenset()) -> Ledger:
    """Read every run of the opt-out workflows in the window, and the group, into a ledger.

    ``seen_in_group`` (number -> ISO time) holds when earlier read-backs first saw a number in
    the group (``check`` keeps it); a member not in it was first seen by this read. Rows of
    ``test_numbers`` (the health check's canaries) are marked as tests and never need action.
    """
    workflows = deployed_workflows(client, name)  # WorkflowNotDeployed when none is there
    window = window or make_window(client, hours=hours, since=since)
    records = []
    js = Expressions({})
    for workflow in workflows.values():
        for version, definition in client.automation.definition_versions(workflow.definition_id).items():
            # each run is judged by the version it ran (an older one may have had other languages)
            ran = replace(workflow, version=version, definition=redact(definition, client.settings))
            listed = client.automation.list_workflows(workflow.definition_id, version=version,
                                                      started_from=window.iso(window.start),
                                                      started_to=window.iso(window.end))
            # newest first as listed: reversed, runs of the same time stay in the order they started
            records += reversed([_record(client, ran, instance, policy, js) for instance in listed])
    groups = {gid: read_group(client, gid) for gid in sorted({w.group_id for w in workflows.values()})}
    rows = pd.DataFrame(records, columns=[*COLUMNS, "group_id"])
    rows = rows.sort_values("time", kind="stable", ignore_index=True)
    _judge(rows, groups, window, test_numbers)
    _time_to_honour(rows, window, seen_in_group or {}, deadlines or Deadlines.of(client.settings))
    return Ledger(rows[COLUMNS], window, workflows, groups)


def _record(client: Client, workflow: DeployedWorkflow, instance: dict, policy: KeywordPolicy | None,
            js: Expressions) -> dict:
    data = instance.get("data") or {}
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    raw_number = payload.get("source") if workflow.channel == "SMS" else user.get("msisdn")
    number = _e164(raw_number)
    texts = [t for t in message_texts(data, workflow.channel) if t and t not in ("undefined", "null")]
    text = texts[0] if texts else ""
    answer_key, in_key, lookup_key = RECORDED["opt-out answer"], RECORDED["opt-in contact"], RECORDED["opt-in lookup"]
    if answer_key in data:
        matched = Matched.OPT_OUT
    elif in_key in data:
        matched = Matched.OPT_IN
    elif RECORDED["help reply"] in data:
        matched = Matched.HELP
    else:
        matched = Matched(policy.classify_event(data, workflow.channel) if policy
                          else workflow.classify_event(data, js))
    answer, attempts = "", None
    if matched is Matched.OPT_OUT:
        answer = _answer(data.get(answer_key))
        attempts = data.get(RECORDED["opt-out attempts"])
    elif matched is Matched.OPT_IN:
        attempts = data.get(RECORDED["opt-in attempts"])
        looked_up = data.get(lookup_key)
        if lookup_key in data and not _succeeded(_answer(looked_up)):
            answer = f"{_answer(looked_up)} (looking the contact up)"
        elif in_key in data and data.get(in_key) is None:
            answer = "not a member: nothing to remove"
        else:
            answer = _answer(data.get(RECORDED["opt-in answer"]))
    if isinstance(attempts, int) and attempts > 1:
        answer += f" (try {attempts})"
    if matched in (Matched.OPT_OUT, Matched.OPT_IN):
        if not number:
            answer = "no call: no phone number in the webhook"
        elif instance.get("status") == "Terminated" and not _succeeded(answer):
            errors = client.automation.workflow_errors(workflow.definition_id, instance["workflowId"])
            answer = "failed: " + ("; ".join(f"{e.get('step')}: {e.get('message')}" for e in errors) or "faulted")
    confirmation = data.get(RECORDED[{Matched.OPT_OUT: "opt-out confirmation", Matched.HELP: "help reply"}.get(
        matched, "opt-in confirmation")])
    confirmed_at = data.get(RECORDED["opt-out confirmed at"]) if matched is Matched.OPT_OUT else None
    return {"time": data.get("triggeredAt") or instance.get("startedAt") or "", "number": number,
            "channel_user_id": str(user.get("channelUserId") or ""), "channel": workflow.channel,
            "subaccount": str(data.get("subAccountId") or payload.get("subAccountId") or ""), "text": text,
            "matched": matched.value, "contacts_answer": answer,
            "confirmation_sent": "yes" if confirmation else "no",
            "member_now": None, "awaiting_sync": False, "action": "", "in_group_at": "",
            "honoured_by": f"retry {attempts - 1}" if isinstance(attempts, int) and attempts > 1 else "first try",
            "confirmation_sent_at": confirmed_at if isinstance(confirmed_at, str) else "",
            "blacklist_sync_at": "", "late": "", "workflow_id": instance.get("workflowId", ""),
            "status": instance.get("status", ""), "version": instance.get("version"), "group_id": workflow.group_id}


def _e164(raw) -> str:
    if not raw:
        return ""
    try:
        return to_e164(str(raw))
    except InvalidNumber:
        return str(raw)


def _answer(code) -> str:
    if code is None:
        return "none recorded"
    return f"HTTP {code}"


def _succeeded(answer: str) -> bool:
    return answer.startswith("HTTP 2")


def _judge(rows: pd.DataFrame, groups: dict[int, GroupSnapshot], window: Window,
           test_numbers: set[str] | frozenset = frozenset()) -> None:
    """Fill member_now, awaiting_sync and action, in place."""
    if rows.empty:
        return
    sync_boundary = window.iso(window.end.replace(minute=0, second=0, microsecond=0))
    members, waiting, actions = [], [], []
    for number, group_id, matched, time in zip(rows["number"], rows["group_id"], rows["matched"], rows["time"]):
        member = digits_key(number) in groups[group_id].keys if number else None
        members.append(member)
        waiting.append(bool(member) and matched == Matched.OPT_OUT and time >= sync_boundary)
        actions.append(Action.NONE.value)
    rows["member_now"] = members
    rows["awaiting_sync"] = waiting
    decided = rows["matched"].isin([Matched.OPT_OUT, Matched.OPT_IN])
    latest = rows[decided & rows["number"].ne("")].groupby(["group_id", "number"]).tail(1).index
    for i in rows.index[decided]:
        if rows.at[i, "number"] in test_numbers:
            actions[i] = Action.TEST.value
            continue
        matched, member, answer = rows.at[i, "matched"], rows.at[i, "member_now"], rows.at[i, "contacts_answer"]
        if not rows.at[i, "number"]:
            actions[i] = Action.NO_NUMBER.value if matched == Matched.OPT_OUT else Action.NONE.value
        elif i not in latest:
            actions[i] = Action.SUPERSEDED.value
        elif matched == Matched.OPT_OUT and not member:
            if _succeeded(answer):
                actions[i] = Action.LEFT_SINCE.value
            else:  # a run still Runnable waits to try again: in progress, not lost
                actions[i] = Action.IN_PROGRESS.value if rows.at[i, "status"] == "Runnable" else Action.ADD.value
        elif matched == Matched.OPT_IN and member and rows.at[i, "status"] == "Runnable":
            actions[i] = Action.IN_PROGRESS.value
        elif matched == Matched.OPT_IN and member:
            actions[i] = Action.REMOVE.value
    rows["action"] = actions


def _time_to_honour(rows: pd.DataFrame, window: Window, seen: dict[str, str], deadlines: Deadlines) -> None:
    """For each opt-out that counts (the latest word of its number): when a read-back first saw it in
    the group, how it got there, the hourly blacklist sync after that, and the deadlines missed."""
    if rows.empty:
        return
    read_at = window.iso(window.end)
    counted = (rows["matched"] == Matched.OPT_OUT) & rows["action"].isin(
        [Action.NONE.value, Action.ADD.value, Action.IN_PROGRESS.value])
    for i in rows.index[counted]:
        received = parse_time(rows.at[i, "time"])
        late = []
        if rows.at[i, "member_now"]:
            in_group = seen.get(rows.at[i, "number"]) or read_at
            rows.at[i, "in_group_at"] = in_group
            if not _succeeded(rows.at[i, "contacts_answer"]):
                rows.at[i, "honoured_by"] = "repair"
            seen_at = parse_time(in_group)
            if seen_at is not None:
                sync = seen_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
                rows.at[i, "blacklist_sync_at"] = window.iso(sync)
                if received is not None and seen_at > add_business_days(received, deadlines.honour_business_days):
                    late.append(f"in the group after {deadlines.honour_business_days} business days")
        else:
            rows.at[i, "honoured_by"] = ""
            if received is not None and window.end > add_business_days(received, deadlines.honour_business_days):
                late.append(f"not in the group after {deadlines.honour_business_days} business days")
        confirmed = parse_time(rows.at[i, "confirmation_sent_at"]) if rows.at[i, "confirmation_sent_at"] else None
        if confirmed is not None and received is not None and \
                confirmed - received > timedelta(minutes=deadlines.confirm_minutes):
            late.append(f"confirmation after {deadlines.confirm_minutes} minutes")
        rows.at[i, "late"] = "; ".join(late)
    rows.loc[~counted, "honoured_by"] = ""


def write_ledger(ledger: Ledger, path: str | Path) -> Path:
    """The ledger as CSV: formula-safe cells, readable by its owner only (it holds phone numbers)."""
    from .bulk.report import check_writable, write_report

    return write_report(ledger.rows, check_writable(Path(path)))
