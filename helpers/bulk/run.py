"""One bulk run, removal (opt-ins) or import (an opt-out list): read, plan, apply, check, report.

Every outcome comes from the group as read back after the work, never from what was sent:
a row is ``removed`` only if the check no longer finds its number in the group. A removal
run ends with no valid number of the file in the group: numbers that joined while it worked
(the opt-out workflow runs all the time) are taken out in further passes, up to
``MAX_PASSES``. An import does not re-add numbers that left the group while it worked (that
is what an opt-in does); the check reports them and the run exits 1.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..client import Client
from ..errors import BadInput, GroupNotFound, NotFound
from ..groups import GroupSnapshot, is_subaccount_list, opt_out_list_name, read_group
from ..paths import reports_folder, shown
from ..reports import check_distinct, check_writable, reserve_report, write_report
from .apply import (
    DEFAULT_CHUNK_SIZE,
    GroupLock,
    Journal,
    adding,
    changing_the_group,
    check_chunk_size,
    removing,
    send_in_chunks,
)
from .check import judge_addition, judge_removal, key_of
from .plan import Mode, Plan, make_plan, summarise
from .read import open_numbers
from .statuses import FAILURES, Outcome, Status

MAX_PASSES = 3  # the planned removals, then up to two more for numbers that joined meanwhile


class UnknownGroup(GroupNotFound):
    """No such group."""


class NotAnOptOutGroup(BadInput):
    """An import into a group that stops nobody: neither blacklisted nor a subaccount's own list."""


@dataclass
class Applied:
    report: pd.DataFrame
    passes: list[dict]
    final: GroupSnapshot
    journal: Journal

    def counts(self) -> dict[str, int]:
        """Rows per outcome, in the order of :class:`Outcome`."""
        counts = self.report["outcome"].value_counts()
        return {o.value: int(counts[o.value]) for o in Outcome if counts.get(o.value)}


@dataclass
class BulkRun:
    mode: Mode
    plan: Plan
    report_path: Path
    applied: Applied | None = None

    @property
    def report(self) -> pd.DataFrame:
        return self.applied.report if self.applied else self.plan.report

    @property
    def journal_path(self) -> Path | None:
        return self.applied.journal.path if self.applied else None

    @property
    def exit_code(self) -> int:
        """0: done (or, dry run, nothing wrong found); 1: some rows invalid, or not as wanted at the check."""
        if self.applied is not None:
            return 1 if self.applied.report["outcome"].isin(FAILURES).any() else 0
        return 1 if (self.plan.report["status"] == Status.INVALID).any() else 0

    def table(self) -> pd.DataFrame:
        """The per-row report, as shown to a person (empty cells empty)."""
        return self.report.astype(object).where(self.report.notna(), "")

    def values(self) -> dict:
        """The run as named values (helpers.record): the plan's rows per status and, once applied,
        the rows per outcome as the final read of the group found them."""
        plan = summarise(self.plan.report, self.mode)["rows"]
        invalid = self.plan.report[self.plan.report["status"] == Status.INVALID]
        out = {
            "mode": self.mode.value,
            "group_id": int(self.plan.group["id"]),
            "dry_run": self.applied is None,
            "plan": {status: int(n) for status, n in plan.items() if n},
            "invalid": {
                str(row): f"{cell!r}: {reason}"
                for row, cell, reason in zip(invalid["row"], invalid["input"], invalid["reason"])
            },
            "exit_code": self.exit_code,
        }
        if self.applied is not None:
            out["outcome"] = self.applied.counts()
            out["passes"] = len(self.applied.passes)
            out["resumed"] = bool(self.applied.journal.resumed)
        return out

    def lines(self, *, apply_hint: str = "Add --apply") -> list[str]:
        """What happened, for people; ``apply_hint`` says how to apply a dry run (a notebook names
        its button, the command line its flag)."""
        verb = "remove" if self.mode is Mode.REMOVE else "add"
        counts = summarise(self.plan.report, self.mode)["rows"].to_dict()
        out = [
            f"Group {self.plan.group['id']} ({self.plan.group['name']!r}); {self.plan.numbers.source}.",
            f"Group read for the plan: {self.plan.snapshot.describe()}.",
            "Plan: " + ", ".join(f"{n} {status}" for status, n in counts.items()),
        ]
        if self.applied is None:
            pending = len(self.plan.pending)
            what = (
                "membership(s); contacts are never deleted"
                if self.mode is Mode.REMOVE
                else "number(s) to the group, each contact created or merged"
            )
            out.append(f"Dry run: nothing was changed. {apply_hint} to {verb} {pending} {what}.")
        else:
            applied = self.applied
            journal = applied.journal
            if journal.archived is not None:
                out.append(
                    f"The same file's earlier run had finished: its journal was archived as "
                    f"{journal.archived.name}, and this run started afresh from the group as it is."
                )
            if journal.resumed:
                out.append(
                    f"Resumed an interrupted run ({len(journal.earlier)} number(s) sent before); "
                    "the plan above is the group as it is now."
                )
            for p in applied.passes:
                what = "planned" if p["pass"] == 1 else "found in the group at the check (joined during the run)"
                out.append(
                    f"Pass {p['pass']}: {p['numbers']} number(s) {what}, sent in {p['chunks']} chunk(s); "
                    f"{p['failed']} refused."
                )
            out.append(f"Checked by reading the group back: {applied.final.describe()}.")
            out.append("Outcome: " + (", ".join(f"{n} {k}" for k, n in applied.counts().items()) or "no rows"))
            failures = applied.report["outcome"].isin([Outcome.STILL_IN_GROUP, Outcome.MISSING_FROM_GROUP]).sum()
            if failures:
                state = "still in the group" if self.mode is Mode.REMOVE else "not in the group"
                out.append(
                    f"NOT done: {failures} number(s) {state} at the check; the report's reason column says "
                    "why. Run the same command again to retry them."
                )
            elif self.mode is Mode.REMOVE:
                out.append("Done: the check found no valid number of the file in the group.")
            else:
                out.append("Done: the check found every valid number of the file in the group.")
        invalid = self.plan.report[self.plan.report["status"] == Status.INVALID]
        for _, row in invalid.head(20).iterrows():
            out.append(f"  row {row['row']}: {row['input']!r}: {row['reason']}")
        if len(invalid) > 20:
            out.append(f"  ... and {len(invalid) - 20} more invalid rows (see the report)")
        out.append(f"Report: {shown(self.report_path)}")
        if self.applied is not None:
            out.append(f"Journal: {shown(self.applied.journal.path)}")
        return out


