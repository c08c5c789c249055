"""Stage 3, apply: change the group in chunks, one run per group at a time, journaled.

The journal is a run's own record (one JSON object a line, fsynced): which file (its
sha256), which group, which options, the plan, each chunk as it is sent and as it ends. A
run killed at any point leaves it readable. The same command run again (same file content,
group and options) resumes it: the group is planned again, so what the killed run already
did is not sent twice, and the journal says which rows this run's work changed. A finished
journal is archived and never resumed; a journal of another file, group or options is never
used (an explicit ``--journal`` of another run is refused).

Only one run per group at a time: :class:`GroupLock` holds an exclusive ``flock`` on a file
named after the platform, the account and the group, so a second run, from any folder, is
refused (and a killed run's lock goes with its process).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ..client import Client
from ..concurrency import ExclusiveLock
from ..errors import (
    APIError,
    BadFile,
    BadInput,
    BadRequest,
    EightByEightError,
    NotFound,
    RateLimited,
    RunInProgress,
    RunInterrupted,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
)
from ..reports import private_open
from .check import key_of

DEFAULT_CHUNK_SIZE = 500  # 8x8's largest membership request
# Errors that say the platform or the key is unusable right now: the run stops (and resumes later)
# instead of marking every remaining chunk failed. A 5xx that outlived the retries fails its chunk
# only: the check finds those numbers still in the group and the next pass sends them again.
SYSTEMIC = (TransportError, Unauthorized, RateLimited, UnexpectedResponse)


def check_chunk_size(chunk_size: object) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= DEFAULT_CHUNK_SIZE:
        # Checked before anything is read or sent: 0 or a negative size once "removed" nothing, exit 0.
        raise BadInput(
            f"--chunk-size must be a whole number from 1 to {DEFAULT_CHUNK_SIZE} "
            f"(8x8's largest membership request), not {chunk_size!r}; nothing was changed."
        )
    return chunk_size


# --- one run per group ---------------------------------------------------------------------


class GroupLock(ExclusiveLock):
    """One run at a time on one group of one account of one platform."""

    def __init__(self, client: Client, group_id: int, what: str):
        super().__init__(f"{client.base_urls['contacts']}|{client.settings.account_id}", f"group{int(group_id)}", what)
        self.group_id = group_id

    def refusal(self, holder: str) -> RunInProgress:
        return RunInProgress(
            f"Another bulk run is working on group {self.group_id} ({holder}). One run per "
            "group at a time: wait for it to finish, then run this again. Nothing was changed "
            "by this run."
        )


# --- the journal ---------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    """The record of one run, appended as it happens."""

    def __init__(self, path: Path, key: str):
        self.path = path
        self.key = key
        self.resumed = False
        self.archived: Path | None = None
        self.earlier: set[str] = set()  # numbers (as digit keys) the interrupted attempts sent
        self._lock = threading.Lock()  # chunks in flight at once append from several threads

    @staticmethod
    def run_key(digest: str, group_id: int, mode: str, options: dict) -> str:
        """What identifies one run: the file's content, the group, the mode and the reading options."""
        return hashlib.sha256(json.dumps([digest, int(group_id), mode, options], sort_keys=True).encode()).hexdigest()

    @classmethod
    def default_path(cls, folder: Path, work: str, group_id: int, key: str) -> Path:
        """``<folder>/<work>-group<id>-<key>.jsonl``, e.g. bulk-remove-group11001-2cc328c78c48eeaa.jsonl."""
        return folder / f"{work}-group{int(group_id)}-{key[:16]}.jsonl"

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut by the interruption
        return out

    def open(self, header: dict) -> Journal:
        """Resume this run's unfinished journal, or start a new one (archiving a finished one)."""
        entries = self.entries()
        if entries:
            first = entries[0]
            if first.get("type") != "run" or first.get("key") != self.key:
                raise BadFile(
                    f"The journal {self.path} belongs to another run (another file, group or options). "
                    "Give another --journal (or none), or move that file away. Nothing was changed."
                )
            if any(e.get("type") == "finished" for e in entries):
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                self.archived = self.path.with_name(f"{self.path.stem}.finished-{stamp}{self.path.suffix}")
                self.path.rename(self.archived)
            else:
                self.resumed = True
                for e in entries:
                    if e.get("type") in ("sending", "done"):
                        self.earlier.update(e["items"])
                self.record({"type": "resume", "at": _now(), "pid": os.getpid()})
                return self
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._append({"type": "run", "key": self.key, "at": _now(), "pid": os.getpid(), **header}, fresh=True)
        return self

    def record(self, entry: dict) -> None:
        # "sending" lines are written but not forced to disk: one lost in a crash costs nothing, as
        # the next run plans from the group; every other line is fsynced before the run goes on.
        self._append(entry, durable=entry.get("type") != "sending")

    def _append(self, entry: dict, fresh: bool = False, durable: bool = True) -> None:
        with self._lock, private_open(self.path, "w" if fresh else "a") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            if durable:
                os.fsync(handle.fileno())


# --- chunks ----------------------------------------------------------------------------------


