"""Reading the ledger: every run of the opt-out workflows in the window (slices at once, in threads)
and the group's membership, each run made into a row."""

from __future__ import annotations

import queue
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from operator import itemgetter
from typing import Any

import pandas as pd

from ..client import MAX_PAGE_SIZE, Client
from ..errors import BadInput, EightByEightError
from ..expressions import Expressions
from ..groups import GroupSnapshot, read_group
from ..numbers import digits_key, platform_number
from ..payloads import part
from ..policy import KeywordPolicy, message_texts
from ..suppression import member_ids
from ..testnumbers import is_test_number
from ..workflow import CHAT_APP_NAMES, RECORDED, DeployedWorkflow, deployed_workflows, redact
from .judging import _judge, _numbers_of_channel_users, _redeliveries, _time_to_honour
from .model import Ledger
from .rows import (
    _OPT_IN,
    _OPT_OUT,
    ALREADY,
    CANARY_NUMBERS,
    COLUMNS,
    RECORDED_ONLY,
    Action,
    Deadlines,
    Matched,
    Window,
    _succeeded,
    iso,
    window_of,
)


@dataclass(kw_only=True)
class WindowOptions:
    """Whose runs are read, and over which window: the options the ledger's readers share."""

    name: str | None = None  # the workflows' name; None: EIGHTXEIGHT_WORKFLOW_NAME, else the default
    window: Window | None = None  # the runs' window; instead, hours or since (one way only)
    hours: float | None = None  # the last N hours (default: 168)
    since: str | datetime | None = None  # from this time

    def window_in(self, client: Client) -> Window:
        return window_of(client, self.window, self.hours, self.since)


@dataclass(kw_only=True)
class LedgerOptions(WindowOptions):
    """What build_ledger reads, and how: its keyword options."""

    policy: KeywordPolicy | None = None  # classify with this policy, not the deployed workflows (what-if)
    # number -> ISO time an earlier read-back first saw it in the group (``check`` keeps it); a member
    # not in it was first seen by this read
    seen_in_group: dict[str, str] | None = None
    deadlines: Deadlines | None = None  # None: the settings'
    # the health check's canaries: marked as tests, never needing action (as are the numbers of
    # ranges set aside for fiction and of the settings' test prefix: helpers.testnumbers)
    test_numbers: set[str] | frozenset = frozenset(CANARY_NUMBERS.values())
    # "group" reads the whole group; "numbers" looks up only the window's numbers (one request each:
    # the incremental check of the last hour); "auto" takes the cheaper one
    membership: str = "auto"
    # read the delivery status of each confirmation that counts, by its umid (one request each: the
    # health check's short windows do; a week's audit says "recorded" instead)
    read_confirmations: bool = False


def build_ledger(client: Client, **options: Any) -> Ledger:
    """Read every run of the opt-out workflows in the window, and the group, into a ledger
    (``options``: :class:`LedgerOptions`)."""
    o = LedgerOptions(**options)
    name, policy, membership, test_numbers = o.name, o.policy, o.membership, o.test_numbers
    workflows = deployed_workflows(client, name)  # WorkflowNotDeployed when none is there
    window = o.window_in(client)
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
    if o.read_confirmations:
        _read_confirmations(client, records)
    _time_to_honour(records, window, o.seen_in_group or {}, o.deadlines or Deadlines.of(client.settings))
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

    def __init__(
        self, client: Client, versions: list[DeployedWorkflow], window: Window, group_ids: list[int], how: str
    ):
        if how not in ("auto", "group", "numbers"):
            raise BadInput(f"membership is auto, group or numbers, not {how!r}")
        self.client, self.versions, self.window, self.group_ids, self.how = client, versions, window, group_ids, how
        self.numbers: set[str] = set()
        self._pages = max((_pages_of(client, g) + 2 for g in group_ids), default=0) if how == "auto" else 0
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
        tasks = [
            (v, ran, i, window.start + span * i, window.end if i == slices - 1 else window.start + span * (i + 1))
            for v, ran in enumerate(self.versions)
            for i in range(slices)
        ]
        pages: queue.Queue = queue.Queue()

        def read(task) -> None:
            v, ran, i, start, end = task
            try:
                page, position = [], 0
                for instance in self.client.automation.list_workflows(
                    ran.definition_id, version=ran.version, started_from=iso(start), started_to=iso(end)
                ):
                    page.append(((v, i, -position), instance))  # listed newest first
                    position += 1
                    if len(page) == 500:
                        pages.put((ran, page))
                        page = []
                pages.put((ran, page))
            finally:
                pages.put(_DONE)

        seen: set[str] = set()
        with ThreadPoolExecutor(
            max_workers=max(1, self.client.settings.parallel), thread_name_prefix="8x8-runs"
        ) as pool:
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
        how = "numbers" if len(numbers) < max(1, _pages_of(client, group_id)) else "group"
    if how == "group":
        return read_group(client, group_id)
    keys = {}
    for number, contact_id in zip(
        sorted(numbers), client.in_parallel(lambda n: member_ids(client, group_id, n), sorted(numbers))
    ):
        if contact_id:
            keys[digits_key(number)] = contact_id[0]
    return GroupSnapshot(group_id, keys, dict(keys), reads=1, stable=True)