def resolve_group(client: Client, name_or_id: str | int | None) -> dict:
    """A group by id (digits) or by exact name (the blacklisted one, or a subaccount's own list; None:
    the settings' list); UnknownGroup if there is none."""
    from ..groups import find_opt_out_group

    if name_or_id is None:  # the settings' list
        name_or_id = opt_out_list_name(client.settings)
    text = str(name_or_id).strip()
    if text.isdigit():
        try:
            return client.contacts.get_group(int(text))
        except NotFound as exc:
            raise UnknownGroup(
                f"There is no group with id {text} in account {client.settings.account_id!r}: find "
                "the opt-out group's id with notebook 02, or give its name. Nothing was changed."
            ).answered_by(exc) from None
    lookup = find_opt_out_group(client, text)
    if lookup.group is None:
        raise UnknownGroup(f"{lookup.advice} Nothing was changed.")
    return lookup.group


def bulk_remove(client: Client, path: str | Path, group: str | int, **options: Any) -> BulkRun:
    """Take the file's numbers out of the opt-out group (memberships only; contacts are kept).

    A dry run unless ``apply=True``. Options: column, default_region, country_column, report_path,
    reports_dir, journal_path, chunk_size (1..500), progress.
    """
    return run_bulk(Mode.REMOVE, client, path, group, BulkOptions(**options))


def bulk_add(client: Client, path: str | Path, group: str | int, **options: Any) -> BulkRun:
    """Put the file's numbers into the opt-out group (an opt-out list from another provider).

    Each number's contact is created or merged by ``POST /contacts`` with ``groups``. A dry
    run unless ``apply=True``; the same options as :func:`bulk_remove`.
    """
    return run_bulk(Mode.ADD, client, path, group, BulkOptions(**options))


@dataclass(frozen=True)
class BulkOptions:
    """How a bulk run reads its file and what it does: bulk_remove's and bulk_add's keyword options."""

    column: str | None = None  # the numbers' column; None: found from the header or the values
    default_region: str | None = None  # the country of national numbers
    country_column: str | None = None  # a column with each row's country
    apply: bool = False  # False: a dry run (plan and report only)
    report_path: str | Path | None = None  # None: a new timestamped report in reports_dir
    reports_dir: str | Path | None = None  # None: the project's reports/
    journal_path: str | Path | None = None  # None: in <reports_dir>/journals, named after the run
    chunk_size: int = DEFAULT_CHUNK_SIZE  # numbers per request (1..500)
    progress: bool | Callable = True


