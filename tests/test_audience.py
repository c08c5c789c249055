"""Campaign day: `python -m helpers audience` keeps exactly the rows that may receive the campaign."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.audience import Reason, check_audience
from helpers.errors import BadFile, BadInput
from helpers.ledger import build_ledger

ROOT = Path(__file__).resolve().parents[1]


def lose(controls, msisdn, text="STOP"):
    """A STOP whose every Contacts call fails, retries included: only the ledger knows it."""
    controls.fail_share(1.0, method="POST", path_contains="/contacts")
    controls.deliver_inbound(msisdn, text)
    controls.advance_clock(hours=1)
    controls.fail_share(0.0)


AUDIENCE = [
    ["name", "phone", "offer"],
    ["Ana", "+65 9123 4567", "10%"],  # a member, written with spaces
    ["Ben", "0065 9123-4568", "20%"],  # a member, written with 00 and a dash
    ["Chloe", "9123 4569", "10%"],  # may receive (national, SG)
    ["Dev", "+6591234570", "5%"],  # a lost opt-out only the ledger knows
    ["Eva", '=HYPERLINK("x")', "10%"],  # invalid, hostile
    ["Farid", "+65 9123 4569", "15%"],  # duplicate of Chloe
    ["Grace", "+44 7911 123456", "10%"],  # may receive
    ["Hiro", "", "10%"],  # no number
]


def write(path: Path, rows, delimiter=";") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def test_the_send_list_holds_exactly_those_who_may_receive(client, controls, group, deployed, tmp_path):
    client.contacts.upsert_contact("+6591234567", group_ids=[group["id"]])
    client.contacts.upsert_contact("6591234568", group_ids=[group["id"]])  # the group holds it without +
    lose(controls, "+6591234570")
    source = write(tmp_path / "audience.csv", AUDIENCE)
    stale = tmp_path / "send.csv"
    stale.write_text("a stale list\n")
    result = check_audience(
        client,
        source,
        group["id"],
        out=stale,
        default_region="SG",
        ledger=build_ledger(client),
        report=tmp_path / "left_out.csv",
    )
    with open(stale, newline="", encoding="utf-8") as handle:
        kept = list(csv.reader(handle, delimiter=";"))
    assert kept == [AUDIENCE[0], AUDIENCE[3], AUDIENCE[7]]  # the file's own columns and rows, in order
    reasons = dict(zip(result.left_out["row"], result.left_out["reason"]))
    assert reasons[2] == reasons[3] == Reason.IN_GROUP
    assert reasons[5] == Reason.LEDGER_ONLY
    assert reasons[6].startswith("invalid:") and reasons[9].startswith("invalid:")
    assert reasons[7].startswith("duplicate:")
    assert set(reasons) == {2, 3, 5, 6, 7, 9} and result.may_receive == 2 and result.exit_code == 1
    report = (tmp_path / "left_out.csv").read_text()
    assert "'=HYPERLINK" in report  # formula-safe in the report, where a person opens it
    assert client.contacts.get_group(group["id"])["contacts"] == 2  # nothing changed on 8x8


def test_an_excel_audience_gives_the_same_send_list_as_csv(client, group, tmp_path):
    """An .xlsx audience: the same rows left out, and the send list is the sheet's rows as CSV."""
    from openpyxl import Workbook

    client.contacts.upsert_contact("+6591234567", group_ids=[group["id"]])
    book = Workbook()
    for row in AUDIENCE:
        book.active.append(row)
    book.active.append([None, None, None])  # a blank row: skipped, as in a CSV
    book.active.append(["Ivan", 6591234571, "5%"])  # a number typed as a number
    book.save(tmp_path / "audience.xlsx")
    result = check_audience(
        client, tmp_path / "audience.xlsx", group["id"], out=tmp_path / "send.csv", default_region="SG"
    )
    with open(tmp_path / "send.csv", newline="", encoding="utf-8") as handle:
        kept = list(csv.reader(handle))
    assert kept == [AUDIENCE[0], AUDIENCE[2], AUDIENCE[3], AUDIENCE[4], AUDIENCE[7], ["Ivan", "6591234571", "5%"]]
    assert result.may_receive == 5 and sorted(result.left_out["row"]) == [2, 6, 7, 9]