# the recorded outputs' names and the words compared per run, looked up once (100,000 runs: the
# enum attribute and dict lookups were a tenth of a ledger's time)
_OUT_ANSWER, _IN_CONTACT, _IN_LOOKUP = RECORDED["opt-out answer"], RECORDED["opt-in contact"], RECORDED["opt-in lookup"]


_HELP_REPLY, _OUT_ATTEMPTS, _IN_ATTEMPTS = (
    RECORDED["help reply"],
    RECORDED["opt-out attempts"],
    RECORDED["opt-in attempts"],
)


_IN_ANSWER, _OUT_CONFIRMED_AT = RECORDED["opt-in answer"], RECORDED["opt-out confirmed at"]


_OUT_ALREADY = RECORDED["opt-out already"]


_CONFIRMATION = {
    Matched.OPT_OUT: RECORDED["opt-out confirmation"],
    Matched.HELP: RECORDED["help reply"],
    Matched.OPT_IN: RECORDED["opt-in confirmation"],
    Matched.OTHER: RECORDED["opt-in confirmation"],
}


_NO_TEXT = ("", "undefined", "null")


def _record(
    client: Client,
    workflow: DeployedWorkflow,
    instance: dict,
    policy: KeywordPolicy | None,
    js: Expressions,
    decided: dict,
) -> dict:
    data = instance.get("data") or {}
    payload = part(data, "payload")
    user = part(payload, "user")
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
    return {
        "time": _text(data.get("triggeredAt") or instance.get("startedAt")),
        "number": number,
        "channel_user_id": channel_user,
        "channel": _customer_channel(workflow, payload),
        "subaccount": _text(data.get("subAccountId") or payload.get("subAccountId")),
        "text": _text(next((t for t in all_texts if t not in _NO_TEXT), "")),
        "matched": matched.value,
        "contacts_answer": answer,
        "confirmation_sent": RECORDED_ONLY
        if data.get(_CONFIRMATION[matched])
        else "no: already opted out (confirmed once before)"
        if answer == ALREADY
        else "no",
        "member_now": None,
        "awaiting_sync": False,
        "action": "",
        "in_group_at": "",
        "honoured_by": f"retry {(attempts or 1) - 1}" if retried else "first try",
        "confirmation_sent_at": confirmed_at if isinstance(confirmed_at, str) else "",
        "blacklist_sync_at": "",
        "late": "",
        "workflow_id": instance.get("workflowId", ""),
        "status": instance.get("status", ""),
        "version": instance.get("version"),
        "group_id": workflow.group_id,
        "_umid": _text(payload.get("umid")),
        "_completed_at": _text(instance.get("completedAt")),
        "_confirmation_umid": _text(data.get(_CONFIRMATION[matched])),
    }


def _text(value) -> str:
    """A value of a webhook as text that any file can hold: None is empty, a lone UTF-16 surrogate (half
    an emoji, split by a sender) becomes U+FFFD, which UTF-8 can write."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _SURROGATE.sub("\ufffd", text) if not text.isascii() else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def _call_outcome(
    client: Client, workflow: DeployedWorkflow, instance: dict, number: str, answer: str, sender=None
) -> str:
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


def _matched(
    workflow: DeployedWorkflow,
    data: dict,
    policy: KeywordPolicy | None,
    js: Expressions,
    all_texts: list[str],
    decided: dict,
) -> Matched:
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


def _classify(
    workflow: DeployedWorkflow, data: dict, policy: KeywordPolicy | None, js: Expressions, texts: tuple, decided: dict
) -> Matched:
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


_FAILED_STATES = ("undelivered", "rejected")


def _read_confirmations(client: Client, records: list[dict]) -> None:
    """The delivery status of each confirmation that counts (the latest word of a customer), read by umid
    from the Messaging Apps API: "yes" unless it failed, "no: undelivered (error 15: ...)" when it did
    (an opt-in confirmation to a number still in 8x8's blacklist until the hourly sync). An SMS answer's
    umid is not the Messaging Apps API's to tell: it stays recorded. In place."""
    skip = (Action.TEST.value, Action.REDELIVERY.value, Action.SUPERSEDED.value)
    wanted = [
        r
        for r in records
        if r["_confirmation_umid"]
        and r["channel"] != "SMS"
        and r["action"] not in skip
        and r["matched"] in (_OPT_OUT, _OPT_IN)
    ]

    def status(r: dict) -> str:
        try:
            state = client.messaging.get_message(r["_confirmation_umid"]).get("status") or {}
        except EightByEightError as exc:
            return f"{RECORDED_ONLY}: its status could not be read ({exc})"
        if state.get("state") in _FAILED_STATES:
            return f"no: {state.get('state')} (error {state.get('errorCode')}: {state.get('errorMessage') or '?'})"
        return "yes" if state.get("state") else f"{RECORDED_ONLY}: 8x8 answered no state"

    for r, said in zip(wanted, client.in_parallel(status, wanted)):
        r["confirmation_sent"] = said


def _pages_of(client: Client, group_id: int) -> int:
    """The pages a whole read of the group takes (its member count, MAX_PAGE_SIZE a page): what
    looking up the numbers one by one is weighed against."""
    members = int(client.contacts.get_group(group_id).get("contacts") or 0)
    return -(-members // MAX_PAGE_SIZE)
