"""Coming from 8x8's tutorial: `python -m helpers adopt` on an account that followed it (a hand-made
blacklisted group "Opt Out", the tutorial's WhatsApp and SMS workflows as published), made through the
sandbox's seed control, with customers' messages played through the inbound path."""

from __future__ import annotations

import json
import os

import pytest
from support import command, members, tutorial_definitions

# (number, channel, text, asked to stop by the runbook's policy)
CUSTOMERS = [
    ("+6590100001", "whatsapp", "STOP", True),
    ("+6590100002", "whatsapp", "stop", True),
    ("+6590100003", "whatsapp", "Unsubscribe", True),
    ("+6590100004", "whatsapp", "Stop please", True),
    ("+6590100005", "sms", "STOP", True),
    ("+6590100006", "sms", "quit", True),
    ("+6590100007", "whatsapp", "which bus STOP?", False),
    ("+6590100008", "whatsapp", "don't stop", False),
    ("+6590100009", "sms", "STOPPED by the store", False),
    ("+6590100010", "whatsapp", "hello", False),
    ("+6590100011", "whatsapp", "STOP", True),
    ("+6590100012", "sms", "END", True),
]
ASKED = {n for n, _, _, stop in CUSTOMERS if stop} - {"+6590100001"}  # whose latest word is an opt-out (0001 came back)


@pytest.fixture
def tutorial_account(client, controls):
    """The account as the tutorial leaves it, and its customers' messages through the inbound path."""
    made = controls.seed(groups=[{"name": "Opt Out", "isBlacklist": True, "description": "made by hand"}])
    group_id = made["groups"][0]["id"]
    controls.seed(definitions=tutorial_definitions(client.settings, group_id))
    for number, channel, text, _ in CUSTOMERS:
        controls.deliver_inbound(number, text, channel=channel)
        controls.advance_clock(seconds=60)
    controls.deliver_inbound("+6590100001", "START", channel="whatsapp")  # back in: the latest word counts
    controls.advance_clock(seconds=60)
    return group_id


