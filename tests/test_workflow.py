"""The workflow builder, its deployment, and the sandbox's Automation API and engine."""

from __future__ import annotations

import json

import pytest

from helpers.errors import BadRequest, NotFound
from helpers.groups import ensure_opt_out_group, find_opt_out_group, mark_blacklisted, opt_out_group_id
from helpers.openapi import MISSING_REASON, Contract, available
from helpers.runbook import SandboxControls
from helpers.workflow import (
    API_KEY_PLACEHOLDER,
    WorkflowOptions,
    build_opt_out_definition,
    deploy_definition,
    msisdn_source_table,
    opt_out_confirmation,
    redact,
    sample_inbound_payload,
    with_api_key,
    write_definition_json,
)


@pytest.fixture
def group_id(client):
    return ensure_opt_out_group(client, "WhatsApp opt-out").group["id"]


@pytest.fixture
def deployed(client, settings, group_id):
    return deploy_definition(client, build_opt_out_definition(settings, group_id))


def test_definition_matches_the_official_schema(settings, group_id):
    if not available():
        pytest.skip(MISSING_REASON)
    Contract.load().check_definition(build_opt_out_definition(settings, group_id))
    broken = build_opt_out_definition(settings, group_id)
    broken["trigger"] = "inbound_fax"
    with pytest.raises(AssertionError, match="trigger"):
        Contract.load().check_definition(broken)


def test_customer_number_comes_from_payload_user(settings, group_id):
    definition = build_opt_out_definition(settings, group_id)
    add = next(s for s in definition["definition"]["steps"] if s["id"] == "add_to_opt_out_group")
    assert add["inputs"]["body"] == {
        "groups": [{"id": group_id}],
        "addresses": {"msisdn": "{{data.payload.user.msisdn}}"},
    }
    table = msisdn_source_table(group_id)
    assert table.loc["this runbook", "is the customer's number"]
    assert not table.loc["8x8's tutorial", "is the customer's number"]


def test_confirmation_names_the_channels():
    assert "WhatsApp or SMS" in opt_out_confirmation(["WhatsApp", "SMS"])
    assert "WhatsApp, Viber or SMS" in opt_out_confirmation(["WhatsApp", "Viber", "SMS"])


def test_key_only_in_the_deploying_request(settings, group_id, tmp_path):
    from dataclasses import replace

    from helpers.config import Secret

    live = replace(settings, api_key=Secret("k-live-123456789"))
    definition = build_opt_out_definition(live, group_id)
    assert "k-live-123456789" not in json.dumps(definition)
    assert f"Bearer {API_KEY_PLACEHOLDER}" in json.dumps(definition)
    sent = with_api_key(definition, live)
    assert "Bearer k-live-123456789" in json.dumps(sent) and API_KEY_PLACEHOLDER not in json.dumps(sent)
    assert redact(sent, live) == definition
    path = write_definition_json(definition, tmp_path / "wf.json")
    assert "k-live-123456789" not in path.read_text()
    with pytest.raises(ValueError):
        write_definition_json(sent, tmp_path / "leak.json")


def test_deploy_twice_changes_nothing_then_updates_on_change(client, settings, group_id):
    definition = build_opt_out_definition(settings, group_id)
    first = deploy_definition(client, definition)
    second = deploy_definition(client, definition)
    assert (first.action, second.action) == ("created", "unchanged")
    assert (second.definition_id, second.version) == (first.definition_id, 1)
    whatsapp_only = WorkflowOptions(channels=("WhatsApp",))
    changed = deploy_definition(client, build_opt_out_definition(settings, group_id, options=whatsapp_only))
    assert (changed.action, changed.definition_id, changed.version) == ("updated", first.definition_id, 2)
    assert len(list(client.automation.list_definitions())) == 1


def run(client, deployed, text, msisdn="+6591234567"):
    workflow_id = client.automation.start_workflow(deployed.definition_id, sample_inbound_payload(msisdn, text))
    return client.automation.get_workflow(deployed.definition_id, workflow_id)


def test_opt_out_run_adds_the_sender_and_confirms(client, sandbox, deployed, group_id):
    result = run(client, deployed, "Stop please")
    assert result["status"] == "Complete"
    steps = [log["stepName"] for log in result["logs"]]  # the opt-out chain up to the script that matched
    assert steps[0] == "opt_out_keywords_1" and all(s.startswith("opt_out_keywords_") for s in steps[:-6])
    assert steps[-6:] == [
        "check_opt_out_number",
        "look_up_opted_out",
        "check_already_opted_out",
        "add_to_opt_out_group",
        "check_opt_out_added",
        "confirm_opt_out",
    ]
    assert result["data"]["opt_out_response_code"] == 201
    members = list(client.contacts.group_members(group_id))
    assert [m["addresses"]["msisdn"] for m in members] == ["+6591234567"]
    assert SandboxControls(sandbox.base_url).sent()[-1]["content"]["text"].startswith("You have been unsubscribed")


