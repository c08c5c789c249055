"""Bulk removal from the opt-out group, from a CSV file of numbers.

1. read: any common CSV (comma, semicolon or tab; UTF-8 with or without BOM; header found or
   named), numbers normalised to E.164. Bad rows are reported with row number and reason;
   duplicates collapse. A bad file raises :class:`BadFile` and changes nothing.
2. plan (the default, a dry run): page the group's members once and join in pandas:
   to remove, not in group, invalid, duplicate.
3. apply (only when asked): remove memberships in chunks (DELETE .../groups/{id}/contacts,
   never deleting a contact), journaled so that an interrupted run resumes where it stopped;
   then read the group again to confirm every planned number is out.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from .client import Client
from .errors import EightByEightError, NotFound
from .groups import members_by_number
from .numbers import InvalidNumber, digits_key, looks_like_number, to_e164

DEFAULT_CHUNK_SIZE = 500
NUMBER_HEADERS = ("msisdn", "phone", "phone_number", "phonenumber", "mobile", "number", "tel", "telephone",
                  "whatsapp", "cell", "contact")
COUNTRY_HEADERS = ("country", "country_code", "countrycode", "region", "iso_country")
REPORT_COLUMNS = ["row", "input", "msisdn", "status", "contact_id", "reason", "outcome"]


class BadFile(ValueError):
    """The file cannot be read as a list of numbers; nothing was changed (exit code 2)."""


@dataclass
class Numbers:
    """What a CSV file holds: one row per input row, with its status after reading."""
    rows: pd.DataFrame  # row, input, msisdn, status (valid, invalid, duplicate), reason
    column: str
    delimiter: str
    has_header: bool

    @property
    def valid(self) -> pd.DataFrame:
        return self.rows[self.rows["status"] == "valid"]

    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.rows["status"].value_counts().items()}


def _decode(data: bytes, path: Path) -> str:
    if not data.strip():
        raise BadFile(f"{path} is empty: expected a CSV file with a column of phone numbers.")
    if b"\x00" in data[:65536]:
        raise BadFile(f"{path} looks binary (it contains NUL bytes): export it as CSV (UTF-8) and try again.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(f"{path} is not UTF-8 text (byte {exc.start}): save it as CSV UTF-8 and try again.") from None


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",;\t"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_numbers(path: str | Path, *, column: str | None = None, default_region: str | None = None,
                 country_column: str | None = None) -> Numbers:
    """Read and normalise the numbers of a CSV file. Raises BadFile for a file that cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise BadFile(f"{path} does not exist.")
    text = _decode(path.read_bytes(), path)
    delimiter = _sniff_delimiter(text)
    records = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    numbered = [(i + 1, r) for i, r in enumerate(records) if any(cell.strip() for cell in r)]
    if not numbered:
        raise BadFile(f"{path} has no rows.")
    first = [c.strip() for c in numbered[0][1]]
    has_header = column is not None or not any(looks_like_number(c) for c in first)
    header = [c.lower() for c in first] if has_header else []
    body = numbered[1:] if has_header else numbered
    width = max(len(r) for _, r in numbered)

    if column is not None:
        if column.lower() not in header:
            raise BadFile(f"{path} has no column {column!r}; its columns are: {', '.join(first)}.")
        index = header.index(column.lower())
    else:
        index = _find_number_column(header, body, width, path)
    country_index = None
    if country_column is not None:
        if country_column.lower() not in header:
            raise BadFile(f"{path} has no column {country_column!r}; its columns are: {', '.join(first)}.")
        country_index = header.index(country_column.lower())
    elif has_header:
        country_index = next((header.index(h) for h in COUNTRY_HEADERS if h in header), None)

    rows, seen = [], set()
    for line, record in body:
        raw = record[index].strip() if index < len(record) else ""
        region = record[country_index].strip() if country_index is not None and country_index < len(record) else ""
        region = region or default_region
        try:
            msisdn = to_e164(raw, region or None)
        except InvalidNumber as exc:
            rows.append((line, raw, None, "invalid", f"{exc}" if raw else "no number in this row"))
            continue
        if msisdn in seen:
            rows.append((line, raw, msisdn, "duplicate", "same number as an earlier row"))
        else:
            seen.add(msisdn)
            rows.append((line, raw, msisdn, "valid", ""))
    frame = pd.DataFrame(rows, columns=["row", "input", "msisdn", "status", "reason"])
    if body and not (frame["status"] != "invalid").any():
        raise BadFile(f"{path}: no row of column {first[index] if has_header else index + 1!r} holds a valid phone "
                      "number. Name the column with --column, or give --default-region for national numbers.")
    name = first[index] if has_header else f"column {index + 1}"
    return Numbers(frame, name, delimiter, has_header)


