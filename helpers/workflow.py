"""The opt-out workflow: its request bodies, the whole Automation definition, and deployment.

The customer's number is ``data.payload.user.msisdn``. The seed tutorial takes it from
``data.payload.recipient.channelId``, which names the business's channel, not the customer
(../shared/8x8-api/NOTES.md): every opt-out would then add the channel's id, not the sender.

Definitions are built with a placeholder where the API key goes, so whatever is shown or
written to a file carries no secret; the key is put in only in the request that deploys. What
they are made of besides the group and the keyword policy (name, channels, the HELP reply's
brand and support, enabled) is one :class:`WorkflowOptions`; every step id the runbook names is
in :data:`STEP`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .client import Client
from .concurrency import SubaccountLock
from .config import DEFAULT_BRAND, DEFAULT_CHANNELS, DEFAULT_NAME, DEFAULT_SUPPORT, Settings
from .errors import BadFile, BadInput, WorkflowNotDeployed
from .paths import run_folder
from .policy import KEYWORD_STEPS, KINDS, KeywordPolicy

if TYPE_CHECKING:  # for annotations only
    import pandas as pd

    from .expressions import Expressions

API_KEY_PLACEHOLDER = "<YOUR_8X8_API_KEY>"
CUSTOMER_MSISDN = "{{data.payload.user.msisdn}}"
TUTORIAL_MSISDN = "{{data.payload.recipient.channelId}}"


def opt_out_request_body(group_id: int) -> dict:
    """The HttpRequest body that adds the WhatsApp sender to the opt-out group (create or merge contact)."""
    return {"groups": [{"id": int(group_id)}], "addresses": {"msisdn": CUSTOMER_MSISDN}}


def tutorial_request_body(group_id: int) -> dict:
    """The seed tutorial's body, kept to show its mistake: the channel's id is not the customer."""
    return {"groups": [{"id": int(group_id)}], "addresses": {"msisdn": TUTORIAL_MSISDN}}


def opt_out_confirmation(channels: Iterable[str] = DEFAULT_CHANNELS) -> str:
    names = list(channels)
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return (
        f"You have been unsubscribed and will no longer receive messages from us on {joined}. "
        "Reply START to subscribe again."
    )


def opt_in_confirmation(channels: Iterable[str] = DEFAULT_CHANNELS) -> str:
    names = list(channels)
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"You are subscribed again and will receive our messages on {joined}. Reply STOP to unsubscribe."


def check_help_values(settings: Settings, brand: str, support: str) -> str:
    """The HELP answer must name the brand and a real support contact (carriers' guidelines). The
    placeholders are refused before deploying on 8x8 (BadInput); on the sandbox they are allowed,
    and the answer says so. Answers what to tell the operator ("" when the values are real)."""
    placeholders = [
        name
        for name, value, default in (
            ("BRAND_NAME", brand, DEFAULT_BRAND),
            ("SUPPORT_CONTACT", support, DEFAULT_SUPPORT),
        )
        if not str(value).strip() or value == default
    ]
    if not placeholders:
        return ""
    what = f"{' and '.join(placeholders)} still hold{'s' if len(placeholders) == 1 else ''} the placeholder"
    if settings.sandbox_mode:
        return (
            f"Note: {what}: customers who send HELP would read {help_reply(brand, support)!r}. Fine on the "
            f"sandbox; set your brand and support contact before deploying on 8x8."
        )
    raise BadInput(
        f"{what}: set your brand and a support contact before deploying on 8x8 (EIGHTXEIGHT_BRAND_NAME and "
        "EIGHTXEIGHT_SUPPORT_CONTACT in .env, or for one run notebook 03's BRAND_NAME and SUPPORT_CONTACT or "
        "deploy --brand and --support); nothing was deployed."
    )


def help_reply(brand: str = DEFAULT_BRAND, support: str = DEFAULT_SUPPORT) -> str:
    """The answer to HELP: who is writing, how to reach support, how to stop (what carriers expect)."""
    return (
        f"{brand}: for help, contact {support}. Reply STOP to stop receiving our messages, START to receive them again."
    )


def _headers() -> dict:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY_PLACEHOLDER}"}


# The Messaging Apps send's channel (its ``channels`` enum: WhatsApp, Viber, RCS, ...) of the app
# the customer wrote on: payload.recipient.channel, which 8x8 writes in lower case ("whatsapp",
# "viber", "rcs"; NOTES.md also names RCS "GoogleRCS"). Only these three reach inbound_chat_apps.
REPLY_CHANNEL = (
    "{{/^viber$/i.test(data.payload.recipient?.channel) ? 'Viber' : "
    "/^(google)?rcs$/i.test(data.payload.recipient?.channel) ? 'RCS' : 'WhatsApp'}}"
)


@dataclass(frozen=True)
class Channel:
    """Where a channel's inbound trigger carries the customer's number, and how to answer them."""

    name: str
    trigger: str
    sender: str  # JavaScript path of the customer's number in ``data``

    def reply(self, step_id: str, settings: Settings, text: str, record_as: str, sent_at: str | None = None) -> dict:
        """A step answering the customer; the message's umid is kept in ``data.<record_as>``, so the
        run's own record (the instance list) says that the confirmation went out, and (``sent_at``)
        the time 8x8 stamped on it (the send answer's ``status.timestamp``)."""
        if self.name == "SMS":  # answer from the number the customer wrote to
            outputs = {record_as: "{{step.umid}}"}
            if sent_at:
                outputs[sent_at] = "{{step.status?.timestamp ?? null}}"
            return {
                "id": step_id,
                "stepType": "SMS",
                "inputs": {
                    "subAccountId": settings.subaccount_id,
                    "destination": "{{%s}}" % self.sender,
                    "source": "{{data.payload.destination}}",
                    "text": text,
                },
                "outputs": outputs,
            }
        # Chat apps: the Messaging Apps send itself, not a ChatAppsMessage step. That step's inputs
        # have no ``channels`` (automation_api.json: subAccountId, user, type, content,
        # clientMessageId), so it goes by the subaccount's default channel fallback: a Viber or RCS
        # customer would be answered on WhatsApp or SMS, or not at all. The send's ``channels``
        # override (business_messaging_api.json) pins the answer to the app the customer wrote on.
        outputs = {record_as: "{{step.responseBody?.umid ?? null}}"}
        if sent_at:
            outputs[sent_at] = "{{step.responseBody?.status?.timestamp ?? null}}"
        url = f"{settings.base_urls()['chatapps']}/api/v1/subaccounts/{settings.subaccount_id}/messages"
        return {
            "id": step_id,
            "stepType": "HttpRequest",
            "inputs": {
                "url": url,
                "method": "POST",
                "headers": _headers(),
                "body": {
                    "user": {"msisdn": "{{%s}}" % self.sender},
                    "type": "text",
                    "content": {"text": text},
                    "channels": [{"channel": REPLY_CHANNEL}],
                },
                "timeoutSeconds": 10,
            },
            "outputs": outputs,
        }


# What each run writes into its ``data`` (step outputs), which the instance list returns: the
# opt-out ledger (helpers/ledger.py) reads a run's outcome from these, without its step log.
RECORDED = {
    "opt-out answer": "opt_out_response_code",
    "opt-out attempts": "opt_out_attempts",
    "opt-out confirmation": "opt_out_confirmation",
    "opt-out confirmed at": "opt_out_confirmed_at",
    "opt-in contact": "opt_in_contact_id",
    "opt-in lookup": "opt_in_lookup_code",
    "opt-in attempts": "opt_in_attempts",
    "opt-in answer": "opt_in_response_code",
    "opt-in confirmation": "opt_in_confirmation",
    "help reply": "help_reply",
    "opt-out already": "opt_out_already_member",
}

CHANNEL_SPECS = {
    "WhatsApp": Channel("WhatsApp", "inbound_chat_apps", "data.payload.user.msisdn"),
    "SMS": Channel("SMS", "inbound_sms", "data.payload.source"),
}
TRIGGER_CHANNELS = {c.trigger: c.name for c in CHANNEL_SPECS.values()}

# The customer's number as the Contacts API accepts it (addresses.msisdn's pattern). A v3
# webhook leaves user.msisdn out for customers known only by a channel id (NOTES.md): such a
# run takes the "without number" step instead of creating a contact with an empty number.
_HAS_NUMBER = "{{/^\\+?[1-9][0-9]{6,14}$/.test(String(%s??''))}}"
_SUCCESS = "{{data.%s == 200 || data.%s == 201}}"
# Names the audit looks for in a run's step log.
NO_NUMBER_STEPS = {"opt-out": "opt_out_without_phone_number", "opt-in": "opt_in_without_phone_number"}
MAX_BRANCH_CHOICES = 5  # the Automation Builder UI's limit; the API allows more


def _channel(name: str) -> Channel:
    for key, spec in CHANNEL_SPECS.items():
        if key.lower() == str(name).lower():
            return spec
    raise BadInput(f"unknown channel {name!r}: use {' or '.join(CHANNEL_SPECS)}")


# The Contacts call of an opt-out (and both calls of an opt-in) is tried again when it does not
# answer 2xx, after each of these waits (8x8's Wait step, "d.HH:mm:ss"): unrolled, since a
# definition has no loops. Create-or-merge by number makes a repeated call harmless (8x8 also
# re-delivers a webhook up to four times). The run stays Runnable while it waits; the audit
# reads such a run as "in progress", never as lost. After the last try the run ends, and
# ``check --apply`` (reconcile) repairs what is still lost.
RETRY_WAITS = ("00:00:30", "00:02:00", "00:10:00", "00:30:00")
# Step ids of the first try; retry N adds "_retry_N" (see _attempt_id).
STEP = {
    "add": "add_to_opt_out_group",
    "added": "check_opt_out_added",
    "wait_out": "wait_before_opt_out_retry",
    "find": "find_opted_in_contact",
    "found": "check_opted_in_contact",
    "remove": "remove_from_opt_out_group",
    "removed": "check_opt_in_removed",
    "wait_in": "wait_before_opt_in_retry",
    "confirm_out": "confirm_opt_out",
    "confirm_in": "confirm_opt_in",
    "help": "answer_help",
    "out_number": "check_opt_out_number",
    "in_number": "check_opt_in_number",
    "known_out": "look_up_opted_out",
    "known": "check_already_opted_out",
}


def _attempt_id(step: str, attempt: int) -> str:
    """The id of a step in try ``attempt`` (1 is the first try, which keeps the plain id)."""
    return STEP[step] if attempt == 1 else f"{STEP[step]}_retry_{attempt - 1}"


def _wait_id(step: str, retry: int) -> str:
    return f"{STEP[step]}_{retry}"


def _opt_out_attempts(url: str, group_id: int, sender: str) -> list[dict]:
    """Add to the group (create or merge the contact); on no 2xx, wait and try again, then confirm once."""
    steps = []
    tries = len(RETRY_WAITS) + 1
    for attempt in range(1, tries + 1):
        if attempt > 1:
            steps.append(
                {
                    "id": _wait_id("wait_out", attempt - 1),
                    "stepType": "Wait",
                    "inputs": {"duration": RETRY_WAITS[attempt - 2]},
                    "nextStepId": _attempt_id("add", attempt),
                }
            )
        choices: dict[str, str | None] = {
            STEP["confirm_out"]: _SUCCESS % ("opt_out_response_code", "opt_out_response_code")
        }
        if attempt < tries:
            choices[_wait_id("wait_out", attempt)] = None
        steps += [
            {
                "id": _attempt_id("add", attempt),
                "stepType": "HttpRequest",
                "inputs": {
                    "url": url,
                    "method": "POST",
                    "headers": _headers(),
                    "body": {"groups": [{"id": int(group_id)}], "addresses": {"msisdn": sender}},
                    "timeoutSeconds": 10,
                },
                "outputs": {
                    RECORDED["opt-out answer"]: "{{step.responseCode}}",
                    RECORDED["opt-out attempts"]: "{{%d}}" % attempt,
                },
                "nextStepId": _attempt_id("added", attempt),
            },
            {"id": _attempt_id("added", attempt), "stepType": "Branch", "selectNextStep": choices},
        ]
    return steps


def _already_opted_out(contacts: str, group_id: int, sender: str) -> list[dict]:
    """Is the number a member already? Then the run ends: no second add, no second confirmation. 8x8
    delivers a webhook again after a failed delivery (the same message, a run each), and customers send
    STOP twice; the US rule allows one confirmation. A script holds no state between runs, so the group
    is the workflow's only memory: it is asked. A lookup that fails (no 200) counts as "not a member":
    the opt-out is added and confirmed, as before (a confirmation too many, never an opt-out too few)."""
    digits = "String(%s ?? '').replace('+', '')" % sender
    return [
        {
            "id": STEP["known_out"],
            "stepType": "HttpRequest",
            "inputs": {
                "url": f"{contacts}/contacts",
                "method": "GET",
                "headers": _headers(),
                "parameters": {"query": "{{%s}}" % digits, "groupId": str(int(group_id))},
                "timeoutSeconds": 10,
            },
            "outputs": {
                RECORDED["opt-out already"]: "{{step.responseCode == 200 && (step.responseBody?.items ?? [])"
                ".some(c => String(c.addresses?.msisdn ?? '').replace('+', '') == "
                "%s)}}" % digits
            },
            "nextStepId": STEP["known"],
        },
        # a member: no choice is true, and the run ends here (its log shows it)
        {
            "id": STEP["known"],
            "stepType": "Branch",
            "selectNextStep": {STEP["add"]: "{{data.%s !== true}}" % RECORDED["opt-out already"]},
        },
    ]


def _opt_in_attempts(contacts: str, group_id: int, sender: str) -> list[dict]:
    """Find the contact by create-or-merge (its id and groups); a member is taken out of the group
    (membership only) and told so. Either call without a 2xx waits and tries again."""
    steps = []
    tries = len(RETRY_WAITS) + 1
    found = _SUCCESS % ("opt_in_lookup_code", "opt_in_lookup_code")
    removed = _SUCCESS % ("opt_in_response_code", "opt_in_response_code")
    for attempt in range(1, tries + 1):
        again = _wait_id("wait_in", attempt) if attempt < tries else None
        if attempt > 1:
            steps.append(
                {
                    "id": _wait_id("wait_in", attempt - 1),
                    "stepType": "Wait",
                    "inputs": {"duration": RETRY_WAITS[attempt - 2]},
                    "nextStepId": _attempt_id("find", attempt),
                }
            )
        # found and a member: remove; found and not a member: no choice is true and the run ends
        found_choices = {_attempt_id("remove", attempt): "{{(%s) && data.opt_in_contact_id != null}}" % found[2:-2]}
        removed_choices: dict[str, str | None] = {STEP["confirm_in"]: removed}
        if again:
            found_choices[again] = "{{!(%s)}}" % found[2:-2]
            removed_choices[again] = None
        steps += [
            {
                "id": _attempt_id("find", attempt),
                "stepType": "HttpRequest",
                "inputs": {
                    "url": f"{contacts}/contacts",
                    "method": "POST",
                    "headers": _headers(),
                    "body": {"addresses": {"msisdn": sender}},
                    "timeoutSeconds": 10,
                },
                "outputs": {
                    RECORDED["opt-in contact"]: "{{(step.responseBody?.groups ?? []).some(g => g.id == %d) "
                    "? step.responseBody.id : null}}" % int(group_id),
                    RECORDED["opt-in lookup"]: "{{step.responseCode}}",
                    RECORDED["opt-in attempts"]: "{{%d}}" % attempt,
                },
                "nextStepId": _attempt_id("found", attempt),
            },
            {"id": _attempt_id("found", attempt), "stepType": "Branch", "selectNextStep": found_choices},
            {
                "id": _attempt_id("remove", attempt),
                "stepType": "HttpRequest",
                "inputs": {
                    "url": f"{contacts}/groups/{int(group_id)}/contacts",
                    "method": "DELETE",
                    "headers": _headers(),
                    "body": {"contacts": ["{{data.opt_in_contact_id}}"]},
                    "timeoutSeconds": 10,
                },
                "outputs": {RECORDED["opt-in answer"]: "{{step.responseCode}}"},
                "nextStepId": _attempt_id("removed", attempt),
            },
            {"id": _attempt_id("removed", attempt), "stepType": "Branch", "selectNextStep": removed_choices},
        ]
    return steps


def _keyword_chain(prefix: str, conditions: list[str], target: str, after: str | None) -> list[dict]:
    """One Branch per condition: its target when true, else (the default) the next Branch."""
    steps = []
    for i, condition in enumerate(conditions, start=1):
        following = f"{prefix}_{i + 1}" if i < len(conditions) else after
        choices: dict[str, str | None] = {target: condition}
        if following:
            choices[following] = None
        steps.append({"id": f"{prefix}_{i}", "stepType": "Branch", "selectNextStep": choices})
    return steps


@dataclass(frozen=True)
class WorkflowOptions:
    """What the opt-out workflows are made of besides the group and the keyword policy: the same for
    every channel's definition, for the Builder files, and for the health check's comparison."""

    name: str = DEFAULT_NAME
    channels: tuple[str, ...] = DEFAULT_CHANNELS  # the channels deployed, and named in the confirmations
    brand: str = DEFAULT_BRAND  # the HELP reply's "<brand>: ... contact <support>"
    support: str = DEFAULT_SUPPORT
    enabled: bool = True

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(_channel(c).name for c in self.channels))

    @classmethod
    def of(
        cls,
        settings: Settings,
        *,
        name: str | None = None,
        channels: Iterable[str] | None = None,
        brand: str | None = None,
        support: str | None = None,
    ) -> WorkflowOptions:
        """What the settings say is deployed (EIGHTXEIGHT_WORKFLOW_NAME, ..._CHANNELS, ..._BRAND_NAME,
        ..._SUPPORT_CONTACT), each value given here winning for this use."""
        return cls(
            name=name or settings.workflow_name,
            channels=tuple(channels or settings.channels),
            brand=brand or settings.brand,
            support=support or settings.support,
        )


def build_opt_out_definition(
    settings: Settings,
    group_id: int,
    policy: KeywordPolicy | None = None,
    *,
    channel: str = "WhatsApp",
    options: WorkflowOptions = WorkflowOptions(),
) -> dict:
    """The whole Automation API definition (definitionInput) for one channel, key as a placeholder.

    The keyword policy runs as a chain of Branch steps, each condition one script within 8x8's
    rules. An opt-out adds the sender to the group (create or merge the contact) and confirms;
    an opt-in creates-or-merges the sender's contact, which answers its id, removes that
    membership (the contact stays) and confirms. A call that does not answer 2xx is tried
    again after each of ``RETRY_WAITS`` (Wait steps, unrolled); the confirmation goes out once,
    after the call succeeded. No script loops, declares or assigns.
    ``options.channels`` are the channels named in the confirmations.
    """
    policy = policy or KeywordPolicy()
    spec = _channel(channel)
    channels, brand, support = options.channels, options.brand, options.support
    contacts = f"{settings.base_urls()['contacts']}/api/v1/accounts/{settings.account_id}"
    sender = "{{%s}}" % spec.sender
    opt_out = policy.js_conditions("opt_out", spec.name)
    opt_in = policy.js_conditions("opt_in", spec.name)
    asks_help = policy.js_conditions("help", spec.name)
    # Each chain falls through to the next one that has conditions (a custom policy may have no
    # opt-in or help words): a Branch never points to a step that is not there.
    chains = [
        (prefix, conditions, target)
        for prefix, conditions, target in (
            (KEYWORD_STEPS["opt_out"], opt_out, STEP["out_number"]),
            (KEYWORD_STEPS["opt_in"], opt_in, STEP["in_number"]),
            (KEYWORD_STEPS["help"], asks_help, STEP["help"]),
        )
        if conditions
    ]
    steps = [
        *(
            step
            for i, (prefix, conditions, target) in enumerate(chains)
            for step in _keyword_chain(
                prefix, conditions, target, f"{chains[i + 1][0]}_1" if i + 1 < len(chains) else None
            )
        ),
        spec.reply(STEP["help"], settings, help_reply(brand, support), RECORDED["help reply"]),
        {
            "id": STEP["out_number"],
            "stepType": "Branch",
            "selectNextStep": {STEP["known_out"]: _HAS_NUMBER % spec.sender, NO_NUMBER_STEPS["opt-out"]: None},
        },
        *_already_opted_out(contacts, group_id, spec.sender),
        *_opt_out_attempts(f"{contacts}/contacts", group_id, sender),
        spec.reply(
            STEP["confirm_out"],
            settings,
            opt_out_confirmation(channels),
            RECORDED["opt-out confirmation"],
            RECORDED["opt-out confirmed at"],
        ),
        {
            "id": STEP["in_number"],
            "stepType": "Branch",
            "selectNextStep": {STEP["find"]: _HAS_NUMBER % spec.sender, NO_NUMBER_STEPS["opt-in"]: None},
        },
        *_opt_in_attempts(contacts, group_id, sender),
        spec.reply(STEP["confirm_in"], settings, opt_in_confirmation(channels), RECORDED["opt-in confirmation"]),
        # A customer without a phone number cannot join a group: the run ends here, visibly, in
        # its step log (a one-second Wait does nothing else), for the operator's audit.
        *(
            {"id": step_id, "stepType": "Wait", "inputs": {"duration": "00:00:01"}}
            for step_id in NO_NUMBER_STEPS.values()
        ),
    ]
    return {
        "accountId": settings.account_id,
        "subAccountId": settings.subaccount_id,
        "trigger": spec.trigger,
        "status": "enabled" if options.enabled else "disabled",
        "definition": {"name": options.name, "steps": steps},
    }


def build_opt_out_definitions(
    settings: Settings, group_id: int, policy: KeywordPolicy | None = None, options: WorkflowOptions = WorkflowOptions()
) -> dict[str, dict]:
    """One definition per channel (WhatsApp: inbound_chat_apps, SMS: inbound_sms), same group and policy."""
    return {
        c: build_opt_out_definition(settings, group_id, policy, channel=c, options=options) for c in options.channels
    }


def script_table(definitions: dict[str, dict]) -> pd.DataFrame:
    """Every script the definitions carry: workflow, step, field, length against 8x8's limit, rules."""
    import pandas as pd

    from connect_rules.scripts import MAX_SCRIPT_LENGTH, definition_scripts

    rows = []
    for channel, definition in definitions.items():
        for script in definition_scripts(definition["definition"]["steps"]):
            broken = script.violations()
            rows.append(
                {
                    "workflow": channel,
                    "step": script.step,
                    "field": script.field,
                    "length": script.length,
                    "limit": MAX_SCRIPT_LENGTH,
                    "rules": "ok" if not broken else "; ".join(map(str, broken)),
                }
            )
    return pd.DataFrame(rows)


def check_definition_rules(definition: dict) -> None:
    """Raise ValueError naming each script that breaks 8x8's rules, and each Branch with too many choices."""
    from connect_rules.scripts import definition_scripts

    problems = [
        f"step {s.step!r}, {s.field}: {v}"
        for s in definition_scripts(definition["definition"]["steps"])
        for v in s.violations()
    ]
    problems += [
        f"step {step['id']!r}: {len(step['selectNextStep'])} choices, the Builder UI allows {MAX_BRANCH_CHOICES}"
        for step in definition["definition"]["steps"]
        if step["stepType"] == "Branch" and len(step["selectNextStep"]) > MAX_BRANCH_CHOICES
    ]
    if problems:
        raise BadInput("the definition breaks 8x8's rules:\n" + "\n".join(problems))


def with_api_key(definition: dict, settings: Settings) -> dict:
    """A copy with the real key in place of the placeholder: only for the deploying request."""
    text = json.dumps(definition).replace(API_KEY_PLACEHOLDER, settings.bearer_token())
    return json.loads(text)


def redact(definition: dict, settings: Settings) -> dict:
    """A copy safe to show: the key (as 8x8 returns it) back to the placeholder."""
    token = settings.bearer_token()
    return (
        json.loads(json.dumps(definition).replace(token, API_KEY_PLACEHOLDER)) if token else copy.deepcopy(definition)
    )


def write_definition_json(definition: dict, path: str | Path) -> Path:
    """The definition for people who paste it into the Automation Builder UI (no key inside)."""
    path = Path(path)
    text = json.dumps(definition, indent=2, ensure_ascii=False)
    if "Bearer " + API_KEY_PLACEHOLDER not in text:
        raise BadInput("refusing to write a definition that does not carry the key placeholder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise BadFile(f"{path} cannot be written ({exc.strerror}): give a folder you can write to.") from None
    return path


@dataclass
class Deployment:
    definition_id: str
    version: int
    action: str  # created, updated or unchanged

    def __str__(self) -> str:
        return f"{self.action}: definition {self.definition_id}, version {self.version}"


_COMPARED = ("subAccountId", "trigger", "status", "definition")


def deploy_definition(client: Client, definition: dict) -> Deployment:
    """Create the definition, or update the one of the same name, trigger and subaccount.

    A re-run never makes a duplicate, and the version moves only when the content changed.
    """
    check_definition_rules(definition)
    wanted = with_api_key(definition, client.settings)
    name = wanted["definition"]["name"]
    same = [
        d
        for d in client.automation.list_definitions()
        if d["definition"].get("name") == name
        and d.get("trigger") == wanted["trigger"]
        and d.get("subAccountId") == wanted.get("subAccountId")
    ]
    if not same:
        created = client.automation.create_definition(wanted)
        return Deployment(created["id"], created["version"], "created")
    current = oldest_first(same)[0]
    if all(current.get(k) == wanted.get(k) for k in _COMPARED):
        return Deployment(current["id"], current["version"], "unchanged")
    updated = client.automation.update_definition(current["id"], wanted)
    return Deployment(updated["id"], updated["version"], "updated")


def oldest_first(definitions: Iterable[dict]) -> list[dict]:
    """Workflows of one name, trigger and subaccount in the order deploy, the notebooks and the check
    all take them: the oldest first (the one deploy updates), ties by id so that all pick the same."""
    return sorted(definitions, key=lambda d: (d.get("createdAt", ""), d.get("id", "")))


def workflows_named(client: Client, name: str) -> dict[str, list[dict]]:
    """Each channel's workflows of this name on the subaccount, as 8x8 lists them, :func:`oldest_first`."""
    found: dict[str, list[dict]] = {}
    for d in client.automation.list_definitions():
        channel = TRIGGER_CHANNELS.get(str(d.get("trigger")))
        if channel and d["definition"].get("name") == name and d.get("subAccountId") == client.settings.subaccount_id:
            found.setdefault(channel, []).append(d)
    return {channel: oldest_first(same) for channel, same in found.items()}


def deploy_definitions(client: Client, definitions: dict[str, dict]) -> dict[str, Deployment]:
    """Deploy each channel's definition (create or update, idempotent), one deploy of the subaccount at a time."""
    with DeployLock(client):
        return {channel: deploy_definition(client, definition) for channel, definition in definitions.items()}


class DeployLock(SubaccountLock):
    """One deploy at a time per subaccount on this machine. Two at once (notebook 03 and a job) each
    find no workflow, each create one, and every customer's message then runs both: two
    confirmations per STOP. (Deploys from two machines are not kept apart by this: the health
    check names the duplicates they leave.)"""

    job, what = "deploy", "a deploy of the opt-out workflows"
    running, then = "Another deploy", ". Nothing was deployed by this one: run it again when that one has finished."


@dataclass
class DeployedWorkflow:
    channel: str
    definition_id: str
    version: int
    group_id: int
    status: str
    definition: dict  # as 8x8 answers it, the key put back to the placeholder

    def classify_event(self, data: dict, js: Expressions | None = None) -> str:
        """'opt-out', 'opt-in', 'help' or 'other': what this deployed workflow's own Branch chains
        decide for a trigger's ``data``, run by QuickJS. The audit reads runs with these, so it
        judges with the languages and words that were deployed, whatever the settings say now."""
        from .expressions import Expressions, truthy

        js = js or Expressions({})
        js.set("data", data)
        steps = self.definition.get("definition", {}).get("steps", [])
        for prefix, label in ((KEYWORD_STEPS[kind] + "_", label) for kind, label in KINDS.items()):
            for step in steps:
                if step.get("id", "").startswith(prefix):
                    if any(
                        condition and truthy(js.render(condition))
                        for condition in step.get("selectNextStep", {}).values()
                    ):
                        return label
        return "other"


def deployed_workflows(client: Client, name: str | None = None) -> dict[str, DeployedWorkflow]:
    """The opt-out workflows of this name deployed on the subaccount, one per channel, as 8x8 holds them.

    Notebooks after 03 read these instead of building their own, so they test and audit what is
    really deployed, with the settings notebook 03 chose. Raises NotFound when none is deployed.
    """
    name = name or client.settings.workflow_name
    found: dict[str, DeployedWorkflow] = {}
    for channel, same in workflows_named(client, name).items():
        for d in same:  # the oldest this runbook built (one of that name without the add step: another's)
            steps = {s.get("id"): s for s in d["definition"].get("steps", [])}
            try:
                group_id = int(steps[STEP["add"]]["inputs"]["body"]["groups"][0]["id"])
            except (KeyError, IndexError, TypeError, ValueError):
                continue
            found[channel] = DeployedWorkflow(
                channel, d["id"], d["version"], group_id, d.get("status", ""), redact(d, client.settings)
            )
            break
    if not found:
        raise WorkflowNotDeployed(
            f"no opt-out workflow named {name!r} is deployed on subaccount "
            f"{client.settings.subaccount_id}: run notebook 03 to deploy it"
        )
    return found


# Chat apps whose inbound user object is the phone number alone: Viber as 8x8 documents it
# (examples/inbound_chatapps.json, v3_viber_msisdn_only); RCS, which 8x8 does not show, read the same
# way (RCS addresses customers by phone number): the strict reading, no name or channel id to rely on.
PHONE_ONLY_CHAT_APPS = ("viber", "rcs")
# payload.recipient.channel as the ledger names it (8x8 writes the channel in lower case, "rcs" in
# its Messaging Apps API; NOTES.md also calls it GoogleRCS).
CHAT_APP_NAMES = {"whatsapp": "WhatsApp", "viber": "Viber", "rcs": "RCS", "googlercs": "RCS"}


def inbound_payload(
    msisdn: str | None,
    text: str | None,
    subaccount: str = "sandbox-subaccount",
    *,
    channel: str = "whatsapp",
    name: str = "Test customer",
    button: dict | None = None,
    umid: str = "0b5e7d4f-1c51-4a57-9d71-2f8a0c2f7b10",
    timestamp: str = "2026-01-05T09:00:00.00Z",
    channel_user_id: str = "1203458869942",
    channel_id: str = "6c1f53a2-4f0e-4bf6-a0d4-7a1f3b0e9c22",
) -> dict:
    """The webhook body 8x8 posts for an inbound message, as the trigger sees it in ``data``.

    SMS: ``payload.source`` (the customer), ``destination``, ``body``. Messaging Apps v3:
    ``payload.user``, ``recipient``, ``type`` and ``content``; a ``button`` ({"id", "title"})
    makes it an Interactive quick-reply tap; ``msisdn=None`` leaves ``user.msisdn`` out, as v3
    does for a customer known only by a channel user id.
    """
    if channel.lower() == "sms":
        return {
            "namespace": "SMS",
            "eventType": "inbound_message_received",
            "payload": {
                "umid": umid,
                "subAccountId": subaccount,
                "source": msisdn,
                "destination": "+6500000000",
                "body": text,
                "timestamp": timestamp,
            },
        }
    user: dict[str, Any] = {"channelUserId": channel_user_id, "name": name}
    if channel.lower() in PHONE_ONLY_CHAT_APPS:
        user = {}
    if msisdn is not None:
        user = {"msisdn": msisdn, **user}
    content: dict[str, Any]
    if button is not None:
        kind, content = "Interactive", {"interactive": {"type": "button_reply", "button_reply": dict(button)}}
    else:
        kind, content = "Text", {"text": text}
    return {
        "namespace": "ChatApps",
        "eventType": "inbound_message_received",
        "version": 3,
        "payload": {
            "umid": umid,
            "subAccountId": subaccount,
            "timestamp": timestamp,
            "user": user,
            "recipient": {"channel": channel.lower(), "channelId": channel_id},
            "type": kind,
            "content": content,
        },
    }


def sample_inbound_payload(
    msisdn: str = "+6591234567", text: str = "STOP", subaccount: str = "sandbox-subaccount"
) -> dict:
    """A v3 Messaging Apps inbound webhook with typed text."""
    return inbound_payload(msisdn, text, subaccount)


def msisdn_source_table(group_id: int, payload: dict | None = None) -> pd.DataFrame:
    """What the tutorial's body and ours put in addresses.msisdn for a sample inbound message."""
    import pandas as pd

    from .expressions import render

    payload = payload or sample_inbound_payload()
    rows = []
    for who, body in (
        ("8x8's tutorial", tutorial_request_body(group_id)),
        ("this runbook", opt_out_request_body(group_id)),
    ):
        value = render(body, payload)["addresses"]["msisdn"]
        template = body["addresses"]["msisdn"]
        rows.append(
            {
                "body": who,
                "template": template,
                "value for the sample message": value,
                "is the customer's number": value == payload["payload"]["user"]["msisdn"],
                "what that field is": "the customer (payload.user)"
                if "user" in template
                else "the business's channel (payload.recipient)",
            }
        )
    return pd.DataFrame(rows).set_index("body")


def steps_table(definition: dict) -> pd.DataFrame:
    """The definition's steps, one row each, for a person to read."""
    import pandas as pd

    rows = []
    for step in definition["definition"]["steps"]:
        inputs = step.get("inputs", {})
        if step["stepType"] == "Branch":
            detail = ", ".join(f"-> {target}" for target in step["selectNextStep"])
        elif step["stepType"] == "HttpRequest" and "content" in (inputs.get("body") or {}):
            detail = inputs["body"]["content"].get("text", "")  # an answer, sent on the customer's own app
        elif step["stepType"] == "HttpRequest":
            detail = f"{inputs['method']} {inputs['url']}"
        else:
            detail = inputs.get("content", {}).get("text", "")
        rows.append({"step": step["id"], "type": step["stepType"], "does": detail, "next": step.get("nextStepId", "")})
    return pd.DataFrame(rows).set_index("step")


def validate_definition(definition: dict) -> str:
    """Check the definition against the official automation_api.json, when it is at hand."""
    from . import openapi

    if not openapi.available():
        return f"Schema check skipped: {openapi.MISSING_REASON}."
    openapi.Contract.load().check_definition(definition)
    return "Valid: the definition matches definitionInput in 8x8's official automation_api.json."


def default_definition_path(channel: str = "WhatsApp", folder: str | Path | None = None) -> Path:
    """Where the Builder JSON of a channel's workflow goes: ``folder`` (default: this run's folder)."""
    folder = Path(folder) if folder else run_folder()
    return folder / f"opt_out_workflow_{_channel(channel).name.lower()}.json"


def write_builder_files(
    settings: Settings,
    group_id: int,
    policy: KeywordPolicy | None = None,
    options: WorkflowOptions = WorkflowOptions(),
    *,
    folder: str | Path | None = None,
) -> list[Path]:
    """The definitions as JSON for the Automation Builder UI, one file per channel.

    They carry 8x8's real URLs for the region (never a sandbox's loopback address, which the
    Builder could not call) and the key placeholder, never the key.
    """
    builder = settings.on_platform()
    return [
        write_definition_json(definition, default_definition_path(channel, folder))
        for channel, definition in build_opt_out_definitions(builder, group_id, policy, options).items()
    ]