def test_a_csv_send_list_holds_the_files_own_lines(client, group, tmp_path):
    """Windows line ends, spaces around cells and a ragged row, as the file holds them: the sending
    tool gets the lines themselves, only the rows left out are missing."""
    client.contacts.upsert_contact("+6591234567", group_ids=[group["id"]])
    text = "name,phone,offer\r\nAna, +65 9123 4567 ,10%\r\n\r\nBen,+6591234568\r\nCara , +6591234569,  5%\r\n"
    (tmp_path / "audience.csv").write_bytes(text.encode("utf-8"))
    result = check_audience(client, tmp_path / "audience.csv", group["id"], out=tmp_path / "send.csv")
    assert (tmp_path / "send.csv").read_bytes() == b"name,phone,offer\r\nBen,+6591234568\r\nCara , +6591234569,  5%\r\n"
    assert result.may_receive == 2 and list(result.left_out["row"]) == [2]


def test_without_the_ledger_the_lost_opt_out_is_not_known_and_the_lines_say_so(
    client, controls, group, deployed, tmp_path
):
    lose(controls, "+6591234570")
    source = write(tmp_path / "audience.csv", [["phone"], ["+6591234570"], ["+6591234569"]], ",")
    result = check_audience(client, source, group["id"], out=tmp_path / "send.csv")
    assert result.may_receive == 2 and result.exit_code == 0
    assert "No ledger read" in "\n".join(result.lines())


