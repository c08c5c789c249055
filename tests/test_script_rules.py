"""8x8's script rules: the sandbox refuses what 8x8 refuses, and the runbook deploys only what keeps them."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from connect_rules.scripts import MAX_SCRIPT_LENGTH, check_script
from helpers.errors import BadRequest
from helpers.expressions import Expressions
from helpers.groups import ensure_opt_out_group
from helpers.languages import PACKS
from helpers.policy import KeywordPolicy, TutorialRule, message_texts
from helpers.runbook import SandboxControls
from helpers.workflow import (
    MAX_BRANCH_CHOICES,
    NO_NUMBER_STEPS,
    WorkflowOptions,
    build_opt_out_definitions,
    deploy_definition,
    deploy_definitions,
    deployed_workflows,
    inbound_payload,
    script_table,
)


@pytest.fixture
def group_id(client):
    return ensure_opt_out_group(client, "WhatsApp opt-out").group["id"]


def minimal_definition(settings, condition: str) -> dict:
    return {
        "accountId": settings.account_id,
        "subAccountId": settings.subaccount_id,
        "trigger": "inbound_chat_apps",
        "status": "enabled",
        "definition": {
            "name": "rules",
            "steps": [
                {"id": "decide", "stepType": "Branch", "selectNextStep": {"wait": condition}},
                {"id": "wait", "stepType": "Wait", "inputs": {"duration": "00:00:01"}},
            ],
        },
    }


# --- the checker, without a socket ---------------------------------------------------------
@pytest.mark.parametrize(
    "script,rule",
    [
        ("x" * (MAX_SCRIPT_LENGTH + 1), "length"),
        ("var x = 1", "declaration"),
        ("let x = 1", "declaration"),
        ("const x = 1", "declaration"),
        ("(function () { var i; return 1; })()", "declaration"),
        ("data.x = 1", "assignment"),
        ("data.n += 1", "assignment"),
        ("data.n++", "assignment"),
        ("--data.n", "assignment"),
        ("new RegExp('stop')", "allocation"),
        ("new Date()", "allocation"),
        ("(function f(n) { return n ? f(n - 1) : 0; })(3)", "recursion"),
        ("(function () { return arguments.callee; })()", "recursion"),
        ("(class {})", "declaration"),
        ("eval('1')", "dynamic code"),
        ("Function('return 1')()", "dynamic code"),
        ("a; b", "syntax"),
        ("data.payload.", "syntax"),
    ],
)
def test_each_forbidden_construct_is_found(script, rule):
    assert rule in {v.rule for v in check_script(script)}, check_script(script)


@pytest.mark.parametrize(
    "script",
    [
        "data.payload.content.text",
        "/^stop$/i.test(String(data.text ?? ''))",
        "(t => t.trim())(' x ')",
        "[1, 2].some(n => n > 1)",
        "data.a?.b ?? null",
        "x" * MAX_SCRIPT_LENGTH,
        "stringContains(data.t, 'STOP')",
        "data.n == 200 || data.n == 201",
        "'é'.normalize('NFD')",
    ],
)
def test_allowed_expressions_pass(script):
    assert check_script(script) == []


def test_length_counts_utf16_units_like_javascript():
    assert check_script("'" + "🛑" * 499 + "'") == []  # 2 + 998 units
    assert [v.rule for v in check_script("'" + "🛑" * 500 + "'")] == ["length"]


# --- the sandbox refuses what 8x8 refuses ---------------------------------------------------
@pytest.mark.parametrize(
    "condition,rule",
    [
        ("{{" + "1 || " * 199 + "true  }}", "1001 characters"),
        ("{{(function () { var stop = true; return stop; })()}}", "declaration: var"),
        ("{{data.opted = true}}", "assignment"),
        ("{{new RegExp('stop').test(data.payload.content.text)}}", "allocation"),
    ],
)
def test_sandbox_refuses_scripts_that_break_the_rules(client, recorder, settings, condition, rule):
    if "1 || " in condition:
        assert len(condition) - 4 == 1001
    with recorder.sending_invalid_requests(), pytest.raises(BadRequest) as info:
        client.automation.create_definition(minimal_definition(settings, condition))
    assert info.value.status == 400 and info.value.code == 5001
    assert "Step 'decide'" in info.value.message and "selectNextStep.wait" in info.value.message
    assert rule in info.value.message
    assert list(client.automation.list_definitions()) == []


def test_sandbox_refuses_an_update_that_breaks_the_rules(client, recorder, settings):
    created = client.automation.create_definition(minimal_definition(settings, "{{true}}"))
    with recorder.sending_invalid_requests(), pytest.raises(BadRequest, match="assignment"):
        client.automation.update_definition(created["id"], minimal_definition(settings, "{{data.x = 1}}"))
    assert client.automation.get_definition(created["id"])["version"] == 1


def test_a_script_running_over_500_ms_fails_its_step(client, settings):
    endless = "{{(() => { while (true) {} })()}}"  # no declaration, assignment or new: only the clock stops it
    created = client.automation.create_definition(minimal_definition(settings, endless))
    workflow_id = client.automation.start_workflow(created["id"], inbound_payload("+6591234567", "hi"))
    run = client.automation.get_workflow(created["id"], workflow_id)
    assert run["status"] == "Terminated" and run["logs"][-1] == {
        **run["logs"][-1],
        "stepName": "decide",
        "status": "Failed",
    }
    errors = client.automation.workflow_errors(created["id"], workflow_id)
    assert errors[0]["step"] == "decide" and "500 ms" in errors[0]["message"]
    assert set(errors[0]) == {"workflowId", "step", "message", "errorTime"}


def test_8x8_functions_are_listed_and_run(client, settings):
    listed = client.json("automation", "GET", f"/api/v1/accounts/{settings.account_id}/steps/functions")
    assert {f["name"] for f in listed} == {"stringContains", "isCountryCode", "isTimeOfDayBetween", "isDayOfWeek"}
    zones = client.json(
        "automation", "GET", f"/api/v1/accounts/{settings.account_id}/steps/timezones", params={"contains": "singapore"}
    )
    assert zones == [{"id": "Singapore Standard Time", "name": "Kuala Lumpur, Singapore (UTC+08:00)"}]
    js = Expressions({"payload": {"content": {"text": "Please STOP"}, "user": {"msisdn": "+6591234567"}}})
    assert js.render(TutorialRule().js_condition()) is True  # the tutorial's template rule, as written
    assert js.evaluate("stringContains(data.payload.content.text, 'stop')") is False
    assert js.evaluate("stringContains(data.payload.content.text, 'stop', true)") is True
    assert js.evaluate("isCountryCode(data.payload.user.msisdn, 'SG')") is True
    assert js.evaluate("isCountryCode('+14165550123', 'CA') && !isCountryCode('+14165550123', 'US')") is True
    assert js.evaluate("isDayOfWeek('2021-05-25', 'tuesday')") is True
    # 12:30 UTC is 08:30 in New York in July (EDT) and 07:30 in January (EST)
    assert js.evaluate("isTimeOfDayBetween('2021-07-01T12:30:00Z', '08:00', '09:00', 'Eastern Standard Time')")
    assert not js.evaluate("isTimeOfDayBetween('2021-01-01T12:30:00Z', '08:00', '09:00', 'Eastern Standard Time')")
    assert js.evaluate("isTimeOfDayBetween('2021-01-01T23:30:00Z', '22:00', '06:00', 'UTC')")  # over midnight


# --- what the runbook deploys keeps the rules ------------------------------------------------
def test_every_deployed_script_keeps_the_rules_and_every_branch_has_at_most_5_choices(settings, group_id):
    definitions = build_opt_out_definitions(settings, group_id)
    assert set(definitions) == {"WhatsApp", "SMS"}
    assert {d["trigger"] for d in definitions.values()} == {"inbound_chat_apps", "inbound_sms"}
    table = script_table(definitions)
    assert (table["rules"] == "ok").all() and (table["length"] <= MAX_SCRIPT_LENGTH).all()
    for definition in definitions.values():
        for step in definition["definition"]["steps"]:
            if step["stepType"] == "Branch":
                assert len(step["selectNextStep"]) <= MAX_BRANCH_CHOICES
        text = json.dumps(definition)
        assert "var " not in text and "new RegExp" not in text and "++" not in text


@pytest.mark.parametrize("channel", ["WhatsApp", "SMS"])
def test_opt_out_and_opt_in_on_each_channel(client, sandbox, settings, group_id, channel):
    deployed = deploy_definitions(client, build_opt_out_definitions(settings, group_id))
    runs = sandbox.deliver_inbound("+6591230001", "Stop please", channel=channel)
    assert [r["definitionId"] for r in runs] == [deployed[channel].definition_id]
    assert runs[0]["status"] == "Complete"
    assert [m["addresses"]["msisdn"] for m in client.contacts.group_members(group_id)] == ["+6591230001"]
    sent = SandboxControls(sandbox.base_url).sent()[-1]
    assert sent["channel"] == channel and sent["user"]["msisdn"] == "+6591230001"
    again = sandbox.deliver_inbound("+6591230001", "START", channel=channel)
    assert again[0]["status"] == "Complete" and again[0]["data"]["opt_in_response_code"] == 200
    assert list(client.contacts.group_members(group_id)) == []
    assert client.contacts.search_contacts("+6591230001")  # the contact is kept


@pytest.mark.parametrize(
    "button", [{"id": "stop-promos", "title": "Stop promotions"}, {"id": "STOP", "title": "No thanks"}]
)
def test_a_button_tap_opts_out(client, sandbox, settings, group_id, button):
    deploy_definitions(client, build_opt_out_definitions(settings, group_id))
    runs = sandbox.deliver_inbound("+6591230002", None, button=button)
    assert "add_to_opt_out_group" in [log["stepName"] for log in runs[0]["logs"]]
    assert [m["addresses"]["msisdn"] for m in client.contacts.group_members(group_id)] == ["+6591230002"]


def test_a_customer_without_a_number_creates_no_contact_and_is_visible(client, sandbox, settings, group_id):
    deploy_definitions(client, build_opt_out_definitions(settings, group_id))
    runs = sandbox.deliver_inbound(None, "STOP")
    steps = [log["stepName"] for log in runs[0]["logs"]]
    assert steps[-1] == NO_NUMBER_STEPS["opt-out"] and "add_to_opt_out_group" not in steps
    assert list(client.contacts.search_contacts()) == [] and SandboxControls(sandbox.base_url).sent() == []


def test_later_notebooks_read_the_deployed_workflows(client, settings, group_id):
    custom = KeywordPolicy(extra_opt_out_words=("ARRET",))
    deploy_definitions(client, build_opt_out_definitions(settings, group_id, custom, WorkflowOptions(name="Custom")))
    found = deployed_workflows(client, "Custom")
    assert set(found) == {"WhatsApp", "SMS"} and {w.group_id for w in found.values()} == {group_id}
    assert "arret" in json.dumps(found["SMS"].definition)
    from helpers.errors import WorkflowNotDeployed

    with pytest.raises(WorkflowNotDeployed, match="notebook 03"):
        deployed_workflows(client, "Nothing of that name")


# --- large word lists: still within the rules, still the same answer as Python ---------------
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzàéü", min_size=3, max_size=14)


def test_200_extra_words_deploy_and_agree(client, settings, group_id):
    extra = tuple(f"optword{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(200))
    policy = KeywordPolicy(extra_opt_out_words=extra)
    definitions = build_opt_out_definitions(settings, group_id, policy)
    for definition in definitions.values():
        deploy_definition(client, definition)  # the sandbox checks every script
        chain = [s for s in definition["definition"]["steps"] if s["id"].startswith("opt_out_keywords_")]
        assert len(chain) > 4
    js = Expressions({})
    for text, expected in [("optwordhr", True), ("optwordhr please", True), ("optwordzz", False), ("STOP", True)]:
        js.set("data", {"payload": {"content": {"text": text}}})
        assert any(js.render(c) for c in policy.js_conditions("opt_out")) is expected is policy.is_opt_out(text)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(WORD, min_size=1, max_size=200, unique=True), probe=st.integers(min_value=0))
def test_generated_policies_keep_the_rules_and_agree_with_python(words, probe):
    taken = {w.lower() for w in PACKS["en"].opt_in_words + PACKS["en"].help_words}  # other kinds: refused
    words = [w for w in words if w not in taken]
    policy = KeywordPolicy(extra_opt_out_words=tuple(words))
    conditions = policy.js_conditions("opt_out")
    assert all(check_script(c[2:-2]) == [] for c in conditions)
    js = Expressions({})
    for text in {words[probe % len(words)] if words else "stop", "stop " + (words[0] if words else ""), "hello"}:
        js.set("data", {"payload": {"content": {"text": text}}})
        assert any(js.render(c) for c in conditions) is policy.is_opt_out(text), text


def test_message_texts_read_typed_text_buttons_and_payloads():
    tap = inbound_payload("+65", None, button={"id": "opt-1", "title": "Stop promotions"})
    assert message_texts(tap) == ["", "", "Stop promotions", "opt-1"]
    assert KeywordPolicy().classify_event(tap) == "opt-out"
    listed = {
        "payload": {
            "content": {"interactive": {"type": "list_reply", "list_reply": {"id": "x", "title": "Unsubscribe"}}}
        }
    }
    assert KeywordPolicy().classify_event(listed) == "opt-out"
    assert KeywordPolicy().classify_event({"payload": {"content": {"payload": "STOP"}}}) == "opt-out"
    assert KeywordPolicy().classify_event({"payload": {"body": "stop"}}, "SMS") == "opt-out"
