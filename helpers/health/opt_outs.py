"""3. Lost opt-outs since the last check: the checkpoint, the rows kept open, the opt-outs kept
without a number, and their repair."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..client import Client
from ..errors import BadInput, EightByEightError
from ..kept import read_without_number, store_key, without_number_path
from ..ledger import (
    CANARY_NUMBERS,
    REPAIRS,
    Action,
    BadWindow,
    Ledger,
    Matched,
    iso,
    latest_words,
    make_window,
    parse_time,
)
from ..reports import write_private_json
from ..text import some_of
from .report import CheckOptions, Finding, HealthReport

if TYPE_CHECKING:  # for annotations only
    from ..config import Settings


def checkpoint_name(settings: Settings) -> str:
    """One checkpoint per platform, account and subaccount: each has its own workflows, runs and list
    (one of an earlier version, named by subaccount alone, is left unread: the first check reads a week)."""
    return f"check-checkpoint-{store_key(settings)}.json"


# --- 3. lost opt-outs since the last check ------------------------------------------------------


@dataclass
class Checkpoint:
    """Where the next check's window starts, and when read-backs first saw numbers in the group."""

    path: Path
    next_start: str | None = None
    seen_in_group: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise EightByEightError(
                f"the checkpoint {path} cannot be read ({exc}): delete it, and give --hours for the window to check"
            ) from None
        return cls(path, data.get("nextStart"), dict(data.get("seenInGroup") or {}))

    def save(self) -> None:
        write_private_json(self.path, {"nextStart": self.next_start, "seenInGroup": self.seen_in_group})


def check_opt_outs(client: Client, options: CheckOptions, report: HealthReport, reports_dir: Path) -> None:
    from ..reconcile import reconcile

    checkpoint = Checkpoint.load(reports_dir / checkpoint_name(client.settings))
    since = options.since
    from_checkpoint = since is None and options.hours is None and bool(checkpoint.next_start)
    if from_checkpoint:
        since = checkpoint.next_start
    try:
        window = make_window(client, hours=options.hours, since=since)
    except BadWindow:
        if not from_checkpoint:
            raise
        # A window that starts after the platform's now: the checkpoint was written against another
        # clock (a sandbox reset or run deterministic shares the subaccount's name). Never an empty window.
        raise BadWindow(
            f"the checkpoint {checkpoint.path} says the next window starts at {since}, after the platform's "
            "time now: it was written against another clock (a sandbox reset, or run deterministic). Delete "
            "it, or give --hours for the window to check, then check again."
        ) from None
    result = reconcile(
        client,
        name=options.name,
        window=window,
        apply=options.apply,
        reports_dir=reports_dir,
        seen_in_group=checkpoint.seen_in_group,
        canary_numbers=set(CANARY_NUMBERS.values()),
        read_confirmations=True,
    )
    report.window = window.describe()
    report.repaired = dict(result.repaired)
    if result.repaired:
        report.findings.append(
            Finding(
                "opt-outs",
                True,
                "repaired: "
                + ", ".join(f"{n} {what}" for what, n in result.repaired.items())
                + " (each read back from the group).",
            )
        )
    # before the checkpoint moves past them: the opt-outs no group can hold, kept (BadInput: nothing moves)
    kept_path = without_number_path(reports_dir, client.settings)
    kept, new = keep_without_number(kept_path, result.ledger)
    report.findings += _opt_out_findings(result.ledger, kept, new)
    kept_findings, kept_open = _kept_open_rows(client, result.ledger, reports_dir, options.apply)
    report.findings += kept_findings
    report.findings += _other_flows_findings(result)
    kept_open += len(result.still_lost_elsewhere)
    _measure(report, result.ledger)
    report.lost = (report.lost or 0) + kept_open
    _advance(checkpoint, result.ledger, window)


# --- rows still open whose runs 8x8 no longer lists ------------------------------------------------
# The ledger reads the runs of the workflows deployed now. A workflow deleted in the UI (then
# redeployed) takes its runs with it: a lost opt-out of its runs left the ledger, the checkpoint moved
# on, and the next check said "none lost". Each row that needs a repair is kept here until the group
# shows it done (or a later message of the same number decides it), whatever happens to its workflow.


def open_rows_path(reports_dir: Path, settings: Settings) -> Path:
    return Path(reports_dir) / f"open-opt-outs-{store_key(settings)}.json"


