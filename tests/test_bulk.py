"""Bulk removal: reading any common CSV, planning (dry run), applying, resuming, the command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from helpers.bulk import BadFile, Journal, apply_plan, bulk_remove, plan_removal, read_numbers, resolve_group, run_key
from helpers.groups import ensure_opt_out_group
from helpers.numbers import InvalidNumber, to_e164

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "notebooks" / "data" / "sample_opt_ins.csv"


def write(tmp_path, text: str | bytes, name="numbers.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


# --- reading ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,region,expected", [
    ("+65 9123 4567", None, "+6591234567"), ("0065 9123-4567", None, "+6591234567"),
    ("(9123) 4567", "SG", "+6591234567"), ("6591234567", None, "+6591234567"), ("+1 (415) 555-0100", None, "+14155550100"),
    ("07911 123456", "GB", "+447911123456"), ("+44 7911 123456", None, "+447911123456"),
    ("9123.4567", "sg", "+6591234567"), ("\u00a0+65\u00a091234567 ", None, "+6591234567"),
])
def test_common_formats_normalise_to_e164(raw, region, expected):
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize("raw,reason", [("", "empty"), ("call me", "not a phone number"), ("+65 123", "not a valid"),
                                        ("07911 123456", "default region"), ("+999 1234567", "unknown country code")])
def test_invalid_numbers_say_why(raw, reason):
    with pytest.raises(InvalidNumber, match=reason):
        to_e164(raw)


@hsettings(max_examples=200, deadline=None)
@given(st.sampled_from(["SG", "GB", "US", "FR", "IN"]), st.integers(0, 9999), st.sampled_from(["", " ", "-", "."]))
def test_any_separators_give_the_same_e164(region, n, sep):
    import phonenumbers

    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", sep)
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL).replace(" ", sep)
    assert to_e164(national, region) == e164
    assert to_e164(international) == e164
    assert to_e164("00" + international[1:]) == e164


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_delimiters_and_bom(tmp_path, delimiter, bom):
    text = delimiter.join(["name", "Mobile", "note"]) + "\n" + delimiter.join(["A", "+65 9123 4567", "x"]) + "\n" + \
        delimiter.join(["B", "+65 9123 4568", "y"]) + "\n"
    numbers = read_numbers(write(tmp_path, bom + text.encode()))
    assert numbers.column == "Mobile" and numbers.delimiter == delimiter
    assert list(numbers.valid["msisdn"]) == ["+6591234567", "+6591234568"]


def test_headerless_single_column_and_named_column(tmp_path):
    assert list(read_numbers(write(tmp_path, "+6591234567\n+6591234568\n")).valid["row"]) == [1, 2]
    numbers = read_numbers(write(tmp_path, "a,b\n+6591234567,+6591234568\n"), column="B")
    assert list(numbers.valid["msisdn"]) == ["+6591234568"]


def test_sample_file_reports_bad_rows_and_duplicates():
    numbers = read_numbers(SAMPLE, default_region="SG")
    assert numbers.counts() == {"valid": 9, "invalid": 2, "duplicate": 1}
    invalid = numbers.rows[numbers.rows["status"] == "invalid"].set_index("row")["reason"].to_dict()
    assert invalid == {7: "not a phone number", 10: "no number in this row"}


@pytest.mark.parametrize("content,message", [
    (b"", "empty"), (b"   \n\n", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("name;phone\nA;+6591234567\n".encode("utf-16"), "binary"), (b"phone\n\xff\xfe+6591234567\n", "not UTF-8"),
    (b"name,city\nAna,Singapore\nBen,London\n", "no column of phone numbers"),
    (b"phone\nnot a number\nnor this\n", "no row"),
])
def test_bad_files_are_refused_with_a_reason(tmp_path, content, message):
    with pytest.raises(BadFile, match=message):
        read_numbers(write(tmp_path, content))


def test_unknown_column_lists_the_columns(tmp_path):
    with pytest.raises(BadFile, match="columns are: name, phone"):
        read_numbers(write(tmp_path, "name,phone\nA,+6591234567\n"), column="msisdn")


# --- planning and applying against the sandbox ------------------------------------------------

@pytest.fixture
def opt_out_group(client):
    return ensure_opt_out_group(client, "WhatsApp opt-out").group


def seed(sandbox, settings, group, numbers):
    sandbox.contacts.add_members_bulk(settings.account_id, group["id"], numbers)


def members(client, group):
    return sorted(c["addresses"]["msisdn"] for c in client.contacts.group_members(group["id"]))


def test_dry_run_changes_nothing_and_writes_the_report(client, sandbox, settings, opt_out_group, tmp_path):
    seed(sandbox, settings, opt_out_group, ["+6591234567", "+6591234569", "+6599999999"])
    before = members(client, opt_out_group)
    run = bulk_remove(client, SAMPLE, "WhatsApp opt-out", default_region="SG", report_path=tmp_path / "r.csv")
    assert members(client, opt_out_group) == before and not run.journal_path.exists()
    assert run.plan.summary()["rows"].to_dict() == {"to remove": 2, "not in group": 7, "duplicate": 1, "invalid": 2}
    assert run.exit_code == 1  # invalid rows are reported as failed rows
    assert (tmp_path / "r.csv").read_text().count("\n") == 13


@pytest.mark.parametrize("chunk_size", [-5, 0, 501, 2.5])
def test_a_chunk_size_out_of_range_is_refused_before_anything_changes(client, sandbox, settings, opt_out_group,
                                                                      tmp_path, chunk_size):
    seed(sandbox, settings, opt_out_group, ["+6591234567"])
    sandbox.reset_stats()
    with pytest.raises(BadFile, match="chunk-size must be a whole number from 1 to 500"):
        bulk_remove(client, SAMPLE, "WhatsApp opt-out", default_region="SG", apply=True, chunk_size=chunk_size,
                    report_path=tmp_path / "r.csv")
    assert sandbox.request_count() == 0 and not (tmp_path / "r.csv").exists()
    assert members(client, opt_out_group) == ["+6591234567"]


def test_apply_removes_memberships_keeps_contacts_and_verifies(client, sandbox, settings, opt_out_group, tmp_path):
    seed(sandbox, settings, opt_out_group, ["+6591234567", "6591234569", "+6599999999"])
    sandbox.reset_stats()
    run = bulk_remove(client, SAMPLE, str(opt_out_group["id"]), default_region="SG", apply=True,
                      report_path=tmp_path / "r.csv", progress=False)
    assert members(client, opt_out_group) == ["+6599999999"]
    assert run.applied.counts()["removed"] == 2
    assert sandbox.request_count("contacts.remove_members") == 1
    assert len(list(client.contacts.search_contacts("6591234569"))) == 1  # the contact is kept
    outcome = run.report.set_index("row")["outcome"]
    assert outcome[2] == "removed" and outcome[3] == "nothing to do" and outcome[7] == "invalid"


def test_interrupted_run_resumes_without_repeating_or_skipping(client, sandbox, settings, opt_out_group, tmp_path):
    numbers = [f"+6590{i:06d}" for i in range(1000)]
    seed(sandbox, settings, opt_out_group, numbers + ["+6580000000"])
    csv_path = write(tmp_path, "phone\n" + "\n".join(numbers) + "\n")
    data = read_numbers(csv_path)
    key = run_key(csv_path, opt_out_group["id"], data.column, None, 100)
    journal = Journal(tmp_path / "j.jsonl")

    first = apply_plan(client, plan_removal(client, opt_out_group, data), journal, key, chunk_size=100,
                       progress=False, stop_after_chunks=4)  # the "kill": after 4 of 10 chunks
    assert (first.chunks_sent, first.counts()["removed"], first.counts()["not yet done"]) == (4, 400, 600)
    assert len(members(client, opt_out_group)) == 601

    sandbox.reset_stats()
    second = apply_plan(client, plan_removal(client, opt_out_group, data), journal, key, chunk_size=100, progress=False)
    assert second.resumed and (second.chunks_skipped, second.chunks_sent) == (4, 6)
    assert sandbox.request_count("contacts.remove_members") == 6
    assert second.counts() == {"removed": 1000}
    assert members(client, opt_out_group) == ["+6580000000"]
    done = [json.loads(line)["chunk"] for line in journal.path.read_text().splitlines()[1:]]
    assert sorted(done) == list(range(10)) and len(done) == len(set(done))


def test_kill_mid_file_resumes_with_the_half_written_line_ignored(client, sandbox, settings, opt_out_group, tmp_path):
    numbers = [f"+6590{i:06d}" for i in range(300)]
    seed(sandbox, settings, opt_out_group, numbers)
    csv_path = write(tmp_path, "phone\n" + "\n".join(numbers) + "\n")
    data = read_numbers(csv_path)
    key = run_key(csv_path, opt_out_group["id"], data.column, None, 100)
    journal = Journal(tmp_path / "j.jsonl")
    apply_plan(client, plan_removal(client, opt_out_group, data), journal, key, chunk_size=100, progress=False,
               stop_after_chunks=1)
    with open(journal.path, "a") as handle:
        handle.write('{"type": "done", "chu')  # killed while writing
    result = apply_plan(client, plan_removal(client, opt_out_group, data), journal, key, chunk_size=100, progress=False)
    assert result.counts() == {"removed": 300} and members(client, opt_out_group) == []


def test_rerun_after_completion_finds_nothing_left(client, sandbox, settings, opt_out_group, tmp_path):
    seed(sandbox, settings, opt_out_group, ["+6591234567"])
    bulk_remove(client, SAMPLE, "WhatsApp opt-out", default_region="SG", apply=True, report_path=tmp_path / "a.csv",
                progress=False)
    sandbox.reset_stats()
    again = bulk_remove(client, SAMPLE, "WhatsApp opt-out", default_region="SG", apply=True,
                        report_path=tmp_path / "b.csv", progress=False)
    assert again.plan.summary()["rows"]["to remove"] == 0
    assert sandbox.request_count("contacts.remove_members") == 0


def test_failed_chunk_is_reported_and_good_chunks_still_go(client, sandbox, settings, opt_out_group, tmp_path):
    numbers = [f"+6590{i:06d}" for i in range(20)]
    seed(sandbox, settings, opt_out_group, numbers)
    csv_path = write(tmp_path, "phone\n" + "\n".join(numbers) + "\n")
    sandbox.faults.inject(*[503] * 6, method="DELETE")  # the first chunk fails past every retry
    run = bulk_remove(client, csv_path, "WhatsApp opt-out", apply=True, chunk_size=10, report_path=tmp_path / "r.csv",
                      progress=False)
    assert run.applied.counts() == {"failed": 10, "removed": 10}
    assert run.exit_code == 1
    assert run.report[run.report["outcome"] == "failed"]["reason"].str.contains("503").all()
    # running again finishes the job: the failed chunk is retried, the done one is not
    sandbox.reset_stats()
    again = bulk_remove(client, csv_path, "WhatsApp opt-out", apply=True, chunk_size=10, report_path=tmp_path / "r.csv",
                        progress=False)
    assert sandbox.request_count("contacts.remove_members") == 1 and again.exit_code == 0


def test_group_by_name_must_be_the_blacklisted_one(client):
    client.contacts.create_group("Newsletter")
    with pytest.raises(LookupError, match="not blacklisted"):
        resolve_group(client, "Newsletter")


# --- command line -------------------------------------------------------------------------

def cli(sandbox, *args, cwd):
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": sandbox.base_url}
    env.pop("EIGHTXEIGHT_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "helpers", "bulk-remove", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_exit_codes(client, sandbox, settings, opt_out_group, tmp_path):
    seed(sandbox, settings, opt_out_group, ["+6591234567"])
    good = write(tmp_path, "phone\n+6591234567\n+6591234568\n", "good.csv")
    dry = cli(sandbox, good, "--group", "WhatsApp opt-out", cwd=tmp_path)
    assert dry.returncode == 0 and "Dry run" in dry.stdout and "1 to remove" in dry.stdout
    assert members(client, opt_out_group) == ["+6591234567"]
    applied = cli(sandbox, good, "--group", opt_out_group["id"], "--apply", cwd=tmp_path)
    assert applied.returncode == 0 and "1 removed" in applied.stdout, applied.stderr
    assert members(client, opt_out_group) == []
    with_bad_rows = cli(sandbox, SAMPLE, "--group", "WhatsApp opt-out", "--default-region", "SG", cwd=tmp_path)
    assert with_bad_rows.returncode == 1 and "row 7: 'not a number': not a phone number" in with_bad_rows.stdout
    empty = cli(sandbox, write(tmp_path, "", "empty.csv"), "--group", "WhatsApp opt-out", cwd=tmp_path)
    assert empty.returncode == 2 and "empty" in empty.stderr
    no_group = cli(sandbox, good, "--group", "No such group", cwd=tmp_path)
    assert no_group.returncode == 2 and "notebook 01" in no_group.stderr


def test_verification_reads_every_member_when_the_count_is_off(client, sandbox, settings, opt_out_group, tmp_path):
    from helpers.bulk import _verify

    seed(sandbox, settings, opt_out_group, ["+6591234567", "+6591234568"])
    data = read_numbers(write(tmp_path, "phone\n+6591234567\n"))
    plan = plan_removal(client, opt_out_group, data)
    planned = [int(plan.to_remove["contact_id"].iloc[0])]
    # the removal "succeeded" but someone opted out meanwhile: the count no longer tells
    client.contacts.upsert_contact("+6599990000", group_ids=[opt_out_group["id"]])
    sandbox.reset_stats()
    still, note = _verify(client, opt_out_group["id"], plan, [planned], {0}, set(planned))
    assert still == set(planned) and "read again" in note
    assert sandbox.request_count("contacts.search_contacts") == 1
    client.contacts.remove_from_group(opt_out_group["id"], planned)
    sandbox.reset_stats()
    still, note = _verify(client, opt_out_group["id"], plan, [planned], {0}, set(planned))
    assert still == set() and sandbox.request_count("contacts.search_contacts") == 1


def test_resume_after_a_real_kill(client, sandbox, settings, opt_out_group, tmp_path):
    """SIGKILL the command mid-run, run it again: every number out, no chunk done twice."""
    import signal
    import time

    numbers = [f"+6590{i:06d}" for i in range(1500)]
    seed(sandbox, settings, opt_out_group, numbers)
    csv_path = write(tmp_path, "phone\n" + "\n".join(numbers) + "\n")
    journal = tmp_path / "reports" / "j.jsonl"
    args = [sys.executable, "-m", "helpers", "bulk-remove", str(csv_path), "--group", str(opt_out_group["id"]),
            "--apply", "--chunk-size", "10", "--journal", str(journal), "--report", str(tmp_path / "r.csv")]
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": sandbox.base_url}
    env.pop("EIGHTXEIGHT_API_KEY", None)
    sandbox.faults.configure(latency_ms=15)
    sandbox.reset_stats()
    process = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count('"done"') >= 20:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    done_before = journal.read_text().count('"done"')
    assert 20 <= done_before < 150, "the kill should land in the middle of the run"
    assert len(members(client, opt_out_group)) > 0

    finished = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "resumed from the journal" in finished.stdout and "1500 removed" in finished.stdout
    assert "Plan: 1500 to remove, 0 not in group" in finished.stdout
    assert members(client, opt_out_group) == []
    chunks = [json.loads(line)["chunk"] for line in journal.read_text().splitlines()[1:] if '"done"' in line]
    assert sorted(chunks) == list(range(150)) and len(chunks) == len(set(chunks))
    # at most the one chunk in flight at the kill was sent twice
    assert sandbox.request_count("contacts.remove_members") <= 151
