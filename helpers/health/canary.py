"""2. Canary: a test STOP and START through each deployed workflow, read back from the group."""

from __future__ import annotations

import time

from ..client import Client
from ..ledger import CANARY_NUMBERS, iso
from ..testnumbers import check_may_send
from ..workflow import DeployedWorkflow, inbound_payload
from .report import FIX_DEPLOY, Finding

# --- 2. canary --------------------------------------------------------------------------------


def run_canary(client: Client, workflow: DeployedWorkflow, *, timeout: float = 30.0) -> Finding:
    """STOP then START from the channel's reserved number through the test-run endpoint, each
    checked by reading the group back; the number leaves the group whatever happens."""
    from ..suppression import is_opted_out

    number, group_id, channel = CANARY_NUMBERS[workflow.channel], workflow.group_id, workflow.channel
    was_member = is_opted_out(client, group_id, number)
    problems = []
    try:
        stop = _test_run(client, workflow, number, "STOP", timeout)
        if not is_opted_out(client, group_id, number):
            problems.append(
                f"a test STOP did not put {number} in group {group_id} (run {stop['workflowId']}: "
                f"{stop['status']}, Contacts answer {stop['data'].get('opt_out_response_code')})"
            )
        start = _test_run(client, workflow, number, "START", timeout)
        if is_opted_out(client, group_id, number):
            problems.append(
                f"a test START did not take {number} out of the group (run {start['workflowId']}: {start['status']})"
            )
    finally:
        _take_out(client, group_id, number)
    if was_member:
        problems.append(
            f"{number} (a reserved test number) was in the group before the check, left by an "
            "interrupted check; it was taken out"
        )
    if problems:
        return Finding(
            "canary",
            False,
            f"{channel}: " + "; ".join(problems) + ".",
            "look at the run's step log (notebook 04), then " + FIX_DEPLOY,
        )
    return Finding(
        "canary",
        True,
        f"{channel}: a test STOP from {number} put it in group {group_id} and a test "
        "START took it out, both read back; the group is as it was.",
    )


def _test_run(client: Client, workflow: DeployedWorkflow, number: str, text: str, timeout: float) -> dict:
    check_may_send(client.settings, number, "The canary")  # fiction (555-01XX): never refused; said if changed
    payload = inbound_payload(
        number,
        text,
        client.settings.subaccount_id,
        channel=workflow.channel.lower(),
        name="Health check canary",
        timestamp=iso(client.platform_time()),
    )
    run_id = client.automation.start_workflow(workflow.definition_id, payload)
    deadline = time.monotonic() + timeout
    while True:  # a run that waits to retry stays Runnable: it did not succeed at the first try
        run = client.automation.get_workflow(workflow.definition_id, run_id)
        if run["status"] != "Runnable" or time.monotonic() > deadline or _sleeping(run):
            return run
        time.sleep(0.5)


def _sleeping(run: dict) -> bool:
    return any(log.get("status") == "Sleeping" for log in run.get("logs", []))


def _take_out(client: Client, group_id: int, number: str) -> None:
    """Remove the canary's membership (never its contact) if it is there."""
    from ..suppression import member_ids

    ids = member_ids(client, group_id, number)
    if ids:
        client.contacts.remove_from_group(group_id, ids)
