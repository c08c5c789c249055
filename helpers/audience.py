"""Campaign day: clean an audience file before sending (``python -m helpers audience``).

8x8 applies the blacklist after an hourly sync, and an opt-out lost to a failed call is in no
group at all: checking the file against the opt-out group (and the ledger) right before the
send closes both gaps. The file is read by the bulk reader (every CSV dialect it reads, .xlsx);
the group is read in pages, never per number. Nothing is sent and nothing changes on 8x8.

Written: SEND.csv, the file's own header and rows, in order, for the numbers that may receive
the campaign (a CSV's lines as the file holds them, an Excel sheet's rows as CSV: it goes to the
sending tool, not to a spreadsheet), and a report of every row left out with its reason. SEND.csv
is written to a temporary name and renamed at the end; a stale SEND.csv at that path is removed
first, before 8x8 is called or anything is read (:func:`clear_outputs`), so a list that was not
checked today is never mistaken for one that was; and a file that changed while it was checked
gives no SEND.csv at all.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .bulk.read import open_numbers
from .bulk.records import copy_records, file_digest
from .bulk.run import UnknownGroup, resolve_group
from .bulk.statuses import Status
from .client import Client
from .concurrency import Steps, no_cycle_collection
from .errors import BadFile, BadInput, WorkflowNotDeployed
from .groups import (
    DEFAULT_GROUP_NAME,
    blacklisted_groups,
    find_opt_out_group,
    is_subaccount_list,
    read_group,
    subaccount_list_name,
    who_enforces,
)
from .kept import read_without_number, without_number_path
from .ledger import Ledger, build_ledger
from .numbers import digits_key
from .paths import reports_folder, run_folder, shown
from .reports import check_distinct, check_writable, write_report
from .suppression import Reason, leave_out_reasons


@dataclass(kw_only=True)
class AudienceCheck:
    source: str
    groups: list[tuple[dict, str]]  # each group read, and how the read went
    rows: int
    may_receive: int
    left_out: pd.DataFrame  # row, input, msisdn, reason
    send_path: Path
    report_path: Path | None
    ledger_used: bool
    bsuid_column: str | None = None  # the file's column of WhatsApp BSUIDs, if it has one
    ledger_note: str = ""  # why no ledger was read, when none was
    kept: tuple[int, Path | None] = (0, None)  # opt-outs without a number the health check keeps, and where

    @property
    def exit_code(self) -> int:
        """0: checked; 1: checked, but some rows were invalid (they are in the report)."""
        return 1 if any(reason.startswith(Reason.INVALID) for reason in self.left_out["reason"].unique()) else 0

    def counts(self) -> dict[str, int]:
        kinds: Counter[str] = Counter()  # the few distinct reasons counted first, then their kinds
        for reason, rows in self.left_out["reason"].value_counts(sort=False).items():
            kinds[Reason.kind(reason)] += int(rows)
        return {"may receive": self.may_receive, **{str(k): v for k, v in kinds.most_common()}}

    def values(self) -> dict:
        """The check as named values (helpers.record): rows per outcome, and the left-out rows' reasons."""
        return {
            "rows": self.rows,
            "counts": self.counts(),
            "left_out": dict(zip(self.left_out["row"].astype(int).astype(str), self.left_out["reason"])),
            "ledger_used": self.ledger_used,
            "groups": [int(g["id"]) for g, _ in self.groups],
            "exit_code": self.exit_code,
        }

    def summary(self) -> pd.DataFrame:
        """Rows of the file per outcome (may receive, then each reason), for a chart."""
        counts = self.counts()
        return pd.DataFrame({"rows": list(counts.values())}, index=pd.Index(list(counts), name="outcome"))

    def table(self) -> pd.DataFrame:
        """Every row left out, with its reason (row numbers as in the file, the header being row 1)."""
        return self.left_out.reset_index(drop=True)

    def lines(self) -> list[str]:
        out = [f"Audience {self.source}: {self.rows} row(s)."]
        out += [
            f"Opt-out group {group['id']} ({group['name']!r}) read: {described}. {who_enforces(group['name'])}"
            for group, described in self.groups
        ]
        if not self.ledger_used:
            out.append(
                "No ledger read"
                + (f" ({self.ledger_note})" if self.ledger_note else "")
                + ": opt-outs the group does not hold yet are not known."
            )
        count, kept_path = self.kept
        where = kept_path or Path("opt-outs-without-number.json")
        if count:
            out.append(
                f"{count} WhatsApp opt-out(s) without a phone number, kept by the health check ({where.name} in "
                "the reports folder), checked against the file's BSUID column."
                if self.bsuid_column
                else f"{count} WhatsApp opt-out(s) without a phone number are kept by the health check ({where.name} in "
                "the reports folder), but the file has no BSUID column to find them by (name one with "
                "--bsuid-column)."
            )
        out.append("Plan: " + ", ".join(f"{n} {k}" for k, n in self.counts().items()))
        out.append(
            f"Send list: {shown(self.send_path)} ({self.may_receive} row(s), the file's own columns, in order). "
            "Nothing was sent and nothing changed on 8x8."
        )
        if self.report_path is not None:
            out.append(f"Left out, with reasons: {shown(self.report_path)} ({len(self.left_out)} row(s)).")
        return out


