"""Suppression before sending, the hourly blacklist sync, and the test-message table."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from support import seed_members

from helpers.errors import BadInput, VerificationFailed
from helpers.groups import ensure_opt_out_group
from helpers.runbook import Runbook, SandboxControls
from helpers.suppression import Reason, filter_audience, is_opted_out
from helpers.verification import (
    BUTTON_TAPS,
    CHAT_APP_MESSAGES,
    TEST_MESSAGES,
    blacklist_sync_demo,
    check_test_table,
    remove_test_numbers,
    run_on_every_path,
    run_test_messages,
)
from helpers.workflow import WorkflowOptions, build_opt_out_definitions, deploy_definitions, deployed_workflows


@pytest.fixture
def group(client):
    return ensure_opt_out_group(client, "WhatsApp opt-out").group


@pytest.fixture
def runbook(client, settings):
    return Runbook(settings, client)


def test_one_number_is_one_request(client, sandbox, settings, group):
    seed_members(sandbox, group["id"], ["+6591234567", "+65912345678"])
    sandbox.reset_stats()
    assert is_opted_out(client, group["id"], "+65 9123 4567")
    assert not is_opted_out(client, group["id"], "+6591234568")
    assert sandbox.request_count() == 2


def test_audience_of_20000_against_20000_members_reads_the_group_once(client, sandbox, settings, group):
    from helpers.client import Client

    client = Client(settings)  # no per-response contract check here: this test counts requests
    members = [f"+6590{i:06d}" for i in range(20_000)]
    seed_members(sandbox, group["id"], members)
    # half the audience opted out, half never did; written in mixed formats
    audience = pd.DataFrame(
        {
            "msisdn": [f"+65 90{i:06d}" if i % 2 else f"+6590{i:06d}" for i in range(0, 20_000, 2)]
            + [f"+6581{i:06d}" for i in range(10_000)]
        }
    )
    sandbox.reset_stats()
    send_to, removed = filter_audience(client, group["id"], audience)
    # 40 pages of 500 and the member count before and after them; nothing per number
    assert sandbox.request_count("contacts.search_contacts") == math.ceil(20_000 / 500)
    assert sandbox.request_count() == 40 + 2
    assert len(removed) == 10_000 and set(removed["reason"]) == {Reason.IN_GROUP}
    assert len(send_to) == 10_000 and send_to["msisdn"].str.startswith("+6581").all()


def test_audience_with_bad_numbers_and_a_missing_column(client, group):
    audience = pd.DataFrame({"phone": ["junk", None, "+6581000000"]})
    send_to, removed = filter_audience(client, group["id"], audience, "phone")
    assert list(send_to["phone"]) == ["+6581000000"]
    assert list(removed["reason"]) == ["invalid: not a phone number", "invalid: empty"]
    with pytest.raises(BadInput, match="no column 'msisdn'"):
        filter_audience(client, group["id"], audience)


def test_blacklist_applies_only_after_the_hourly_sync(client, sandbox, settings, group):
    client.contacts.upsert_contact("+6591234567", group_ids=[group["id"]])
    first = client.messaging.send_text("+6591234567", "promo")
    assert first["status"]["state"] == "queued"
    assert client.messaging.get_message(first["umid"])["status"]["state"] == "delivered"
    sandbox.clock.advance(59 * 60)  # still within the hour: no sync yet
    assert (
        client.messaging.get_message(client.messaging.send_text("+6591234567", "promo")["umid"])["status"]["state"]
        == "delivered"
    )
    sandbox.clock.advance(60)
    record = client.messaging.get_message(client.messaging.send_text("+6591234567", "promo")["umid"])
    assert (record["status"]["state"], record["status"]["errorCode"]) == ("undelivered", 15)
    # removed again: still blocked until the next sync
    contact = next(client.contacts.group_members(group["id"]))
    client.contacts.remove_from_group(group["id"], [contact["id"]])
    assert (
        client.messaging.get_message(client.messaging.send_text("+6591234567", "x")["umid"])["status"]["errorCode"]
        == 15
    )
    sandbox.clock.advance(3600)
    assert (
        client.messaging.get_message(client.messaging.send_text("+6591234567", "x")["umid"])["status"]["state"]
        == "delivered"
    )


def test_a_sync_caught_up_late_holds_only_who_was_blocked_at_its_hour(client, sandbox, group):
    """The sandbox catches up a missed hourly sync at its next send (after a restart, say): that sync
    is the one of the hour that passed, so an opt-out of a minute ago still goes out (as on 8x8),
    whenever the demo runs."""
    sandbox.clock.advance(90 * 60)  # 10:30: the 10:00 sync was missed (nothing sent since 09:00)
    client.contacts.upsert_contact("+6591234567", group_ids=[group["id"]])  # opts out at 10:30
    record = client.messaging.get_message(client.messaging.send_text("+6591234567", "promo")["umid"])
    assert record["status"]["state"] == "delivered"  # the 10:00 snapshot did not hold them yet
    sandbox.clock.advance(30 * 60)  # 11:00
    record = client.messaging.get_message(client.messaging.send_text("+6591234567", "promo")["umid"])
    assert (record["status"]["state"], record["status"]["errorCode"]) == ("undelivered", 15)


def test_unknown_subaccount_is_refused_with_code_1001(client):
    from helpers.errors import BadRequest

    with pytest.raises(BadRequest) as info:
        client.messaging.send_text("+6591234567", "x", subaccount="someone-else")
    assert info.value.code == 1001


def test_test_table_on_both_paths_matches_every_expectation(runbook, group):
    deploy_definitions(runbook.client, build_opt_out_definitions(runbook.settings, group["id"]))
    table = run_on_every_path(runbook, deployed_workflows(runbook.client), prefix="+6591000")
    per_path = {
        "WhatsApp": len(TEST_MESSAGES) + len(BUTTON_TAPS),
        "SMS": len(TEST_MESSAGES),
        "Viber": len(CHAT_APP_MESSAGES),
        "RCS": len(CHAT_APP_MESSAGES),
    }  # through the Messaging Apps workflow
    assert table.groupby(["channel", "path"]).size().to_dict() == {
        (c, p): n for c, n in per_path.items() for p in ("test-run", "inbound")
    }
    assert table["as expected"].all() and check_test_table(table).startswith(f"All {len(table)}")
    taps = table[table["message"] == "[button] Stop promotions"]
    assert len(taps) == 2 and taps["in opt-out group afterwards"].all()
    opted_in = table[table["expected"] == "opt-in"]
    assert not opted_in["in opt-out group afterwards"].any() and (opted_in["confirmation sent"] == "opt-in").all()
    assert set(table["subaccount"]) == {runbook.settings.subaccount_id}
    still_in = int(table["in opt-out group afterwards"].sum())
    assert still_in == 2 * (9 + 1) + 2 * 9 + 2 * 2 * 2  # WhatsApp: 9 words + 1 tap; SMS: 9; Viber, RCS: 2; both paths
    assert remove_test_numbers(runbook.client, group["id"], table) == still_in
    assert runbook.client.contacts.get_group(group["id"])["contacts"] == 0


def test_a_wrong_row_fails_with_an_explanation(runbook, group, settings):
    from helpers.languages import LanguagePack
    from helpers.policy import KeywordPolicy

    # A policy without END: the END row must be reported, not silently passed.
    policy = KeywordPolicy(packs=(LanguagePack("xx", "STOP only", opt_out_words=("STOP",)),))
    sms_only = WorkflowOptions(channels=("SMS",))
    deploy_definitions(runbook.client, build_opt_out_definitions(settings, group["id"], policy, sms_only))
    table = run_test_messages(
        runbook, deployed_workflows(runbook.client)["SMS"], [("END", "opt-out"), ("STOP", "opt-out")]
    )
    with pytest.raises(
        VerificationFailed, match=r"1 of 2 .*\n- 'END' from \+6591000001 \(SMS, test-run\): adding to the group"
    ):
        check_test_table(table)


def test_sync_demo_shows_the_gap_on_a_scratch_sandbox_and_leaves_the_operators_clock(runbook, group, sandbox, capsys):
    controls = SandboxControls(sandbox.base_url)
    runbook.client.contacts.upsert_contact("+6591000001", group_ids=[group["id"]])
    clock_before = controls.health()["now"]
    demo = blacklist_sync_demo(runbook, "+6591000001")
    assert list(demo["state"]) == ["delivered", "undelivered", "undelivered"]
    assert list(demo["errorCode"]) == ["", 15, 15]
    assert list(demo["from subaccount"]) == ["sandbox-subaccount", "sandbox-subaccount", "second-brand"]
    assert "scratch sandbox of its own" in capsys.readouterr().out
    assert controls.health()["now"] == clock_before  # the hour passed on the scratch sandbox only
    assert controls.sent() == []  # and its campaign messages were sent there


def test_member_keys_as_int64_keep_only_keys_a_valid_number_can_have():
    """The group's digit keys as int64: a key with a 0 first, longer than E.164, empty or not plain
    ASCII digits matches no valid number (and must not become one: "0065..." is not "65...")."""
    from helpers.suppression import _int_keys

    keys = {
        "6591234567",
        "006591234567",
        "0",
        "",
        "1234567890123456",
        "123456789012345",
        "٦٥٩١٢٣٤",
        "1_000",
        "+6591234568",
        " 6591234569",
        "²",
    }
    assert sorted(_int_keys(keys).tolist()) == [6591234567, 123456789012345]


def test_the_test_numbers_are_one_runs_at_a_time_and_given_back_by_the_clean_up(runbook, group, sandbox):
    """Two runs of notebook 04 at once (two runbook jobs) sent from the same numbers: one's START
    took a number out between the other's STOP and its read-back, a false FAILED (and a false pass
    was as possible). The second run is refused before it sends anything."""
    from helpers.errors import RunInProgress
    from helpers.verification import TestNumbersLock

    deploy_definitions(
        runbook.client,
        build_opt_out_definitions(runbook.settings, group["id"], options=WorkflowOptions(channels=("SMS",))),
    )
    sms = deployed_workflows(runbook.client)["SMS"]
    with TestNumbersLock(runbook.client):  # another run's, in the middle of its tests
        sandbox.reset_stats()
        with pytest.raises(RunInProgress, match=r"Another run of the test messages \(notebook 04\).*Nothing was sent"):
            run_test_messages(runbook, sms, [("STOP", "opt-out")])
        assert sandbox.request_count() == 0
    table = run_test_messages(runbook, sms, [("STOP", "opt-out")])  # that run has finished
    table = pd.concat([table, run_test_messages(runbook, sms, [("END", "opt-out")], first_index=2)])  # still this run's
    with pytest.raises(RunInProgress):  # held across the notebook's cells, until the clean-up
        TestNumbersLock(runbook.client).__enter__()
    assert remove_test_numbers(runbook.client, group["id"], table) == 2
    with TestNumbersLock(runbook.client):  # given back
        pass


def test_an_audience_frame_whose_numbers_are_floats_finds_the_member(client, sandbox, group):
    """A DataFrame read by pandas with a blank in its phone column holds floats (49301234567.0): the
    point read as a separator made +493012345670, another valid number, so the member was sent to."""
    seed_members(sandbox, group["id"], ["+49301234567"])
    audience = pd.DataFrame({"customer": ["Anke", "Bo", "Cem"], "msisdn": [49301234567.0, None, 6591234567.0]})
    send_to, removed = filter_audience(client, group["id"], audience)
    assert list(send_to["customer"]) == ["Cem"]
    assert dict(zip(removed["customer"], removed["reason"])) == {"Anke": Reason.IN_GROUP, "Bo": "invalid: empty"}