def test_look_alike_does_nothing(client, sandbox, deployed, group_id):
    result = run(client, deployed, "which bus stop?")
    chain = [
        s["id"]
        for s in build_opt_out_definition(client.settings, group_id)["definition"]["steps"]
        if s["id"].startswith(("opt_out_keywords_", "opt_in_keywords_", "help_keywords_"))
    ]
    assert [log["stepName"] for log in result["logs"]] == chain  # every Branch of the chain, nothing else
    assert list(client.contacts.group_members(group_id)) == [] and SandboxControls(sandbox.base_url).sent() == []


@pytest.mark.parametrize("text", ["HELP", "help please", "Info", "HELP!"])
def test_help_is_answered_never_an_opt_out(client, sandbox, deployed, group_id, text):
    result = run(client, deployed, text)
    steps = [log["stepName"] for log in result["logs"]]
    assert steps[-1] == "answer_help" and "add_to_opt_out_group" not in steps
    assert result["data"]["help_reply"]  # the reply's umid, recorded for the ledger
    assert list(client.contacts.group_members(group_id)) == []
    reply = SandboxControls(sandbox.base_url).sent()[-1]["content"]["text"]
    assert "for help, contact" in reply and "Reply STOP" in reply


@pytest.mark.parametrize(
    "text,kind",
    [
        ("Baja por favor", "opt-out"),
        ("AYUDA", "help"),
        ("hilfe", "help"),
        ("STOPP", "opt-out"),
        ("退订", "opt-out"),
        ("STPO", "opt-out"),
        ("el precio es muy alto", "other"),
        ("Darme de alta", "opt-in"),
    ],
)
def test_the_chosen_languages_reach_the_deployed_workflow(client, sandbox, settings, group_id, text, kind):
    from helpers.policy import KeywordPolicy

    policy = KeywordPolicy(languages=("es", "de", "zh"))
    deployed = deploy_definition(client, build_opt_out_definition(settings, group_id, policy))
    steps = [log["stepName"] for log in run(client, deployed, text)["logs"]]
    landed = {"opt-out": "confirm_opt_out", "help": "answer_help", "opt-in": "check_opted_in_contact"}
    assert steps[-1] == landed.get(kind, "help_keywords_1" if kind == "other" else None) or (
        kind == "other" and steps[-1].startswith("help_keywords_")
    ), steps
    members = [m["addresses"]["msisdn"] for m in client.contacts.group_members(group_id)]
    assert members == (["+6591234567"] if kind == "opt-out" else [])


def test_opt_in_removes_membership_and_keeps_the_contact(client, sandbox, deployed, group_id):
    run(client, deployed, "STOP")
    # another contact whose number contains the first one's digits must not be touched
    other, _ = client.contacts.upsert_contact("+65912345678", group_ids=[group_id])
    result = run(client, deployed, "START")
    assert result["data"]["opt_in_response_code"] == 200 and result["status"] == "Complete"
    assert [m["id"] for m in client.contacts.group_members(group_id)] == [other["id"]]
    kept = list(client.contacts.search_contacts("+6591234567"))
    assert any(c["addresses"]["msisdn"] == "+6591234567" for c in kept)
    assert SandboxControls(sandbox.base_url).sent()[-1]["content"]["text"].startswith("You are subscribed again")


def test_opt_in_from_someone_not_opted_out_sends_nothing(client, sandbox, deployed):
    result = run(client, deployed, "START")
    steps = [log["stepName"] for log in result["logs"]]
    assert steps[-3:] == ["check_opt_in_number", "find_opted_in_contact", "check_opted_in_contact"]
    assert "remove_from_opt_out_group" not in steps and SandboxControls(sandbox.base_url).sent() == []


def test_inbound_message_starts_matching_enabled_definitions_only(client, sandbox, settings, group_id):
    deploy_definition(client, build_opt_out_definition(settings, group_id))
    disabled = WorkflowOptions(name="Disabled copy", enabled=False)
    deploy_definition(client, build_opt_out_definition(settings, group_id, options=disabled))
    runs = sandbox.deliver_inbound("+6591234567", "UNSUBSCRIBE")
    assert len(runs) == 1 and runs[0]["data"]["subAccountId"] == settings.subaccount_id
    assert sandbox.deliver_inbound("+6591234567", "STOP", subaccount="sandbox-subaccount-sms") == []


def test_failed_step_is_logged_and_listed_in_errors(client, settings, group_id):
    definition = build_opt_out_definition(settings, group_id)
    add = next(s for s in definition["definition"]["steps"] if s["id"] == "add_to_opt_out_group")
    add["inputs"]["url"] = "https://contacts.8x8.com/api/v1/accounts/x/contacts"
    deployment = deploy_definition(client, definition)
    result = run(client, deployment, "STOP")
    assert result["status"] == "Terminated" and result["logs"][-1]["status"] == "Failed"
    errors = client.automation.workflow_errors(deployment.definition_id, result["workflowId"])
    assert errors[0]["step"] == "add_to_opt_out_group" and "loopback" in errors[0]["message"]


