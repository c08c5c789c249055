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

import json
import queue
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from operator import itemgetter
from pathlib import Path

import pandas as pd

from .client import Client
from .config import DEFAULT_CONFIRM_MINUTES, DEFAULT_HONOUR_BUSINESS_DAYS
from .errors import BadInput, EightByEightError
from .expressions import Expressions
from .groups import GroupSnapshot, read_group
from .numbers import digits_key, platform_number
from .policy import KeywordPolicy, message_texts
from .reports import write_private_json
from .suppression import member_ids
from .testnumbers import is_test_number
from .workflow import CHAT_APP_NAMES, RECORDED, DeployedWorkflow, deployed_workflows, redact

DEFAULT_HOURS = 7 * 24
# The health check's reserved test numbers (``check``'s canary; the North American 555-01XX
# range is set aside for fiction: no customer has one). One per channel. Their runs are tests.
CANARY_NUMBERS = {"WhatsApp": "+12025550142", "SMS": "+12025550143"}
COLUMNS = ["time", "number", "channel_user_id", "channel", "subaccount", "text", "matched", "contacts_answer",
           "confirmation_sent", "member_now", "awaiting_sync", "action",
           # time to honour (opt-outs): "time" is when it was received
           "in_group_at", "honoured_by", "confirmation_sent_at", "blacklist_sync_at", "late",
           "workflow_id", "status", "version", "group_id"]  # the group the run's workflow adds to


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
    REDELIVERY = "note: the same message delivered again (same umid): counted once"
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
    # The Date header tells whole seconds: the platform's now lies within that second, so the window
    # ends with it (a run started a fraction after the whole second is not left out).
    end = client.platform_time() + timedelta(milliseconds=990)
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

    def opted_out_channel_users(self, channel: str = "WhatsApp") -> set[str]:
        """The channel user ids (on WhatsApp: BSUIDs) whose latest word in the window is an opt-out:
        for the pre-send check of a file that holds them. A customer known to 8x8 only by BSUID is in
        no group (the Contacts API has no address for it): only the ledger knows their STOP."""
        rows = self.rows
        decided = rows[rows["matched"].isin([Matched.OPT_OUT, Matched.OPT_IN]) & rows["channel_user_id"].ne("")
                       & rows["channel"].eq(channel)]
        latest = decided.drop_duplicates("channel_user_id", keep="last")
        return set(latest.loc[latest["matched"] == Matched.OPT_OUT, "channel_user_id"])

    def _latest(self) -> pd.DataFrame:
        decided = self.rows[self.rows["matched"].isin([Matched.OPT_OUT, Matched.OPT_IN]) & self.rows["number"].ne("")]
        return decided.drop_duplicates("number", keep="last")

    def per_day(self) -> pd.DataFrame:
        """Customers' opt-outs per day (UTC) and channel: a table for a chart (test runs left out)."""
        opt_outs = self.rows[(self.rows["matched"] == Matched.OPT_OUT)
                             & ~self.rows["action"].isin([Action.TEST.value, Action.REDELIVERY.value])]
        if opt_outs.empty:
            return pd.DataFrame()
        day = pd.to_datetime(opt_outs["time"], utc=True).dt.date
        table = opt_outs.assign(day=day).pivot_table(index="day", columns="channel", values="workflow_id",
                                                     aggfunc="count", fill_value=0)
        table.index = [d.strftime("%d %b") for d in table.index]  # in date order; short labels that do not overlap
        return table

    def summary_table(self) -> pd.DataFrame:
        """The rows that count, with the columns that matter, to read on one screen: time, channel, who,
        what they wrote, what it was, the Contacts answer, the action. Superseded messages and the
        health check's test runs are left out; the whole ledger goes to a file (write_ledger)."""
        rows = self.rows[~self.rows["action"].isin([Action.SUPERSEDED.value, Action.TEST.value, Action.REDELIVERY.value])]
        who = rows["number"].where(rows["number"].ne(""), "channel user " + rows["channel_user_id"])
        table = pd.DataFrame({"time": _minutes(rows["time"]), "channel": rows["channel"],
                              "who": who, "wrote": rows["text"], "was": rows["matched"],
                              "Contacts answer": rows["contacts_answer"], "action": rows["action"]})
        return table.astype(object).where(table.notna(), "")

    def time_to_honour(self) -> pd.DataFrame:
        """Opt-outs in the group: received, in the group at, how, minutes it took, and any deadline missed."""
        honoured = self.rows[self.rows["in_group_at"].ne("")]
        minutes = (pd.to_datetime(honoured["in_group_at"], utc=True)
                   - pd.to_datetime(honoured["time"], utc=True)).dt.total_seconds() / 60
        return honoured.assign(minutes=minutes.round(1))[
            ["time", "channel", "number", "in_group_at", "honoured_by", "minutes", "confirmation_sent_at",
             "blacklist_sync_at", "late"]]

    def honour_table(self) -> pd.DataFrame:
        """time_to_honour() to read on one screen: times to the minute, short headings (the CSV has them all)."""
        honour = self.time_to_honour()
        table = pd.DataFrame({"received": _minutes(honour["time"]), "channel": honour["channel"],
                              "number": honour["number"], "in group": _minutes(honour["in_group_at"]),
                              "how": honour["honoured_by"], "minutes": honour["minutes"],
                              "confirmed": _minutes(honour["confirmation_sent_at"]),
                              "blacklist sync": _minutes(honour["blacklist_sync_at"]), "late": honour["late"]})
        return table.astype(object).where(table.notna(), "")

    def counts(self) -> dict[str, int]:
        """Runs per kind, customers only (the health check's test runs left out)."""
        customers = self.rows[~self.rows["action"].isin([Action.TEST.value, Action.REDELIVERY.value])]
        matched = customers["matched"].value_counts()
        return {m.value: int(matched.get(m.value, 0)) for m in Matched}

    def lines(self, *, written_to=None) -> list[str]:
        """The ledger for people, what needs action first and alone, then what was read, then notes
        (one line per kind, with a count). ``written_to``: the ledger CSV, when one was written."""
        out = [line for action in UNRESOLVED for line in self._action_lines(action, written_to)]
        if self.needing(*UNRESOLVED).empty:
            out.append("Nothing lost: every opt-out in the window is honoured.")
        return out + self._read_lines() + self._state_lines() + self._note_lines()

    def _action_lines(self, action: "Action", written_to) -> list[str]:
        """What needs action of one kind: each row, up to 20."""
        rows = self.needing(action)
        if not len(rows):
            return []
        out = [f"{len(rows)} {action.value}:"]
        for _, row in rows.head(20).iterrows():
            who = row["number"] or f"channel user {row['channel_user_id'] or '?'}"
            out.append(f"  {row['time']} {row['channel']} {who}: {row['text']!r}; Contacts answer: "
                       f"{row['contacts_answer'] or 'none'}")
        if len(rows) > 20:
            out.append(f"  ... and {len(rows) - 20} more " + (f"(all of them in {Path(written_to).name})" if written_to
                                                              else "(write the ledger to a file to see them all)"))
        return out

    def _read_lines(self) -> list[str]:
        names = ", ".join(f"{w.channel} ({w.definition_id}, v{w.version})" for w in self.workflows.values())
        tests = int((self.rows["action"] == Action.TEST.value).sum())
        return [f"Workflows: {names}.", f"Window: {self.window.describe()} (the platform's time).",
                f"Runs read: {len(self.rows)}: " + ", ".join(f"{n} {m}" for m, n in self.counts().items())
                + (f", and {tests} test run(s) (the health check's canaries, notebook 04's test numbers)" if tests
                   else "") + ".",
                "Opt-out group read: " + "; ".join(f"group {g}: {s.describe()}" for g, s in self.groups.items()) + "."]

    def _state_lines(self) -> list[str]:
        """Waiting for the sync, in progress, and the time to honour."""
        out = []
        waiting = int(self.rows["awaiting_sync"].sum())
        if waiting:
            out.append(f"{waiting} opt-out(s) of the last hour are in the group but may not be in 8x8's blacklist "
                       "yet (hourly sync): check audiences with helpers.suppression before sending.")
        in_progress = self.needing(Action.IN_PROGRESS)
        if len(in_progress):
            out.append(f"{len(in_progress)} opt-out(s) or opt-in(s) in progress: the workflow waits to try the "
                       "Contacts call again (the run is Runnable); not lost yet.")
        honoured = self.rows[self.rows["in_group_at"].ne("")]
        unmeasured = int(self.rows["honoured_by"].str.contains(NOT_MEASURED, regex=False).sum())
        if unmeasured:
            out.append(f"{unmeasured} opt-out(s) in the group whose time to honour is not measured: 8x8 stated no "
                       "time and no earlier check saw them (not a missed deadline: schedule the check to measure).")
        if len(honoured):
            ways = honoured["honoured_by"].value_counts()
            late = self.rows[self.rows["late"].ne("")]
            out.append(f"Time to honour: {len(honoured)} opt-out(s) in the group ("
                       + ", ".join(f"{n} {how}" for how, n in ways.items()) + "); "
                       + (f"{len(late)} past a deadline (see the 'late' column)." if len(late)
                          else "none past a deadline."))
        return out

    def _note_lines(self) -> list[str]:
        """Notes: one line a kind."""
        out = []
        for note in (Action.LEFT_SINCE, Action.SUPERSEDED, Action.TEST, Action.REDELIVERY):
            rows = self.needing(note)
            if len(rows):
                numbers = [n for n in rows["number"].drop_duplicates() if n]
                shown = ", ".join(numbers[:5]) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
                out.append(f"Note: {len(rows)} {note.value.removeprefix('note: ')}" + (f" ({shown})." if shown
                                                                                        else "."))
        return out


