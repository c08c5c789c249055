"""The opt-out workflow: its request bodies, the whole Automation definition, and deployment.

The customer's number is ``data.payload.user.msisdn``. The seed tutorial takes it from
``data.payload.recipient.channelId``, which names the business's channel, not the customer
(../shared/8x8-api/NOTES.md): every opt-out would then add the channel's id, not the sender.

Definitions are built with a placeholder where the API key goes, so whatever is shown or
written to a file carries no secret; the key is put in only in the request that deploys.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .client import Client
from .config import Settings
from .policy import KeywordPolicy

API_KEY_PLACEHOLDER = "<YOUR_8X8_API_KEY>"
CUSTOMER_MSISDN = "{{data.payload.user.msisdn}}"
TUTORIAL_MSISDN = "{{data.payload.recipient.channelId}}"
DEFAULT_NAME = "Opt-out keyword"
DEFAULT_CHANNELS = ("WhatsApp", "SMS")


def opt_out_request_body(group_id: int) -> dict:
    """The HttpRequest body that adds the sender to the opt-out group (create or merge contact)."""
    return {"groups": [{"id": int(group_id)}], "addresses": {"msisdn": CUSTOMER_MSISDN}}


def tutorial_request_body(group_id: int) -> dict:
    """The seed tutorial's body, kept to show its mistake: the channel's id is not the customer."""
    return {"groups": [{"id": int(group_id)}], "addresses": {"msisdn": TUTORIAL_MSISDN}}


def opt_out_confirmation(channels: Iterable[str] = DEFAULT_CHANNELS) -> str:
    names = list(channels)
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return (f"You have been unsubscribed and will no longer receive messages from us on {joined}. "
            "Reply START to subscribe again.")


def opt_in_confirmation(channels: Iterable[str] = DEFAULT_CHANNELS) -> str:
    names = list(channels)
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"You are subscribed again and will receive our messages on {joined}. Reply STOP to unsubscribe."


def _headers() -> dict:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY_PLACEHOLDER}"}


def build_opt_out_definition(settings: Settings, group_id: int, policy: KeywordPolicy | None = None, *,
                             name: str = DEFAULT_NAME, channels: Iterable[str] = DEFAULT_CHANNELS,
                             enabled: bool = True) -> dict:
    """The whole Automation API definition (definitionInput), with the API key as a placeholder.

    Trigger: inbound Messaging Apps messages on the subaccount. A Branch on the keyword
    policy; opt-out words add the sender to the group and confirm; opt-in words find the
    sender among the group's members, remove the membership (the contact stays) and confirm.
    """
    policy = policy or KeywordPolicy()
    channels = tuple(channels)
    contacts = f"{settings.base_urls()['contacts']}/api/v1/accounts/{settings.account_id}"
    success = "{{data.%s == 200 || data.%s == 201}}"
    same_number = ("{{(function (items, msisdn) { var want = String(msisdn).replace(/^\\+/, ''); "
                   "for (var i = 0; i < items.length; i++) { var a = items[i].addresses || {}; "
                   "if (String(a.msisdn || '').replace(/^\\+/, '') === want) { return items[i].id; } } "
                   "return null; })((step.responseBody && step.responseBody.items) || [], data.payload.user.msisdn)}}")

    def message(step_id: str, text: str) -> dict:
        return {"id": step_id, "stepType": "ChatAppsMessage",
                "inputs": {"subAccountId": settings.subaccount_id, "user": {"msisdn": CUSTOMER_MSISDN},
                           "type": "text", "content": {"text": text}}}

    steps = [
        {"id": "keyword_branch", "stepType": "Branch",
         "selectNextStep": {"add_to_opt_out_group": policy.js_condition("opt_out"),
                            "find_opted_in_contact": policy.js_condition("opt_in")}},
        {"id": "add_to_opt_out_group", "stepType": "HttpRequest",
         "inputs": {"url": f"{contacts}/contacts", "method": "POST", "headers": _headers(),
                    "body": opt_out_request_body(group_id), "timeoutSeconds": 10},
         "outputs": {"opt_out_response_code": "{{step.responseCode}}"},
         "nextStepId": "check_opt_out_added"},
        {"id": "check_opt_out_added", "stepType": "Branch",
         "selectNextStep": {"confirm_opt_out": success % ("opt_out_response_code", "opt_out_response_code")}},
        message("confirm_opt_out", opt_out_confirmation(channels)),
        {"id": "find_opted_in_contact", "stepType": "HttpRequest",
         "inputs": {"url": f"{contacts}/contacts", "method": "GET", "headers": _headers(),
                    "parameters": {"query": CUSTOMER_MSISDN, "groupId": str(int(group_id)), "limit": "500"},
                    "timeoutSeconds": 10},
         "outputs": {"opt_in_contact_id": same_number},
         "nextStepId": "check_opted_in_contact"},
        {"id": "check_opted_in_contact", "stepType": "Branch",
         "selectNextStep": {"remove_from_opt_out_group": "{{data.opt_in_contact_id != null}}"}},
        {"id": "remove_from_opt_out_group", "stepType": "HttpRequest",
         "inputs": {"url": f"{contacts}/groups/{int(group_id)}/contacts", "method": "DELETE", "headers": _headers(),
                    "body": {"contacts": ["{{data.opt_in_contact_id}}"]}, "timeoutSeconds": 10},
         "outputs": {"opt_in_response_code": "{{step.responseCode}}"},
         "nextStepId": "check_opt_in_removed"},
        {"id": "check_opt_in_removed", "stepType": "Branch",
         "selectNextStep": {"confirm_opt_in": success % ("opt_in_response_code", "opt_in_response_code")}},
        message("confirm_opt_in", opt_in_confirmation(channels)),
    ]
    return {"accountId": settings.account_id, "subAccountId": settings.subaccount_id,
            "trigger": "inbound_chat_apps", "status": "enabled" if enabled else "disabled",
            "definition": {"name": name, "steps": steps}}


def with_api_key(definition: dict, settings: Settings) -> dict:
    """A copy with the real key in place of the placeholder: only for the deploying request."""
    text = json.dumps(definition).replace(API_KEY_PLACEHOLDER, settings.bearer_token())
    return json.loads(text)


def redact(definition: dict, settings: Settings) -> dict:
    """A copy safe to show: the key (as 8x8 returns it) back to the placeholder."""
    token = settings.bearer_token()
    return json.loads(json.dumps(definition).replace(token, API_KEY_PLACEHOLDER)) if token else copy.deepcopy(definition)


def write_definition_json(definition: dict, path: str | Path) -> Path:
    """The definition for people who paste it into the Automation Builder UI (no key inside)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(definition, indent=2, ensure_ascii=False)
    if "Bearer " + API_KEY_PLACEHOLDER not in text:
        raise ValueError("refusing to write a definition that does not carry the key placeholder")
    path.write_text(text + "\n", encoding="utf-8")
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
    wanted = with_api_key(definition, client.settings)
    name = wanted["definition"]["name"]
    same = [d for d in client.automation.list_definitions()
            if d["definition"].get("name") == name and d.get("trigger") == wanted["trigger"]
            and d.get("subAccountId") == wanted.get("subAccountId")]
    if not same:
        created = client.automation.create_definition(wanted)
        return Deployment(created["id"], created["version"], "created")
    current = min(same, key=lambda d: d.get("createdAt", ""))
    if all(current.get(k) == wanted.get(k) for k in _COMPARED):
        return Deployment(current["id"], current["version"], "unchanged")
    updated = client.automation.update_definition(current["id"], wanted)
    return Deployment(updated["id"], updated["version"], "updated")