def run_bulk(mode: Mode, client: Client, path: str | Path, group: str | int, options: BulkOptions) -> BulkRun:
    # Options first, then the file, then the group: a mistake is reported before anything is sent.
    o = options
    chunk_size = check_chunk_size(o.chunk_size)
    check_distinct(path, {"the report (--report)": o.report_path, "the journal (--journal)": o.journal_path})
    explicit_report = check_writable(Path(o.report_path)) if o.report_path else None
    if o.journal_path:
        check_writable(Path(o.journal_path), "--journal")
    reports_dir = Path(o.reports_dir).resolve() if o.reports_dir else reports_folder()
    opened = open_numbers(path, column=o.column, default_region=o.default_region, country_column=o.country_column)
    target = resolve_group(client, group)
    if mode is Mode.ADD and not target.get("isBlacklist") and not is_subaccount_list(target.get("name", "")):
        raise NotAnOptOutGroup(
            f"Group {target['id']} ({target['name']!r}) is not blacklisted, so its members would "
            "still receive messages: mark it blacklisted (notebook 01), give the opt-out group, or a "
            "subaccount's own list ('Opt-out: <subaccount>'). Nothing was changed."
        )
    stem = re.sub(r"[^\w.-]+", "_", opened.path.stem)[:60]

    def report_file() -> Path:
        return explicit_report or reserve_report(reports_dir, f"bulk-{mode}-{stem}-group{target['id']}")

    if not o.apply:
        plan = make_plan(client, target, opened, mode)
        report_path = report_file()
        write_report(plan.report, report_path)
        return BulkRun(mode, plan, report_path)

    with GroupLock(client, target["id"], f"bulk-{mode} of {opened.path.name}"):
        plan = make_plan(client, target, opened, mode)  # in the lock: no other bulk run changes the group now
        numbers = plan.numbers
        recorded = {
            "column": numbers.column,
            "defaultRegion": o.default_region,
            "countryColumn": o.country_column,
            "chunkSize": chunk_size,
        }
        key = Journal.run_key(numbers.digest, target["id"], mode.value, recorded)
        journal = Journal(
            Path(o.journal_path)
            if o.journal_path
            else Journal.default_path(reports_dir / "journals", f"bulk-{mode}", target["id"], key),
            key,
        )
        report_path = report_file()
        write_report(plan.report, report_path)
        journal.open(
            {
                "mode": mode.value,
                "groupId": target["id"],
                "file": numbers.path.name,
                "sha256": numbers.digest,
                "options": recorded,
                "planned": len(plan.pending),
            }
        )
        work = _remove if mode is Mode.REMOVE else _add
        with changing_the_group("The run"):
            applied = work(client, plan, journal, chunk_size, o.progress)
        journal.record({"type": "finished", "outcomes": applied.counts()})
    write_report(applied.report, report_path)
    return BulkRun(mode, plan, report_path, applied)


def _remove(client: Client, plan: Plan, journal: Journal, chunk_size: int, progress) -> Applied:
    group_id = plan.group["id"]
    report = plan.report
    wanted = {key_of(m) for m in report.loc[report["status"].isin([Status.TO_REMOVE, Status.NOT_IN_GROUP]), "msisdn"]}
    ids = dict(plan.snapshot.keys)  # number key -> contact id
    pending = sorted(key_of(m) for m in plan.pending["msisdn"])
    sent, failed, passes = set(), {}, []
    joined: dict[str, int] = {}
    send = removing(client, group_id, ids)  # ids grows below: numbers that joined meanwhile

    for number in range(1, MAX_PASSES + 1):
        if pending or number == 1:
            refused = send_in_chunks(
                client,
                journal,
                pending,
                chunk_size,
                send,
                pass_number=number,
                progress=progress,
                label=f"Removing memberships (pass {number})",
            )
            sent.update(pending)
            failed.update(refused)
            passes.append(
                {
                    "pass": number,
                    "numbers": len(pending),
                    "chunks": -(-len(pending) // chunk_size),
                    "failed": len(refused),
                }
            )
        final = read_group(client, group_id)
        left = sorted(k for k in wanted if k in final.ever)
        if not left or number == MAX_PASSES:
            break
        for k in left:
            ids[k] = final.ever[k]
            joined.setdefault(k, number + 1)
        pending = left

    report = judge_removal(report, final, sent=sent, earlier=journal.earlier, failed=failed, joined=joined, ids=ids)
    return Applied(report, passes, final, journal)


def _add(client: Client, plan: Plan, journal: Journal, chunk_size: int, progress) -> Applied:
    # One pass only: a number that left the group while this run worked was most likely taken
    # out by an opt-in, which an import must not undo. The check reports it instead.
    group_id = plan.group["id"]
    report = plan.report
    pending = sorted(key_of(m) for m in plan.pending["msisdn"])
    failed = send_in_chunks(
        client,
        journal,
        pending,
        chunk_size,
        adding(client, group_id),
        pass_number=1,
        progress=progress,
        label="Adding to the opt-out group",
    )
    sent = set(pending)
    final = read_group(client, group_id)
    report = judge_addition(report, final, sent=sent, earlier=journal.earlier, failed=failed)
    passes = [{"pass": 1, "numbers": len(pending), "chunks": -(-len(pending) // chunk_size), "failed": len(failed)}]
    return Applied(report, passes, final, journal)