def _minutes(times: pd.Series) -> pd.Series:
    """ISO times as people read them on a screen: '2026-01-05 09:00' (UTC, the platform's time)."""
    return times.fillna("").astype(str).str.slice(0, 16).str.replace("T", " ")


def build_ledger(client: Client, *, name: str | None = None, hours: float | None = None,
                 since: str | datetime | None = None, policy: KeywordPolicy | None = None,
                 window: Window | None = None, seen_in_group: dict[str, str] | None = None,
                 deadlines: Deadlines | None = None, test_numbers: set[str] | frozenset = frozenset(CANARY_NUMBERS.values()),
                 membership: str = "auto", read_confirmations: bool = False) -> Ledger:
    """Read every run of the opt-out workflows in the window, and the group, into a ledger.

    ``seen_in_group`` (number -> ISO time) holds when earlier read-backs first saw a number in
    the group (``check`` keeps it); a member not in it was first seen by this read. Rows of
    ``test_numbers`` (the health check's canaries) are marked as tests and never need action; so are
    the numbers of ranges set aside for fiction and of the settings' test prefix (helpers.testnumbers).
    ``read_confirmations``: read the delivery status of each confirmation that counts, by its umid (one
    request each: the health check's short windows do; a week's audit says "recorded" instead).
    ``membership``: "group" reads the whole group; "numbers" looks up only the window's numbers
    (one request each: the incremental check of the last hour); "auto" takes the cheaper one.
    """
    workflows = deployed_workflows(client, name)  # WorkflowNotDeployed when none is there
    window = window or make_window(client, hours=hours, since=since)
    versions = []
    for workflow in workflows.values():
        for version, definition in client.automation.definition_versions(workflow.definition_id).items():
            # each run is judged by the version it ran (an older one may have had other languages)
            versions.append(replace(workflow, version=version, definition=redact(definition, client.settings)))
    js = Expressions({})
    records: list[dict] = []
    group_ids = sorted({w.group_id for w in workflows.values()})
    reader = _RunsAndMembers(client, versions, window, group_ids, membership)
    decided: dict = {}  # classifications of this ledger's texts, per version
    for ran, key, instance in reader.runs():
        record = _record(client, ran, instance, policy, js, decided)
        record["_order"] = key
        records.append(record)
        if record["number"] and record["matched"] in (Matched.OPT_OUT, Matched.OPT_IN):
            reader.saw(record["number"])
    groups = reader.members()
    records.sort(key=itemgetter("time", "_order"))  # runs of one time in the order they started
    test_numbers = set(test_numbers) | {r["number"] for r in records if is_test_number(client.settings, r["number"])}
    _numbers_of_channel_users(records)
    _redeliveries(records)
    _judge(records, groups, window, test_numbers)
    if read_confirmations:
        _read_confirmations(client, records)
    _time_to_honour(records, window, seen_in_group or {}, deadlines or Deadlines.of(client.settings))
    rows = pd.DataFrame(records, columns=COLUMNS)
    return Ledger(rows, window, workflows, groups)