def test_templates_keep_types_and_interpolate():
    from helpers.expressions import render

    data = {"payload": {"user": {"msisdn": "+65"}}, "n": 3}
    assert render({"a": "{{data.n + 1}}", "b": "to {{data.payload.user.msisdn}}!", "c": ["{{data.n > 2}}"]}, data) == {
        "a": 4,
        "b": "to +65!",
        "c": [True],
    }


def _answer_as_chat_apps_step(definition: dict) -> dict:
    """The opt-out confirmation rewritten as a ChatAppsMessage step (the built one is a send over HTTP)."""
    step = next(s for s in definition["definition"]["steps"] if s["id"] == "confirm_opt_out")
    body = step["inputs"]["body"]
    step.update(
        stepType="ChatAppsMessage",
        inputs={
            "subAccountId": definition["subAccountId"],
            "user": body["user"],
            "type": "text",
            "content": body["content"],
        },
    )
    return step


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d["definition"].pop("name"), "name is required"),
        (lambda d: d.update(trigger="inbound_fax"), "Trigger"),
        (lambda d: d["definition"]["steps"][0]["selectNextStep"].update(nowhere="{{true}}"), "unknown step"),
        (lambda d: d["definition"]["steps"].append(dict(d["definition"]["steps"][1])), "unique"),
        (lambda d: d.pop("accountId"), "accountId is required"),
        (lambda d: d["definition"]["steps"][-1]["inputs"].update(duration="soon"), "timespan"),
        (lambda d: _answer_as_chat_apps_step(d)["inputs"].pop("content"), "content required"),
    ],
)
def test_invalid_definitions_are_400_code_5001(client, recorder, settings, group_id, mutate, message):
    definition = build_opt_out_definition(settings, group_id)
    mutate(definition)
    with recorder.sending_invalid_requests(), pytest.raises(BadRequest) as info:
        client.automation.create_definition(definition)
    assert info.value.code == 5001 and message in info.value.message
    assert list(client.automation.list_definitions()) == []


def test_unknown_and_malformed_definition_ids(client, deployed):
    with pytest.raises(NotFound) as info:
        client.automation.get_workflow(deployed.definition_id, "0b5e7d4f-0000-4000-8000-000000000000")
    assert info.value.code == 1300
    with pytest.raises(BadRequest) as info:
        client.automation.start_workflow("not-a-uuid", {})
    assert info.value.code == 1000
    with pytest.raises(NotFound):
        client.automation.get_definition("0b5e7d4f-0000-4000-8000-000000000000")
    client.automation.delete_definition(deployed.definition_id)
    assert list(client.automation.list_definitions()) == []


def test_group_lookup_picks_the_exact_blacklisted_name(client):
    plain = client.contacts.create_group("WhatsApp opt-out")
    outcome = ensure_opt_out_group(client, "WhatsApp opt-out")
    assert not outcome.created and outcome.needs_blacklist and "NOT blacklisted" in outcome.message
    assert client.contacts.get_group(plain["id"])["isBlacklist"] is False  # never changed silently
    with pytest.raises(LookupError, match="not blacklisted"):
        opt_out_group_id(client, "WhatsApp opt-out")
    mark_blacklisted(client, plain["id"])
    client.contacts.create_group("WhatsApp opt-out (old)", is_blacklist=True)
    lookup = find_opt_out_group(client, "WhatsApp opt-out", search="opt-out")
    assert lookup.group["id"] == plain["id"] and len(lookup.matches) == 2
    assert lookup.table()["chosen"].sum() == 1
    assert "notebook 01" in find_opt_out_group(client, "Nothing like it").advice


def test_a_stop_from_a_member_is_answered_once(client, sandbox, deployed, group_id):
    """8x8 delivers a webhook again after a failed delivery, and customers send STOP twice: the group is
    the workflow's memory, so a member's STOP ends the run without a second add or confirmation."""
    first = run(client, deployed, "STOP")
    again = run(client, deployed, "STOP")
    assert first["data"]["opt_out_already_member"] is False and "opt_out_confirmation" in first["data"]
    assert again["status"] == "Complete" and again["data"]["opt_out_already_member"] is True
    assert again["logs"][-1]["stepName"] == "check_already_opted_out" and "opt_out_confirmation" not in again["data"]
    answers = [m for m in SandboxControls(sandbox.base_url).sent() if m["content"]["text"].startswith("You have been")]
    assert len(answers) == 1
    from helpers.ledger import ALREADY, build_ledger

    rows = build_ledger(client, hours=1, read_confirmations=True).rows
    assert list(rows["contacts_answer"]) == ["HTTP 201", ALREADY] and rows["late"].eq("").all()