def test_a_bad_file_writes_no_send_list_and_removes_a_stale_one(client, group, tmp_path):
    stale = tmp_path / "send.csv"
    stale.write_text("phone\n+6591234567\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(BadInput):
        check_audience(client, empty, group["id"], out=stale)
    assert not stale.exists()


def test_a_send_list_or_report_on_the_audience_file_is_refused_and_the_file_is_kept(client, group, tmp_path):
    """An operator typing --out list.csv for list.csv: the stale-list removal would have deleted
    the campaign file itself. Refused first, whichever name reaches it; the file stays as it was."""

    source = write(tmp_path / "list.csv", AUDIENCE)
    before = source.read_bytes()
    (tmp_path / "link.csv").symlink_to(source)
    os.link(source, tmp_path / "hard.csv")
    for out, report in [
        (source, None),
        (tmp_path / "link.csv", None),
        (tmp_path / "." / "hard.csv", None),
        (tmp_path / "send.csv", source),
    ]:
        with pytest.raises(BadFile, match="is the file being read"):
            check_audience(client, source, group["id"], out=out, default_region="SG", report=report)
    with pytest.raises(BadFile, match="are the same file"):
        check_audience(client, source, group["id"], out=tmp_path / "send.csv", report=tmp_path / "send.csv")
    assert source.read_bytes() == before and not (tmp_path / "send.csv").exists()


def test_the_files_options_are_checked_before_the_groups(client, tmp_path):
    """A wrong --column is said as such even where no opt-out group exists yet (as bulk work does:
    the file and its options, then the group), not hidden behind the group's message."""
    source = write(tmp_path / "audience.csv", AUDIENCE)
    with pytest.raises(BadInput, match="nope"):
        check_audience(client, source, out=tmp_path / "send.csv", column="nope")
    with pytest.raises(BadInput, match="no opt-out group to check against"):
        check_audience(client, source, out=tmp_path / "send.csv", default_region="SG")


def test_a_file_changed_during_the_check_gives_no_send_list(client, group, tmp_path, monkeypatch):
    """The send list copies the file's rows a second time: a row written to the file meanwhile was
    never checked, so the check fails (BadFile, exit 2) and no send list exists, not a list with
    an unchecked number in it."""
    import helpers.audience as audience

    source = write(tmp_path / "audience.csv", [["phone"], ["+6591234567"]], delimiter=",")
    real = audience.copy_records

    def copy_after_a_change(path, handle, drop, delimiter):
        with open(path, "a", encoding="utf-8") as more:
            more.write("+6591234568\n")  # e.g. an export still being written
        return real(path, handle, drop, delimiter)

    monkeypatch.setattr(audience, "copy_records", copy_after_a_change)
    with pytest.raises(BadFile, match="changed while it was being checked"):
        check_audience(client, source, group["id"], out=tmp_path / "send.csv", report=tmp_path / "left-out.csv")
    assert not (tmp_path / "send.csv").exists() and not (tmp_path / "left-out.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audience.csv"]  # no partial list left behind either


def test_a_report_that_cannot_be_written_leaves_no_send_list(client, group, tmp_path, monkeypatch):
    """The send list appears last, after the report: a list that exists is one whose check finished."""
    import errno

    import helpers.audience as audience

    def disk_full(frame, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audience, "write_report", disk_full)
    source = write(tmp_path / "audience.csv", [["phone"], ["+6591234567"]], delimiter=",")
    with pytest.raises(BadFile, match="No space left on device.*no send list was written either"):
        check_audience(client, source, group["id"], out=tmp_path / "send.csv", report=tmp_path / "left-out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audience.csv"]


def test_the_command_exit_codes(sandbox, group, tmp_path):
    env = {
        "EIGHTXEIGHT_BASE_URL": sandbox.base_url,
        "PATH": "/usr/bin:/bin",
        "EIGHTXEIGHT_ENV_FILE": str(tmp_path / ".env"),
    }
    source = write(tmp_path / "audience.csv", AUDIENCE)
    out = tmp_path / "send.csv"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers",
            "audience",
            str(source),
            "--out",
            str(out),
            "--default-region",
            "SG",
            "--group",
            str(group["id"]),
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr  # checked; some rows invalid
    counts = json.loads(run.stdout)["counts"]  # an empty group, no ledger
    assert counts == {"may receive": 5, "invalid": 2, "duplicate": 1} and out.exists()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers",
            "audience",
            str(tmp_path / "missing.csv"),
            "--out",
            str(out),
            "--group",
            str(group["id"]),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and not out.exists() and "No send list was written" in run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "audience", str(source), "--out", str(source), "--group", str(group["id"])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "is the file being read" in run.stderr and source.exists()
    assert "No send list was written: nothing was checked." in run.stderr  # not "does not exist": it does


def test_a_check_that_cannot_reach_8x8_leaves_no_stale_send_list(tmp_path):
    """Yesterday's send.csv outlived a check that failed before the file was read (the ledger is read
    first, and connecting can fail before that): "no send list was written" stood beside one."""
    import socket

    with socket.socket() as closed:  # a port nothing listens on: no sandbox, no 8x8
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    source = write(tmp_path / "audience.csv", AUDIENCE)
    out = tmp_path / "send.csv"
    out.write_text("name,phone\nStale,+6500000000\n")
    env = {"EIGHTXEIGHT_BASE_URL": dead, "PATH": "/usr/bin:/bin", "EIGHTXEIGHT_ENV_FILE": str(tmp_path / ".env")}
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "audience", str(source), "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert not out.exists() and f"No send list was written ({out} does not exist)" in run.stderr
    assert source.read_text(encoding="utf-8").startswith("name;phone;offer")  # the file read is kept


def test_a_stale_send_list_that_cannot_be_removed_stops_the_check(tmp_path, monkeypatch):
    import errno

    from helpers.audience import clear_outputs

    source = write(tmp_path / "audience.csv", AUDIENCE)
    stale = tmp_path / "send.csv"
    stale.write_text("stale\n")
    unlink = Path.unlink

    def refused(self, missing_ok=False):  # a folder the operator may read but not change
        if self == stale:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refused)
    with pytest.raises(BadFile, match=r"send list left at .* cannot be removed \(Permission denied\)"):
        clear_outputs(source, stale)


