"""`python -m helpers check`: the health check an operator schedules between runbook runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import GROUP, command, members

from helpers.groups import ensure_opt_out_group
from helpers.health import CANARY_NUMBERS, CheckOptions, checkpoint_name, run_check
from helpers.kept import without_number_path
from helpers.policy import KeywordPolicy
from helpers.workflow import build_opt_out_definitions, deploy_definitions


def run_check_command(sandbox, *args, cwd):
    return command(sandbox, "check", *args, cwd=cwd, timeout=120)


def check(sandbox, *args, cwd) -> dict:
    """`python -m helpers check --json`: its values, with the exit code it ended with as "code"."""
    done = run_check_command(sandbox, *args, "--json", cwd=cwd)
    answer = json.loads(done.stdout)
    assert answer["exit_code"] == done.returncode, done.stdout + done.stderr
    return {**answer, "code": done.returncode}


def actions(answer: dict, area: str | None = None) -> list[dict]:
    return [f for f in answer["findings"] if not f["ok"] and area in (None, f["area"])]


def test_after_a_fresh_deploy_all_is_well_and_the_group_is_unchanged(
    client, sandbox, controls, group, deployed, tmp_path
):
    controls.deliver_inbound("+6590004444", "STOP")  # a real customer, in the group before the check
    before = members(client, group["id"])
    answer = check(sandbox, cwd=tmp_path)
    assert answer["code"] == 0 and answer["summary"].startswith("check: ok:")
    assert members(client, group["id"]) == before == {"+6590004444"}
    canaries = [f for f in answer["findings"] if f["area"] == "canary"]
    assert len(canaries) == 2 and all(f["ok"] for f in canaries)
    # the canary's contact stays (8x8 keeps contact records); only the membership went
    assert (
        next(iter(client.contacts.search_contacts(CANARY_NUMBERS["WhatsApp"][1:])))["addresses"]["msisdn"]
        == CANARY_NUMBERS["WhatsApp"]
    )
    assert {f["area"] for f in answer["findings"]} == {"workflow", "canary", "opt-outs"}
    assert (tmp_path / "reports" / checkpoint_name(client.settings)).exists()


def test_the_report_for_people_is_a_line_per_finding_then_the_summary(client, sandbox, deployed, tmp_path):
    done = run_check_command(sandbox, "--no-canary", cwd=tmp_path)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines[-1].startswith("check: ok:")
    assert lines[0].startswith("SANDBOX MODE: ") and lines[-2].startswith("Runs read: ")  # where, and what was read
    assert all(line.startswith(("ok [", "ACTION [")) for line in lines[1:-2])  # then a line per finding


def test_a_workflow_disabled_through_the_api_needs_action(client, sandbox, deployed, tmp_path):
    whatsapp = client.automation.get_definition(deployed["WhatsApp"].definition_id)
    client.automation.update_definition(
        whatsapp["id"],
        {
            **{k: whatsapp[k] for k in ("subAccountId", "trigger", "definition")},
            "accountId": "sandbox-account",
            "status": "disabled",
        },
    )
    answer = check(sandbox, cwd=tmp_path)
    [finding] = actions(answer)
    assert answer["code"] == 1 and finding["area"] == "workflow" and finding["what"].startswith("WhatsApp")
    assert "disabled" in finding["what"] and "python -m helpers deploy --apply" in finding["fix"]
    assert answer["summary"].startswith("check: 1 need action: workflow: WhatsApp")


def test_a_branch_condition_edited_through_the_api_is_named(client, sandbox, deployed, tmp_path):
    sms = client.automation.get_definition(deployed["SMS"].definition_id)
    steps = sms["definition"]["steps"]
    check_step = next(s for s in steps if s["id"] == "check_opt_out_added")
    check_step["selectNextStep"]["confirm_opt_out"] = "{{data.opt_out_response_code == 201}}"  # 200 forgotten
    client.automation.update_definition(
        sms["id"],
        {**{k: sms[k] for k in ("subAccountId", "trigger", "status", "definition")}, "accountId": "sandbox-account"},
    )
    answer = check(sandbox, cwd=tmp_path)
    [finding] = actions(answer, "workflow")
    assert answer["code"] == 1 and finding["what"].startswith("SMS")
    assert "step(s) edited (in the Automation Builder UI?): check_opt_out_added" in finding["what"]


def test_a_duplicate_workflow_is_named_with_the_one_to_keep(client, sandbox, controls, deployed, tmp_path):
    """A second enabled copy (two deploys from two machines, a copy made in the UI) runs on every
    message too: each STOP is answered twice. Named, with the copy to delete; a disabled copy runs
    on nothing, and is not a finding."""
    from helpers.workflow import build_opt_out_definitions, with_api_key

    held = client.automation.get_definition(deployed["SMS"].definition_id)
    body = with_api_key(build_opt_out_definitions(client.settings, _group_id(held))["SMS"], client.settings)
    controls.advance_clock(seconds=60)  # made later: the deployed one is the oldest, the one deploy updates
    copy = client.automation.create_definition(body)
    client.automation.create_definition({**body, "status": "disabled"})
    answer = check(sandbox, "--no-canary", cwd=tmp_path)
    [finding] = actions(answer)
    assert answer["code"] == 1 and (
        f"SMS: 1 more enabled workflow(s) named 'Opt-out keyword' on this trigger "
        f"({copy['id']}) beside {deployed['SMS'].definition_id}" in finding["what"]
    )
    assert f"delete {copy['id']} in the Automation Builder (keep {deployed['SMS'].definition_id}" in finding["fix"]


def _group_id(definition: dict) -> int:
    step = next(s for s in definition["definition"]["steps"] if s["id"] == "add_to_opt_out_group")
    return int(step["inputs"]["body"]["groups"][0]["id"])


def test_another_language_set_another_group_and_a_deleted_workflow_are_named(
    client, settings, sandbox, group, tmp_path
):
    other = ensure_opt_out_group(client, "Old opt-out list").group
    definitions = build_opt_out_definitions(settings, other["id"], KeywordPolicy(languages=("es",)))
    deploy_definitions(client, {"WhatsApp": definitions["WhatsApp"]})
    report = run_check(client, CheckOptions(canary=False), reports_dir=tmp_path)
    whatsapp, sms = [f.what for f in report.findings if f.area == "workflow"]
    assert f"adds to group {other['id']}, not the opt-out group {group['id']}" in whatsapp
    assert "another language set: the deployed keyword steps understand en,es, the runbook builds en" in whatsapp
    assert "SMS: no workflow named 'Opt-out keyword' is deployed" in sms
    assert report.exit_code == 1


def test_a_stop_lost_to_three_hours_of_failures_is_found_then_repaired(
    client, sandbox, controls, group, deployed, tmp_path
):
    assert check(sandbox, cwd=tmp_path)["code"] == 0  # the checkpoint: later checks read from here
    controls.fail_share(1.0, method="POST", path_contains="/contacts")
    controls.deliver_inbound("+6590005555", "STOP")
    controls.advance_clock(hours=3)  # every try of the workflow failed
    controls.fail_share(0.0)
    found = check(sandbox, "--no-canary", cwd=tmp_path)
    assert found["code"] == 1 and [f["what"] for f in actions(found)] == [
        "1 lost opt-out: add to the group: +6590005555."
    ]
    assert "+6590005555" not in members(client, group["id"])
    repaired = check(sandbox, "--apply", cwd=tmp_path)
    assert repaired["code"] == 0 and repaired["repaired"] == {"added to the group": 1}  # each read back
    assert "+6590005555" in members(client, group["id"])
    again = check(sandbox, cwd=tmp_path)
    assert again["code"] == 0 and again["summary"].startswith("check: ok:")


def test_a_lost_opt_out_left_unrepaired_stays_in_the_next_window(client, sandbox, controls, deployed, tmp_path):
    controls.fail_share(1.0, method="POST", path_contains="/contacts")
    controls.deliver_inbound("+6590006666", "STOP")
    controls.advance_clock(hours=1)
    controls.fail_share(0.0)
    assert check(sandbox, "--no-canary", cwd=tmp_path)["code"] == 1
    controls.advance_clock(hours=30)
    later = check(sandbox, "--no-canary", cwd=tmp_path)  # the checkpoint did not move past it
    assert later["code"] == 1 and any("+6590006666" in f["what"] for f in actions(later, "opt-outs"))


def test_a_check_that_cannot_reach_8x8_never_says_ok(tmp_path):
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": "http://127.0.0.1:9"}  # nothing listens there
    env.pop("EIGHTXEIGHT_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "check", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    answer = json.loads(done.stdout)
    assert answer["exit_code"] == 2 and "COULD NOT RUN" in answer["summary"] and "ok" not in answer["summary"].split()
    assert not (tmp_path / "reports").exists()


def test_a_second_check_at_once_could_not_run_and_touches_nothing(client, sandbox, deployed, tmp_path):
    """A scheduled check starting while another runs (cron overlapping an operator) would read the
    other's canary as a failed workflow or an interrupted check: it answers "could not run" (exit
    2), with who holds the lock, and sends nothing. Another subaccount's check is not held up."""
    from types import SimpleNamespace

    from helpers.health import CheckLock

    sandbox.reset_stats()
    with CheckLock(client):
        answer = check(sandbox, cwd=tmp_path)
        other = SimpleNamespace(
            base_urls=client.base_urls,
            settings=SimpleNamespace(account_id=client.settings.account_id, subaccount_id="another-subaccount"),
        )
        with CheckLock(other):  # its own lock: taken at once
            pass
    assert answer["code"] == 2
    assert "another health check is running for subaccount sandbox-subaccount" in answer["summary"]
    assert f"pid {os.getpid()}" in answer["summary"] and "ok" not in answer["summary"].split()
    assert sandbox.request_count() == 0  # not even the platform's time: nothing checked, nothing sent
    assert not (tmp_path / "reports" / checkpoint_name(client.settings)).exists()
    assert check(sandbox, "--no-canary", cwd=tmp_path)["code"] == 0  # released: the next one runs