def remove_chunk(client: Client, group_id: int, contact_ids: list[int]) -> dict[int, str]:
    """Remove one chunk of memberships (never the contacts). Returns {contact id: reason} of failures.

    A chunk refused for its content (404: a contact deleted meanwhile; 400) is retried contact by
    contact to isolate the bad one; a 5xx fails the chunk; errors that make the platform unusable
    (no answer, a refused key, rate limiting) are raised and stop the run.
    """
    try:
        client.contacts.remove_from_group(group_id, contact_ids)
        return {}
    except SYSTEMIC:
        raise
    except (NotFound, BadRequest) as exc:
        if len(contact_ids) == 1:
            reason = "contact not found (deleted meanwhile?)" if isinstance(exc, NotFound) else f"BadRequest: {exc}"
            return {contact_ids[0]: reason}
    except APIError as exc:
        return {cid: f"{type(exc).__name__}: {exc}" for cid in contact_ids}
    failed: dict[int, str] = {}
    for cid in contact_ids:
        failed.update(remove_chunk(client, group_id, [cid]))
    return failed


def add_chunk(client: Client, group_id: int, msisdns: list[str]) -> dict[str, str]:
    """Create or merge each number's contact into the group (POST /contacts with ``groups``).

    Per number rather than 8x8's batch upload: each answer says at once whether that number
    is in, and a batch job reports only its own status, not each row's.
    """
    failed: dict[str, str] = {}
    for msisdn in msisdns:
        try:
            client.contacts.upsert_contact(msisdn, group_ids=[group_id])
        except SYSTEMIC:
            raise
        except APIError as exc:
            failed[msisdn] = f"{type(exc).__name__}: {exc}"
    return failed


def adding(client: Client, group_id: int) -> Callable[[list[str]], dict]:
    """The chunk sender of additions (numbers as digit keys; create-or-merge each contact into the
    group): a chunk in, its refused keys out, with their reasons. Bulk import and reconcile share it."""

    def send(chunk: list[str]) -> dict:
        return {key_of(m): reason for m, reason in add_chunk(client, group_id, ["+" + k for k in chunk]).items()}

    return send


def removing(client: Client, group_id: int, ids: dict[str, int]) -> Callable[[list[str]], dict]:
    """The chunk sender of removals (memberships only; ``ids``: digit key -> contact id, read from the
    group and updated by the caller between passes): its refused keys out, with their reasons."""

    def send(chunk: list[str]) -> dict:
        refused = remove_chunk(client, group_id, [ids[k] for k in chunk])
        key_for = {ids[k]: k for k in chunk}
        return {key_for[cid]: reason for cid, reason in refused.items()}

    return send


@contextmanager
def changing_the_group(what: str) -> Iterator[None]:
    """Work that changes a group: any failure once it began is a RunInterrupted ("{what} stopped
    after changing the group"), which the same command resumes from its journal."""
    try:
        yield
    except RunInterrupted:
        raise
    except EightByEightError as exc:  # e.g. the check could not read the group back: changes were made
        raise RunInterrupted(f"{what} stopped after changing the group: {exc}").answered_by(exc) from exc


def send_in_chunks(
    client: Client,
    journal: Journal,
    items: list,
    chunk_size: int,
    send: Callable[[list], dict],
    *,
    label: str,
    pass_number: int,
    progress: bool = True,
) -> dict:
    """Send ``items`` in chunks, up to ``client.parallel`` at once, journaling each chunk when it
    is sent and when it ends. Returns {item: reason} of failures.

    A kill leaves at most the chunks in flight without their "done" line; the next run plans
    from the group as it is, so none of them is sent again unless the group still needs it.
    """
    failed: dict = {}
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    bar = _progress(progress, total=len(chunks), desc=label)

    def one(numbered: tuple[int, list]) -> tuple[int, list, dict | Exception]:
        index, chunk = numbered
        journal.record({"type": "sending", "pass": pass_number, "chunk": index, "items": chunk})
        try:
            return index, chunk, send(chunk)
        except EightByEightError as exc:  # the run stops; chunks already in flight finish first
            return index, chunk, exc

    try:
        for index, chunk, outcome in client.in_parallel(one, enumerate(chunks)):
            if isinstance(outcome, Exception):
                journal.record(
                    {
                        "type": "interrupted",
                        "pass": pass_number,
                        "chunk": index,
                        "at": _now(),
                        "reason": f"{type(outcome).__name__}: {outcome}",
                    }
                )
                raise RunInterrupted(
                    f"The run stopped at chunk {index + 1} of {len(chunks)} (pass {pass_number}): {outcome}"
                ) from None
            failed.update(outcome)
            journal.record(
                {
                    "type": "done",
                    "pass": pass_number,
                    "chunk": index,
                    "items": chunk,
                    "failed": {str(k): v for k, v in outcome.items()},
                }
            )
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return failed


def _progress(progress, total: int, desc: str):
    if progress is False or not total:
        return None
    if callable(progress):
        return progress(total=total, desc=desc)
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="chunk", desc=desc)