def test_a_member_written_as_a_decimal_is_left_out(client, group, tmp_path):
    """An audience prepared with pandas, whose phone column had a blank (floats: 49301234567.0): the
    point read as a separator gave +493012345670, another valid German number, so a member of the
    opt-out group was on the send list."""
    client.contacts.upsert_contact("+49301234567", group_ids=[group["id"]])
    source = write(
        tmp_path / "audience.csv",
        [["name", "phone"], ["Anke", "49301234567.0"], ["Bo", ""], ["Cem", "4.93012E+10"], ["Dana", "49301234568.0"]],
        delimiter=",",
    )
    result = check_audience(client, source, group["id"], out=tmp_path / "send.csv")
    reasons = dict(zip(result.left_out["row"], result.left_out["reason"]))
    assert reasons[2] == Reason.IN_GROUP and "scientific notation" in reasons[4]
    assert (tmp_path / "send.csv").read_text().splitlines() == ["name,phone", "Dana,49301234568.0"]


def test_a_member_written_as_a_national_number_without_a_region_is_not_sent_to(client, group, tmp_path):
    """A US campaign file written nationally and checked without --default-region: 364-461-8640 read as
    +36 44 618 640 (Hungary), so the member +1 364 461 8640 was not found and stayed on the send list."""
    client.contacts.upsert_contact("+13644618640", group_ids=[group["id"]])
    rows = [
        ["name", "phone"],
        ["Member", "364-461-8640"],
        ["Al", "980-660-7737"],
        ["Bea", "600-643-9952"],
        ["Cy", "913-656-4363"],
        ["Dee", "+1 939 434 9685"],
    ]
    result = check_audience(
        client, write(tmp_path / "us.csv", rows, delimiter=","), group["id"], out=tmp_path / "send.csv"
    )
    assert (tmp_path / "send.csv").read_text().splitlines() == ["name,phone", "Dee,+1 939 434 9685"]
    assert result.left_out.set_index("row").at[2, "reason"].startswith("invalid: written without + or 00")
    checked = check_audience(client, tmp_path / "us.csv", group["id"], out=tmp_path / "send.csv", default_region="US")
    assert dict(zip(checked.left_out["row"], checked.left_out["reason"])) == {2: Reason.IN_GROUP}