def test_no_workflow_at_all_needs_action(sandbox, group, tmp_path):
    answer = check(sandbox, cwd=tmp_path)
    assert answer["code"] == 1 and [f["area"] for f in actions(answer)] == ["workflow", "workflow"]


def test_deploy_the_notebooks_and_the_check_take_the_same_one_of_two_made_at_once(client, sandbox, deployed, tmp_path):
    """Two copies made in the same instant (two deploys at once): deploy updates one, the notebooks
    read one, the check keeps one; all three the same, whatever order 8x8 lists them in."""
    from helpers.deploy import deploy_opt_out
    from helpers.workflow import deployed_workflows, with_api_key

    held = client.automation.get_definition(deployed["SMS"].definition_id)
    copy = client.automation.create_definition(
        with_api_key(build_opt_out_definitions(client.settings, _group_id(held))["SMS"], client.settings)
    )
    assert copy["createdAt"] == held["createdAt"]  # the sandbox's clock stood still: a tie
    updated = deploy_opt_out(client, GROUP, KeywordPolicy(languages=["es"]), apply=True).deployed["SMS"]
    kept = updated.held["id"]
    assert deployed_workflows(client)["SMS"].definition_id == kept
    answer = check(sandbox, "--no-canary", "--languages", "en,es", cwd=tmp_path)
    assert any(f"(keep {kept}, which deploy updates)" in f["fix"] for f in actions(answer)), answer


