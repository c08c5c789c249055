"""Proof, without a phone, that the deployed opt-out workflow does what it should.

Test messages from distinct test numbers go through the deployed workflow: on the platform
through the Automation API's test-run endpoint, on the sandbox also through the inbound
message path. Each run is awaited and summed up in one row; a row that differs from the
expectation fails the check with an explanation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .client import Client
from .concurrency import SubaccountLock, subaccount_key
from .config import PROJECT_ROOT
from .errors import BadInput, EightByEightError, VerificationFailed, WorkflowNotDeployed, WorkflowTimeout
from .suppression import is_opted_out
from .testnumbers import check_may_send
from .workflow import RECORDED, STEP, DeployedWorkflow, inbound_payload

TEST_MESSAGES = (
    ("STOP", "opt-out"),
    ("stop please", "opt-out"),
    ("Unsubscribe", "opt-out"),
    ("OPT-OUT", "opt-out"),
    ("Quit", "opt-out"),
    ("END", "opt-out"),
    ("please stop texting me", "opt-out"),
    ("remove me from your list", "opt-out"),
    ("don't text me anymore", "opt-out"),
    ("which bus stop?", "other"),
    ("cancel my order", "other"),
    ("don't stop", "other"),
    ("STOPPED by the store", "other"),
    ("START", "opt-in"),
    ("UNSTOP", "opt-in"),
    ("HELP", "help"),
    ("info please", "help"),
    ("I need help with my order", "other"),
)
# WhatsApp quick-reply taps: (button title, expected, the interactive reply).
BUTTON_TAPS = (
    ("Stop promotions", "opt-out", {"id": "stop-promotions", "title": "Stop promotions"}),
    ("Shop now", "other", {"id": "shop-now", "title": "Shop now"}),
)
# Viber and RCS customers reach the same Messaging Apps workflow as WhatsApp (inbound_chat_apps,
# payload.recipient.channel names the channel): a shorter set, typed texts only.
CHAT_APP_MESSAGES = (
    ("STOP", "opt-out"),
    ("stop please", "opt-out"),
    ("which bus stop?", "other"),
    ("START", "opt-in"),
    ("HELP", "help"),
)
OTHER_CHAT_APPS = ("Viber", "RCS")
BRANCHES = {STEP["add"]: "opt-out", STEP["find"]: "opt-in", STEP["help"]: "help"}
CONFIRMATIONS = {STEP["confirm_out"]: "opt-out", STEP["confirm_in"]: "opt-in", STEP["help"]: "help"}
# Where each answer step keeps the umid of what it sent (the send answered with one: it went out).
ANSWER_UMIDS = {
    STEP["confirm_out"]: RECORDED["opt-out confirmation"],
    STEP["confirm_in"]: RECORDED["opt-in confirmation"],
    STEP["help"]: RECORDED["help reply"],
}
FINISHED = ("Complete", "Terminated")


def workflows_to_test(runbook: Any, name: str | None = None) -> dict[str, DeployedWorkflow]:
    """The deployed opt-out workflows of this name, as 8x8 (or the sandbox) holds them.

    On 8x8, nothing deployed is an error that says to run notebook 03. On a fresh sandbox
    (this notebook run on its own), the default workflows are deployed first, and it says so:
    a deployed workflow is never replaced here.
    """
    from .groups import opt_out_group_id, opt_out_list_name
    from .workflow import WorkflowOptions, build_opt_out_definitions, deploy_definitions, deployed_workflows

    name = name or runbook.settings.workflow_name
    try:
        return deployed_workflows(runbook.client, name)
    except WorkflowNotDeployed:
        if not runbook.on_sandbox:
            raise
    group_id = opt_out_group_id(runbook.client, opt_out_list_name(runbook.settings), create_if_missing=True)
    deploy_definitions(
        runbook.client,
        build_opt_out_definitions(runbook.settings, group_id, options=WorkflowOptions.of(runbook.settings, name=name)),
    )
    where = (
        "The demo's scratch sandbox starts with no workflow: deployed the defaults there (yours are as notebook 03 "
        "left them)."
        if getattr(runbook, "scratch_reports", None)
        else f"This sandbox had no workflow named {name!r}: deployed the defaults (run notebook 03 to choose)."
    )
    print(where)
    return deployed_workflows(runbook.client, name)


def numbered_msisdn(prefix: str, index: int) -> str:
    return f"{prefix}{index:03d}"


def wait_for_run(
    client: Client, definition_id: str, workflow_id: str, *, timeout: float = 60, poll: float = 0.5
) -> dict:
    """Poll a run until it is Complete or Terminated (the platform runs asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        run = client.automation.get_workflow(definition_id, workflow_id)
        if run["status"] in FINISHED:
            return run
        if time.monotonic() > deadline:
            raise WorkflowTimeout(f"workflow {workflow_id} is still {run['status']} after {timeout:g} s")
        time.sleep(poll)


def send_test_message(
    runbook: Any,
    definition_id: str,
    msisdn: str,
    text: str | None,
    via: str,
    *,
    channel: str = "WhatsApp",
    button: dict | None = None,
) -> dict:
    """One message (or button tap) through the workflow; returns the finished run."""
    client = runbook.client
    check_may_send(runbook.settings, msisdn)  # on 8x8: only fiction or the operator's own numbers
    if via == "test-run":
        payload = inbound_payload(msisdn, text, runbook.settings.subaccount_id, channel=channel, button=button)
        return wait_for_run(client, definition_id, client.automation.start_workflow(definition_id, payload))
    if via == "inbound":
        runs = [
            r
            for r in runbook.sandbox.deliver_inbound(msisdn, text, channel=channel, button=button)
            if r["definitionId"] == definition_id
        ]
        if len(runs) != 1:
            raise EightByEightError(
                f"the inbound message started {len(runs)} runs of the definition, not 1: is it enabled?"
            )
        return wait_for_run(client, definition_id, runs[0]["workflowId"])
    raise BadInput("via is 'test-run' or 'inbound'")


class TestNumbersLock(SubaccountLock):
    """The test numbers of a subaccount, one process at a time: held from the first test message
    until :func:`remove_test_numbers` takes them out of the group again (or the process ends: a
    papermill kernel at the notebook's end, JupyterLab's when it is shut down). Two runs at once
    (two runbook jobs, a person in JupyterLab and a job) send from the same numbers, so each judges
    the other's messages: one's START or clean-up takes a number out between the other's STOP and
    its read-back (a false failure), and one's STOP puts in a number whose own STOP did nothing (a
    false pass). The second run is refused before it sends anything."""

    __test__ = False  # not a pytest test class, whatever its name
    job, what = "test-numbers", "notebook 04's test messages"
    running, then = (
        "Another run of the test messages (notebook 04)",
        (
            ": both would send from the same test numbers, so neither could be judged. Nothing was sent by this "
            "one. Run it again when that one has finished (its last cell, CLEAN_UP, gives the numbers back; a "
            "notebook kept open without it holds them until its kernel stops)."
        ),
    )


_HELD_TEST_NUMBERS: dict[str, TestNumbersLock] = {}  # this process's, by subaccount: kept across cells


def _hold_test_numbers(client: Client) -> None:
    """This process takes the subaccount's test numbers (again: it keeps them), or RunInProgress."""
    key = subaccount_key(client)
    if key not in _HELD_TEST_NUMBERS:
        _HELD_TEST_NUMBERS[key] = TestNumbersLock(client).__enter__()


def _release_test_numbers(client: Client) -> None:
    lock = _HELD_TEST_NUMBERS.pop(subaccount_key(client), None)
    if lock is not None:
        lock.__exit__(None, None, None)


def run_test_messages(
    runbook: Any,
    workflow: DeployedWorkflow,
    messages: Sequence[tuple] = TEST_MESSAGES,
    *,
    via: str = "test-run",
    prefix: str = "+6591000",
    first_index: int = 1,
    channel: str | None = None,
) -> pd.DataFrame:
    """Send each test message from its own number through one deployed workflow, one row each.

    ``workflow`` is a :class:`helpers.workflow.DeployedWorkflow` (what 8x8 holds, not what this
    process would build). ``channel``: the customer's channel when it is not the workflow's own
    (Viber or RCS through the Messaging Apps workflow). An opt-in message is sent from a number
    that opts out first (STOP), as in real life. Button taps are sent on WhatsApp only.
    The subaccount's test numbers are this process's until :func:`remove_test_numbers`
    (:class:`TestNumbersLock`): while another run holds them, RunInProgress, nothing sent.
    """
    _hold_test_numbers(runbook.client)  # before the first message
    rows = []
    channel = channel or workflow.channel
    definition_id, group_id = workflow.definition_id, workflow.group_id
    if channel == "WhatsApp":
        messages = [*messages, *BUTTON_TAPS]
    for offset, message in enumerate(messages):
        text, expected, button = (*message, None)[:3]
        msisdn = numbered_msisdn(prefix, first_index + offset)
        if expected == "opt-in":
            send_test_message(runbook, definition_id, msisdn, "STOP", via, channel=channel)
        run = send_test_message(runbook, definition_id, msisdn, text, via, channel=channel, button=button)
        steps = {log["stepName"]: log["status"] for log in run.get("logs", [])}
        branch = next((name for step, name in BRANCHES.items() if step in steps), "none")
        answered = next(
            (
                (step, name)
                for step, name in CONFIRMATIONS.items()
                if steps.get(step) == "Complete" and run["data"].get(ANSWER_UMIDS[step])
            ),
            None,
        )
        status = run["data"].get("opt_out_response_code")
        in_group = is_opted_out(runbook.client, group_id, msisdn)
        rows.append(
            {
                "channel": channel,
                "path": via,
                "from": msisdn,
                "message": f"[button] {button['title']}" if button else text,
                "expected": expected,
                "branch taken": branch,
                "add-to-group HTTP status": "" if status is None else str(status),
                "in opt-out group afterwards": in_group,
                "confirmation sent": answered[1] if answered else "none",
                "answered on": _answered_on(runbook.client, channel, run["data"].get(ANSWER_UMIDS[answered[0]]))
                if answered
                else "",
                "run status": run["status"],
                "subaccount": run["data"].get("subAccountId", ""),
            }
        )
    table = pd.DataFrame(rows)
    table["as expected"] = [_problem(row) is None for row in rows]
    return table


def run_on_every_path(
    runbook: Any, workflows: dict, messages: Sequence[tuple] = TEST_MESSAGES, *, prefix: str = "+6591000"
) -> pd.DataFrame:
    """The test messages through every deployed workflow (WhatsApp, SMS), and a shorter set from
    Viber and RCS customers through the Messaging Apps one, on each path there is: test-run
    always, inbound too on the sandbox.

    Each (channel, path) gets its own block of 100 test numbers, so no run sees another's opt-out.
    """
    paths = ["test-run", "inbound"] if runbook.on_sandbox else ["test-run"]
    blocks = [(workflow, workflow.channel, messages, path) for workflow in workflows.values() for path in paths]
    if "WhatsApp" in workflows:  # Viber and RCS customers, through the same Messaging Apps workflow
        blocks += [
            (workflows["WhatsApp"], other, CHAT_APP_MESSAGES, path) for other in OTHER_CHAT_APPS for path in paths
        ]
    if len(blocks) > 10:
        raise BadInput(f"{len(blocks)} blocks of 100 test numbers do not fit one prefix's 1000 numbers")
    # every number first: a refused one stops the test before the first message, not part-way
    check_may_send(
        runbook.settings,
        [
            numbered_msisdn(prefix, 1 + 100 * i + k)
            for i in range(len(blocks))
            for k in range(len(messages) + len(BUTTON_TAPS))
        ],
    )
    return pd.concat(
        [
            run_test_messages(
                runbook, workflow, texts, via=path, prefix=prefix, first_index=1 + 100 * i, channel=channel
            )
            for i, (workflow, channel, texts, path) in enumerate(blocks)
        ],
        ignore_index=True,
    )


def _answered_on(client: Client, channel: str, umid: str) -> str:
    """The channel 8x8 says the answer went out on, read back by its umid from the Messaging Apps
    API. An SMS workflow answers with its SMS step, which sends nothing but SMS (and whose umid
    the Messaging Apps API does not hold)."""
    if channel == "SMS":
        return "SMS"
    return client.messaging.get_message(str(umid)).get("channel") or "unknown"


def _problem(row: dict) -> str | None:
    expected = row["expected"]
    want = {
        "opt-out": ("opt-out", True, "opt-out"),
        "opt-in": ("opt-in", False, "opt-in"),
        "help": ("help", False, "help"),
        "other": ("none", False, "none"),
    }[expected]
    got = (row["branch taken"], row["in opt-out group afterwards"], row["confirmation sent"])
    if row["run status"] != "Complete":
        return f"the run ended {row['run status']} (see the run's errors)"
    if expected == "opt-out" and row["add-to-group HTTP status"] not in ("200", "201"):
        return f"adding to the group answered {row['add-to-group HTTP status'] or 'nothing'}"
    if got != want:
        return (
            f"expected branch {want[0]}, in group {want[1]}, confirmation {want[2]}; "
            f"got branch {got[0]}, in group {got[1]}, confirmation {got[2]}"
        )
    if row["answered on"] and row["answered on"].lower() != row["channel"].lower():
        return f"the answer went out on {row['answered on']}, not on the customer's {row['channel']}"
    return None


def check_test_table(table: pd.DataFrame) -> str:
    """Raise with an explanation of every row that differs from the expectation."""
    wrong = table[~table["as expected"]]
    if wrong.empty:
        return f"All {len(table)} test messages did what was expected."
    lines = [f"{len(wrong)} of {len(table)} test messages did not do what was expected:"]
    for _, row in wrong.iterrows():
        lines.append(
            f"- {row['message']!r} from {row['from']} ({row['channel']}, {row['path']}): {_problem(row.to_dict())}"
        )
    lines.append("Check the keyword policy and the deployed definition (notebook 03), then run this again.")
    raise VerificationFailed("\n".join(lines))


def results_values(table: pd.DataFrame) -> dict:
    """The test messages' outcome as named values (helpers.record): how many did what was expected
    (check_test_table refuses any that did not), per channel and expectation, and the channels the
    answers went out on, as read back."""
    per_channel = table.groupby(["channel", "expected"]).size()
    return {
        "messages": len(table),
        "as_expected": int(table["as expected"].sum()),
        "by_channel": {f"{channel} {expected}": int(n) for (channel, expected), n in per_channel.items()},
        "answered_on": {
            f"{channel} on {answered}": int(n)
            for (channel, answered), n in table[table["answered on"] != ""]
            .groupby(["channel", "answered on"])
            .size()
            .items()
        },
    }


def remove_test_numbers(client: Client, group_id: int, table: pd.DataFrame) -> int:
    """Take the test numbers back out of the opt-out group (their contacts stay), and give them back
    for another run to use (:class:`TestNumbersLock`)."""
    ids = [
        c["id"] for msisdn in table["from"].unique() for c in client.contacts.search_contacts(msisdn, group_id=group_id)
    ]
    if ids:
        client.contacts.remove_from_group(group_id, ids)
    _release_test_numbers(client)  # only once they are out: a failed clean-up keeps them this run's
    return len(ids)


SECOND_SUBACCOUNT = "second-brand"  # the sync demo's other subaccount of the same account


def blacklist_sync_demo(runbook: Any, msisdn: str) -> pd.DataFrame:
    """Sandbox: a campaign message to a number that has just opted out, right after the opt-out,
    after the hourly blacklist sync, and after it from another subaccount of the same account.

    The hour passes on a scratch sandbox of its own, whose blacklisted group holds the number as the
    workflow just left it in the operator's group; the operator's sandbox keeps its clock. On wall
    time the scratch clock starts ten minutes past an hour, so "right after" is never a sync."""
    now = datetime.now(UTC)
    minutes_past = now.minute + now.second / 60
    scratch = runbook.scratch(
        hours=(minutes_past - 10) / 60, what="an hour of 8x8's blacklist sync", other_subaccounts=(SECOND_SUBACCOUNT,)
    )
    client, controls = scratch.client, scratch.sandbox
    group = client.contacts.create_group("Opt-out (sync demo)", is_blacklist=True)
    client.contacts.upsert_contact(msisdn, group_ids=[group["id"]])
    text = "Our weekend sale starts now!"
    rows = []

    def send(moment: str, subaccount: str | None = None) -> None:
        try:
            umid = client.messaging.send_text(msisdn, text, subaccount=subaccount)["umid"]
            record = client.messaging.get_message(umid, subaccount=subaccount)
            status = record.get("status", {})
            rows.append(
                {
                    "when": moment,
                    "from subaccount": record.get("subAccountId"),
                    "platform clock": status.get("timestamp", "")[:16].replace("T", " "),
                    "state": status.get("state"),
                    "errorCode": status.get("errorCode"),
                    "errorMessage": status.get("errorMessage"),
                }
            )
        except EightByEightError as exc:
            rows.append({"when": moment, "state": f"refused: {exc}"})

    send("right after the opt-out")
    synced = controls.advance_clock(hours=1)
    send(f"after the hourly sync ({synced['blacklistSyncedAt'][11:16]} UTC)")
    send("after the sync, from another subaccount", SECOND_SUBACCOUNT)
    table = pd.DataFrame(rows).set_index("when")
    if "errorCode" in table:
        table["errorCode"] = table["errorCode"].astype("Int64")
    return table.astype(object).where(table.notna(), "")


# A few days of customers, for notebook 07 on the sandbox: (hours after the previous message,
# channel, number or None, text, how many of the workflow's Contacts calls fail). Failures are
# injected into the sandbox for exactly the marked messages: one failed call is tried again by
# the workflow itself (a Wait, then the retry succeeds); EVERY try failing leaves a lost opt-out
# for the ledger to find.
EVERY = "every try"
SANDBOX_HISTORY = (
    (0, "whatsapp", "+6597000001", "STOP", 0),
    (1, "whatsapp", "+6597000002", "Unsubscribe", EVERY),
    (2, "whatsapp", "+6597000003", "stop please", 1),
    (3, "sms", "+6597000004", "STOP", EVERY),
    (5, "whatsapp", None, "STOP", 0),
    (20, "whatsapp", "+6597000005", "opt out", EVERY),
    (1, "whatsapp", "+6597000006", "Where is my order?", 0),
    (2, "sms", "+6597000007", "STOP ALL", 0),
    (3, "whatsapp", "+6597000001", "START", 0),
    (4, "whatsapp", "+6597000008", "HELP", 0),
    (18, "sms", "+6597000009", "stop", EVERY),
    (1, "whatsapp", "+6597000010", "STOP", 1),
    (2, "whatsapp", "+6597000002", "STOP", EVERY),
    (1, "whatsapp", "+6597000011", "remove me from your list", 0),
)


RETRY_HOURS = 1.0  # played after a failed message: past the workflow's last retry (42.5 minutes)


def history_hours(history: Sequence[tuple] = SANDBOX_HISTORY) -> float:
    """How far ``play_sandbox_history`` moves the clock: a scratch sandbox on wall time starts this far
    in the past, so that the days it plays end now."""
    total = ahead = 0.0
    for hours, *_, fail in history:
        total += max(0.0, hours - ahead)
        ahead = RETRY_HOURS if fail else 0.0
        total += ahead
    return total


def play_sandbox_history(runbook: Any, history: Sequence[tuple] = SANDBOX_HISTORY) -> pd.DataFrame:
    """Deliver ``history`` to the sandbox, failing the marked opt-outs' Contacts calls (503): the
    first try only (the workflow's retry succeeds), or every try (the workflow gives up after an hour)."""
    controls = runbook.sandbox
    rows = []
    ahead = 0.0  # hours already played past the previous message (its retries)
    for hours, channel, msisdn, text, fail in history:
        controls.advance_clock(hours=max(0.0, hours - ahead))
        ahead = 0.0
        if fail == EVERY:
            controls.fail_share(1.0, method="POST", path_contains="/contacts")
        elif fail:
            controls.inject_faults(*[503] * fail, method="POST", path_contains="/contacts")
        runs = controls.deliver_inbound(msisdn, text, channel=channel)
        if fail:
            ahead = RETRY_HOURS
            controls.advance_clock(hours=ahead)  # past the workflow's last retry
            controls.fail_share(0.0)
        rows.append(
            {
                "channel": channel,
                "from": msisdn or "(no number)",
                "text": text,
                "Contacts calls failed on purpose": {0: "", EVERY: "every try"}.get(fail, f"first {fail}"),
                "runs": len(runs),
            }
        )
    return pd.DataFrame(rows)


# Notebook 08's sample audience on the sandbox: a campaign day played on a scratch sandbox, so that
# the check has something of each kind to find. Numbers as the group and the ledger hold them.
CAMPAIGN_SAMPLE = "data/sample_campaign_audience.csv"  # relative to notebooks/
CAMPAIGN_OPTED_OUT_EARLIER = ("+6591234567", "+447911123456")  # in the group before the day starts
CAMPAIGN_LOST = "+6581112222"  # wrote STOP; every Contacts call failed: only the ledger knows
CAMPAIGN_JUST_NOW = "+6593334444"  # wrote STOP just now: in the group, before 8x8's hourly blacklist sync
CAMPAIGN_BSUID = "SG.1203458869942"  # wrote STOP on WhatsApp without a number (v3): in no group, the ledger knows it


def campaign_day(runbook: Any, path: str | Path, name: str | None = None) -> Any:
    """On the sandbox, for notebook 08's sample file only: a scratch sandbox where the sample's
    customers did what the sample needs (two opted out earlier, one STOP lost to failing Contacts
    calls an hour ago, one STOP just now, one STOP by a WhatsApp BSUID alone), read back before it
    is handed over. Otherwise (8x8, or
    any other file): ``runbook`` itself, untouched. On wall time the scratch clock ends ten minutes
    past an hour, so "just now" is never on the far side of a sync."""
    if not runbook.on_sandbox or Path(path).resolve() != (PROJECT_ROOT / "notebooks" / CAMPAIGN_SAMPLE).resolve():
        return runbook
    now = datetime.now(UTC)
    scratch = runbook.scratch(
        hours=RETRY_HOURS + (now.minute + now.second / 60 - 10) / 60,
        what="a campaign day (opt-outs from earlier, one lost to failing Contacts calls, one just now)",
    )
    workflows = workflows_to_test(scratch, name)
    group_id = next(iter(workflows.values())).group_id
    for msisdn in CAMPAIGN_OPTED_OUT_EARLIER:
        scratch.client.contacts.upsert_contact(msisdn, group_ids=[group_id])
    play_sandbox_history(
        scratch, ((0, "whatsapp", CAMPAIGN_LOST, "STOP", EVERY), (0, "whatsapp", CAMPAIGN_JUST_NOW, "STOP", 0))
    )
    scratch.sandbox.deliver_inbound(None, "STOP", channel_user_id=CAMPAIGN_BSUID)
    members = {
        n
        for n in (*CAMPAIGN_OPTED_OUT_EARLIER, CAMPAIGN_LOST, CAMPAIGN_JUST_NOW)
        if is_opted_out(scratch.client, group_id, n)
    }
    if members != {*CAMPAIGN_OPTED_OUT_EARLIER, CAMPAIGN_JUST_NOW}:
        raise VerificationFailed(
            f"the campaign day could not be set up: read back, group {group_id} holds "
            f"{', '.join(sorted(members)) or 'none'} of the sample's opt-outs"
        )
    print(
        f"Sandbox sample: group {group_id} holds {', '.join(CAMPAIGN_OPTED_OUT_EARLIER)} (opted out earlier) and "
        f"{CAMPAIGN_JUST_NOW} (STOP just now); {CAMPAIGN_LOST}'s STOP was lost (every Contacts call failed), "
        f"so only the ledger knows it, as it knows the STOP of BSUID {CAMPAIGN_BSUID}, sent without a number. "
        "Read back."
    )
    return scratch