# The instance list of one definition version is read page after page (it is a plain array,
# without a total); the window is cut into this many slices per version, read at once, so that
# the page reads of the whole ledger overlap (the client keeps at most ``parallel`` in flight).
SLICES_PER_VERSION = 4
_DONE = object()


class _RunsAndMembers:
    """Reads every run of the versions in the window (slices at once, each page handed over as it
    arrives) and the membership of the groups, overlapping the two: the whole group is read in
    the background once more numbers were seen than the group has pages ("auto"); if that never
    happens, the numbers seen are looked up one by one instead (the incremental check)."""

    def __init__(self, client: Client, versions: list[DeployedWorkflow], window: Window, group_ids: list[int],
                 how: str):
        if how not in ("auto", "group", "numbers"):
            raise BadInput(f"membership is auto, group or numbers, not {how!r}")
        self.client, self.versions, self.window, self.group_ids, self.how = client, versions, window, group_ids, how
        self.numbers: set[str] = set()
        self._pages = max((-(-int(client.contacts.get_group(g).get("contacts") or 0) // 500) + 2 for g in group_ids),
                          default=0) if how == "auto" else 0
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="8x8-group")
        self._group_reads: dict[int, Future] = {}
        if how == "group":
            self._start_group_reads()

    def _start_group_reads(self) -> None:
        if not self._group_reads:
            self._group_reads = {g: self._background.submit(read_group, self.client, g) for g in self.group_ids}

    def saw(self, number: str) -> None:
        self.numbers.add(number)
        if self.how == "auto" and len(self.numbers) > self._pages:
            self._start_group_reads()

    def runs(self):
        """(version, ordering key, instance) for every run once, per slice in the order listed reversed."""
        window, slices = self.window, SLICES_PER_VERSION
        span = (window.end - window.start) / slices
        tasks = [(v, ran, i, window.start + span * i, window.end if i == slices - 1 else window.start + span * (i + 1))
                 for v, ran in enumerate(self.versions) for i in range(slices)]
        pages: queue.Queue = queue.Queue()

        def read(task) -> None:
            v, ran, i, start, end = task
            try:
                page, position = [], 0
                for instance in self.client.automation.list_workflows(ran.definition_id, version=ran.version,
                                                                      started_from=iso(start), started_to=iso(end)):
                    page.append(((v, i, -position), instance))  # listed newest first
                    position += 1
                    if len(page) == 500:
                        pages.put((ran, page))
                        page = []
                pages.put((ran, page))
            finally:
                pages.put(_DONE)

        seen: set[str] = set()
        with ThreadPoolExecutor(max_workers=max(1, self.client.settings.parallel), thread_name_prefix="8x8-runs") \
                as pool:
            futures = [pool.submit(read, task) for task in tasks]
            finished = 0
            while finished < len(tasks):
                item = pages.get()
                if item is _DONE:
                    finished += 1
                    continue
                ran, page = item
                for key, instance in page:
                    run_id = instance.get("workflowId")
                    if run_id not in seen:  # a run on a slice boundary is listed by both slices
                        seen.add(run_id)
                        yield ran, key, instance
            for future in futures:
                future.result()  # a slice that failed raises here

    def members(self) -> dict[int, GroupSnapshot]:
        try:
            if self._group_reads:
                return {g: future.result() for g, future in self._group_reads.items()}
            return {g: read_membership(self.client, g, self.numbers, how="numbers") for g in self.group_ids}
        finally:
            self._background.shutdown(wait=True)


def read_membership(client: Client, group_id: int, numbers: set[str], *, how: str = "auto") -> GroupSnapshot:
    """Which of ``numbers`` are members: the whole group read (400 requests for 200,000 members),
    or one lookup per number when there are fewer numbers than pages of the group."""
    if how not in ("auto", "group", "numbers"):
        raise BadInput(f"membership is auto, group or numbers, not {how!r}")
    if how == "auto":
        size = int(client.contacts.get_group(group_id).get("contacts") or 0)
        how = "numbers" if len(numbers) < max(1, -(-size // 500)) else "group"
    if how == "group":
        return read_group(client, group_id)
    keys = {}
    for number, contact_id in zip(sorted(numbers), client.in_parallel(
            lambda n: member_ids(client, group_id, n), sorted(numbers))):
        if contact_id:
            keys[digits_key(number)] = contact_id[0]
    return GroupSnapshot(group_id, keys, dict(keys), reads=1, stable=True)


# the recorded outputs' names and the words compared per run, looked up once (100,000 runs: the
# enum attribute and dict lookups were a tenth of a ledger's time)
_OUT_ANSWER, _IN_CONTACT, _IN_LOOKUP = RECORDED["opt-out answer"], RECORDED["opt-in contact"], RECORDED["opt-in lookup"]
_HELP_REPLY, _OUT_ATTEMPTS, _IN_ATTEMPTS = RECORDED["help reply"], RECORDED["opt-out attempts"], RECORDED["opt-in attempts"]
_IN_ANSWER, _OUT_CONFIRMED_AT = RECORDED["opt-in answer"], RECORDED["opt-out confirmed at"]
_OUT_ALREADY = RECORDED["opt-out already"]
ALREADY = "HTTP 200 (already in the group: not added or confirmed again)"
_CONFIRMATION = {Matched.OPT_OUT: RECORDED["opt-out confirmation"], Matched.HELP: RECORDED["help reply"],
                 Matched.OPT_IN: RECORDED["opt-in confirmation"], Matched.OTHER: RECORDED["opt-in confirmation"]}
_NO_TEXT = ("", "undefined", "null")
_OPT_OUT, _OPT_IN = Matched.OPT_OUT.value, Matched.OPT_IN.value


def _record(client: Client, workflow: DeployedWorkflow, instance: dict, policy: KeywordPolicy | None,
            js: Expressions, decided: dict) -> dict:
    data = instance.get("data") or {}
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    sender = payload.get("source") if workflow.channel == "SMS" else user.get("msisdn")
    number = platform_number(sender)  # by its digits, as 8x8 gave it: never refused by the metadata
    channel_user = _text(user.get("channelUserId"))
    if not number and sender not in (None, "") and not channel_user:
        channel_user = _text(sender)  # a sender that is no phone number (INFO, 72345): who wrote, kept as its id
    all_texts = message_texts(data, workflow.channel)  # every source the Branch conditions read, in order
    matched = _matched(workflow, data, policy, js, all_texts, decided)
    answer, attempts = _contacts_answer(matched, data)
    retried = isinstance(attempts, int) and attempts > 1
    if matched is Matched.OPT_OUT or matched is Matched.OPT_IN:
        answer = _call_outcome(client, workflow, instance, number, answer, sender)
    confirmed_at = data.get(_OUT_CONFIRMED_AT) if matched is Matched.OPT_OUT else None
    return {"time": _text(data.get("triggeredAt") or instance.get("startedAt")), "number": number,
            "channel_user_id": channel_user, "channel": _customer_channel(workflow, payload),
            "subaccount": _text(data.get("subAccountId") or payload.get("subAccountId")),
            "text": _text(next((t for t in all_texts if t not in _NO_TEXT), "")),
            "matched": matched.value, "contacts_answer": answer,
            "confirmation_sent": RECORDED_ONLY if data.get(_CONFIRMATION[matched]) else
            "no: already opted out (confirmed once before)" if answer == ALREADY else "no",
            "member_now": None, "awaiting_sync": False, "action": "", "in_group_at": "",
            "honoured_by": f"retry {attempts - 1}" if retried else "first try",
            "confirmation_sent_at": confirmed_at if isinstance(confirmed_at, str) else "",
            "blacklist_sync_at": "", "late": "", "workflow_id": instance.get("workflowId", ""),
            "status": instance.get("status", ""), "version": instance.get("version"), "group_id": workflow.group_id,
            "_umid": _text(payload.get("umid")), "_completed_at": _text(instance.get("completedAt")),
            "_confirmation_umid": _text(data.get(_CONFIRMATION[matched]))}


def _text(value) -> str:
    """A value of a webhook as text that any file can hold: None is empty, a lone UTF-16 surrogate (half
    an emoji, split by a sender) becomes U+FFFD, which UTF-8 can write."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _SURROGATE.sub("\ufffd", text) if not text.isascii() else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def _call_outcome(client: Client, workflow: DeployedWorkflow, instance: dict, number: str, answer: str,
                  sender=None) -> str:
    """The answer, or why there was no call (no number), or the errors of a run that faulted."""
    if not number:
        if sender in (None, ""):
            return "no call: no phone number in the webhook"
        return f"{answer}: the sender {_text(sender)[:40]!r} is not a phone number"
    if instance.get("status") == "Terminated" and not _succeeded(answer):
        errors = client.automation.workflow_errors(workflow.definition_id, instance["workflowId"])
        return "failed: " + ("; ".join(f"{e.get('step')}: {e.get('message')}" for e in errors) or "faulted")
    return answer


def _customer_channel(workflow: DeployedWorkflow, payload: dict) -> str:
    """The customer's own app: WhatsApp, Viber or RCS reach the same Messaging Apps workflow."""
    if workflow.channel == "SMS":
        return "SMS"
    recipient = payload.get("recipient")
    named = recipient.get("channel") if isinstance(recipient, dict) else None
    return CHAT_APP_NAMES.get(named.lower(), named) if isinstance(named, str) and named else workflow.channel


def _matched(workflow: DeployedWorkflow, data: dict, policy: KeywordPolicy | None, js: Expressions,
             all_texts: list[str], decided: dict) -> Matched:
    """What the run was: read from the outputs it recorded, else its version's Branch chain on its text."""
    if _OUT_ANSWER in data or _OUT_ALREADY in data:
        return Matched.OPT_OUT
    if _IN_CONTACT in data:
        return Matched.OPT_IN
    if _HELP_REPLY in data:
        return Matched.HELP
    return _classify(workflow, data, policy, js, tuple(all_texts), decided)


def _contacts_answer(matched: Matched, data: dict) -> tuple[str, int | None]:
    """The Contacts call's answer as the run recorded it (with its try), and the number of tries."""
    answer, attempts = "", None
    if matched is Matched.OPT_OUT and data.get(_OUT_ALREADY) is True and _OUT_ANSWER not in data:
        return ALREADY, None
    if matched is Matched.OPT_OUT:
        answer, attempts = _answer(data.get(_OUT_ANSWER)), data.get(_OUT_ATTEMPTS)
    elif matched is Matched.OPT_IN:
        attempts = data.get(_IN_ATTEMPTS)
        if _IN_LOOKUP in data and not _succeeded(_answer(data.get(_IN_LOOKUP))):
            answer = f"{_answer(data.get(_IN_LOOKUP))} (looking the contact up)"
        elif _IN_CONTACT in data and data.get(_IN_CONTACT) is None:
            answer = "not a member: nothing to remove"
        else:
            answer = _answer(data.get(_IN_ANSWER))
    if isinstance(attempts, int) and attempts > 1:
        answer += f" (try {attempts})"
    return answer, attempts


def _classify(workflow: DeployedWorkflow, data: dict, policy: KeywordPolicy | None, js: Expressions,
              texts: tuple, decided: dict) -> Matched:
    """What a run without recorded outputs was: its version's Branch chain (or ``policy``) on its
    text. Within one ledger, the same texts (each source the conditions read) under the same
    version are decided once, in ``decided`` (QuickJS costs 2 ms a run)."""
    if policy is not None:
        return Matched(policy.classify_event(data, workflow.channel))
    key = (workflow.definition_id, workflow.version, workflow.channel, texts)
    if key not in decided:
        decided[key] = workflow.classify_event(data, js)
    return Matched(decided[key])


def _answer(code) -> str:
    if code is None:
        return "none recorded"
    return f"HTTP {code}"


def _succeeded(answer: str) -> bool:
    return answer.startswith("HTTP 2")


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
                r["contacts_answer"] = (f"{r['contacts_answer']}; the number is this channel user's, from their "
                                        "other messages").lstrip("; ")


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


# A confirmation whose umid the run recorded, its delivery status not read: the send was accepted,
# nothing more is known. "yes" is said only from a delivery status read back that is not a failure.
RECORDED_ONLY = "recorded (delivery not read)"
_FAILED_STATES = ("undelivered", "rejected")


def _read_confirmations(client: Client, records: list[dict]) -> None:
    """The delivery status of each confirmation that counts (the latest word of a customer), read by umid
    from the Messaging Apps API: "yes" unless it failed, "no: undelivered (error 15: ...)" when it did
    (an opt-in confirmation to a number still in 8x8's blacklist until the hourly sync). An SMS answer's
    umid is not the Messaging Apps API's to tell: it stays recorded. In place."""
    skip = (Action.TEST.value, Action.REDELIVERY.value, Action.SUPERSEDED.value)
    wanted = [r for r in records if r["_confirmation_umid"] and r["channel"] != "SMS" and r["action"] not in skip
              and r["matched"] in (_OPT_OUT, _OPT_IN)]

    def status(r: dict) -> str:
        try:
            state = (client.messaging.get_message(r["_confirmation_umid"]).get("status") or {})
        except EightByEightError as exc:
            return f"{RECORDED_ONLY}: its status could not be read ({exc})"
        if state.get("state") in _FAILED_STATES:
            return (f"no: {state.get('state')} (error {state.get('errorCode')}: {state.get('errorMessage') or '?'})")
        return "yes" if state.get("state") else f"{RECORDED_ONLY}: 8x8 answered no state"

    for r, said in zip(wanted, client.in_parallel(status, wanted)):
        r["confirmation_sent"] = said


def _judge(records: list[dict], groups: dict[int, GroupSnapshot], window: Window,
           test_numbers: set[str] | frozenset = frozenset()) -> None:
    """Fill member_now, awaiting_sync and action, in place (records oldest first)."""
    sync_boundary = window.iso(window.end.replace(minute=0, second=0, microsecond=0))
    latest: dict[tuple, int] = {}
    opt_out, opt_in, none = Matched.OPT_OUT.value, Matched.OPT_IN.value, Action.NONE.value  # once, not per row
    members = {g: snapshot.keys for g, snapshot in groups.items()}
    for i, r in enumerate(records):
        number, matched = r["number"], r["matched"]
        member = (number[1:] if number[:1] == "+" else digits_key(number)) in members[r["group_id"]] \
            if number else None
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
    span = {weekday: (add_business_days(datetime(2024, 1, 1 + weekday, tzinfo=timezone.utc), honour_days)
                      - datetime(2024, 1, 1 + weekday, tzinfo=timezone.utc)) for weekday in range(7)}
    parsed: dict[str, tuple] = {}  # in-group time -> (datetime, the hourly sync after it): few distinct ones

    def seen_and_sync(text: str):
        if text not in parsed:
            at = parse_time(text)
            parsed[text] = (at, window.iso(at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
                            if at is not None else "")
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
            late = ([f"not in the group after {honour_days} business days"]
                    if deadline is not None and window.end > deadline else [])
        late += _late_confirmation(r, received, window.end, confirm_within, deadlines.confirm_minutes)
        r["late"] = "; ".join(late)


def _late_into_group(r: dict, seen_before: str | None, deadline, honour_days: int, seen_and_sync) -> list[str] | None:
    """A member's row: sets in_group_at, honoured_by and the sync; the deadline it missed, if any.
    None when its time in the group is not measured (then late is "")."""
    # a time 8x8 stated (the run whose Contacts call succeeded: its confirmation, else its end)
    # or an earlier read-back saw; this read's own time says nothing of when it got there
    in_group = min((t for t in (seen_before, _stated_in_group(r)) if t), default="", key=parse_time)
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
    if (r["member_now"] and _succeeded(r["contacts_answer"]) and r["confirmation_sent"].startswith("no")
            and r["contacts_answer"] != ALREADY and received is not None and read_at - received > confirm_within):
        return [f"no confirmation within {minutes} minutes"
                + (f" ({r['confirmation_sent']})" if r["confirmation_sent"] != "no" else "")]
    return []


NOT_MEASURED = "time in the group not measured (8x8 stated none and no earlier check saw it)"


def _stated_in_group(r: dict) -> str:
    """When 8x8 says the number was in the group: the run whose Contacts call answered 2xx sent its
    confirmation after it (the time 8x8 stamped on that message), else it ended after it ("" otherwise)."""
    if not _succeeded(r["contacts_answer"]):
        return ""
    for text in (r["confirmation_sent_at"], r.get("_completed_at")):
        if text and parse_time(text) is not None:
            return text
    return ""


def write_ledger(ledger: Ledger, path: str | Path) -> Path:
    """The ledger as CSV: formula-safe cells, readable by its owner only (it holds phone numbers)."""
    from .reports import check_writable, write_report

    return write_report(ledger.rows, check_writable(Path(path)))


# --- opt-outs that no group can hold --------------------------------------------------------------
# A customer known only by a channel user id (a WhatsApp BSUID, v3 leaving the number out) cannot
# be put in any group, so neither 8x8's blacklist nor a later window of the ledger keeps their
# STOP. The health check keeps each one here, per subaccount, until the same id opts back in; the
# audience check reads it. (Before, each scheduled check said ACTION for it again, forever, and
# its window never moved past it.)

def file_safe(subaccount_id: str) -> str:
    """A subaccount id as part of a file name."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in subaccount_id)


def store_key(settings) -> str:
    """Platform, account and subaccount, as part of a file name: the check's checkpoint and kept
    opt-outs are one platform's (8x8 in a region, or the sandbox at its address), never shared by the
    local sandbox, a deterministic one and 8x8 because their subaccounts are named alike."""
    from urllib.parse import urlsplit

    where = urlsplit(settings.base_url).netloc if settings.base_url else f"8x8-{settings.region}"
    kind = "sandbox" if settings.sandbox_mode else "live"
    return file_safe(f"{kind}-{where}-{settings.account_id}-{settings.subaccount_id}")


def without_number_path(reports_dir: str | Path, settings) -> Path:
    """The kept opt-outs without a number of this platform, account and subaccount. Where only the file
    of an earlier version exists (named by subaccount alone, shared by every platform), its opt-outs
    are copied in first: kept opt-outs are never forgotten by a rename."""
    path = Path(reports_dir) / f"opt-outs-without-number-{store_key(settings)}.json"
    legacy = Path(reports_dir) / f"opt-outs-without-number-{file_safe(settings.subaccount_id)}.json"
    if not path.exists() and legacy.is_file():
        write_private_json(path, read_without_number(legacy))
    return path


def read_without_number(path: Path) -> dict[str, dict]:
    """The kept opt-outs: channel user id -> {"time", "channel"} of the STOP (none kept: empty)."""
    try:
        kept = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path} cannot be read ({exc}): it keeps the opt-outs that no group can hold, so nothing is "
                       "checked without it. Restore it from a backup; deleting it forgets those opt-outs.") from None
    if not isinstance(kept, dict) or not all(isinstance(v, dict) for v in kept.values()):
        raise BadInput(f"{path} is not a list of kept opt-outs: restore it from a backup.")
    return kept


def keep_without_number(path: Path, ledger: Ledger) -> tuple[dict[str, dict], list[str]]:
    """The ledger's word merged into the kept opt-outs, written back (owner-readable): a channel user
    whose latest decided word is an opt-out sent without a number is kept; one whose latest word is
    an opt-in leaves. Answers (kept now, the ids kept for the first time)."""
    kept = read_without_number(path)
    rows = ledger.rows
    decided = rows[rows["matched"].isin([Matched.OPT_OUT, Matched.OPT_IN]) & rows["channel_user_id"].ne("")
                   & rows["action"].ne(Action.TEST.value)]
    new, left = [], []
    for _, row in decided.drop_duplicates("channel_user_id", keep="last").iterrows():
        user = row["channel_user_id"]
        if row["matched"] == Matched.OPT_IN:
            if kept.pop(user, None) is not None:
                left.append(user)
        elif not row["number"] and user not in kept:
            kept[user] = {"time": row["time"], "channel": row["channel"]}
            new.append(user)
    if new or left:
        try:
            write_private_json(path, kept)
        except OSError as exc:
            raise BadInput(f"{path} cannot be written ({exc.strerror or exc}): the opt-outs that no group can hold "
                           "could not be kept, so this check moved nothing on. Free some space or fix the folder's "
                           "permissions, then check again.") from None
    return kept, new
