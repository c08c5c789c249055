"""Data as 8x8 really sends it: numbers the phone metadata does not know, senders that are not numbers,
BSUIDs alone, the same webhook delivered twice, texts no file encoding takes. None of it may stop
``check``, ``reconcile`` or ``audience`` (exit 2), and every STOP from a number ends in the group."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import command, members

from helpers.ledger import Action, build_ledger
from helpers.workflow import inbound_payload


def lose(controls, msisdn, text="STOP", **options):
    """A message whose every Contacts call fails, retries included: the workflow gives up."""
    controls.fail_share(1.0, method="POST", path_contains="/contacts")
    controls.deliver_inbound(msisdn, text, **options)
    controls.advance_clock(hours=1)
    controls.fail_share(0.0)


# Numbers 8x8 delivers that phonenumbers 9.0 calls invalid or does not know: an unassigned country
# code, a Brazilian 8-digit mobile (before the ninth digit), a Singapore number of a range not in the metadata.
UNKNOWN_TO_THE_METADATA = ("+99912345678", "+551191234567", "+6512345678")


def test_numbers_the_metadata_does_not_know_are_matched_and_repaired_by_their_digits(
    client, sandbox, controls, group, deployed, tmp_path
):
    from helpers.numbers import InvalidNumber, to_e164

    for number in UNKNOWN_TO_THE_METADATA:
        try:
            to_e164(number)
        except InvalidNumber:
            pass
        else:  # pragma: no cover - the metadata learnt the range: pick another
            raise AssertionError(f"{number} is valid for phonenumbers now: the test needs a number it refuses")
    controls.deliver_inbound(UNKNOWN_TO_THE_METADATA[0], "STOP")  # honoured by the workflow
    lose(controls, UNKNOWN_TO_THE_METADATA[1])  # lost: the repair must add it
    lose(controls, UNKNOWN_TO_THE_METADATA[2], channel="sms")
    for args in (["reconcile"], ["check"]):
        done = command(sandbox, *args, "--json", cwd=tmp_path)
        assert done.returncode == 1, done.stdout + done.stderr  # lost opt-outs: action, never "could not run"
    applied = command(sandbox, "check", "--apply", "--json", cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert json.loads(applied.stdout)["repaired"] == {"added to the group": 2}
    assert set(UNKNOWN_TO_THE_METADATA) <= members(client, group)
    (tmp_path / "audience.csv").write_text("name,phone\nAna,+551191234567\nBen,+6591234567\n")
    audience = command(sandbox, "audience", "audience.csv", "--out", "send.csv", cwd=tmp_path)
    assert audience.returncode == 1, audience.stderr  # Ana's number is invalid as typed: left out, said
    assert (tmp_path / "send.csv").read_text().splitlines() == ["name,phone", "Ben,+6591234567"]


def test_a_sender_that_is_no_phone_number_is_said_once_kept_and_never_blinds_the_check(
    client, sandbox, controls, group, deployed, tmp_path
):
    controls.deliver_inbound("INFO", "STOP", channel="sms")  # an alphanumeric sender id
    controls.deliver_inbound("72345", "STOP", channel="sms")  # a short code
    controls.deliver_inbound("+6590001111", "STOP")  # a customer beside them
    first = command(sandbox, "check", "--apply", "--json", cwd=tmp_path)
    assert first.returncode == 1, first.stdout + first.stderr
    finding = next(f for f in json.loads(first.stdout)["findings"] if "without a phone number" in f["what"])
    assert "INFO" in finding["what"] and "72345" in finding["what"]
    second = command(sandbox, "check", "--apply", "--json", cwd=tmp_path)
    assert second.returncode == 0, second.stdout  # kept, not ACTION forever
    assert members(client, group) == {"+6590001111"}
    ledger = build_ledger(client)
    info = ledger.rows.set_index("channel_user_id").loc["INFO"]
    assert info["number"] == "" and info["action"] == Action.NO_NUMBER
    assert "is not a phone number" in info["contacts_answer"]


def test_a_bsuid_only_stop_takes_the_number_of_that_customers_earlier_message(
    client, sandbox, controls, group, deployed, tmp_path
):
    controls.deliver_inbound("+6590002222", "Hello", channel_user_id="SG.bsuid.0001")  # number and BSUID
    controls.advance_clock(seconds=60)
    controls.deliver_inbound(None, "STOP", channel_user_id="SG.bsuid.0001")  # the BSUID alone
    controls.advance_clock(seconds=60)  # its run ends (the workflow's no-number step waits a second)
    ledger = build_ledger(client)
    stop = ledger.rows[ledger.rows["matched"] == "opt-out"].iloc[0]
    assert stop["number"] == "+6590002222" and stop["action"] == Action.ADD
    assert "+6590002222" in ledger.opted_out_numbers()
    (tmp_path / "audience.csv").write_text("name,phone\nMei,+6590002222\n")
    audience = command(sandbox, "audience", "audience.csv", "--out", "send.csv", cwd=tmp_path)
    assert audience.returncode == 0 and (tmp_path / "send.csv").read_text().splitlines() == ["name,phone"]
    assert command(sandbox, "reconcile", "--apply", cwd=tmp_path).returncode == 0
    assert "+6590002222" in members(client, group)


def test_one_webhook_delivered_three_times_is_one_opt_out(client, controls, group, deployed):
    definition = deployed["WhatsApp"].definition_id
    payload = inbound_payload("+6590003333", "STOP", umid="5d7d8c0e-0000-4000-8000-000000000001")
    for _ in range(3):  # 8x8 delivers again after a failed delivery: the same umid
        client.automation.start_workflow(definition, payload)
    controls.deliver_inbound("+6590004444", "STOP")
    ledger = build_ledger(client)
    assert ledger.counts()["opt-out"] == 2
    assert (ledger.rows["action"] == Action.REDELIVERY).sum() == 2
    assert "the same message delivered again" in "\n".join(ledger.lines())


def test_a_text_with_half_an_emoji_is_written_safely(client, sandbox, controls, group, deployed, tmp_path):
    definition = deployed["WhatsApp"].definition_id
    controls.fail_share(1.0, method="POST", path_contains="/contacts")
    client.automation.start_workflow(definition, inbound_payload("+6590005555", "STOP \ud83d"))
    controls.advance_clock(hours=1)
    controls.fail_share(0.0)
    done = command(sandbox, "reconcile", "--apply", "--ledger", tmp_path / "ledger.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / "ledger.csv").read_text(encoding="utf-8")
    assert "+6590005555" in text and "repaired: added to the group" in text
    assert "no: a repair sends no confirmation" in text  # the repair says whether one was sent
    assert not list(tmp_path.glob(".*.partial"))


# --- never message strangers -----------------------------------------------------------------------


def test_on_8x8_test_messages_go_only_to_fiction_or_the_operators_own_numbers(
    client, controls, group, deployed, monkeypatch
):
    from dataclasses import replace

    import pytest

    from helpers.config import FICTION_TEST_PREFIX
    from helpers.runbook import Runbook
    from helpers.testnumbers import StrangerRefused, check_may_send, is_fiction
    from helpers.verification import run_on_every_path, workflows_to_test

    assert is_fiction("+12025550142") and is_fiction("+447700900123") and not is_fiction("+6591000001")
    monkeypatch.setattr(type(client.settings), "sandbox_mode", property(lambda self: False))  # as on 8x8
    runbook = Runbook(client.settings, client)
    workflows = workflows_to_test(runbook)
    started = controls.stats()["requests"]
    with pytest.raises(StrangerRefused, match=r"\+6591000001.*EIGHTXEIGHT_TEST_NUMBER_PREFIX"):
        run_on_every_path(runbook, workflows, prefix="+6591000")  # real-looking Singapore mobiles
    assert controls.stats()["requests"] == started  # no request at all: nothing was sent
    check_may_send(client.settings, [FICTION_TEST_PREFIX + "001", "+12125550199"])  # fiction: allowed
    own = replace(client.settings, test_prefix_setting="+6598765")
    check_may_send(own, "+6598765001")  # the operator's own prefix: allowed
    with pytest.raises(StrangerRefused):
        check_may_send(own, "+6598766001")


# --- one place for what is deployed ----------------------------------------------------------------


def test_what_deploy_applied_is_saved_and_the_check_compares_with_it(client, sandbox, group, tmp_path):
    """The check compared a deploy with a real brand against the placeholder: 'step(s) edited:
    answer_help' on every scheduled run. Deploy saves what it deployed; the check reads the settings, and
    a setting changed since the deploy is named with the fix."""
    from pathlib import Path

    env_file = Path(os.environ["EIGHTXEIGHT_ENV_FILE"])  # this test's own (conftest.py)
    env_file.write_text("# the operator's comment\nEIGHTXEIGHT_LANGUAGES=en,es\n")
    deployed = command(
        sandbox, "deploy", "--apply", "--json", "--brand", "Acme Travel", "--support", "help@acme.example", cwd=tmp_path
    )
    assert deployed.returncode == 0, deployed.stderr
    assert json.loads(deployed.stdout)["saved_settings"] == {
        "EIGHTXEIGHT_BRAND_NAME": "Acme Travel",
        "EIGHTXEIGHT_SUPPORT_CONTACT": "help@acme.example",
    }
    assert env_file.read_text().startswith("# the operator's comment\nEIGHTXEIGHT_LANGUAGES=en,es\n")
    scheduled = command(sandbox, "check", "--apply", cwd=tmp_path)  # the README's scheduled line, no options
    assert scheduled.returncode == 0, scheduled.stdout
    again = command(sandbox, "deploy", "--apply", "--json", cwd=tmp_path)  # from the settings alone: nothing new
    assert again.returncode == 0 and "saved_settings" not in json.loads(again.stdout)
    env_file.write_text(env_file.read_text().replace("Acme Travel", "Acme Holidays"))
    changed = command(sandbox, "check", "--json", "--no-canary", cwd=tmp_path)
    assert changed.returncode == 1
    what = next(f for f in json.loads(changed.stdout)["findings"] if not f["ok"])
    assert "EIGHTXEIGHT_BRAND_NAME is 'Acme Holidays', the deployed answer to HELP says 'Acme Travel'" in what["what"]
    assert "answer_help" not in what["what"] and what["fix"] == "python -m helpers deploy --apply"


# --- monitoring in its own languages ---------------------------------------------------------------


def test_check_speaks_nagios_and_writes_a_prometheus_textfile(client, sandbox, controls, group, deployed, tmp_path):
    metrics = tmp_path / "textfile" / "optout.prom"
    metrics.parent.mkdir()
    ok = command(sandbox, "check", "--nagios", "--metrics", metrics, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    status = ok.stdout.splitlines()[0]
    assert status.startswith("OPT-OUTS OK - 5 checks passed") and "| findings_needing_action=0;;1;0" in status
    assert "lost_opt_outs=0;;1;0" in status
    text = metrics.read_text()
    assert 'optout_check_up{subaccount="sandbox-subaccount"} 1' in text
    assert 'optout_lost_opt_outs{subaccount="sandbox-subaccount"} 0' in text
    lose(controls, "+6590006666")
    critical = command(sandbox, "check", "--nagios", "--metrics", metrics, cwd=tmp_path)
    last_success = next(
        line for line in metrics.read_text().splitlines() if line.startswith("optout_last_success_timestamp")
    )  # a check that ran, if not ok
    assert critical.returncode == 2 and critical.stdout.startswith("OPT-OUTS CRITICAL - opt-outs: 1 lost opt-out")
    import re

    assert "lost_opt_outs=1;;1;0" in critical.stdout
    assert 3600 <= int(re.search(r"oldest_open_row=(\d+)s", critical.stdout)[1]) <= 3602  # lost an hour ago
    age = re.search(r'optout_oldest_open_row_age_seconds\{subaccount="sandbox-subaccount"\} (\d+)', metrics.read_text())
    assert 3600 <= int(age[1]) <= 3602
    dead = subprocess.run(
        [sys.executable, "-m", "helpers", "check", "--nagios", "--metrics", metrics],
        cwd=tmp_path,
        env={**os.environ, "EIGHTXEIGHT_BASE_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dead.returncode == 3 and dead.stdout.startswith("OPT-OUTS UNKNOWN - could not run")
    text = metrics.read_text()
    assert (
        'optout_check_up{subaccount="sandbox-subaccount"} 0' in text and "optout_lost_opt_outs" not in text
    )  # nothing said
    assert last_success.split("}")[1] in text  # the last check that ran, kept


# --- honest compliance figures ---------------------------------------------------------------------


def test_a_stop_honoured_at_once_and_audited_a_week_later_is_not_late(client, controls, group, deployed):
    from helpers.ledger import NOT_MEASURED, parse_time

    controls.deliver_inbound("+6590007777", "STOP")  # honoured at once (the Contacts call answered 2xx)
    lose(controls, "+6590008888")  # lost, then put in by hand (no check saw it happen)
    client.contacts.upsert_contact("+6590008888", group_ids=[group["id"]])
    controls.advance_clock(hours=8 * 24)  # the audit, eight days later
    rows = build_ledger(client, hours=9 * 24).rows.set_index("number")
    honoured = rows.loc["+6590007777"]
    assert honoured["late"] == "" and honoured["honoured_by"] == "first try"
    assert (parse_time(honoured["in_group_at"]) - parse_time(honoured["time"])).total_seconds() < 60  # 8x8's time
    by_hand = rows.loc["+6590008888"]
    assert by_hand["in_group_at"] == "" and by_hand["late"] == "" and NOT_MEASURED in by_hand["honoured_by"]


# --- nothing forgotten -----------------------------------------------------------------------------


def test_a_lost_opt_out_is_kept_when_its_workflow_is_deleted_and_redeployed(
    client, sandbox, controls, group, deployed, tmp_path
):
    """A workflow deleted in the UI takes its runs with it: the next check read only the new one's runs,
    said 'none lost' and moved its checkpoint, and the customer stayed out of every group."""
    from helpers.workflow import build_opt_out_definitions, deploy_definitions

    lose(controls, "+6590009999")
    first = command(sandbox, "check", "--no-canary", "--json", cwd=tmp_path)
    assert first.returncode == 1 and "+6590009999" in first.stdout
    client.automation.delete_definition(deployed["WhatsApp"].definition_id)  # deleted in the UI ...
    deploy_definitions(client, build_opt_out_definitions(client.settings, group["id"]))  # ... then redeployed
    controls.advance_clock(hours=1)
    again = command(sandbox, "check", "--no-canary", "--json", cwd=tmp_path)
    assert again.returncode == 1, again.stdout
    finding = next(f for f in json.loads(again.stdout)["findings"] if not f["ok"])
    assert "+6590009999" in finding["what"] and "no longer lists" in finding["what"]
    repaired = command(sandbox, "check", "--no-canary", "--apply", "--json", cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stdout
    assert "+6590009999" in members(client, group)
    assert command(sandbox, "check", "--no-canary", cwd=tmp_path).returncode == 0  # resolved: no longer kept


# --- no guessed countries in files -----------------------------------------------------------------


def test_one_digits_only_row_in_a_file_of_one_country_is_flagged_not_put_in_another_country(client, group, tmp_path):
    """bulk-add --apply put 6465559876 in the group as a New Zealand number (+64) in a file of +1 numbers,
    said "Done", and the US customer it meant was not imported. One such row is enough now."""
    from helpers.bulk import bulk_add

    source = tmp_path / "opt-outs.csv"
    source.write_text("name,phone\nA,+12126647665\nB,+13102346789\nC,+14152341234\nD,6465559876\n")
    run = bulk_add(client, source, GROUP_NAME, apply=True, reports_dir=tmp_path / "reports")
    assert members(client, group) == {"+12126647665", "+13102346789", "+14152341234"}
    assert run.exit_code == 1  # an invalid row: said, never put anywhere
    report = (tmp_path / "reports").glob("*.csv")
    text = "\n".join(p.read_text() for p in report)
    assert "6465559876" in text and "country code +64" in text and "+16465559876" in text


GROUP_NAME = "WhatsApp opt-out"


def test_a_confirmation_counts_as_sent_only_from_its_delivery_status(client, controls, group, deployed):
    """An opt-in confirmation to a number 8x8's blacklist still holds (until the next hourly sync) is
    undelivered, error 15: it was recorded as sent."""
    controls.deliver_inbound("+6590001234", "STOP")
    controls.advance_clock(hours=1)  # the hourly sync: the number is in 8x8's blacklist now
    controls.deliver_inbound("+6590001234", "START")  # out of the group; the blacklist holds it until the next sync
    controls.advance_clock(seconds=60)
    unread = build_ledger(client, hours=24).rows.set_index("matched").loc["opt-in"]
    assert unread["confirmation_sent"] == "recorded (delivery not read)"  # not "yes" unread
    rows = build_ledger(client, hours=24, read_confirmations=True).rows.set_index("matched")
    assert rows.loc["opt-in", "confirmation_sent"].startswith("no: undelivered (error 15")
    assert rows.loc["opt-out", "confirmation_sent"] in ("recorded (delivery not read)", "no")  # superseded: not read