def campaign_ledger(
    client: Client, *, name: str | None = None, hours: float | None = None, use: bool = True
) -> tuple[Ledger | None, str]:
    """The ledger an audience check reads (the opt-out workflows' runs of the last ``hours``), or
    None and why: not asked for, or no workflow of that name deployed (the group alone decides)."""
    if not use:
        return None, "not asked for"
    try:
        return build_ledger(client, name=name, hours=hours), ""
    except WorkflowNotDeployed as exc:
        return None, str(exc)


def audience_groups(client: Client, group: str | int | None = None) -> list[dict]:
    """The groups whose members may not receive a campaign sent from the settings' subaccount:
    ``group`` (default: the account-wide blacklisted group), and this subaccount's own list, where
    each exists. UnknownGroup when ``group`` was named and is not there, or when neither exists."""
    found = []
    try:
        found.append(
            resolve_group(client, group if group is not None else (client.settings.opt_out_group or DEFAULT_GROUP_NAME))
        )
    except UnknownGroup:
        if group is not None:
            raise
    own = find_opt_out_group(client, subaccount_list_name(client.settings.subaccount_id)).group
    if own is not None and all(int(own["id"]) != int(g["id"]) for g in found):
        found.append(own)
    # 8x8 blocks the members of every blacklisted group: the others of the account are checked too
    # (a hand-made "Opt Out" beside the runbook's list), each named in its rows' reason
    for other in blacklisted_groups(client):
        if all(int(other["id"]) != int(g["id"]) for g in found):
            found.append(other)
    if not found:
        raise UnknownGroup(
            f"There is no opt-out group to check against: neither {DEFAULT_GROUP_NAME!r} nor "
            f"{subaccount_list_name(client.settings.subaccount_id)!r} exists. Run notebook 01 (or give "
            "--group). No send list was written."
        )
    return found


def audience_outputs(
    path: str | Path, out: str | Path | None = None, report: str | Path | None = None
) -> tuple[Path, Path]:
    """Where a check of ``path`` writes: ``out`` (default: send-<file>.csv in this run's folder) and
    ``report`` (default: left-out-<file>.csv beside the send list)."""
    stem = Path(path).stem
    send = Path(out) if out is not None else run_folder() / f"send-{stem}.csv"
    return send, Path(report) if report is not None else send.with_name(f"left-out-{stem}.csv")


def clear_outputs(path: str | Path, out: str | Path, report: str | Path | None = None) -> Path | None:
    """The first step of every check of ``path``, before anything can fail on the way: the send list
    ``out`` and the ``report`` checked (not the file read, not one another, writable), and a send
    list left at ``out`` by an earlier check removed, so that a check that fails at any later step
    (a bad file, no network, a wrong key, the ledger's read) leaves no list that could pass for one
    it checked. Answers the report's path. Callers that read 8x8 before :func:`check_audience` (the
    command and notebook 08 read the ledger first) call it first themselves; calling it again is
    harmless."""
    out = Path(out)
    check_distinct(path, {"the send list (--out)": out, "the report (--report)": report})  # before out is removed
    if out.is_dir():
        raise BadInput(f"--out {out} is a folder: give a file name, e.g. {out / 'send.csv'}.")
    try:
        out.unlink(missing_ok=True)  # a stale list must never pass for a checked one
    except OSError as exc:
        raise BadFile(
            f"The send list left at {out} by an earlier check cannot be removed ({exc.strerror or exc}): "
            "remove it, or give another --out, then check again."
        ) from None
    report_path = check_writable(Path(report)) if report is not None else None
    check_writable(out, "--out")
    return report_path


