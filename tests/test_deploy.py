"""Notebook 03's job as one call (helpers.deploy): what it reports deployed is what 8x8 reads back."""

from __future__ import annotations

import copy

import pytest
from support import GROUP

from helpers.config import SANDBOX_API_KEY
from helpers.deploy import deploy_opt_out, read_back_deployments
from helpers.errors import RunInterrupted, VerificationFailed
from helpers.policy import KeywordPolicy
from helpers.workflow import WorkflowOptions, build_opt_out_definitions, deploy_definitions, with_api_key


def test_a_dry_run_builds_and_checks_and_deploys_nothing(client, group):
    result = deploy_opt_out(client, GROUP, KeywordPolicy(languages=["es"]))
    assert list(client.automation.list_definitions()) == []
    values = result.values()
    assert values["dry_run"] and values["languages"] == ["en", "es"] and values["broken_scripts"] == 0
    assert values["group_id"] == group["id"] and "deployed" not in values and values["exit_code"] == 0
    assert result.lines()[-1].startswith("Dry run: nothing was deployed")


def test_an_applied_deploy_reports_each_workflow_as_8x8_holds_it(client, group, tmp_path):
    result = deploy_opt_out(client, GROUP, KeywordPolicy(), apply=True, builder_dir=tmp_path)
    held = {d["id"]: d for d in client.automation.list_definitions()}
    assert {c: r["definition_id"] for c, r in result.values()["deployed"].items()} == {
        c: next(i for i, d in held.items() if d["trigger"] == t)
        for c, t in (("WhatsApp", "inbound_chat_apps"), ("SMS", "inbound_sms"))
    }
    assert {(r["action"], r["version"], r["status"]) for r in result.values()["deployed"].values()} == {
        ("created", 1, "enabled")
    }
    assert sorted(p.name for p in result.builder_files) == [
        "opt_out_workflow_sms.json",
        "opt_out_workflow_whatsapp.json",
    ]
    again = deploy_opt_out(client, GROUP, KeywordPolicy(), apply=True)
    assert {r.action for r in again.deployed.values()} == {"unchanged"}
    shown = repr(again) + repr(again.deployed) + "\n".join(again.lines()) + str(again.values())
    assert SANDBOX_API_KEY not in shown and SANDBOX_API_KEY not in str([r.held for r in again.deployed.values()])


def test_a_workflow_changed_between_the_deploy_and_the_read_back_is_not_reported_deployed(client, group):
    definitions = build_opt_out_definitions(client.settings, group["id"])
    deployments = deploy_definitions(client, definitions)
    edited = copy.deepcopy(with_api_key(definitions["SMS"], client.settings))
    edited["status"] = "disabled"  # someone switched it off in the Automation Builder UI meanwhile
    client.automation.update_definition(deployments["SMS"].definition_id, edited)
    with pytest.raises(
        VerificationFailed,
        match=r"SMS: read back, the sandbox holds definition .* version 2, status "
        r"'disabled', not version 1, 'enabled'",
    ):
        read_back_deployments(client, deployments, definitions)


def test_a_deploy_that_fails_part_way_says_what_was_deployed(client, group, controls):
    deploy_opt_out(client, GROUP, KeywordPolicy(), WorkflowOptions(channels=("WhatsApp",)), apply=True)
    # both channels next: WhatsApp is updated (its confirmation now names SMS too), SMS is created
    controls.inject_faults(*[503] * 10, method="POST", path_contains="/definitions")  # the SMS create fails
    with pytest.raises(
        RunInterrupted,
        match=r"stopped part-way: WhatsApp \(updated: definition .*\) deployed, "
        r"then SMS failed",
    ):
        deploy_opt_out(client, GROUP, KeywordPolicy(), apply=True)
    assert [d["trigger"] for d in client.automation.list_definitions()] == ["inbound_chat_apps"]


def test_a_deploy_whose_read_back_fails_never_says_nothing_was_changed(client, group, controls):
    first = deploy_opt_out(client, GROUP, KeywordPolicy(), apply=True)
    whatsapp = first.deployed["WhatsApp"].held["id"]
    controls.inject_faults(*[503] * 10, method="GET", path_contains=whatsapp)  # reading it back fails
    with pytest.raises(RunInterrupted, match=r"WhatsApp \(updated: .*\) deployed, then reading them back failed"):
        deploy_opt_out(client, GROUP, KeywordPolicy(), WorkflowOptions(brand="Acme"), apply=True)


def test_a_builder_folder_that_cannot_be_written_stops_the_deploy_before_anything_is_deployed(client, group, tmp_path):
    from helpers.errors import BadFile

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(BadFile, match="cannot be written"):
        deploy_opt_out(client, GROUP, KeywordPolicy(), apply=True, builder_dir=not_a_folder)
    assert list(client.automation.list_definitions()) == []


def test_a_second_deploy_at_once_is_refused_and_deploys_nothing(client, group):
    """Two deploys at once (notebook 03 and a job) would each find no workflow and each create one:
    every STOP would then run twice. The second is refused, naming the first, with nothing made,
    whether it comes from the command (deploy_opt_out) or the notebook (deploy_definitions)."""
    import os

    from helpers.errors import RunInProgress
    from helpers.workflow import DeployLock

    refused = (
        rf"Another deploy is running for subaccount sandbox-subaccount \(a deploy of the opt-out workflows, "
        rf"pid {os.getpid()}, since .*\)\. Nothing was deployed"
    )
    with DeployLock(client):
        with pytest.raises(RunInProgress, match=refused):
            deploy_opt_out(client, GROUP, KeywordPolicy(), apply=True)
        with pytest.raises(RunInProgress, match=refused):
            deploy_definitions(client, build_opt_out_definitions(client.settings, group["id"]))
        assert list(client.automation.list_definitions()) == []
        deploy_opt_out(client, GROUP, KeywordPolicy())  # a dry run deploys nothing: it needs no lock
    deploy_opt_out(client, GROUP, KeywordPolicy(), apply=True)  # released
    assert len(list(client.automation.list_definitions())) == 2
