"""The opt-out ledger and reconcile: the workflows' runs read back, lost opt-outs found and repaired."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from support import GROUP, members

from helpers.bulk import bulk_remove
from helpers.errors import BadRequest, NotFound, WorkflowNotDeployed
from helpers.ledger import Action, BadWindow, build_ledger, make_window
from helpers.reconcile import reconcile
from helpers.suppression import Reason, filter_audience
from helpers.workflow import WorkflowOptions, build_opt_out_definitions, deploy_definitions


def say(controls, msisdn, text, **options):
    """A customer's message arrives; the clock moves a minute so that runs are ordered in time."""
    controls.deliver_inbound(msisdn, text, **options)
    controls.advance_clock(seconds=60)


def lose(controls, msisdn, text="STOP", *, method="POST", **options):
    """A message whose every Contacts call fails, retries included: the workflow gives up."""
    controls.fail_share(1.0, method=method, path_contains="/contacts")
    controls.deliver_inbound(msisdn, text, **options)
    controls.advance_clock(hours=1)  # past the last retry (30 s + 2 + 10 + 30 min)
    controls.fail_share(0.0)


# --- the instance list, as automation_api.json defines it ----------------------------------


def test_instance_list_filters_pages_and_orders_newest_first(client, controls, deployed):
    whatsapp = deployed["WhatsApp"].definition_id
    for i in range(5):
        say(controls, f"+659000000{i}", "hello")
    listed = list(client.automation.list_workflows(whatsapp, limit=2))
    assert len(listed) == 5 and len({w["workflowId"] for w in listed}) == 5
    starts = [w["startedAt"] for w in listed]
    assert starts == sorted(starts, reverse=True)  # newest first
    assert "payload" in listed[0]["data"] and "logs" not in listed[0]
    middle = sorted(starts)[2]
    assert len(list(client.automation.list_workflows(whatsapp, started_from=middle))) == 3
    assert len(list(client.automation.list_workflows(whatsapp, started_to=middle))) == 3
    assert len(list(client.automation.list_workflows(whatsapp, status="Terminated"))) == 0
    assert len(list(client.automation.list_workflows(whatsapp, status="Complete"))) == 5


def test_instance_list_answers_the_latest_version_unless_asked(client, settings, controls, group, deployed):
    whatsapp = deployed["WhatsApp"].definition_id
    say(controls, "+6590000001", "hello")
    definitions = build_opt_out_definitions(settings, group["id"], options=WorkflowOptions(name="Opt-out keyword"))
    definitions["WhatsApp"]["definition"]["steps"][-1]["inputs"]["duration"] = "00:00:02"  # a new version
    assert deploy_definitions(client, definitions)["WhatsApp"].version == 2
    say(controls, "+6590000002", "hello")
    assert len(list(client.automation.list_workflows(whatsapp))) == 1  # version 2 only
    assert len(list(client.automation.list_workflows(whatsapp, version=1))) == 1
    assert client.automation.versions(whatsapp) == [1, 2]
    with pytest.raises(NotFound):
        list(client.automation.list_workflows(whatsapp, version=9))
    ledger = build_ledger(client)
    assert sorted(ledger.rows["version"]) == [1, 2]  # the ledger reads every version