def test_a_checkpoint_after_the_platforms_time_says_what_it_is(client, sandbox, deployed, tmp_path):
    """The local sandbox reset (or a deterministic one, whose clock is January 2026) shares the
    subaccount's checkpoint: its start lies after the platform's now. The check could not run, and
    said only "--since ... is after the platform's time", an option nobody gave."""
    path = tmp_path / "reports" / checkpoint_name(client.settings)
    path.parent.mkdir()
    path.write_text(json.dumps({"nextStart": "2031-01-01T00:00:00Z", "seenInGroup": {}}))
    answer = check(sandbox, "--no-canary", cwd=tmp_path)
    said = answer["could_not_run"]
    assert answer["code"] == 2 and "COULD NOT RUN" in answer["summary"]
    assert f"the checkpoint reports/{path.name} says" in said and "Delete it, or give --hours" in said
    assert "--since" not in said
    assert check(sandbox, "--no-canary", "--hours", "24", cwd=tmp_path)["code"] == 0  # as it says


def test_an_opt_out_without_a_number_is_an_action_once_then_kept_and_the_window_moves_on(
    client, sandbox, controls, deployed, tmp_path
):
    """A WhatsApp STOP that came with a BSUID and no number: each scheduled check said ACTION for it
    again, forever, and its checkpoint never moved past it (the window grew without end). Now the
    first check keeps it (the audience check reads the list) and says so once; later ones are ok."""
    controls.deliver_inbound(None, "STOP", channel_user_id="SG.1203458869942")
    first = check(sandbox, "--no-canary", cwd=tmp_path)
    kept = without_number_path(tmp_path / "reports", client.settings)
    [finding] = actions(first)
    assert (
        first["code"] == 1 and "1 opt-out(s) without a phone number (channel user SG.1203458869942)" in finding["what"]
    )
    assert json.loads(kept.read_text())["SG.1203458869942"]["channel"] == "WhatsApp"
    assert (kept.stat().st_mode & 0o777) == 0o600
    checkpoint = json.loads((tmp_path / "reports" / checkpoint_name(client.settings)).read_text())
    controls.advance_clock(hours=1)
    second = check(sandbox, "--no-canary", cwd=tmp_path)
    assert second["code"] == 0 and any(
        f["ok"] and "1 opt-out(s) without a phone number kept in the reports folder" in f["what"]
        for f in second["findings"]
    )
    later = json.loads((tmp_path / "reports" / checkpoint_name(client.settings)).read_text())
    assert later["nextStart"] > checkpoint["nextStart"]  # moved on: no longer held at the STOP
    controls.deliver_inbound(None, "START", channel_user_id="SG.1203458869942")  # back in, by the same id
    assert check(sandbox, "--no-canary", "--hours", "24", cwd=tmp_path)["code"] == 0
    assert json.loads(kept.read_text()) == {}