def _kept_open_rows(client: Client, ledger, reports_dir: Path, apply: bool) -> tuple[list[Finding], int]:
    """Keep the ledger's open rows; judge those the ledger no longer sees by reading the group (and, with
    ``apply``, repair them, read back). Answers the findings about the rows the ledger does not show, and
    how many of them are still open."""
    from ..kept import read_without_number

    path = open_rows_path(reports_dir, client.settings)
    kept = read_without_number(path)  # the same owner-readable JSON of dicts (BadInput when unreadable)
    rows = ledger.rows[
        ledger.rows["number"].ne("")
        & ledger.rows["matched"].isin(["opt-out", "opt-in"])
        & ledger.rows["action"].ne(Action.TEST.value)
    ]
    decided = set(rows["number"])  # the ledger judges these itself now
    kept = {n: r for n, r in kept.items() if n not in decided}
    unseen = dict(kept)
    for _, row in ledger.needing(*REPAIRS).iterrows():
        kept[row["number"]] = {
            "action": row["action"],
            "time": row["time"],
            "channel": row["channel"],
            "groupId": int(row["group_id"]),
            "workflowId": row["workflow_id"],
        }
    findings, still, repaired = [], [], []
    for number, row in unseen.items():
        try:
            state = _judge_kept(client, number, row, apply)
        except EightByEightError as exc:  # one row's trouble never stops the check: said, and kept
            state = f"could not be read ({exc})"
        if state == "resolved":
            kept.pop(number)
        elif state == "repaired":
            kept.pop(number)
            repaired.append(number)
        else:
            still.append(
                f"{number} ({row.get('action', '?')}, {row.get('time', '?')}{'; ' + state if state != 'open' else ''})"
            )
    if repaired:
        findings.append(
            Finding(
                "opt-outs",
                True,
                f"repaired {len(repaired)} row(s) whose runs 8x8 no longer lists: "
                f"{', '.join(repaired[:5])} (each read back from the group).",
            )
        )
    if still:
        findings.append(
            Finding(
                "opt-outs",
                False,
                f"{len(still)} open row(s) whose runs 8x8 no longer lists (their "
                "workflow deleted, renamed or redeployed since): " + some_of(still, sep="; ") + ".",
                "python -m helpers check --apply",
            )
        )
    if kept or path.exists():
        write_private_json(path, kept)
    return findings, len(still)


def _judge_kept(client: Client, number: str, row: dict, apply: bool) -> str:
    """'resolved' when the group already shows the repair done, 'repaired' when ``apply`` did it (read
    back), else 'open'."""
    from ..bulk.apply import GroupLock, add_chunk
    from ..suppression import member_ids

    group_id, adding = int(row["groupId"]), row.get("action") == Action.ADD.value
    member = bool(member_ids(client, group_id, number))
    if member == adding:
        return "resolved"
    if not apply:
        return "open"
    with GroupLock(client, group_id, "reconcile"):
        if adding:
            refused = add_chunk(client, group_id, [number])
            if refused:
                return f"repair refused: {next(iter(refused.values()))}"
        else:
            ids = member_ids(client, group_id, number)
            if ids:
                client.contacts.remove_from_group(group_id, ids)  # the membership only, never the contact
    return "repaired" if bool(member_ids(client, group_id, number)) == adding else "open"


def _other_flows_findings(result) -> list[Finding]:
    """What the reconciliation found and recovered of the STOPs other opt-out flows lost."""
    findings = []
    if result.recovered_elsewhere:
        findings.append(
            Finding(
                "opt-outs",
                True,
                f"recovered {len(result.recovered_elsewhere)} STOP(s) lost by other "
                "opt-out flows, each read back from the group: "
                + "; ".join(f"{n} from {flow!r}" for n, flow in list(result.recovered_elsewhere.items())[:5])
                + ".",
            )
        )
    still = sorted(result.still_lost_elsewhere)
    if still:
        findings.append(
            Finding(
                "opt-outs",
                False,
                f"{len(still)} STOP(s) lost by other opt-out flows on the triggers "
                "(in no blacklisted group): " + some_of(still) + ".",
                "python -m helpers check --apply (or adopt --apply)",
            )
        )
    return findings


def _measure(report: HealthReport, ledger) -> None:
    """The figures monitoring reads, from the ledger as this check left it (repairs read back)."""
    report.lost = len(ledger.needing(*REPAIRS))
    open_rows = ledger.needing(*REPAIRS, Action.IN_PROGRESS)
    starts = [t for t in (parse_time(x) for x in open_rows["time"]) if t is not None]
    report.oldest_open_seconds = max(0.0, (ledger.window.end - min(starts)).total_seconds()) if starts else 0.0
    honour = ledger.time_to_honour()
    report.honour_seconds = [float(m) * 60 for m in honour["minutes"] if m == m]