def test_a_workflow_name_given_that_is_not_deployed_stops_the_check(sandbox, group, deployed, tmp_path):
    """--name with a typo went on without the ledger (a note on stderr, exit 0): the opt-outs only
    the ledger knows were on the send list of a check that said it was done."""
    env = {
        "EIGHTXEIGHT_BASE_URL": sandbox.base_url,
        "PATH": "/usr/bin:/bin",
        "EIGHTXEIGHT_ENV_FILE": str(tmp_path / ".env"),
    }
    source, out = write(tmp_path / "audience.csv", AUDIENCE), tmp_path / "send.csv"
    base = [sys.executable, "-m", "helpers", "audience", str(source), "--out", str(out), "--default-region", "SG"]
    typo = subprocess.run(
        [*base, "--name", "Opt-out keywrod"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert typo.returncode == 2 and not out.exists()
    assert "--name 'Opt-out keywrod' asks for those workflows' runs: check the name" in typo.stderr
    named = subprocess.run(
        [*base, "--name", "Opt-out keyword"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert named.returncode == 1 and out.exists() and "No ledger read" not in named.stdout  # the deployed name: read


def test_a_customer_whose_stop_came_by_bsuid_alone_is_left_out(client, controls, group, deployed, tmp_path):
    """A v3 WhatsApp STOP without a phone number: the workflow cannot add anyone to the group (the
    Contacts API has no address for a BSUID), so only the ledger knows it. A file with a BSUID column
    left that customer on the send list: the row's number is in no group."""
    controls.deliver_inbound(None, "STOP", channel_user_id="SG.1203458869942")  # known by BSUID only
    controls.deliver_inbound(None, "STOP", channel_user_id="SG.5550001")
    controls.deliver_inbound(None, "START", channel_user_id="SG.5550001")  # and back in: may receive
    rows = [
        ["name", "phone", "bsuid"],
        ["Ana", "+6591234567", "SG.1203458869942"],
        ["Ben", "+6591234568", "SG.5550001"],
        ["Cy", "", "SG.1203458869942"],
        ["Dee", "+6591234569", ""],
    ]
    source = write(tmp_path / "audience.csv", rows, delimiter=",")
    result = check_audience(client, source, group["id"], out=tmp_path / "send.csv", ledger=build_ledger(client))
    reasons = dict(zip(result.left_out["row"], result.left_out["reason"]))
    assert reasons == {2: Reason.BSUID_ONLY, 4: Reason.BSUID_ONLY}  # Cy has no number either: the BSUID says more
    assert (tmp_path / "send.csv").read_text().splitlines() == [
        "name,phone,bsuid",
        "Ben,+6591234568,SG.5550001",
        "Dee,+6591234569,",
    ]
    assert result.counts()["opted out by BSUID"] == 2 and result.exit_code == 0
    assert "WhatsApp BSUIDs from column 'bsuid'" in result.source
    without = check_audience(client, source, group["id"], out=tmp_path / "send.csv")  # no ledger: cannot be known
    assert set(without.left_out["row"]) == {4}


def test_the_command_takes_a_bsuid_column_by_name(sandbox, controls, group, deployed, tmp_path):
    controls.deliver_inbound(None, "STOP", channel_user_id="SG.1203458869942")
    source = write(
        tmp_path / "audience.csv",
        [["name", "phone", "WA id"], ["Ana", "+6591234567", "SG.1203458869942"], ["Dee", "+6591234569", ""]],
        delimiter=",",
    )
    env = {
        "EIGHTXEIGHT_BASE_URL": sandbox.base_url,
        "PATH": "/usr/bin:/bin",
        "EIGHTXEIGHT_ENV_FILE": str(tmp_path / ".env"),
    }
    base = [sys.executable, "-m", "helpers", "audience", str(source), "--out", str(tmp_path / "send.csv"), "--json"]
    named = subprocess.run(
        [*base, "--bsuid-column", "WA id"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert named.returncode == 0 and json.loads(named.stdout)["left_out"] == {"2": Reason.BSUID_ONLY}
    unnamed = subprocess.run(base, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # not a BSUID header
    assert json.loads(unnamed.stdout)["left_out"] == {}
    wrong = subprocess.run(
        [*base, "--bsuid-column", "bsuid"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert wrong.returncode == 2 and "has no column 'bsuid'" in wrong.stderr


def test_the_health_checks_kept_opt_outs_without_a_number_are_left_out_past_the_ledgers_window(client, group, tmp_path):
    """A BSUID-only STOP older than the ledger's window is in no group and no window: only the list
    the health check keeps remembers it."""
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "opt-outs-without-number-sandbox-subaccount.json").write_text(
        json.dumps(  # an earlier version's name: read
            {"SG.1203458869942": {"time": "2025-01-05T09:00:00.00Z", "channel": "WhatsApp"}}
        )
    )
    source = write(
        tmp_path / "audience.csv",
        [["name", "phone", "bsuid"], ["Ana", "+6591234567", "SG.1203458869942"], ["Dee", "+6591234569", ""]],
        delimiter=",",
    )
    result = check_audience(client, source, group["id"], out=tmp_path / "send.csv", reports_dir=tmp_path / "reports")
    assert dict(zip(result.left_out["row"], result.left_out["reason"])) == {2: Reason.BSUID_ONLY}
    assert any(
        "1 WhatsApp opt-out(s) without a phone number, kept by the health check" in line for line in result.lines()
    )
    plain = write(tmp_path / "plain.csv", [["name", "phone"], ["Ana", "+6591234567"]], delimiter=",")
    unseen = check_audience(client, plain, group["id"], out=tmp_path / "send.csv", reports_dir=tmp_path / "reports")
    assert any("the file has no BSUID column to find them by" in line for line in unseen.lines())
