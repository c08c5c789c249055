"""The Automation workflows an account already runs on the runbook's triggers, read from 8x8.

Accounts that followed 8x8's Opt-Out tutorial (or its template) hold a hand-made blacklisted group
and opt-out workflows of their own, whose every STOP was lost (../shared/8x8-api/NOTES.md, "Accounts
that followed the tutorial"). Every definition of the subaccount on ``inbound_chat_apps`` or
``inbound_sms`` is classified here from its steps alone, never by sending through it:

- ``runbook``: built by this runbook (its opt-out steps by id);
- ``opt-out``: another opt-out flow: it adds to a group or the blacklist, or a Branch reacts to
  opt-out words;
- ``answers``: another flow that answers inbound messages (what it does to a customer's STOP is said);
- ``other``: anything else.

An opt-out flow's defects are read from its definition; its runs (instances, each with the webhook
as ``data``) are measured against the runbook's keyword policy and the account's blacklisted groups
(:func:`measure`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from .client import Client
from .numbers import platform_number
from .payloads import part
from .policy import KeywordPolicy
from .workflow import STEP

TRIGGERS = {"inbound_chat_apps": "WhatsApp", "inbound_sms": "SMS"}
RUNBOOK = "runbook"
OPT_OUT = "opt-out"
ANSWERS = "answers"
OTHER = "other"
REPLY_TYPES = ("SMS", "ChatAppsMessage")
# words of opt-out in a Branch condition, as people write them in the Builder (any case)
_OPT_OUT_WORDS = re.compile(
    r"\b(stop|unsubscribe|opt.?out|optout|stopall|cancel|quit|revoke|arr[eê]t|baja|"
    r"stopp|abmelden|berhenti|退订)\b",
    re.I,
)
# a test that finds a word anywhere and minds the case: 8x8's stringContains without ignoreCase, or
# includes/indexOf over the text as sent
_CASE_SENSITIVE = re.compile(r"stringContains\(([^()]|\([^()]*\))*?\)|\.includes\(|\.indexOf\(")


@dataclass
class Flow:
    """One workflow definition on the runbook's triggers, as 8x8 holds it (its newest version)."""

    held: dict = field(repr=False)
    channel: str  # WhatsApp (Messaging Apps) or SMS
    kind: str
    groups: list[int] = field(default_factory=list)  # the groups it adds to
    defects: list[str] = field(default_factory=list)
    on_stop: str = ""  # for a flow that answers: what it does to a customer's STOP

    @property
    def id(self) -> str:
        return self.held["id"]

    @property
    def name(self) -> str:
        return self.held.get("definition", {}).get("name", "")

    @property
    def enabled(self) -> bool:
        return self.held.get("status") == "enabled"

    def label(self) -> str:
        return f"{self.name!r} ({self.channel}, {self.id}, {'enabled' if self.enabled else self.held.get('status')})"


def _steps(held: dict) -> list[dict]:
    steps = held.get("definition", {}).get("steps", [])
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _adds_to_group(step: dict) -> list[int] | None:
    """The groups an HttpRequest step puts the sender in (POST .../contacts with groups, or the
    blacklist endpoint: []), else None."""
    if step.get("stepType") != "HttpRequest":
        return None
    inputs = part(step, "inputs")
    url, method = str(inputs.get("url", "")), str(inputs.get("method", "")).upper()
    if "/contacts/blacklist/" in url:
        return []
    body = inputs.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    if method == "POST" and url.rstrip("/").endswith("/contacts") and isinstance(body, dict) and body.get("groups"):
        groups = []
        for g in body["groups"] if isinstance(body["groups"], list) else []:
            try:
                groups.append(int(g.get("id")))
            except (AttributeError, TypeError, ValueError):
                continue
        return groups
    return None


def _replies(step: dict) -> bool:
    if step.get("stepType") in REPLY_TYPES:
        return True
    inputs = part(step, "inputs")
    return step.get("stepType") == "HttpRequest" and str(inputs.get("url", "")).rstrip("/").endswith("/messages")


def classify(held: dict, channel: str) -> Flow:
    """What a definition is, from its steps (see the module's list), with an opt-out flow's defects."""
    steps = _steps(held)
    ids = {s.get("id") for s in steps}
    if STEP["add"] in ids and STEP["out_number"] in ids:
        return Flow(held, channel, RUNBOOK)
    adders = [(s, g) for s in steps if (g := _adds_to_group(s)) is not None]
    conditions = [
        _text(c)
        for s in steps
        if s.get("stepType") in ("Branch", "If")
        for c in (s.get("selectNextStep") or {}).values()
        if c
    ]
    if adders or any(_OPT_OUT_WORDS.search(c) for c in conditions):
        flow = Flow(held, channel, OPT_OUT, sorted({g for _, groups in adders for g in groups}))
        flow.defects = _defects(steps, adders, conditions, channel)
        return flow
    if any(_replies(s) for s in steps):
        return Flow(held, channel, ANSWERS, on_stop=_how_it_answers(steps))
    return Flow(held, channel, OTHER)


def _how_it_answers(steps: list[dict]) -> str:
    """What a flow that answers (and does not opt out) does to a STOP."""
    first = steps[0]
    if _replies(first) or first.get("stepType") not in ("Branch", "If"):
        return "answers every message, a STOP too (a second answer beside the opt-out confirmation)"
    return "answers some messages (its Branch decides): a STOP may get an answer of its own"