def _opt_out_findings(ledger, kept: dict, new: list[str]) -> list[Finding]:
    """What needs action (each kind with up to five numbers and its fix), what is late, else all well.
    An opt-out without a number is an action once, when it is first kept (``new``): no group can hold
    it, so campaigns must go through the audience check; later checks say it is kept."""
    findings = []
    for action in REPAIRS:
        rows = ledger.needing(action)
        if len(rows):
            findings.append(
                Finding(
                    "opt-outs",
                    False,
                    f"{len(rows)} {action.value}: {some_of(rows['number'])}.",
                    "python -m helpers check --apply",
                )
            )
    if new:
        findings.append(
            Finding(
                "opt-outs",
                False,
                f"{len(new)} opt-out(s) without a phone number (channel user {some_of(new)}): "
                "no group can hold them, so 8x8's blacklist does not stop messages to them. Kept in the reports folder "
                "(opt-outs-without-number-*.json) until the same id opts back in; the audience check leaves them out.",
                "send campaigns through the audience check (python -m helpers audience); there is nothing to repair on 8x8",
                severity="warning",
            )
        )
    elif kept:
        findings.append(
            Finding(
                "opt-outs",
                True,
                f"{len(kept)} opt-out(s) without a phone number kept in "
                "the reports folder (no group can hold them; the audience check "
                "leaves them out).",
            )
        )
    waiting = ledger.needing(Action.IN_PROGRESS)
    late = ledger.rows[ledger.rows["late"].ne("")]
    if len(late):
        findings.append(
            Finding(
                "opt-outs",
                False,
                f"{len(late)} opt-out(s) past a deadline: "
                + "; ".join(f"{n} ({why})" for n, why in zip(late["number"].head(5), late["late"].head(5)))
                + ".",
                "repair them now (check --apply), and find out why they were late",
            )
        )
    if ledger.needing(*REPAIRS).empty and not new and not len(late):
        counts = ledger.counts()
        findings.append(
            Finding(
                "opt-outs",
                True,
                f"{counts['opt-out']} opt-out(s) and {counts['opt-in']} "
                f"opt-in(s) in the window, none lost"
                + (f"; {len(waiting)} in progress (the workflow retries)" if len(waiting) else "")
                + ".",
            )
        )
    return findings


def _advance(checkpoint: Checkpoint, ledger, window) -> None:
    """The next window starts at the oldest row still open (to repair, or retrying), else now (the
    opt-outs without a number are kept by then: they hold nothing open); the first sightings in the
    group are kept for the numbers still in the window."""
    open_rows = ledger.rows[ledger.rows["action"].isin([a.value for a in (*REPAIRS, Action.IN_PROGRESS)])]
    starts = [t for t in (parse_time(x) for x in open_rows["time"]) if t is not None]
    # ... less a second: the platform tells its time in whole seconds, so the windows overlap by one
    # rather than miss a run of that second (a run read twice is judged the same).
    checkpoint.next_start = iso(min(starts) if starts else window.end - timedelta(seconds=1))
    numbers = set(ledger.rows["number"])
    seen = {n: t for n, t in checkpoint.seen_in_group.items() if n in numbers}
    for number, at in zip(ledger.rows["number"], ledger.rows["in_group_at"]):
        if number and at and number not in seen:
            seen[number] = at
    checkpoint.seen_in_group = seen
    checkpoint.save()


def keep_without_number(path: Path, ledger: Ledger) -> tuple[dict[str, dict], list[str]]:
    """The ledger's word merged into the kept opt-outs, written back (owner-readable): a channel user
    whose latest decided word is an opt-out sent without a number is kept; one whose latest word is
    an opt-in leaves. Answers (kept now, the ids kept for the first time)."""
    kept = read_without_number(path)
    rows = ledger.rows
    new, left = [], []
    for _, row in latest_words(rows[rows["action"].ne(Action.TEST.value)], "channel_user_id").iterrows():
        user = row["channel_user_id"]
        if row["matched"] == Matched.OPT_IN:
            if kept.pop(user, None) is not None:
                left.append(user)
        elif not row["number"] and user not in kept:
            kept[user] = {"time": row["time"], "channel": row["channel"]}
            new.append(user)
    if new or left:
        try:
            write_private_json(path, kept)
        except OSError as exc:
            raise BadInput(
                f"{path} cannot be written ({exc.strerror or exc}): the opt-outs that no group can hold "
                "could not be kept, so this check moved nothing on. Free some space or fix the folder's "
                "permissions, then check again."
            ) from None
    return kept, new
