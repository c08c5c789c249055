"""Opt-outs honoured between runbook runs: the workflow retries its Contacts call with Wait steps,
and the sandbox runs Wait steps as 8x8 documents them (Runnable, Sleeping, woken by the clock)."""

from __future__ import annotations

import pytest
from support import members

from helpers.ledger import Action, build_ledger
from helpers.reconcile import reconcile
from helpers.runbook import SandboxControls
from helpers.workflow import RETRY_WAITS, build_opt_out_definitions, check_definition_rules


def confirmations(sandbox, number: str, text_start: str = "You have been unsubscribed") -> int:
    return sum(
        1
        for m in SandboxControls(sandbox.base_url).sent()
        if m["user"]["msisdn"] == number and m["content"].get("text", "").startswith(text_start)
    )


def test_a_wait_step_sleeps_until_the_sandbox_clock_has_passed_it(client, settings, sandbox, controls):
    definition = {
        "accountId": settings.account_id,
        "subAccountId": settings.subaccount_id,
        "trigger": "inbound_chat_apps",
        "status": "enabled",
        "definition": {
            "name": "wait then answer",
            "steps": [
                {"id": "pause", "stepType": "Wait", "inputs": {"duration": "00:02:00"}, "nextStepId": "answer"},
                {
                    "id": "answer",
                    "stepType": "ChatAppsMessage",
                    "inputs": {
                        "subAccountId": settings.subaccount_id,
                        "user": {"msisdn": "+6590001111"},
                        "type": "text",
                        "content": {"text": "two minutes later"},
                    },
                },
            ],
        },
    }
    created = client.automation.create_definition(definition)
    run_id = client.automation.start_workflow(created["id"], {"payload": {}})
    run = client.automation.get_workflow(created["id"], run_id)
    assert run["status"] == "Runnable" and run["completedAt"] is None
    assert [(log["stepName"], log["status"]) for log in run["logs"]] == [("pause", "Sleeping")]
    assert run["logs"][0]["completedAt"] == "2026-01-05T09:02:00.00Z"  # when the wait ends
    assert list(client.automation.list_workflows(created["id"], status="Runnable"))
    controls.advance_clock(seconds=119)
    assert client.automation.get_workflow(created["id"], run_id)["status"] == "Runnable"
    assert SandboxControls(sandbox.base_url).sent() == []  # nothing ran before the wait was over
    controls.advance_clock(seconds=1)
    run = client.automation.get_workflow(created["id"], run_id)
    assert run["status"] == "Complete" and run["completedAt"] == "2026-01-05T09:02:00.00Z"
    assert [(log["stepName"], log["status"]) for log in run["logs"]] == [("pause", "Complete"), ("answer", "Complete")]
    assert [m["content"]["text"] for m in SandboxControls(sandbox.base_url).sent()] == ["two minutes later"]


def test_the_retries_are_unrolled_within_8x8s_rules(settings, group):
    for definition in build_opt_out_definitions(settings, group["id"]).values():
        check_definition_rules(definition)  # every script within the rules, at most 5 choices per Branch
        steps = {s["id"]: s for s in definition["definition"]["steps"]}
        waits = [s for s in steps.values() if s["stepType"] == "Wait" and s["id"].startswith("wait_before_opt_out")]
        assert (
            [w["inputs"]["duration"] for w in waits]
            == list(RETRY_WAITS)
            == ["00:00:30", "00:02:00", "00:10:00", "00:30:00"]
        )
        adds = [s for s in steps.values() if s["id"].startswith("add_to_opt_out_group")]
        assert len(adds) == len(RETRY_WAITS) + 1
        # every try leads to the one confirmation: it is sent once, after the call that succeeded
        confirming = [s["id"] for s in steps.values() if "confirm_opt_out" in (s.get("selectNextStep") or {})]
        assert len(confirming) == len(adds) and "confirm_opt_out" not in [s.get("nextStepId") for s in adds]


@pytest.mark.parametrize("channel", ["whatsapp", "sms"])
def test_forty_percent_failing_answers_for_thirty_minutes_lose_no_more_than_two_of_forty(
    client, sandbox, controls, group, deployed, channel
):
    controls.fail_share(0.4, method="POST", path_contains="/contacts")  # the workflows' add-to-group calls
    numbers = [f"+65912{i:05d}" for i in range(40)]
    for number in numbers:
        controls.deliver_inbound(number, "STOP", channel=channel)
        controls.advance_clock(seconds=20)  # 40 customers over the first 13 minutes
    controls.advance_clock(seconds=30 * 60 - 40 * 20)  # 30 minutes of platform time in all
    controls.fail_share(0.0)
    controls.advance_clock(hours=1)  # the waiting retries run
    in_group = members(client, group) & set(numbers)
    assert len(in_group) >= 38, f"{len(in_group)} of 40 in the group"
    assert sandbox.request_count("status 503") > 20  # the failures were real
    assert all(confirmations(sandbox, n) == 1 for n in in_group)  # one confirmation each, never more
    ledger = build_ledger(client)
    retried = ledger.rows[ledger.rows["honoured_by"].str.startswith("retry")]
    assert len(retried) > 5 and set(ledger.rows.loc[ledger.rows["member_now"] == True, "honoured_by"]) <= {  # noqa: E712
        "first try",
        "retry 1",
        "retry 2",
        "retry 3",
        "retry 4",
    }


def test_a_run_waiting_to_retry_is_in_progress_never_lost(client, controls, group, deployed, tmp_path):
    controls.fail_share(1.0, method="POST", path_contains="/contacts")
    controls.deliver_inbound("+6590002222", "STOP")
    controls.advance_clock(seconds=60)  # the first try and the first retry failed; the second waits 2 min
    ledger = build_ledger(client)
    row = ledger.rows.iloc[0]
    assert (row["status"], row["action"]) == ("Runnable", Action.IN_PROGRESS)
    assert ledger.lost.empty and "in progress" in "\n".join(ledger.lines())
    assert reconcile(client, apply=True, reports_dir=tmp_path).repaired == {}  # nothing added behind its back
    controls.fail_share(0.0)
    controls.advance_clock(seconds=3 * 60)  # the retry after 2 minutes succeeds
    row = build_ledger(client).rows.iloc[0]
    assert (row["status"], row["action"], row["honoured_by"], row["contacts_answer"]) == (
        "Complete",
        "",
        "retry 2",
        "HTTP 201 (try 3)",
    )
    assert "+6590002222" in members(client, group)


def test_an_opt_in_whose_removal_fails_is_retried(client, sandbox, controls, group, deployed):
    controls.deliver_inbound("+6590003333", "STOP")
    assert "+6590003333" in members(client, group)
    controls.fail_share(1.0, method="DELETE", path_contains="/contacts")
    controls.deliver_inbound("+6590003333", "START")
    assert "+6590003333" in members(client, group)
    controls.fail_share(0.0)
    controls.advance_clock(seconds=31)
    assert "+6590003333" not in members(client, group)
    assert confirmations(sandbox, "+6590003333", "You are subscribed again") == 1
    contact = next(iter(client.contacts.search_contacts("6590003333")))
    assert contact["addresses"]["msisdn"] == "+6590003333"  # only the membership went