@dataclass(kw_only=True)
class AudienceOptions:
    """How check_audience reads the file, what it weighs, and what it writes: its keyword options."""

    out: str | Path  # the send list to write
    column: str | None = None  # the numbers' column; None: found from the header or the values
    default_region: str | None = None  # the country of national numbers
    country_column: str | None = None  # a column with each row's country
    bsuid_column: str | None = None  # WhatsApp BSUIDs; None: a column named as bulk.read.BSUID_HEADERS, if any
    ledger: Ledger | None = None  # the opt-outs the workflows' runs know (None: the groups alone decide)
    ledger_note: str = ""  # why no ledger was read, when none was
    report: str | Path | None = None  # the rows left out, with reasons (None: no file)
    reports_dir: str | Path | None = None  # the health check's kept files; None: the project's reports/


def check_audience(client: Client, path: str | Path, group: str | int | None = None, **options: Any) -> AudienceCheck:
    """Check an audience file against the opt-out groups (:func:`audience_groups`) and the ledger, and
    write the send list (``options``: :class:`AudienceOptions`). Raises BadInput (nothing written)
    when the file or a group cannot be used. WhatsApp BSUIDs are checked against the opt-outs only the
    ledger knows and the health check's kept list."""
    return _check_audience(client, path, group, AudienceOptions(**options))


@no_cycle_collection()  # a million rows are millions of objects: the collector would walk them again and again
def _check_audience(client: Client, path: str | Path, group: str | int | None, o: AudienceOptions) -> AudienceCheck:
    out, ledger = Path(o.out), o.ledger
    report_path = clear_outputs(path, out, o.report)
    before = _digest_or_none(Path(path))  # the send list copies the file's rows again at the end
    # the file and its options first, then the groups (as bulk work): each mistake said in one run
    opened = open_numbers(
        path,
        column=o.column,
        default_region=o.default_region,
        country_column=o.country_column,
        bsuid_column=o.bsuid_column,
        find_bsuid=True,
    )
    kept_path = without_number_path(o.reports_dir if o.reports_dir is not None else reports_folder(), client.settings)
    kept = {user for user, seen in read_without_number(kept_path).items() if seen.get("channel") == "WhatsApp"}
    groups = audience_groups(client, group)
    reading = Steps(opened.read_in_steps())  # the file is parsed while the first group's pages arrive
    snapshots = [
        (g, read_group(client, int(g["id"]), meanwhile=reading if i == 0 else None)) for i, g in enumerate(groups)
    ]
    numbers = reading.finish()
    members, own_list, others = _members_by_kind(snapshots)
    asked, recent, by_bsuid = _ledger_opt_outs(ledger)
    reasons = _reasons(numbers.rows, members, own_list, asked, recent, by_bsuid | kept, others)
    left_out = numbers.rows.loc[reasons.index, ["row", "input", "msisdn"]].copy()
    left_out["reason"] = reasons
    left_out = left_out.astype(object).where(left_out.notna(), "")

    def last_checks_and_report() -> None:  # the copy read the file again: rows never checked give no list
        if _digest_or_none(Path(path)) != before:
            raise BadFile(
                f"{path} changed while it was being checked, so the send list could hold rows that were "
                "not checked: none was written. Check it again once nothing is writing to it."
            )
        if report_path is not None:
            try:
                write_report(left_out.astype({"reason": "category"}), report_path)  # the few reasons made safe once
            except OSError as exc:
                raise BadFile(
                    f"The report {report_path} could not be written ({exc.strerror or exc}), so no send list "
                    "was written either: free some space or give another --report, then check again."
                ) from None

    may_receive = (
        _write_send_list(
            Path(path), out, set(left_out["row"]), numbers.delimiter, before_it_is_there=last_checks_and_report
        )
        - numbers.has_header
    )
    return AudienceCheck(
        source=numbers.source,
        groups=[(g, snap.describe()) for g, snap in snapshots],
        rows=len(numbers.rows),
        may_receive=may_receive,
        left_out=left_out,
        send_path=out,
        report_path=report_path,
        ledger_used=ledger is not None,
        bsuid_column=numbers.bsuid,
        ledger_note=o.ledger_note,
        kept=(len(kept), kept_path),
    )