def test_adopt_finds_the_tutorials_flows_and_every_lost_opt_out(client, sandbox, tutorial_account, tmp_path):
    done = command(sandbox, "adopt", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    found = json.loads(done.stdout)
    flows = {f["channel"]: f for f in found["flows"]}
    assert {f["kind"] for f in flows.values()} == {"opt-out"}
    assert any("recipient.channelId" in d for d in flows["WhatsApp"]["defects"])
    assert any("SMS webhook has no recipient" in d for d in flows["SMS"]["defects"])
    assert all(any("case-sensitive" in d for d in f["defects"]) for f in flows.values())
    assert all(any("whatever the Contacts call answered" in d for d in f["defects"]) for f in flows.values())
    lost = set(flows["WhatsApp"]["lost"]) | set(flows["SMS"]["lost"])
    assert lost == ASKED  # every STOP the tutorial's flows handled was lost, and no look-alike is among them
    assert found["group"]["name"] == "Opt Out" and "adopts 'Opt Out'" in found["group_note"]
    assert found["blacklisted_groups"] == [{"id": tutorial_account, "name": "Opt Out", "members": 0}]
    assert members(client, tutorial_account) == set()  # a dry run changed nothing


def adopt_apply(sandbox, tmp_path) -> dict:
    done = command(sandbox, "adopt", "--apply", "--json", "--reports-dir", tmp_path / "reports", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return json.loads(done.stdout)


def tutorial_sms_flow(client) -> dict:
    return next(
        d
        for d in client.automation.list_definitions()
        if d["trigger"] == "inbound_sms" and d["definition"]["name"] == "Opt-Out"
    )


def set_status(client, held: dict, status: str) -> None:
    body = {k: held[k] for k in ("subAccountId", "trigger", "definition")}
    client.automation.update_definition(held["id"], {**body, "accountId": "sandbox-account", "status": status})


def test_adopt_apply_recovers_deploys_then_disables(client, sandbox, controls, tutorial_account, tmp_path):
    sent_before = len(controls.sent())  # the tutorial's flows told each of them "You have been opted out"
    result = adopt_apply(sandbox, tmp_path)
    assert result["exit_code"] == 0
    assert members(client, tutorial_account) == ASKED  # recovered into the adopted group, read back
    assert sum(len(v) for v in result["recovered"].values()) == len(ASKED)
    assert result["saved_settings"] == {"EIGHTXEIGHT_OPT_OUT_GROUP": "Opt Out"}
    assert len(result["disabled"]) == 2 and all("read back: disabled" in d for d in result["disabled"])
    assert not [m for m in controls.sent()[sent_before:] if m["user"].get("msisdn") in ASKED]  # nothing sent to them
    statuses = {d["status"] for d in client.automation.list_definitions() if d["definition"]["name"] == "Opt-Out"}
    assert statuses == {"disabled"}
    groups = [g["name"] for g in client.contacts.search_groups() if g.get("isBlacklist")]
    assert groups == ["Opt Out"]  # one opt-out list: no second group beside the account's own
    before = len(controls.sent())
    controls.deliver_inbound("+6590100099", "STOP")  # a new STOP: one answer
    answers = [m for m in controls.sent()[before:] if m["user"].get("msisdn") == "+6590100099"]
    assert len(answers) == 1 and "+6590100099" in members(client, tutorial_account)
    assert command(sandbox, "check", "--no-canary", cwd=tmp_path).returncode == 0


def test_after_adopt_check_names_a_tutorial_flow_enabled_again_and_a_second_run_changes_nothing(
    client, sandbox, tutorial_account, tmp_path
):
    adopt_apply(sandbox, tmp_path)
    tutorial = tutorial_sms_flow(client)
    set_status(client, tutorial, "enabled")
    enabled_again = command(sandbox, "check", "--no-canary", "--json", cwd=tmp_path)
    assert enabled_again.returncode == 1
    finding = next(f for f in json.loads(enabled_again.stdout)["findings"] if not f["ok"])
    assert "another opt-out flow runs on SMS" in finding["what"] and "adopt --apply" in finding["fix"]
    set_status(client, tutorial, "disabled")
    again = adopt_apply(sandbox, tmp_path)
    assert again["recovered"] == {} and again["disabled"] == [] and again["saved_settings"] == {}
    assert again["exit_code"] == 0


def test_the_audience_check_leaves_out_the_members_of_every_blacklisted_group(client, sandbox, controls, tmp_path):
    """8x8 blocks the members of every blacklisted group: a member of the hand-made 'Opt Out' beside the
    runbook's list was on the send list."""
    controls.seed(
        groups=[
            {"name": "WhatsApp opt-out", "isBlacklist": True, "members": ["+6590200001"]},
            {"name": "Opt Out", "isBlacklist": True, "members": ["+6590200002"]},
            {"name": "VIP customers", "isBlacklist": False, "members": ["+6590200003"]},
        ]
    )
    (tmp_path / "audience.csv").write_text("phone\n+6590200001\n+6590200002\n+6590200003\n")
    done = command(
        sandbox, "audience", "audience.csv", "--out", "send.csv", "--report", "left.csv", "--no-ledger", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "send.csv").read_text().splitlines() == ["phone", "+6590200003"]
    report = (tmp_path / "left.csv").read_text()
    assert "in another blacklisted group of the account (8x8 blocks its members too): 'Opt Out'" in report


def test_check_repairs_what_another_opt_out_flow_lost(client, sandbox, tutorial_account, tmp_path):
    """Before (or without) adopt, the tutorial's flows run beside the runbook's: check reads their runs
    too, so a STOP they lost is said and, with --apply, put in the group, read back."""
    from helpers.groups import ensure_opt_out_group
    from helpers.workflow import build_opt_out_definitions, deploy_definitions

    group = ensure_opt_out_group(client, "WhatsApp opt-out").group
    deploy_definitions(client, build_opt_out_definitions(client.settings, group["id"]))
    said = command(sandbox, "check", "--no-canary", "--hours", "24", "--json", cwd=tmp_path)
    assert said.returncode == 1
    whats = [f["what"] for f in json.loads(said.stdout)["findings"] if not f["ok"]]
    assert sum("another opt-out flow runs on" in w for w in whats) == 2
    assert any(f"{len(ASKED)} STOP(s) lost by other opt-out flows" in w for w in whats), whats
    repaired = command(sandbox, "check", "--no-canary", "--hours", "24", "--apply", "--json", cwd=tmp_path)
    assert members(client, group["id"]) >= ASKED
    assert any(
        f"recovered {len(ASKED)} STOP(s) lost by other opt-out flows" in f["what"]
        for f in json.loads(repaired.stdout)["findings"]
    )


def test_notebook_01s_step_adopts_the_accounts_blacklisted_group_and_never_makes_a_second(client, controls):
    from pathlib import Path

    from helpers.errors import BadInput
    from helpers.groups import ensure_opt_out_group

    controls.seed(groups=[{"name": "Opt Out", "isBlacklist": True}])
    outcome = ensure_opt_out_group(client)
    assert outcome.group["name"] == "Opt Out" and not outcome.created and "Adopted 'Opt Out'" in outcome.message
    assert "EIGHTXEIGHT_OPT_OUT_GROUP=Opt Out" in Path(os.environ["EIGHTXEIGHT_ENV_FILE"]).read_text().replace('"', "")
    assert [g["name"] for g in client.contacts.search_groups() if g.get("isBlacklist")] == ["Opt Out"]
    controls.seed(groups=[{"name": "Unsubscribed", "isBlacklist": True}])
    client.settings = client.settings.for_group(None)  # the operator has not chosen yet
    with pytest.raises(BadInput, match="2 blacklisted groups .* Nothing was made"):
        ensure_opt_out_group(client)
    assert len([g for g in client.contacts.search_groups() if g.get("isBlacklist")]) == 2


def test_reconcile_reads_the_other_flows_runs_too(client, sandbox, tutorial_account, tmp_path):
    from helpers.groups import ensure_opt_out_group
    from helpers.workflow import build_opt_out_definitions, deploy_definitions

    group = ensure_opt_out_group(client, "WhatsApp opt-out").group  # an explicit group: nothing adopted
    deploy_definitions(client, build_opt_out_definitions(client.settings, group["id"]))
    dry = command(sandbox, "reconcile", "--hours", "24", "--json", cwd=tmp_path)
    assert dry.returncode == 1 and set(json.loads(dry.stdout)["lost_by_other_flows"]) == ASKED
    applied = json.loads(command(sandbox, "reconcile", "--hours", "24", "--apply", "--json", cwd=tmp_path).stdout)
    assert applied["exit_code"] == 0 and set(applied["recovered_from_other_flows"]) == ASKED
    assert set(applied["recovered_from_other_flows"].values()) == {"Opt-Out"}
    assert members(client, group["id"]) >= ASKED