@pytest.mark.parametrize(
    "params,message",
    [
        ({"status": "Done"}, "status must be one of"),
        ({"startTimeFrom": "yesterday"}, "ISO 8601"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_instance_list_refuses_bad_parameters(client, recorder, deployed, params, message):
    path = f"/api/v1/accounts/sandbox-account/definitions/{deployed['WhatsApp'].definition_id}/workflows"
    with recorder.sending_invalid_requests(), pytest.raises(BadRequest, match=message):
        client.json("automation", "GET", path, params=params)


def test_the_date_header_tells_the_sandbox_clock(client, controls, deployed):
    before = client.platform_time()
    assert before.isoformat() == "2026-01-05T09:00:00+00:00"
    controls.advance_clock(hours=30)
    assert (client.platform_time() - before).total_seconds() == 30 * 3600


# --- the ledger ------------------------------------------------------------------------------


def test_ledger_of_lost_opt_outs_under_failures(client, controls, group, deployed):
    lose(controls, "+6590000001", "STOP")  # lost (503 at every try)
    lose(controls, "+6590000002", "Unsubscribe")  # lost, then opts back in
    say(controls, "+6590000003", "stop", channel="sms")  # honoured
    say(controls, None, "STOP")  # no number
    say(controls, "+6590000002", "START")
    say(controls, "+6590000004", '=HYPERLINK("x") hi')  # other
    say(controls, "+6590000005", "STOP")  # honoured
    say(controls, "+6590000006", "HELP")
    ledger = build_ledger(client)
    rows = ledger.rows.set_index("text", drop=False)
    assert len(ledger.rows) == 8
    assert ledger.counts() == {"opt-out": 5, "opt-in": 1, "help": 1, "other": 1}
    lost = ledger.lost
    assert list(lost["number"]) == ["+6590000001"] and list(lost["contacts_answer"]) == ["HTTP 503 (try 5)"]
    assert list(ledger.unrepairable["channel_user_id"].str.len().gt(0)) == [True]
    by_number = ledger.rows.set_index(["number", "matched"])
    assert by_number.loc[("+6590000002", "opt-out"), "action"] == Action.SUPERSEDED
    assert by_number.loc[("+6590000003", "opt-out"), "confirmation_sent"] == "recorded (delivery not read)"
    assert by_number.loc[("+6590000003", "opt-out"), "channel"] == "SMS"
    assert bool(by_number.loc[("+6590000003", "opt-out"), "member_now"])
    assert rows.loc["HELP", "matched"] == "help"


def test_runs_are_judged_by_the_languages_of_the_version_they_ran(client, settings, controls, group):
    """A run without recorded outputs (no number) is classified by its own version's Branch steps:
    Spanish was deployed when 'BAJA' arrived, English only since."""
    from helpers.policy import KeywordPolicy

    deploy_definitions(client, build_opt_out_definitions(settings, group["id"], KeywordPolicy(languages=("es",))))
    say(controls, None, "BAJA")
    deploy_definitions(client, build_opt_out_definitions(settings, group["id"]))  # English only: version 2
    say(controls, None, "BAJA")
    rows = build_ledger(client).rows
    whatsapp = rows[rows["channel"] == "WhatsApp"]
    assert list(whatsapp["version"]) == [1, 2] and list(whatsapp["matched"]) == ["opt-out", "other"]
    what_if = build_ledger(client, policy=KeywordPolicy()).rows  # a policy given: it classifies instead
    assert list(what_if["matched"]) == ["other"] * len(what_if)


def test_an_opt_out_removed_on_purpose_is_noted_not_re_added(client, controls, group, deployed, tmp_path):
    say(controls, "+6590000005", "STOP")
    path = tmp_path / "opt_ins.csv"
    path.write_text("phone\n+6590000005\n")
    bulk_remove(client, path, GROUP, apply=True, reports_dir=tmp_path, progress=False)  # an opt-in elsewhere
    result = reconcile(client, apply=True, reports_dir=tmp_path)
    assert list(result.ledger.rows["action"]) == [Action.LEFT_SINCE]
    assert result.exit_code == 0 and "+6590000005" not in members(client, group)


def test_reconcile_repairs_then_finds_nothing(client, sandbox, controls, group, deployed, tmp_path):
    for i in range(6):
        (lose if i < 3 else say)(controls, f"+659000001{i}", "STOP")
    assert len(members(client, group)) == 3
    dry = reconcile(client)
    assert len(dry.ledger.lost) == 3 and dry.exit_code == 1 and len(members(client, group)) == 3
    ledger_csv = tmp_path / "ledger.csv"
    applied = reconcile(client, apply=True, ledger_path=ledger_csv, reports_dir=tmp_path)
    assert applied.repaired == {"added to the group": 3} and applied.exit_code == 0
    assert members(client, group) == {f"+659000001{i}" for i in range(6)}
    assert set(applied.ledger.rows["action"]) == {"", Action.REPAIRED_ADD}
    assert stat.S_IMODE(ledger_csv.stat().st_mode) == 0o600
    sandbox.reset_stats()
    again = reconcile(client, apply=True, reports_dir=tmp_path)
    assert again.exit_code == 0 and not again.repaired and sandbox.request_count("contacts.upsert_contact") == 0


def test_a_failed_opt_in_is_repaired_by_removing_the_membership(client, controls, group, deployed, tmp_path):
    say(controls, "+6590000020", "STOP")
    lose(controls, "+6590000020", "START", method="DELETE")
    assert "+6590000020" in members(client, group)
    result = reconcile(client, apply=True, reports_dir=tmp_path)
    assert result.repaired == {"removed from the group": 1}
    assert "+6590000020" not in members(client, group)
    contact = next(iter(client.contacts.search_contacts("6590000020")))
    assert contact["addresses"]["msisdn"] == "+6590000020"  # the contact is kept


def test_a_run_whose_confirmation_fails_keeps_its_contacts_answer(client, controls, group, deployed):
    controls.inject_faults(503, method="POST", path_contains="/messages")  # the confirmation's send fails
    say(controls, "+6590000030", "STOP")
    row = build_ledger(client).rows.iloc[0]
    # the send answered no umid: the run ends, the opt-out stands, and no confirmation is claimed
    assert (row["status"], row["contacts_answer"], row["confirmation_sent"]) == ("Complete", "HTTP 201", "no")
    assert row["action"] == ""


def test_forty_customers_and_forty_percent_failures(client, sandbox, controls, group, deployed, tmp_path):
    sandbox.faults.configure(share_503=0.4)  # every request, the workflows' own included
    for i in range(40):
        controls.deliver_inbound(f"+65911{i:05d}", "STOP")
    sandbox.faults.configure(share_503=1.0)  # the retries fail too: some are lost for good
    controls.advance_clock(hours=1)
    sandbox.faults.configure(share_503=0.0)
    lost_before = 40 - len(members(client, group))
    assert lost_before > 0
    dry = reconcile(client)
    assert len(dry.ledger.lost) == lost_before
    reconcile(client, apply=True, reports_dir=tmp_path)
    assert len(members(client, group)) == 40


def test_the_pre_send_check_takes_the_ledgers_opt_outs(client, controls, group, deployed):
    import pandas as pd

    lose(controls, "+6590000040")  # lost: not in the group
    say(controls, "+6590000041", "STOP")  # in the group
    audience = pd.DataFrame({"msisdn": ["+6590000040", "+6590000041", "+6590000042"]})
    send_to, removed = filter_audience(client, group["id"], audience)
    assert list(send_to["msisdn"]) == ["+6590000040", "+6590000042"]  # the group alone misses the lost one
    send_to, removed = filter_audience(client, group["id"], audience, ledger=build_ledger(client))
    assert list(send_to["msisdn"]) == ["+6590000042"]
    assert removed.set_index("msisdn")["reason"]["+6590000040"] == Reason.LEDGER_ONLY


def test_awaiting_the_hourly_sync(client, controls, group, deployed):
    controls.advance_clock(seconds=600)
    controls.deliver_inbound("+6590000050", "STOP")
    assert list(build_ledger(client).rows["awaiting_sync"]) == [True]
    controls.advance_clock(hours=1)
    assert list(build_ledger(client).rows["awaiting_sync"]) == [False]


def test_windows(client, controls, deployed):
    say(controls, "+6590000060", "STOP")
    controls.advance_clock(hours=48)
    assert len(build_ledger(client, hours=24).rows) == 0
    assert len(build_ledger(client, hours=72).rows) == 1
    assert len(build_ledger(client, since="2026-01-05T08:00:00Z").rows) == 1
    for bad in (
        {"hours": 0},
        {"hours": -3},
        {"since": "last week"},
        {"since": "2027-01-01T00:00:00Z"},
        {"hours": 5, "since": "2026-01-05T08:00:00Z"},
    ):
        with pytest.raises(BadWindow):
            make_window(client, **bad)


def test_nothing_deployed(client, group):
    with pytest.raises(WorkflowNotDeployed):
        build_ledger(client)


# --- the command ---------------------------------------------------------------------------------


def cli(sandbox, *args, cwd):
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": sandbox.base_url}
    env.pop("EIGHTXEIGHT_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "helpers", "reconcile", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli(client, sandbox, controls, group, tmp_path):
    nothing = cli(sandbox, cwd=tmp_path)
    assert nothing.returncode == 2 and "run notebook 03" in nothing.stderr and "Traceback" not in nothing.stderr
    deploy_definitions(client, build_opt_out_definitions(client.settings, group["id"]))
    lose(controls, "+6590000070")
    dry = cli(sandbox, "--hours", "24", "--json", cwd=tmp_path)
    assert dry.returncode == 1 and json.loads(dry.stdout)["actions"] == {"lost opt-out: add to the group": 1}
    assert "HTTP 503" in cli(sandbox, "--hours", "24", cwd=tmp_path).stdout  # for people: why it was lost
    assert not (tmp_path / "reports").exists()  # a dry run writes nothing
    applied = cli(sandbox, "--apply", "--json", "--ledger", tmp_path / "ledger.csv", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    values = json.loads(applied.stdout)
    assert values["repaired"] == {"added to the group": 1} and values["remaining"] == 0
    assert "+6590000070" in members(client, group)
    assert "repaired: added to the group" in (tmp_path / "ledger.csv").read_text()
    bad = cli(sandbox, "--since", "soon", cwd=tmp_path)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    both = cli(sandbox, "--since", "2026-01-05T00:00:00Z", "--hours", "3", cwd=tmp_path)
    assert both.returncode == 2


def test_the_audit_says_what_needs_action_first_and_notes_one_line_a_kind(client, controls, group, deployed, tmp_path):
    lose(controls, "+6590000080")  # lost: needs action
    for i in range(3):  # opted out, then taken out on purpose: notes
        say(controls, f"+659000009{i}", "STOP")
    path = tmp_path / "opt_ins.csv"
    path.write_text("phone\n" + "\n".join(f"+659000009{i}" for i in range(3)) + "\n")
    bulk_remove(client, path, GROUP, apply=True, reports_dir=tmp_path, progress=False)
    ledger = build_ledger(client)
    lines = ledger.lines()
    assert lines[0] == "1 lost opt-out: add to the group:" and "+6590000080" in lines[1]
    notes = [line for line in lines if line.startswith("Note:")]
    assert notes == ["Note: 3 left the group after a successful opt-out (+6590000090, +6590000091, +6590000092)."]
    table = ledger.summary_table()
    assert list(table.columns) == ["time", "channel", "who", "wrote", "was", "Contacts answer", "action"]
    assert len(table) == 4 and not table.isna().any().any()


def test_notebook_04s_test_numbers_are_tests_on_the_sandbox_never_customers(
    client, controls, group, deployed, tmp_path
):
    lose(controls, "+6591000007")  # a lost opt-out of a test number: not a customer's, nothing to repair
    say(controls, "+6591000008", "HELP")
    say(controls, "+6591001007", "STOP")  # another prefix: a customer
    lose(controls, "+6590000081")  # a customer's lost opt-out
    ledger = build_ledger(client)
    actions = dict(zip(ledger.rows["number"], ledger.rows["action"]))
    assert actions["+6591000007"] == actions["+6591000008"] == Action.TEST.value
    assert actions["+6590000081"] == Action.ADD.value and actions["+6591001007"] == ""
    assert list(ledger.needing(Action.ADD)["number"]) == ["+6590000081"]
    assert ledger.counts()["opt-out"] == 2 and ledger.counts()["help"] == 0
    assert "and 2 test run(s) (the health check's canaries, notebook 04's test numbers)" in " ".join(ledger.lines())
    assert "+6591000007" not in set(ledger.summary_table()["who"])


def test_on_8x8_a_number_of_the_test_range_is_a_customer(client, controls, group, deployed, monkeypatch):
    lose(controls, "+6591000007")
    monkeypatch.setattr(type(client.settings), "sandbox_mode", property(lambda self: False))
    assert list(build_ledger(client).needing(Action.ADD)["number"]) == ["+6591000007"]


def test_viber_and_rcs_customers_are_named_in_the_ledger_and_their_lost_opt_outs_repaired(
    client, controls, group, deployed, tmp_path
):
    # Both reach the Messaging Apps workflow (inbound_chat_apps); payload.recipient.channel names the app.
    say(controls, "+6590000201", "STOP", channel="viber")
    lose(controls, "+6590000202", "STOP", channel="rcs")
    say(controls, "+6590000203", "STOP")
    by_number = build_ledger(client).rows.set_index("number")
    assert by_number.loc["+6590000201", "channel"] == "Viber" and bool(by_number.loc["+6590000201", "member_now"])
    assert by_number.loc["+6590000202", "channel"] == "RCS" and by_number.loc["+6590000202", "action"] == Action.ADD
    assert by_number.loc["+6590000203", "channel"] == "WhatsApp"
    applied = reconcile(client, apply=True, reports_dir=tmp_path)  # the RCS row is the WhatsApp workflow's group's
    assert applied.repaired == {"added to the group": 1} and "+6590000202" in members(client, group)