def _members_by_kind(snapshots: list) -> tuple[set, set, list[tuple[str, set]]]:
    """(the opt-out group's members, the subaccount list's, each other blacklisted group's), as digit
    keys: a member at any point of the read counts; the opt-out group is first, so its reason wins."""
    members = {
        key
        for i, (g, snap) in enumerate(snapshots)
        if i == 0 and not is_subaccount_list(g["name"])
        for key in snap.ever
    }
    own_list = {key for g, snap in snapshots if is_subaccount_list(g["name"]) for key in snap.ever}
    others = [
        (g["name"], set(snap.ever))
        for i, (g, snap) in enumerate(snapshots)
        if i > 0 and not is_subaccount_list(g["name"])
    ]
    return members, own_list, others


def _ledger_opt_outs(ledger: Ledger | None) -> tuple[set, set, set]:
    """(numbers opted out per the ledger, those in the group within the sync hour, WhatsApp BSUIDs
    opted out), as digit keys; all empty without a ledger."""
    if ledger is None:
        return set(), set(), set()
    recent = {digits_key(n) for n in ledger.rows.loc[ledger.rows["awaiting_sync"].astype(bool), "number"] if n}
    return (
        {digits_key(n) for n in ledger.opted_out_numbers()},
        recent,
        set(ledger.opted_out_channel_users("WhatsApp")),
    )


def _reasons(
    rows: pd.DataFrame,
    members: set,
    own_list: set,
    asked: set,
    recent: set,
    by_bsuid: Collection[str] = frozenset(),
    others: Sequence[tuple[str, set]] = (),
) -> pd.Series:
    """The reason of each row left out (indexed as ``rows``; the others are absent), decided for the
    whole column at once (a million rows: a per-row loop took a second and a half). ``by_bsuid``:
    BSUIDs the ledger has as opted out, for the rows' "bsuid" (when the file has such a column): a
    row that would receive, or has no usable number, is left out for it."""
    valid = (rows["status"] == Status.VALID).to_numpy()
    reason = leave_out_reasons(
        pd.Series(np.where(valid, rows["msisdn"].to_numpy(), None), index=rows.index),
        members=members,
        own_list=own_list,
        asked=asked,
        recent=recent,
    )
    for name, keys in others:  # another blacklisted group of the account: 8x8 blocks its members too
        held = valid & rows["msisdn"].isin({"+" + key for key in keys}).to_numpy()
        reason[held & reason.isna().to_numpy()] = f"{Reason.IN_OTHER_BLACKLIST}: {name!r}"
    for status, label in ((Status.INVALID, Reason.INVALID), (Status.DUPLICATE, Reason.DUPLICATE)):
        which = (rows["status"] == status).to_numpy()
        reason[which] = [f"{label}: {why}" for why in rows["reason"].to_numpy()[which]]
    if by_bsuid and "bsuid" in rows:
        opted_out = rows["bsuid"].isin(by_bsuid).to_numpy()
        reason[opted_out & (reason.isna().to_numpy() | (rows["status"] == Status.INVALID).to_numpy())] = (
            Reason.BSUID_ONLY
        )
    return reason.dropna()


def _digest_or_none(path: Path) -> str | None:
    try:
        return file_digest(path)
    except OSError:  # no such file, or unreadable: open_numbers says so, as BadFile
        return None


def _write_send_list(
    path: Path, out: Path, left_out_rows: set[int], delimiter: str | None, *, before_it_is_there: Callable[[], None]
) -> int:
    """The file's header and every row not left out, in order, as the file holds them; answers the
    rows written (the header not counted). Written under a name of its own run's (two checks
    writing the same --out never mix their rows), and ``out`` appears, whole, only after
    ``before_it_is_there`` (the last checks, the report) has passed: a send list that exists was
    checked, also when the run is killed or the disk fills up on the way."""
    fd, partial = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            written = copy_records(path, handle, left_out_rows, delimiter)
        before_it_is_there()
        os.replace(partial, out)
    finally:
        Path(partial).unlink(missing_ok=True)
    return written