def _defects(steps: list[dict], adders: list, conditions: list[str], channel: str) -> list[str]:
    """What an opt-out flow gets wrong, read from its definition."""
    defects = []
    by_id = {s.get("id"): s for s in steps}
    for step, _ in adders:
        defects += _number_defects(_text((step.get("inputs") or {}).get("body")), channel)
        following = by_id.get(step.get("nextStepId"))
        if following is not None and _replies(following):
            defects.append(
                "confirms the opt-out whatever the Contacts call answered (no Branch on its answer): "
                "customers whose STOP was lost were told they were opted out"
            )
    if any(_case_sensitive(c) for c in conditions):
        defects.append(
            "a case-sensitive word anywhere in the text: 'stop' and 'Unsubscribe' never opt out, while "
            "'which bus STOP?' does"
        )
    if adders and not any(s.get("stepType") == "Wait" for s in steps):
        defects.append("no retry: a Contacts call that fails once loses the STOP")
    return defects


def _number_defects(body: str, channel: str) -> list[str]:
    """Where an adding step's body takes the number from, when that is not the customer's number."""
    if "recipient.channelId" in body:
        return [
            "takes the number from the business's own channel (data.payload.recipient.channelId), not the "
            "customer"
            + (
                ": an SMS webhook has no recipient, so the step fails"
                if channel == "SMS"
                else ": 8x8 refuses it (400, code 1002), so every STOP is lost"
            )
        ]
    if channel == "SMS" and "payload.recipient" in body:
        return ["reads payload.recipient, which an SMS webhook does not have: every STOP is lost"]
    if channel == "WhatsApp" and "channelUserId" in body and "msisdn" not in body.split("addresses")[-1][:40]:
        return ["takes the channel user id for the number: in v3 it is a BSUID, not a phone number"]
    return []


def _case_sensitive(condition: str) -> bool:
    """A condition that looks for a word with case (stringContains without its ignore-case flag)."""
    return (
        bool(_CASE_SENSITIVE.search(condition))
        and "true" not in condition.split("stringContains")[-1][:80]
        and "toLowerCase" not in condition
        and "toUpperCase" not in condition
    )


def flows_on_triggers(client: Client, subaccount: str | None = None) -> list[Flow]:
    """Every definition of the subaccount on the two inbound triggers, classified, oldest first."""
    subaccount = subaccount or client.settings.subaccount_id
    found = []
    for held in client.automation.list_definitions():
        channel = TRIGGERS.get(str(held.get("trigger")))
        if channel and str(held.get("subAccountId") or held.get("subaccountId") or "") == subaccount:
            found.append(classify(held, channel))
    return found


@dataclass
class Measured:
    """An opt-out flow's runs, judged by the runbook's keyword policy and the blacklisted groups now."""

    messages: int = 0
    asked: set[str] = field(default_factory=set)  # numbers whose latest word in its runs is an opt-out
    in_a_list: set[str] = field(default_factory=set)
    lost: dict[str, str] = field(default_factory=dict)  # number -> the time of their STOP
    without_number: int = 0  # opt-outs whose sender is no phone number (a BSUID alone, INFO)


def measure(
    client: Client,
    flow: Flow,
    policy: KeywordPolicy,
    members: Collection[str] | Callable[[str], bool],
    *,
    started_from: str,
    started_to: str,
) -> Measured:
    """Read every run of every version of the flow in the window; who asked to stop by the runbook's
    policy (the latest word of each number counts), and who of them no blacklisted group holds.
    ``members``: the blacklisted groups' members (digit keys), or a function that answers whether a
    number is in one (a lookup each: for short windows)."""
    is_member = members if callable(members) else (lambda number: number[1:] in members)
    measured = Measured()
    latest: dict[str, tuple[str, str]] = {}  # number -> (time, "opt-out" | "opt-in")
    for version in client.automation.definition_versions(flow.id):
        for run in client.automation.list_workflows(
            flow.id, version=version, started_from=started_from, started_to=started_to
        ):
            measured.messages += 1
            data = part(run, "data")
            payload = part(data, "payload")
            user = part(payload, "user")
            said = policy.classify_event(data, flow.channel)
            if said not in ("opt-out", "opt-in"):
                continue
            number = platform_number(payload.get("source") if flow.channel == "SMS" else user.get("msisdn"))
            if not number:
                measured.without_number += said == "opt-out"
                continue
            when = str(data.get("triggeredAt") or run.get("startedAt") or "")
            if number not in latest or latest[number][0] <= when:
                latest[number] = (when, said)
    for number, (when, said) in latest.items():
        if said == "opt-out":
            measured.asked.add(number)
            if is_member(number):
                measured.in_a_list.add(number)
            else:
                measured.lost[number] = when
    return measured


def lost_by_other_flows(
    client: Client, flows: list[Flow], policy: KeywordPolicy, *, started_from: str, started_to: str
) -> dict[str, tuple[str, str]]:
    """The STOPs the other opt-out flows (enabled or not) lost in the window: number -> (the flow's name, the
    time of the STOP), each looked up in every blacklisted group (one request a number a group)."""
    from .groups import blacklisted_groups
    from .suppression import member_ids

    groups = [int(g["id"]) for g in blacklisted_groups(client)]

    def in_a_list(number: str) -> bool:
        return any(member_ids(client, g, number) for g in groups)

    lost: dict[str, tuple[str, str]] = {}
    for flow in flows:
        if flow.kind == OPT_OUT:
            measured = measure(client, flow, policy, in_a_list, started_from=started_from, started_to=started_to)
            for number, when in measured.lost.items():
                lost.setdefault(number, (flow.name, when))
    return lost
