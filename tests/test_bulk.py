"""Bulk work against the sandbox: plans, applies that tell the truth, journals, locks, reports, the CLI."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import seed_members

from helpers.bulk import BadFile, RunInProgress, RunInterrupted, UnknownGroup, bulk_add, bulk_remove, resolve_group
from helpers.bulk.apply import GroupLock
from helpers.bulk.run import NotAnOptOutGroup
from helpers.errors import BadInput
from helpers.groups import ensure_opt_out_group, read_group

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "notebooks" / "data" / "sample_opt_ins.csv"
GROUP = "WhatsApp opt-out"


def write(folder: Path, content: str, name: str = "numbers.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(content)
    return path


def numbers_file(folder: Path, numbers: list[str], name: str = "numbers.csv") -> Path:
    return write(folder, "phone\n" + "\n".join(numbers) + "\n", name)


@pytest.fixture
def opt_out_group(client):
    return ensure_opt_out_group(client, GROUP).group


@pytest.fixture
def seed(sandbox, settings, opt_out_group):
    def add(numbers):
        seed_members(sandbox, opt_out_group["id"], numbers)

    return add


def members(client, group) -> list[str]:
    return sorted(c["addresses"]["msisdn"] for c in client.contacts.group_members(group["id"]))


def kill_after(client, method: str, count: int):
    """Make the client die (as a killed process would) right after its ``count``-th ``method`` answer."""
    seen = []

    def hook(response, *args, **kwargs):
        if response.request.method == method:
            seen.append(1)
            if len(seen) == count:
                raise KeyboardInterrupt("killed")
        return response

    client.session.hooks["response"].append(hook)
    return lambda: client.session.hooks["response"].remove(hook)


# --- dry run ----------------------------------------------------------------------------------


def test_dry_run_changes_nothing_and_writes_the_report(client, sandbox, seed, opt_out_group, tmp_path):
    seed(["+6591234567", "+6591234569", "+6599999999"])
    before = members(client, opt_out_group)
    run = bulk_remove(client, SAMPLE, GROUP, default_region="SG", report_path=tmp_path / "r.csv")
    assert members(client, opt_out_group) == before and run.journal_path is None
    assert run.plan.summary()["rows"].to_dict() == {"to remove": 2, "not in group": 7, "duplicate": 1, "invalid": 2}
    assert run.exit_code == 1  # invalid rows are reported as failed rows
    assert (tmp_path / "r.csv").read_text().count("\n") == 13
    assert any(line.startswith("Dry run: nothing was changed") for line in run.lines())


def test_each_run_writes_its_own_report_readable_by_its_owner_only(client, seed, tmp_path):
    seed(["+6591234567"])
    first = bulk_remove(client, SAMPLE, GROUP, default_region="SG", reports_dir=tmp_path / "reports", progress=False)
    applied = bulk_remove(
        client, SAMPLE, GROUP, default_region="SG", reports_dir=tmp_path / "reports", apply=True, progress=False
    )
    dry_again = bulk_remove(client, SAMPLE, GROUP, default_region="SG", reports_dir=tmp_path / "reports")
    paths = {first.report_path, applied.report_path, dry_again.report_path}
    assert len(paths) == 3 and all(p.name.startswith("bulk-remove-sample_opt_ins-group") for p in paths)
    assert "removed" in applied.report_path.read_text()  # the next dry run did not overwrite the apply's report
    for path in [*paths, applied.journal_path]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "reports").stat().st_mode) == 0o700


# --- apply: the truth, read back --------------------------------------------------------------


def test_apply_removes_memberships_keeps_contacts_and_checks(client, sandbox, seed, opt_out_group, tmp_path):
    seed(["+6591234567", "6591234569", "+6599999999"])
    sandbox.reset_stats()
    run = bulk_remove(
        client,
        SAMPLE,
        str(opt_out_group["id"]),
        default_region="SG",
        apply=True,
        report_path=tmp_path / "r.csv",
        progress=False,
    )
    assert members(client, opt_out_group) == ["+6599999999"]
    assert run.applied.counts() == {"removed": 2, "nothing to do": 7, "invalid": 2, "duplicate": 1}
    assert sandbox.request_count("contacts.remove_members") == 1
    assert len(list(client.contacts.search_contacts("6591234569"))) == 1  # the contact is kept
    outcome = run.report.set_index("row")["outcome"]
    assert outcome[2] == "removed" and outcome[3] == "nothing to do" and outcome[7] == "invalid"
    assert run.exit_code == 1  # the two invalid rows


def test_apply_then_the_group_changes_then_apply_again_tells_the_truth(client, seed, opt_out_group, tmp_path):
    """The old journal of a finished run made the second apply send nothing and say 'removed', exit 0."""
    numbers = ["+6591234567", "+6591234568", "+6591234569"]
    seed(numbers)
    path = numbers_file(tmp_path, numbers)
    first = bulk_remove(client, path, GROUP, apply=True, reports_dir=tmp_path / "reports", progress=False)
    assert first.exit_code == 0 and members(client, opt_out_group) == []
    for msisdn in numbers:  # the customers opt out again
        client.contacts.upsert_contact(msisdn, group_ids=[opt_out_group["id"]])
    second = bulk_remove(client, path, GROUP, apply=True, reports_dir=tmp_path / "reports", progress=False)
    assert not second.applied.journal.resumed and second.applied.journal.archived is not None
    assert second.applied.passes[0]["numbers"] == 3
    assert second.exit_code == 0 and second.applied.counts() == {"removed": 3}
    assert members(client, opt_out_group) == []


def test_a_number_that_stays_in_the_group_is_never_reported_removed(client, make_client, seed, opt_out_group, tmp_path):
    seed(["+6591234567", "+6591234568"])
    path = numbers_file(tmp_path, ["+6591234567", "+6591234568"])
    readd = {"left": 5}
    workflow = make_client()  # as the opt-out workflow does: create-or-merge the contact into the group

    def put_back(response, *args, **kwargs):  # someone (a workflow) re-adds the number after every removal
        if response.request.method == "DELETE" and readd["left"]:
            readd["left"] -= 1
            workflow.contacts.upsert_contact("+6591234568", group_ids=[opt_out_group["id"]])
        return response

    client.session.hooks["response"].append(put_back)
    run = bulk_remove(client, path, GROUP, apply=True, report_path=tmp_path / "r.csv", progress=False)
    outcome = run.report.set_index("msisdn")["outcome"]
    assert outcome["+6591234567"] == "removed" and outcome["+6591234568"] == "still in group"
    assert run.exit_code == 1 and any(
        line.startswith("NOT done: 1 number(s) still in the group") for line in run.lines()
    )
    assert "+6591234568" in members(client, opt_out_group) or readd["left"] == 0


def test_members_who_join_during_the_run_are_taken_out_in_a_second_pass(client, sandbox, seed, opt_out_group, tmp_path):
    seed(["+6591234567"])
    path = numbers_file(tmp_path, ["+6591234567", "+6591234568"])
    joined = []

    def opt_out_meanwhile(response, *args, **kwargs):
        if response.request.method == "DELETE" and not joined:
            joined.append(client.contacts.upsert_contact("+6591234568", group_ids=[opt_out_group["id"]]))
        return response

    client.session.hooks["response"].append(opt_out_meanwhile)
    run = bulk_remove(client, path, GROUP, apply=True, report_path=tmp_path / "r.csv", progress=False)
    assert [p["numbers"] for p in run.applied.passes] == [1, 1]
    assert members(client, opt_out_group) == [] and run.exit_code == 0
    reasons = run.report.set_index("msisdn")["reason"]
    assert reasons["+6591234568"] == "joined the group during the run; removed in pass 2"


def test_a_group_changing_between_pages_is_read_again(client, sandbox, settings, opt_out_group):
    """Offset paging: a member added before the current page shifts the rest, and that pass never sees it."""
    early, _ = client.contacts.upsert_contact("+6580000001")  # an existing contact: a lower id than the members
    seed_members(sandbox, opt_out_group["id"], [f"+6590{i:06d}" for i in range(600)])
    pages = []

    def opt_out_after_the_first_page(response, *args, **kwargs):
        if response.request.method == "GET" and "groupId" in response.request.url:
            pages.append(1)
            if len(pages) == 1:
                client.contacts.add_to_group(opt_out_group["id"], [early["id"]])
        return response

    client.session.hooks["response"].append(opt_out_after_the_first_page)
    snapshot = read_group(client, opt_out_group["id"])
    assert snapshot.reads == 2 and snapshot.stable and snapshot.counts == [600, 601, 601]
    assert "6580000001" in snapshot.keys and len(snapshot.keys) == 601


def test_kill_then_resume_after_the_group_changed(client, sandbox, seed, opt_out_group, tmp_path):
    numbers = [f"+6590{i:06d}" for i in range(1000)]
    seed(numbers + ["+6580000000"])
    path = numbers_file(tmp_path, numbers)
    # 20 chunks, killed at the 4th answer (in whatever order answers come under load): at most 10
    # were sent (that answer's chunk is at most the 7th, and the three before it start three more)
    options = dict(apply=True, chunk_size=50, reports_dir=tmp_path / "reports", progress=False)
    undo = kill_after(client, "DELETE", 4)  # killed after the 4th chunk landed, before it was journaled
    with pytest.raises(KeyboardInterrupt):
        bulk_remove(client, path, GROUP, **options)
    undo()
    left = len(members(client, opt_out_group)) - 1  # numbers of the file still in the group
    assert 500 <= left <= 800  # at least 4 chunks landed, at most 10
    client.contacts.upsert_contact(numbers[0], group_ids=[opt_out_group["id"]])  # re-added meanwhile
    sandbox.reset_stats()
    run = bulk_remove(client, path, GROUP, **options)
    assert run.applied.journal.resumed and run.exit_code == 0
    # only what the group still holds is sent (the re-added number with it): nothing twice
    assert sandbox.request_count("contacts.remove_members") == -(-(left + 1) // 50)
    assert run.applied.counts() == {"removed": 1000} and members(client, opt_out_group) == ["+6580000000"]
    journal = [json.loads(line) for line in run.journal_path.read_text().splitlines()]
    assert [e["type"] for e in journal].count("resume") == 1 and journal[-1]["type"] == "finished"


def test_two_same_named_files_never_share_a_journal(client, seed, opt_out_group, tmp_path):
    first = [f"+6590{i:06d}" for i in range(300)]
    second = [f"+6591{i:06d}" for i in range(300)]
    seed(first + second)
    a = numbers_file(tmp_path / "a", first, "opt_ins.csv")
    b = numbers_file(tmp_path / "b", second, "opt_ins.csv")
    options = dict(apply=True, chunk_size=100, reports_dir=tmp_path / "reports", progress=False)
    undo = kill_after(client, "DELETE", 1)
    with pytest.raises(KeyboardInterrupt):
        bulk_remove(client, a, GROUP, **options)
    undo()
    left_of_a = members(client, opt_out_group)[:-300] if members(client, opt_out_group)[-1] > first[-1] else []
    run = bulk_remove(client, b, GROUP, **options)
    assert not run.applied.journal.resumed and run.applied.counts() == {"removed": 300}
    assert members(client, opt_out_group) == left_of_a and len(left_of_a) < 300  # b's run did not touch a's
    again = bulk_remove(client, a, GROUP, **options)
    assert again.applied.journal.resumed and members(client, opt_out_group) == []


def test_a_journal_of_another_run_is_refused(client, seed, tmp_path):
    seed(["+6591234567", "+6591234568"])
    journal = tmp_path / "j.jsonl"
    undo = kill_after(client, "DELETE", 1)
    with pytest.raises(KeyboardInterrupt):
        bulk_remove(
            client,
            numbers_file(tmp_path, ["+6591234567"], "a.csv"),
            GROUP,
            apply=True,
            journal_path=journal,
            report_path=tmp_path / "a-report.csv",
            progress=False,
        )
    undo()
    with pytest.raises(BadFile, match="belongs to another run"):
        bulk_remove(
            client,
            numbers_file(tmp_path, ["+6591234568"], "b.csv"),
            GROUP,
            apply=True,
            journal_path=journal,
            report_path=tmp_path / "b-report.csv",
            progress=False,
        )


def test_failed_chunk_is_retried_by_the_next_pass(make_client, settings, sandbox, seed, opt_out_group, tmp_path):
    client = make_client(settings.with_parallel(1))  # one chunk at a time: the injected failures hit the first
    numbers = [f"+6590{i:06d}" for i in range(20)]
    seed(numbers)
    path = numbers_file(tmp_path, numbers)
    sandbox.faults.inject(*[503] * 6, method="DELETE")  # the first chunk fails past every retry
    run = bulk_remove(client, path, GROUP, apply=True, chunk_size=10, report_path=tmp_path / "r.csv", progress=False)
    assert [(p["numbers"], p["failed"]) for p in run.applied.passes] == [(20, 10), (10, 0)]
    assert run.applied.counts() == {"removed": 20} and run.exit_code == 0 and members(client, opt_out_group) == []


def test_an_unreachable_platform_interrupts_and_the_same_command_resumes(
    make_client, settings, sandbox, seed, opt_out_group, tmp_path
):
    client = make_client(settings.with_parallel(1))  # one at a time: the 429s all fall on the first chunk
    numbers = [f"+6590{i:06d}" for i in range(30)]
    seed(numbers)
    path = numbers_file(tmp_path, numbers)
    options = dict(apply=True, chunk_size=10, reports_dir=tmp_path / "reports", progress=False)
    sandbox.faults.inject(*[429] * 6, method="DELETE")
    with pytest.raises(RunInterrupted, match="stopped at chunk 1 of 3"):
        bulk_remove(client, path, GROUP, **options)
    run = bulk_remove(client, path, GROUP, **options)
    assert run.applied.journal.resumed and run.exit_code == 0 and members(client, opt_out_group) == []


# --- one run per group -------------------------------------------------------------------------


def test_a_second_run_on_the_same_group_is_refused(client, seed, opt_out_group, tmp_path):
    seed(["+6591234567"])
    with GroupLock(client, opt_out_group["id"], "bulk-remove of other.csv"):
        with pytest.raises(RunInProgress, match="Another bulk run is working on group .*other.csv.*pid"):
            bulk_remove(client, SAMPLE, GROUP, default_region="SG", apply=True, report_path=tmp_path / "r.csv")
        assert members(client, opt_out_group) == ["+6591234567"]
        bulk_remove(client, SAMPLE, GROUP, default_region="SG", report_path=tmp_path / "dry.csv")  # a dry run may
    run = bulk_remove(
        client, SAMPLE, GROUP, default_region="SG", apply=True, report_path=tmp_path / "r.csv", progress=False
    )
    assert members(client, opt_out_group) == [] and run.applied.counts()["removed"] == 1


# --- options checked before anything is read or sent ----------------------------------------


@pytest.mark.parametrize("chunk_size", [-5, 0, 501, 2.5, True])
def test_a_chunk_size_out_of_range_is_refused_before_anything_changes(
    client, sandbox, seed, opt_out_group, tmp_path, chunk_size
):
    seed(["+6591234567"])
    sandbox.reset_stats()
    with pytest.raises(BadInput, match="chunk-size must be a whole number from 1 to 500"):
        bulk_remove(
            client,
            SAMPLE,
            GROUP,
            default_region="SG",
            apply=True,
            chunk_size=chunk_size,
            report_path=tmp_path / "r.csv",
        )
    assert sandbox.request_count() == 0 and not (tmp_path / "r.csv").exists()


def test_an_unwritable_report_path_is_refused_before_anything_changes(client, sandbox, seed, opt_out_group, tmp_path):
    seed(["+6591234567"])
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    sandbox.reset_stats()
    for path in (tmp_path, locked / "r.csv") if os.geteuid() != 0 else (tmp_path,):
        with pytest.raises(BadFile, match="report"):
            bulk_remove(client, SAMPLE, GROUP, default_region="SG", apply=True, report_path=path)
    with pytest.raises(BadFile, match="cannot be written"):
        bulk_remove(client, SAMPLE, GROUP, default_region="SG", apply=True, report_path="/proc/no/r.csv")
    with pytest.raises(BadFile, match=r"^--journal .* is a folder"):  # each output named by its own option
        bulk_remove(client, SAMPLE, GROUP, default_region="SG", apply=True, journal_path=tmp_path)
    with pytest.raises(BadFile, match=r"give a --journal path"):
        bulk_remove(client, SAMPLE, GROUP, default_region="SG", apply=True, journal_path="/proc/no/j.jsonl")
    assert sandbox.request_count() == 0 and members(client, opt_out_group) == ["+6591234567"]


def test_a_report_or_journal_on_the_file_read_is_refused_and_the_file_is_kept(
    client, sandbox, seed, opt_out_group, tmp_path
):
    """--report or --journal naming the opt-in list itself (directly, by a symbolic or a hard link)
    would replace or append to the only copy of it: refused before anything is read or sent."""
    seed(["+6591234567"])
    source = tmp_path / "opt-ins.csv"
    source.write_text("phone\n+6591234567\n", encoding="utf-8")
    source.chmod(0o644)
    (tmp_path / "link.csv").symlink_to(source)
    os.link(source, tmp_path / "hard.csv")
    sandbox.reset_stats()
    for options, said in [
        ({"report_path": source}, "report"),
        ({"report_path": tmp_path / "link.csv"}, "report"),
        ({"journal_path": tmp_path / "hard.csv"}, "journal"),
    ]:
        with pytest.raises(BadFile, match=f"(?i)the {said} \\(--{said}\\), .* is the file being read"):
            bulk_remove(client, source, GROUP, default_region="SG", apply=True, **options)
    with pytest.raises(BadFile, match="are the same file"):
        bulk_remove(
            client,
            source,
            GROUP,
            default_region="SG",
            apply=True,
            report_path=tmp_path / "r.csv",
            journal_path=tmp_path / "sub" / ".." / "r.csv",
        )
    assert source.read_text(encoding="utf-8") == "phone\n+6591234567\n"
    assert stat.S_IMODE(source.stat().st_mode) == 0o644  # not even made private: untouched
    assert sandbox.request_count() == 0 and members(client, opt_out_group) == ["+6591234567"]
    assert not (tmp_path / "r.csv").exists()


def test_unknown_groups(client, opt_out_group):
    with pytest.raises(UnknownGroup, match="no group with id 99999"):
        resolve_group(client, "99999")
    client.contacts.create_group("Newsletter")
    with pytest.raises(UnknownGroup, match="not blacklisted"):
        resolve_group(client, "Newsletter")


# --- import: bulk-add --------------------------------------------------------------------------


def test_bulk_add_plans_applies_and_checks(client, sandbox, seed, opt_out_group, tmp_path):
    seed(["+6591234567"])
    client.contacts.upsert_contact("+6591234568", firstName="Ben")  # an existing contact: merged, kept
    path = write(tmp_path, "phone\n+6591234567\n+6591234568\n+6591234569\n+6591234569\nnope\n", "opt_outs.csv")
    dry = bulk_add(client, path, GROUP, report_path=tmp_path / "plan.csv")
    assert dry.plan.summary()["rows"].to_dict() == {"to add": 2, "already in group": 1, "duplicate": 1, "invalid": 1}
    assert members(client, opt_out_group) == ["+6591234567"]
    run = bulk_add(client, path, GROUP, apply=True, report_path=tmp_path / "r.csv", progress=False)
    assert run.applied.counts() == {"added": 2, "nothing to do": 1, "invalid": 1, "duplicate": 1}
    assert members(client, opt_out_group) == ["+6591234567", "+6591234568", "+6591234569"]
    ben = next(iter(client.contacts.search_contacts("6591234568")))
    assert ben["firstName"] == "Ben"
    assert run.exit_code == 1  # the invalid row


def test_bulk_add_does_not_undo_an_opt_in_made_during_the_run(client, sandbox, opt_out_group, tmp_path):
    path = numbers_file(tmp_path, ["+6591234567", "+6591234568"])
    state = {"done": False}

    def opt_in_meanwhile(response, *args, **kwargs):
        if response.request.method == "POST" and not state["done"] and response.status_code in (200, 201):
            state["done"] = True
            contact = response.json()
            client.contacts.remove_from_group(opt_out_group["id"], [contact["id"]])
        return response

    client.session.hooks["response"].append(opt_in_meanwhile)
    run = bulk_add(client, path, GROUP, apply=True, report_path=tmp_path / "r.csv", progress=False)
    outcome = run.report.set_index("msisdn")["outcome"]
    assert outcome["+6591234567"] == "missing from group" and outcome["+6591234568"] == "added"
    assert run.exit_code == 1


def test_bulk_add_resumes_without_sending_twice(client, sandbox, opt_out_group, tmp_path):
    numbers = [f"+6590{i:06d}" for i in range(50)]
    path = numbers_file(tmp_path, numbers)
    options = dict(apply=True, chunk_size=10, reports_dir=tmp_path / "reports", progress=False)
    undo = kill_after(client, "POST", 25)
    with pytest.raises(KeyboardInterrupt):
        bulk_add(client, path, GROUP, **options)
    undo()
    left = 50 - len(members(client, opt_out_group))
    assert 0 < left <= 25
    sandbox.reset_stats()
    run = bulk_add(client, path, GROUP, **options)
    assert sandbox.request_count("contacts.upsert_contact") == left  # what the killed run added is not sent again
    assert run.applied.counts() == {"added": 50} and len(members(client, opt_out_group)) == 50


def test_bulk_add_needs_a_blacklisted_group(client, tmp_path):
    group = client.contacts.create_group("Newsletter")
    with pytest.raises(NotAnOptOutGroup, match="not blacklisted"):
        bulk_add(client, numbers_file(tmp_path, ["+6591234567"]), str(group["id"]), report_path=tmp_path / "r.csv")


# --- command line -----------------------------------------------------------------------------


def cli(sandbox, *args, cwd, command="bulk-remove"):
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": sandbox.base_url}
    env.pop("EIGHTXEIGHT_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "helpers", command, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exit_codes(client, sandbox, seed, opt_out_group, tmp_path):
    seed(["+6591234567"])
    good = write(tmp_path, "phone\n+6591234567\n+6591234568\n", "good.csv")
    dry = cli(sandbox, good, "--group", GROUP, "--json", cwd=tmp_path)
    assert dry.returncode == 0 and json.loads(dry.stdout)["plan"] == {"to remove": 1, "not in group": 1}
    assert json.loads(dry.stdout)["dry_run"] and members(client, opt_out_group) == ["+6591234567"]
    applied = cli(sandbox, good, "--group", opt_out_group["id"], "--apply", "--json", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["outcome"] == {"removed": 1, "nothing to do": 1}  # as the group read back
    assert members(client, opt_out_group) == []
    with_bad_rows = cli(sandbox, SAMPLE, "--group", GROUP, "--default-region", "SG", "--json", cwd=tmp_path)
    assert with_bad_rows.returncode == 1
    assert json.loads(with_bad_rows.stdout)["invalid"]["7"] == "'not a number': not a phone number"
    added = cli(sandbox, good, "--group", GROUP, "--apply", "--json", cwd=tmp_path, command="bulk-add")
    assert added.returncode == 0 and json.loads(added.stdout)["outcome"] == {"added": 2}, added.stderr
    people = cli(sandbox, good, "--group", GROUP, cwd=tmp_path)  # without --json: the lines for people
    assert people.returncode == 0 and "Dry run: nothing was changed." in people.stdout


def test_a_command_that_fails_answers_json_too(sandbox, opt_out_group, tmp_path):
    """A job reading --json gets the failure as values (class, 8x8's status, code and errorId), never nothing."""
    good = write(tmp_path, "phone\n+6591234567\n", "good.csv")
    unknown = cli(sandbox, good, "--group", "No such group", "--json", cwd=tmp_path)
    failure = json.loads(unknown.stdout)
    assert unknown.returncode == failure["exit_code"] == 2 and failure["error_class"] == "UnknownGroup"
    assert "No such group" in failure["error"] and failure["error"] in unknown.stderr
    not_deployed = cli(sandbox, "--json", cwd=tmp_path, command="reconcile")
    assert not_deployed.returncode == 2 and json.loads(not_deployed.stdout)["error_class"] == "WorkflowNotDeployed"
    # a group id 8x8 answers 404 for: the failure carries 8x8's status, code and errorId
    unknown_id = cli(
        sandbox, good, "--out", tmp_path / "send.csv", "--group", "999999", "--json", cwd=tmp_path, command="audience"
    )
    failure = json.loads(unknown_id.stdout)
    assert unknown_id.returncode == failure["exit_code"] == 2 and failure["error_class"] == "UnknownGroup"
    assert failure["status"] == 404 and failure["code"] is not None and failure["error_id"]
    assert not (tmp_path / "send.csv").exists() and "No send list was written" in unknown_id.stderr


@pytest.mark.parametrize(
    "case,args,message",
    [
        ("empty file", ["empty.csv"], "empty"),
        ("header only", ["header.csv"], "header row"),
        ("old Mac file", ["mac.csv"], None),
        ("huge cell", ["huge.csv"], "longer than 128 KiB"),
        ("no such group by id", ["good.csv", "--group", "99999"], "no group with id 99999"),
        ("no such group by name", ["good.csv", "--group", "No such group"], "notebook 01"),
        ("bad chunk size", ["good.csv", "--chunk-size", "0"], "chunk-size"),
        ("report is a folder", ["good.csv", "--report", "."], "is a folder"),
        ("bad region", ["good.csv", "--default-region", "Singapore"], "default-region"),
    ],
)
def test_cli_bad_input_exits_2_without_a_traceback(sandbox, seed, tmp_path, case, args, message):
    seed(["+6591234567"])
    write(tmp_path, "", "empty.csv")
    write(tmp_path, "name,phone\n", "header.csv")
    (tmp_path / "mac.csv").write_bytes(b"phone\r+6591234567\r")
    (tmp_path / "huge.csv").write_bytes(b'phone\n"' + b"1" * (200 * 1024) + b"\n")
    write(tmp_path, "phone\n+6591234567\n", "good.csv")
    if "--group" not in args:
        args = [*args, "--group", GROUP]
    result = cli(sandbox, *args, "--apply", "--json", cwd=tmp_path)
    if message is None:  # the old Mac file is fine now
        assert result.returncode == 0 and json.loads(result.stdout)["outcome"] == {"removed": 1}, result.stderr
        return
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr


def test_cli_non_json_answer_is_a_clear_error(tmp_path):
    """A base URL that answers 200 with a web page (a proxy, a wrong host): exit 2, no traceback."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html>Welcome to the proxy</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        write(tmp_path, "phone\n+6591234567\n", "good.csv")
        env = {**os.environ, "EIGHTXEIGHT_BASE_URL": f"http://127.0.0.1:{server.server_port}"}
        env.pop("EIGHTXEIGHT_API_KEY", None)
        result = subprocess.run(
            [sys.executable, "-m", "helpers", "bulk-remove", "good.csv", "--group", "5"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
    assert result.returncode == 2 and "not JSON" in result.stderr and "Traceback" not in result.stderr


def test_concurrent_runs_on_one_group_the_second_is_refused(client, sandbox, seed, opt_out_group, tmp_path):
    numbers = [f"+6590{i:06d}" for i in range(400)]
    seed(numbers)
    path = numbers_file(tmp_path, numbers)
    env = {**os.environ, "EIGHTXEIGHT_BASE_URL": sandbox.base_url}
    env.pop("EIGHTXEIGHT_API_KEY", None)
    args = [
        sys.executable,
        "-m",
        "helpers",
        "bulk-remove",
        str(path),
        "--group",
        GROUP,
        "--apply",
        "--chunk-size",
        "10",
        "--parallel",
        "1",
    ]  # one chunk at a time: the first run lasts long enough to be met
    # 40 chunks of 100 ms: four seconds, longer than a second interpreter takes to start on a busy machine
    sandbox.faults.configure(latency_ms=100)
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sandbox.request_count("contacts.remove_members") < 2:
        time.sleep(0.05)
    second = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out, err = first.communicate(timeout=120)
    assert second.returncode == 2 and "Another bulk run is working on group" in second.stderr
    assert first.returncode == 0, err
    assert sandbox.request_count("contacts.remove_members") == 40  # every chunk sent once
    assert members(client, opt_out_group) == []


def test_resume_after_a_real_kill(client, sandbox, seed, opt_out_group, tmp_path):
    """SIGKILL the command mid-run, run it again: every number out, at most the chunk in flight sent twice."""
    numbers = [f"+6590{i:06d}" for i in range(1500)]
    seed(numbers)
    path = numbers_file(tmp_path, numbers)
    journal = tmp_path / "reports" / "j.jsonl"
    args = [
        sys.executable,
        "-m",
        "helpers",
        "bulk-remove",
        str(path),
        "--group",
        str(opt_out_group["id"]),
        "--apply",
        "--chunk-size",
        "10",
        "--journal",
        str(journal),
        "--report",
        str(tmp_path / "r.csv"),
    ]
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

    finished = subprocess.run([*args, "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    values = json.loads(finished.stdout)
    assert values["resumed"] and values["outcome"] == {"removed": 1500}
    assert members(client, opt_out_group) == []
    assert sandbox.request_count("contacts.remove_members") <= 151


def test_a_lock_folder_that_is_not_this_users_own_is_refused(client, opt_out_group, tmp_path, monkeypatch):
    """The temporary folder is shared: a lock folder another user made first (open to others, or a
    link to elsewhere) could let them hold every lock. Refused, saying what to remove."""
    import tempfile

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    folder = tmp_path / f"eightxeight-runbook-locks-{os.getuid()}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    with pytest.raises(RunInProgress, match="is not a private folder of this user's .*drwxrwxrwx.* Remove it"):
        with GroupLock(client, opt_out_group["id"], "bulk-remove of a.csv"):
            pass
    folder.rmdir()
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    folder.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunInProgress, match="is not a private folder"):
        with GroupLock(client, opt_out_group["id"], "bulk-remove of a.csv"):
            pass
    folder.unlink()
    with GroupLock(client, opt_out_group["id"], "bulk-remove of a.csv"):  # made afresh: private, taken
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.mark.parametrize("given", ["", "  "])
def test_an_empty_group_is_refused_not_read_as_the_default(client, sandbox, seed, opt_out_group, tmp_path, given):
    """`--group "$GROUP"` with GROUP unset: the run used to go on with the settings' list, which
    nobody named, and --apply would have changed it."""
    seed(["+6591234567"])
    good = write(tmp_path, "phone\n+6591234567\n", "good.csv")
    sandbox.reset_stats()
    result = cli(sandbox, good, "--group", given, "--apply", cwd=tmp_path)
    assert result.returncode == 2 and "The opt-out group's name is empty" in result.stderr
    assert sandbox.request_count("contacts.remove_members") == 0
    assert members(client, opt_out_group) == ["+6591234567"]
    with pytest.raises(BadInput, match="name is empty"):
        resolve_group(client, given)
