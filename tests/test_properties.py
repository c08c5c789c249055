"""Property-based tests (hypothesis) of the ledger and the scheduled check over generated 8x8 data:
runs from senders of every kind (valid numbers, numbers the phone metadata does not know, alphanumeric
senders, short codes, BSUIDs alone), the same webhook delivered again, odd texts, failing Contacts calls,
and the WhatsApp workflow deleted in the UI and deployed again between two scheduled checks.

Properties: ``check --apply``, ``reconcile`` and the audience check never stop ("could not run", an
exception) because of the data; after ``check --apply``, every number whose latest word in the ledger is
an opt-out is in the group, read back from the sandbox."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import GROUP, members, sandbox_client

from helpers.audience import check_audience
from helpers.groups import ensure_opt_out_group
from helpers.health import CheckOptions, run_check
from helpers.ledger import build_ledger
from helpers.reconcile import reconcile
from helpers.workflow import build_opt_out_definitions, deploy_definitions, inbound_payload
from sandbox import Sandbox

SENDERS = st.one_of(
    st.sampled_from(
        ["+6591234567", "+6598765432", "+12126647665", "+447911123456"]
    ),  # valid (none of fiction: those are tests)
    st.sampled_from(["+99912345678", "+551191234567", "+6512345678"]),  # unknown to the metadata
    st.sampled_from(["INFO", "72345", "ACME-SHOP", ""]),  # not a phone number
    st.none(),  # a BSUID alone (WhatsApp)
)
TEXTS = st.one_of(
    st.sampled_from(
        [
            "STOP",
            "stop please",
            "Unsubscribe",
            "START",
            "HELP",
            "which bus stop?",
            "STOP \ud83d",
            "\ud83d\ude00",
            "",
            "STOP" * 300,
        ]
    ),
    st.text(max_size=40),
)
MESSAGE = st.fixed_dictionaries(
    {
        "sender": SENDERS,
        "text": TEXTS,
        "channel": st.sampled_from(["whatsapp", "sms"]),
        "bsuid": st.sampled_from(["SG.bsuid.1", "SG.bsuid.2", "SG.bsuid.3"]),
        "times": st.sampled_from([1, 1, 1, 2, 3]),  # re-deliveries of one webhook (the same umid)
        "contacts_fail": st.booleans(),
    }
)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(deterministic=True) as running:
        yield running


_umids = (f"00000000-0000-4000-8000-{n:012d}" for n in itertools.count(1))


def play(client, sandbox, messages, *, reset: bool = True) -> None:
    """Each message through the deployed workflow's test-run endpoint, as 8x8 would deliver it (each
    delivery of one webhook a run of its own), the clock a minute on between messages. ``reset``: on a
    sandbox made afresh, with the group and both workflows."""
    from helpers.runbook import SandboxControls

    controls = SandboxControls(sandbox.base_url)
    if reset:
        controls.reset()
    group = ensure_opt_out_group(client, GROUP).group
    deployed = deploy_definitions(client, build_opt_out_definitions(client.settings, group["id"]))
    for message in messages:
        channel = "WhatsApp" if message["channel"] == "whatsapp" else "SMS"
        sender = message["sender"]
        if sender is None and channel == "SMS":
            sender = ""
        payload = inbound_payload(
            sender, message["text"], channel=message["channel"], umid=next(_umids), channel_user_id=message["bsuid"]
        )
        if message["contacts_fail"]:
            controls.fail_share(1.0, method="POST", path_contains="/contacts")
        for _ in range(message["times"]):
            client.automation.start_workflow(deployed[channel].definition_id, payload)
        if message["contacts_fail"]:
            controls.advance_clock(hours=1)  # past the workflow's last retry
            controls.fail_share(0.0)
        controls.advance_clock(seconds=60)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(MESSAGE, min_size=1, max_size=8), redeploy_after=st.none() | st.integers(0, 7))
def test_no_data_stops_the_check_and_every_stop_with_a_number_ends_in_the_group(
    sandbox, tmp_path, messages, redeploy_after
):
    """``redeploy_after``: after that many messages a scheduled check runs (dry), then the WhatsApp workflow
    is deleted in the UI and deployed again: its runs are gone from 8x8's lists."""
    client = sandbox_client(sandbox)
    reports = tmp_path / "reports"
    cut = len(messages) if redeploy_after is None else min(redeploy_after, len(messages))
    play(client, sandbox, messages[:cut])
    earlier = build_ledger(client, hours=24).rows  # what the scheduled check saw before the workflow went
    if redeploy_after is not None:
        assert run_check(client, CheckOptions(hours=24, canary=False), reports_dir=reports).exit_code in (0, 1)
        group = ensure_opt_out_group(client, GROUP).group
        whatsapp = next(w for w in client.automation.list_definitions() if w["trigger"] == "inbound_chat_apps")
        client.automation.delete_definition(whatsapp["id"])
        deploy_definitions(client, build_opt_out_definitions(client.settings, group["id"]))
        play(client, sandbox, messages[cut:], reset=False)
    report = run_check(client, CheckOptions(apply=True, hours=24), reports_dir=reports)
    assert report.exit_code in (0, 1), report.could_not_run
    ledger = build_ledger(client, hours=24)
    rows = (
        ledger.rows
        if redeploy_after is None
        else pd.concat([earlier, ledger.rows])
        .drop_duplicates("workflow_id", keep="last")
        .sort_values("time", kind="stable")
    )
    decided = rows[
        rows["matched"].isin(["opt-out", "opt-in"])
        & rows["number"].ne("")
        & ~rows["action"].str.startswith("note: the same message")
    ]
    latest = decided.drop_duplicates("number", keep="last")
    wanted = set(latest.loc[latest["matched"] == "opt-out", "number"]) - {"+12025550142", "+12025550143"}
    group = ensure_opt_out_group(client, GROUP).group
    assert wanted <= members(client, group["id"])
    assert reconcile(client, hours=24).exit_code in (0, 1)
    audience = tmp_path / "audience.csv"
    audience.write_text(
        "phone\n" + "\n".join(m["sender"] or "" for m in messages) + "\n+6590000000\n",
        encoding="utf-8",
        errors="backslashreplace",
    )
    checked = check_audience(
        client, audience, out=tmp_path / "send.csv", ledger=ledger, reports_dir=tmp_path / "reports"
    )
    sent = (tmp_path / "send.csv").read_text()
    assert "+6590000000" in sent and not any(n in sent for n in wanted)
    assert checked.values()