def _find_number_column(header: list[str], body, width: int, path: Path) -> int:
    for name in NUMBER_HEADERS:
        if name in header:
            return header.index(name)
    sample = body[:1000]
    scores = [sum(looks_like_number(r[i]) for _, r in sample if i < len(r)) for i in range(width)]
    best = max(range(width), key=lambda i: scores[i]) if width else 0
    if not sample or scores[best] < max(1, len(sample) // 2):
        raise BadFile(f"{path}: found no column of phone numbers. Name it with --column "
                      f"(columns: {', '.join(header) or 'none'}).")
    return best


# --- planning ---------------------------------------------------------------------------

def summarise(report: pd.DataFrame) -> pd.DataFrame:
    """Rows per plan status, in a fixed order (for tables and charts)."""
    order = ["to remove", "not in group", "duplicate", "invalid"]
    counts = report["status"].value_counts()
    return pd.DataFrame({"rows": [int(counts.get(s, 0)) for s in order]}, index=pd.Index(order, name="status"))


@dataclass
class Plan:
    group: dict
    numbers: Numbers
    report: pd.DataFrame  # REPORT_COLUMNS
    member_ids: set = field(default_factory=set)  # every member when the plan was made

    @property
    def to_remove(self) -> pd.DataFrame:
        return self.report[self.report["status"] == "to remove"]

    def summary(self) -> pd.DataFrame:
        return summarise(self.report)


def plan_removal(client: Client, group: dict, numbers: Numbers) -> Plan:
    members, everyone = members_by_number(client, group["id"])
    members = members.drop_duplicates("key")
    report = numbers.rows.copy()
    report["key"] = report["msisdn"].map(lambda m: digits_key(m) if isinstance(m, str) else None).astype("string")
    report = report.merge(members, on="key", how="left").drop(columns="key")
    valid = report["status"] == "valid"
    report.loc[valid & report["contact_id"].notna(), "status"] = "to remove"
    report.loc[valid & report["contact_id"].isna(), "status"] = "not in group"
    report["contact_id"] = report["contact_id"].astype("Int64")
    report["outcome"] = ""
    return Plan(group, numbers, report[REPORT_COLUMNS].sort_values("row", ignore_index=True), everyone)


# --- applying ---------------------------------------------------------------------------

class Journal:
    """An append-only record of a removal run: the planned chunks, then each chunk done.

    One JSON object a line, flushed and fsynced after each chunk, so a run killed at any
    point leaves a readable journal (a half-written last line is ignored). On resume the
    chunks already done are skipped; the one in flight at the kill is sent again, which is
    harmless (removing a contact that is no longer a member changes nothing).
    """

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> tuple[dict | None, set[int], dict[int, str]]:
        if not self.path.exists():
            return None, set(), {}
        header, done, failed = None, set(), {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by the interruption
            if entry.get("type") == "plan":
                header = entry
            elif entry.get("type") == "done":
                done.add(entry["chunk"])
            elif entry.get("type") == "failed":
                failed[entry["chunk"]] = entry["reason"]
        return header, done, failed

    def start(self, header: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._append({"type": "plan", **header}, mode="w")

    def record(self, entry: dict) -> None:
        self._append(entry)

    def _append(self, entry: dict, mode: str = "a") -> None:
        with open(self.path, mode, encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


@dataclass
class ApplyResult:
    report: pd.DataFrame
    chunks_total: int
    chunks_sent: int
    chunks_skipped: int
    resumed: bool
    messages: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.report["outcome"].replace("", pd.NA).dropna().value_counts().items()}

    @property
    def failed_rows(self) -> int:
        return int(self.report["outcome"].isin(["failed", "still in group"]).sum()) + int(
            (self.report["status"] == "invalid").sum())


def run_key(path: Path, group_id: int, column: str, default_region: str | None, chunk_size: int) -> str:
    """What identifies one removal run: the file's bytes, the group and the reading options."""
    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(json.dumps([group_id, column, default_region, chunk_size]).encode())
    return digest.hexdigest()


def apply_plan(client: Client, plan: Plan, journal: Journal, key: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
               progress: bool | Callable = True, stop_after_chunks: int | None = None) -> ApplyResult:
    """Remove the planned memberships in chunks, resuming from the journal, then verify."""
    group_id = plan.group["id"]
    header, done, failed = journal.load()
    resumed = header is not None and header.get("key") == key
    report = plan.report.copy()
    if resumed:
        chunks = header["chunks"]
        # Re-planning after the interruption sees the rows already removed as 'not in group';
        # the journal keeps the original plan, so they count as planned (and removed) again.
        planned = {int(row): cid for row, cid in header["planned"]}
        again = report["row"].isin(list(planned))
        report.loc[again, "status"] = "to remove"
        report.loc[again, "contact_id"] = report.loc[again, "row"].map(planned).astype("Int64")
    else:
        ids = sorted(int(i) for i in plan.to_remove["contact_id"].unique())
        chunks = [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]
        planned = [[int(r), int(c)] for r, c in zip(plan.to_remove["row"], plan.to_remove["contact_id"])]
        journal.start({"key": key, "groupId": group_id, "chunkSize": chunk_size, "chunks": chunks,
                       "planned": planned})
        done, failed = set(), {}
    todo = [i for i in range(len(chunks)) if i not in done]
    bar = _progress(progress, total=len(chunks), initial=len(chunks) - len(todo))
    sent = 0
    removed_now: set[int] = set()
    try:
        for index in todo:
            if stop_after_chunks is not None and sent >= stop_after_chunks:
                break  # tests: an interruption at a chunk boundary
            reason = _remove_chunk(client, group_id, chunks[index])
            sent += 1
            if reason:
                failed[index] = reason
                journal.record({"type": "failed", "chunk": index, "reason": reason})
            else:
                journal.record({"type": "done", "chunk": index, "contacts": len(chunks[index])})
                done.add(index)
                removed_now.update(chunks[index])
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    chunk_of = {cid: i for i, chunk in enumerate(chunks) for cid in chunk}
    still, note = _verify(client, group_id, plan, chunks, done, removed_now)
    report["outcome"] = [
        _outcome(status, cid, still, chunk_of, failed, done) for status, cid in zip(report["status"], report["contact_id"])]
    report["reason"] = [
        failed.get(chunk_of.get(int(cid)), reason) if outcome == "failed" and pd.notna(cid) else reason
        for reason, cid, outcome in zip(report["reason"], report["contact_id"], report["outcome"])]
    return ApplyResult(report, len(chunks), sent, len(chunks) - len(todo), resumed, [note])


def _verify(client: Client, group_id: int, plan: Plan, chunks, done: set, removed_now: set) -> tuple[set, str]:
    """Which planned contacts are still members, read from 8x8 after the removals.

    One read of the group's member count settles it when the count is what the removals
    should have left. If it is not (someone else changed the group meanwhile, or a removal
    did not take), every member is read again and checked one by one.
    """
    planned = {cid for chunk in chunks for cid in chunk}
    not_done = {cid for i, chunk in enumerate(chunks) if i not in done for cid in chunk}
    expected = len(plan.member_ids - (removed_now & plan.member_ids))
    actual = client.contacts.get_group(group_id)["contacts"]
    if actual == expected:
        return not_done, f"Verified: the group has {actual} member(s), as the removals should leave it."
    _, everyone = members_by_number(client, group_id)
    return everyone & planned, (f"The group has {actual} member(s), {expected} expected: every member was read "
                                "again to check each planned removal.")


def _outcome(status: str, cid, still: set, chunk_of: dict, failed: dict, done: set) -> str:
    if status != "to remove":
        return {"not in group": "nothing to do", "duplicate": "duplicate", "invalid": "invalid"}.get(status, "")
    cid = int(cid)
    if cid in still:
        return "failed" if chunk_of.get(cid) in failed else ("not yet done" if chunk_of.get(cid) not in done
                                                              else "still in group")
    return "removed"


def _remove_chunk(client: Client, group_id: int, contact_ids: list[int]) -> str | None:
    """Remove one chunk; a chunk refused as a whole is retried contact by contact to isolate the bad one."""
    try:
        client.contacts.remove_from_group(group_id, contact_ids)
        return None
    except NotFound:
        if len(contact_ids) == 1:
            return "contact not found (deleted meanwhile?)"
    except EightByEightError as exc:
        return f"{type(exc).__name__}: {exc}"
    reasons = [f"{cid}: {reason}" for cid in contact_ids if (reason := _remove_chunk(client, group_id, [cid]))]
    return "; ".join(reasons) or None


def _progress(progress, total: int, initial: int):
    if progress is False:
        return None
    if callable(progress):
        return progress(total=total, initial=initial)
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="chunk", desc="Removing memberships")


def write_report(report: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    report.to_csv(path, index=False)
    return path


def resolve_group(client: Client, name_or_id: str) -> dict:
    """A group by id (digits) or by exact name (the blacklisted one)."""
    from .groups import find_opt_out_group

    if str(name_or_id).isdigit():
        return client.contacts.get_group(int(name_or_id))
    lookup = find_opt_out_group(client, str(name_or_id))
    if lookup.group is None:
        raise LookupError(lookup.advice)
    return lookup.group


@dataclass
class BulkRun:
    plan: Plan
    report_path: Path
    journal_path: Path
    applied: ApplyResult | None = None

    @property
    def report(self) -> pd.DataFrame:
        return self.applied.report if self.applied else self.plan.report

    @property
    def exit_code(self) -> int:
        """0: every row done (or nothing to do); 1: some rows invalid or failed."""
        if self.applied is not None:
            return 1 if self.applied.failed_rows else 0
        return 1 if (self.plan.report["status"] == "invalid").any() else 0

    def lines(self) -> list[str]:
        # From this run's report: on a resume, rows removed before the interruption count as planned.
        counts = summarise(self.report)["rows"].to_dict()
        out = [f"Group {self.plan.group['id']} ({self.plan.group['name']!r}); numbers from column "
               f"{self.plan.numbers.column!r}, delimiter {self.plan.numbers.delimiter!r}.",
               "Plan: " + ", ".join(f"{n} {status}" for status, n in counts.items())]
        if self.applied is None:
            out.append(f"Dry run: nothing was changed. Add --apply (or press Apply) to remove "
                       f"{counts['to remove']} membership(s); contacts are never deleted.")
        else:
            a = self.applied
            out.append(f"Applied: {a.chunks_sent} chunk(s) sent, {a.chunks_skipped} already done"
                       f"{' (resumed from the journal)' if a.resumed else ''}; outcome: "
                       + ", ".join(f"{n} {k}" for k, n in a.counts().items()))
            out += a.messages
        invalid = self.plan.report[self.plan.report["status"] == "invalid"]
        for _, row in invalid.head(20).iterrows():
            out.append(f"  row {row['row']}: {row['input']!r}: {row['reason']}")
        if len(invalid) > 20:
            out.append(f"  ... and {len(invalid) - 20} more invalid rows (see the report)")
        from .runbook import shown

        out.append(f"Report: {shown(self.report_path)}")
        return out


def default_report_path(csv_path: Path, group_id: int) -> Path:
    """reports/ in the current folder: the same command run again finds its journal there."""
    return Path("reports").resolve() / f"bulk-remove-{Path(csv_path).stem}-group{group_id}.csv"


def bulk_remove(client: Client, csv_path: str | Path, group: str | int, *, column: str | None = None,
                default_region: str | None = None, country_column: str | None = None, apply: bool = False,
                report_path: str | Path | None = None, journal_path: str | Path | None = None,
                chunk_size: int = DEFAULT_CHUNK_SIZE, progress: bool | Callable = True) -> BulkRun:
    """Read, plan, and (only with ``apply``) remove; the report CSV is written in both cases."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= DEFAULT_CHUNK_SIZE:
        # Checked before anything is read or sent: 0 or a negative size once "removed" nothing, exit 0.
        raise BadFile(f"--chunk-size must be a whole number from 1 to {DEFAULT_CHUNK_SIZE} "
                      f"(8x8's page size), not {chunk_size!r}; nothing was changed.")
    csv_path = Path(csv_path)
    numbers = read_numbers(csv_path, column=column, default_region=default_region, country_column=country_column)
    target = resolve_group(client, str(group))
    plan = plan_removal(client, target, numbers)
    report_path = Path(report_path) if report_path else default_report_path(csv_path, target["id"])
    journal_path = Path(journal_path) if journal_path else report_path.with_suffix(".journal.jsonl")
    run = BulkRun(plan, report_path, journal_path)
    if apply:
        key = run_key(csv_path, target["id"], numbers.column, default_region, chunk_size)
        run.applied = apply_plan(client, plan, Journal(journal_path), key, chunk_size=chunk_size, progress=progress)
    write_report(run.report, report_path)
    return run