def sample_inbound_payload(msisdn: str = "+6591234567", text: str = "STOP", subaccount: str = "sandbox-subaccount") -> dict:
    """A v3 Messaging Apps inbound webhook, as the trigger sees it in ``data``."""
    return {"namespace": "ChatApps", "eventType": "inbound_message_received", "version": 3,
            "payload": {"umid": "0b5e7d4f-1c51-4a57-9d71-2f8a0c2f7b10", "subAccountId": subaccount,
                        "timestamp": "2026-01-05T09:00:00.00Z",
                        "user": {"msisdn": msisdn, "channelUserId": "1203458869942", "name": "Test customer"},
                        "recipient": {"channel": "whatsapp", "channelId": "6c1f53a2-4f0e-4bf6-a0d4-7a1f3b0e9c22"},
                        "type": "Text", "content": {"text": text}}}


def msisdn_source_table(group_id: int, payload: dict | None = None):
    """What the tutorial's body and ours put in addresses.msisdn for a sample inbound message."""
    import pandas as pd

    from .expressions import render

    payload = payload or sample_inbound_payload()
    rows = []
    for who, body in (("seed tutorial", tutorial_request_body(group_id)), ("this runbook", opt_out_request_body(group_id))):
        value = render(body, payload)["addresses"]["msisdn"]
        template = body["addresses"]["msisdn"]
        rows.append({"body": who, "template": template, "value for the sample message": value,
                     "is the customer's number": value == payload["payload"]["user"]["msisdn"],
                     "what that field is": "the customer (payload.user)" if "user" in template
                     else "the business's channel (payload.recipient)"})
    return pd.DataFrame(rows).set_index("body")


def steps_table(definition: dict):
    """The definition's steps, one row each, for a person to read."""
    import pandas as pd

    rows = []
    for step in definition["definition"]["steps"]:
        inputs = step.get("inputs", {})
        if step["stepType"] == "Branch":
            detail = ", ".join(f"-> {target}" for target in step["selectNextStep"])
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


def default_definition_path() -> Path:
    return Path(__file__).resolve().parents[1] / "runs" / "opt_out_workflow.json"
