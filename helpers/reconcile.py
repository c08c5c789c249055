"""Reconcile the opt-out workflows' runs with the opt-out group: find lost opt-outs, repair them.

A dry run (the default) builds the ledger (:mod:`helpers.ledger`) and lists what is lost.
``apply=True`` repairs, under the same one-run-per-group lock and journal as bulk work:
lost opt-outs are added to the group (create-or-merge by number, as the workflow does);
a member whose latest word was an opt-in is taken out (membership only). Then the group is
read back and each repair is reported only if the group shows it. Running it again finds
nothing left to do: it is idempotent because it plans from the group as it is.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bulk.apply import GroupLock, Journal, adding, changing_the_group, removing, send_in_chunks
from .bulk.check import key_of
from .client import Client
from .ledger import (
    CANARY_NUMBERS,
    UNRESOLVED,
    Action,
    Ledger,
    WindowOptions,
    after_repair,
    build_ledger,
    iso,
    read_membership,
)
from .paths import reports_folder, shown
from .policy import KeywordPolicy
from .reports import check_writable, write_report
from .text import some_of
from .workflow import deployed_workflows

if TYPE_CHECKING:  # for annotations only
    import pandas as pd


CHUNK_SIZE = 100  # numbers per journaled chunk of repairs


@dataclass
class Reconciliation:
    ledger: Ledger
    applied: bool = False
    repaired: dict[str, int] = field(default_factory=dict)  # action -> rows repaired (read back)
    journal_path: Path | None = None
    ledger_path: Path | None = None
    # STOPs other opt-out flows on the triggers lost (a tutorial's flow): number -> (flow, time of the STOP)
    lost_elsewhere: dict[str, tuple[str, str]] = field(default_factory=dict)
    recovered_elsewhere: dict[str, str] = field(default_factory=dict)  # number -> the flow it is recovered from

    @property
    def remaining(self) -> pd.DataFrame:
        return self.ledger.needing(*UNRESOLVED)

    @property
    def still_lost_elsewhere(self) -> dict[str, tuple[str, str]]:
        return {n: v for n, v in self.lost_elsewhere.items() if n not in self.recovered_elsewhere}

    @property
    def exit_code(self) -> int:
        """0: nothing lost is left; 1: some opt-outs are still not honoured (each has its reason)."""
        return 1 if len(self.remaining) or self.still_lost_elsewhere else 0

    def table(self) -> pd.DataFrame:
        """The rows that needed or still need action (empty cells empty), for a person to read."""
        rows = self.ledger.rows
        shown = rows[rows["action"].ne("") & rows["action"].ne(Action.SUPERSEDED.value)].drop(
            columns=["workflow_id", "group_id"]
        )
        return shown.astype(object).where(shown.notna(), "")

    def values(self) -> dict:
        """The reconciliation as named values (helpers.record): the ledger's rows per action, and
        the repairs confirmed by reading the group back."""
        actions = self.ledger.rows["action"].value_counts()
        return {
            "runs": self.ledger.counts(),
            "actions": {str(a): int(n) for a, n in actions.items() if a},
            "applied": self.applied,
            "repaired": dict(self.repaired),
            "remaining": len(self.remaining),
            "lost_by_other_flows": {n: flow for n, (flow, _) in self.still_lost_elsewhere.items()},
            "recovered_from_other_flows": dict(self.recovered_elsewhere),
            "exit_code": self.exit_code,
        }

    def lines(self, *, apply_hint: str = "Add --apply") -> list[str]:
        """What was found and done; ``apply_hint`` says how to repair after a dry run."""
        out = self.ledger.lines(written_to=self.ledger_path)
        if self.applied and self.repaired:
            done = ", ".join(f"{n} {action}" for action, n in self.repaired.items())
            out.append(f"Applied: {done} (each confirmed by reading the group back).")
        elif self.applied:
            out.append("Applied: nothing needed repair.")
        elif len(self.ledger.lost):
            out.append(f"Dry run: nothing was changed. {apply_hint} to repair {len(self.ledger.lost)} row(s).")
        if self.recovered_elsewhere:
            out.append(
                f"Recovered {len(self.recovered_elsewhere)} STOP(s) lost by other opt-out flows, each read back "
                "from the group: "
                + "; ".join(f"{n} from {flow!r}" for n, flow in list(self.recovered_elsewhere.items())[:5])
                + "."
            )
        if self.still_lost_elsewhere:
            still = sorted(self.still_lost_elsewhere)
            out.append(
                f"{len(still)} STOP(s) lost by other opt-out flows on the triggers (in no blacklisted group): "
                + some_of(f"{n} ({self.still_lost_elsewhere[n][0]!r})" for n in still)
                + ("." if self.applied else f". {apply_hint} to recover them.")
            )
        if len(self.remaining):
            out.append(f"NOT done: {len(self.remaining)} opt-out(s) or opt-in(s) still need action (see above).")
        if self.ledger_path:
            out.append(f"Ledger: {shown(self.ledger_path)}")
        if self.journal_path:
            out.append(f"Journal: {shown(self.journal_path)}")
        return out


@dataclass(kw_only=True)
class ReconcileOptions(WindowOptions):
    """What reconcile reads, and what it does with it: its keyword options."""

    apply: bool = False  # False: a dry run; True: repair, and confirm each repair by reading the group back
    ledger_path: str | Path | None = None  # the ledger as CSV (None: no file)
    reports_dir: str | Path | None = None  # the repair's journal; None: the project's reports/
    policy: KeywordPolicy | None = None  # classify with this policy instead of the deployed workflows (what-if)
    progress: bool = False  # a progress bar for the repairs
    seen_in_group: dict[str, str] | None = None  # number -> when an earlier read-back saw it (build_ledger)
    canary_numbers: set[str] | frozenset = frozenset(CANARY_NUMBERS.values())  # test numbers (build_ledger)
    read_confirmations: bool = False  # read each confirmation's delivery status (build_ledger)


def reconcile(client: Client, **options: Any) -> Reconciliation:
    """Build the ledger for the window; with ``apply``, repair what is lost and confirm it
    (``options``: :class:`ReconcileOptions`)."""
    o = ReconcileOptions(**options)
    ledger_path = check_writable(Path(o.ledger_path), "--ledger") if o.ledger_path else None  # before any read
    window = o.window_in(client)
    read = partial(
        build_ledger,
        client,
        name=o.name,
        window=window,
        policy=o.policy,
        seen_in_group=o.seen_in_group,
        test_numbers=o.canary_numbers,
        read_confirmations=o.read_confirmations,
    )
    if not o.apply:
        result = Reconciliation(read(), ledger_path=ledger_path)
    else:
        group_ids = sorted({w.group_id for w in deployed_workflows(client, o.name).values()})
        folder = Path(o.reports_dir).resolve() if o.reports_dir else reports_folder()
        with ExitStack() as locks:
            for group_id in group_ids:  # read and repaired under the lock: no bulk run changes the group meanwhile
                locks.enter_context(GroupLock(client, group_id, "reconcile"))
            ledger = read()
            result = Reconciliation(ledger, applied=True, ledger_path=ledger_path)
            for group_id in group_ids:
                with changing_the_group("The repair"):
                    _repair(client, group_id, result, folder, o.progress)
    _other_flows(client, result, window, o.apply)
    if ledger_path:
        write_report(result.ledger.rows, ledger_path)
    return result


def _other_flows(client: Client, result: Reconciliation, window, apply: bool) -> None:
    """The STOPs other opt-out flows on the triggers lost in the window (a tutorial's flow, before or after
    adopt), unless the runbook's own runs decide the number; with ``apply`` put in the runbook's group
    under the group lock and read back: "recovered from <flow>" only for those the group shows."""
    from .bulk.apply import GroupLock, add_chunk
    from .flows import OPT_OUT, flows_on_triggers, lost_by_other_flows
    from .groups import opt_out_group_id, opt_out_list_name
    from .suppression import member_ids

    flows = [f for f in flows_on_triggers(client) if f.kind == OPT_OUT]
    if not flows:
        return
    lost = lost_by_other_flows(
        client,
        flows,
        KeywordPolicy(languages=client.settings.languages),
        started_from=iso(window.start),
        started_to=iso(window.end),
    )
    rows = result.ledger.rows
    decided = set(rows.loc[rows["matched"].isin(["opt-out", "opt-in"]), "number"])
    result.lost_elsewhere = {n: v for n, v in lost.items() if n not in decided}
    if not apply or not result.lost_elsewhere:
        return
    group_id = opt_out_group_id(client, opt_out_list_name(client.settings))
    with GroupLock(client, group_id, "reconcile"):
        add_chunk(client, group_id, sorted(result.lost_elsewhere))
        for number, (flow, _) in sorted(result.lost_elsewhere.items()):
            if member_ids(client, group_id, number):
                result.recovered_elsewhere[number] = flow


def _repair(client: Client, group_id: int, result: Reconciliation, reports_dir: Path, progress: bool) -> None:
    """Repair the group's lost rows under its journal; ``result.ledger`` becomes the ledger with them as
    the group read back after shows them."""
    ledger = result.ledger
    rows = ledger.lost
    rows = rows[rows["group_id"] == group_id]  # the runs of this group's workflows, every channel
    to_add = sorted({key_of(n) for n in rows.loc[rows["action"] == Action.ADD, "number"]})
    to_remove = sorted({key_of(n) for n in rows.loc[rows["action"] == Action.REMOVE, "number"]})
    if not to_add and not to_remove:
        return
    plan = sorted([["add", k] for k in to_add] + [["remove", k] for k in to_remove])
    key = Journal.run_key("ledger", group_id, "reconcile", {"plan": plan, "window": ledger.window.describe()})
    journal = Journal(Journal.default_path(reports_dir / "journals", "reconcile", group_id, key), key)
    journal.open(
        {
            "mode": "reconcile",
            "groupId": group_id,
            "window": ledger.window.describe(),
            "add": len(to_add),
            "remove": len(to_remove),
        }
    )
    result.journal_path = journal.path
    failed = {}
    failed.update(
        send_in_chunks(
            client,
            journal,
            to_add,
            CHUNK_SIZE,
            adding(client, group_id),
            label="Adding lost opt-outs",
            pass_number=1,
            progress=progress,
        )
    )
    failed.update(
        send_in_chunks(
            client,
            journal,
            to_remove,
            CHUNK_SIZE,
            removing(client, group_id, ledger.groups[group_id].keys),
            label="Removing opt-ins",
            pass_number=1,
            progress=progress,
        )
    )
    after = read_membership(
        client,
        group_id,
        {"+" + k for k in (*to_add, *to_remove)} | set(ledger.rows["number"][ledger.rows["number"].ne("")]),
    )
    repaired_rows, repaired = after_repair(
        rows,
        lambda number: key_of(number) in after.keys,
        lambda number: failed.get(key_of(number)),
        iso(client.platform_time()),
        client.settings.honour_business_days,
    )
    result.ledger = ledger.updated(repaired_rows, group_id, after)
    journal.record({"type": "finished", "repaired": {a.value: n for a, n in repaired.items()}})
    for action, n in repaired.items():
        if n:
            label = "added to the group" if action == Action.ADD else "removed from the group"
            result.repaired[label] = result.repaired.get(label, 0) + n
