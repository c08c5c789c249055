"""The ledger for people: lines that put what needs action first, tables to read on one screen, a
chart's table, and the ledger as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..text import some_of
from .rows import NOT_MEASURED, UNRESOLVED, Action, Matched, Window


class LedgerView:
    """What a Ledger shows people (mixed into helpers.ledger.Ledger, which holds these)."""

    rows: pd.DataFrame
    window: Window
    workflows: dict[str, Any]  # channel -> workflow.DeployedWorkflow
    groups: dict[int, Any]  # group id -> groups.GroupSnapshot

    def needing(self, *actions: Action) -> pd.DataFrame:
        """The rows whose action is one of ``actions``."""
        return self.rows[self.rows["action"].isin([a.value for a in actions])]

    def per_day(self) -> pd.DataFrame:
        """Customers' opt-outs per day (UTC) and channel: a table for a chart (test runs left out)."""
        opt_outs = self.rows[
            (self.rows["matched"] == Matched.OPT_OUT)
            & ~self.rows["action"].isin([Action.TEST.value, Action.REDELIVERY.value])
        ]
        if opt_outs.empty:
            return pd.DataFrame()
        day = pd.to_datetime(opt_outs["time"], utc=True).dt.date
        table = opt_outs.assign(day=day).pivot_table(
            index="day", columns="channel", values="workflow_id", aggfunc="count", fill_value=0
        )
        table.index = [d.strftime("%d %b") for d in table.index]  # in date order; short labels that do not overlap
        return table

    def summary_table(self) -> pd.DataFrame:
        """The rows that count, with the columns that matter, to read on one screen: time, channel, who,
        what they wrote, what it was, the Contacts answer, the action. Superseded messages and the
        health check's test runs are left out; the whole ledger goes to a file (write_ledger)."""
        rows = self.rows[
            ~self.rows["action"].isin([Action.SUPERSEDED.value, Action.TEST.value, Action.REDELIVERY.value])
        ]
        who = rows["number"].where(rows["number"].ne(""), "channel user " + rows["channel_user_id"])
        table = pd.DataFrame(
            {
                "time": _minutes(rows["time"]),
                "channel": rows["channel"],
                "who": who,
                "wrote": rows["text"],
                "was": rows["matched"],
                "Contacts answer": rows["contacts_answer"],
                "action": rows["action"],
            }
        )
        return table.astype(object).where(table.notna(), "")

    def time_to_honour(self) -> pd.DataFrame:
        """Opt-outs in the group: received, in the group at, how, minutes it took, and any deadline missed."""
        honoured = self.rows[self.rows["in_group_at"].ne("")]
        minutes = (
            pd.to_datetime(honoured["in_group_at"], utc=True) - pd.to_datetime(honoured["time"], utc=True)
        ).dt.total_seconds() / 60
        return honoured.assign(minutes=minutes.round(1))[
            [
                "time",
                "channel",
                "number",
                "in_group_at",
                "honoured_by",
                "minutes",
                "confirmation_sent_at",
                "blacklist_sync_at",
                "late",
            ]
        ]

    def honour_table(self) -> pd.DataFrame:
        """time_to_honour() to read on one screen: times to the minute, short headings (the CSV has them all)."""
        honour = self.time_to_honour()
        table = pd.DataFrame(
            {
                "received": _minutes(honour["time"]),
                "channel": honour["channel"],
                "number": honour["number"],
                "in group": _minutes(honour["in_group_at"]),
                "how": honour["honoured_by"],
                "minutes": honour["minutes"],
                "confirmed": _minutes(honour["confirmation_sent_at"]),
                "blacklist sync": _minutes(honour["blacklist_sync_at"]),
                "late": honour["late"],
            }
        )
        return table.astype(object).where(table.notna(), "")

    def counts(self) -> dict[str, int]:
        """Runs per kind, customers only (the health check's test runs left out)."""
        customers = self.rows[~self.rows["action"].isin([Action.TEST.value, Action.REDELIVERY.value])]
        matched = customers["matched"].value_counts()
        return {m.value: int(matched.get(m.value, 0)) for m in Matched}

    def lines(self, *, written_to: str | Path | None = None) -> list[str]:
        """The ledger for people, what needs action first and alone, then what was read, then notes
        (one line per kind, with a count). ``written_to``: the ledger CSV, when one was written."""
        out = [line for action in UNRESOLVED for line in self._action_lines(action, written_to)]
        if self.needing(*UNRESOLVED).empty:
            out.append("Nothing lost: every opt-out in the window is honoured.")
        return out + self._read_lines() + self._state_lines() + self._note_lines()

    def _action_lines(self, action: Action, written_to) -> list[str]:
        """What needs action of one kind: each row, up to 20."""
        rows = self.needing(action)
        if not len(rows):
            return []
        out = [f"{len(rows)} {action.value}:"]
        for _, row in rows.head(20).iterrows():
            who = row["number"] or f"channel user {row['channel_user_id'] or '?'}"
            out.append(
                f"  {row['time']} {row['channel']} {who}: {row['text']!r}; Contacts answer: "
                f"{row['contacts_answer'] or 'none'}"
            )
        if len(rows) > 20:
            out.append(
                f"  ... and {len(rows) - 20} more "
                + (
                    f"(all of them in {Path(written_to).name})"
                    if written_to
                    else "(write the ledger to a file to see them all)"
                )
            )
        return out

    def _read_lines(self) -> list[str]:
        names = ", ".join(f"{w.channel} ({w.definition_id}, v{w.version})" for w in self.workflows.values())
        tests = int((self.rows["action"] == Action.TEST.value).sum())
        return [
            f"Workflows: {names}.",
            f"Window: {self.window.describe()} (the platform's time).",
            f"Runs read: {len(self.rows)}: "
            + ", ".join(f"{n} {m}" for m, n in self.counts().items())
            + (f", and {tests} test run(s) (the health check's canaries, notebook 04's test numbers)" if tests else "")
            + ".",
            "Opt-out group read: " + "; ".join(f"group {g}: {s.describe()}" for g, s in self.groups.items()) + ".",
        ]

    def _state_lines(self) -> list[str]:
        """Waiting for the sync, in progress, and the time to honour."""
        out = []
        waiting = int(self.rows["awaiting_sync"].sum())
        if waiting:
            out.append(
                f"{waiting} opt-out(s) of the last hour are in the group but may not be in 8x8's blacklist "
                "yet (hourly sync): check audiences with helpers.suppression before sending."
            )
        in_progress = self.needing(Action.IN_PROGRESS)
        if len(in_progress):
            out.append(
                f"{len(in_progress)} opt-out(s) or opt-in(s) in progress: the workflow waits to try the "
                "Contacts call again (the run is Runnable); not lost yet."
            )
        honoured = self.rows[self.rows["in_group_at"].ne("")]
        unmeasured = int(self.rows["honoured_by"].str.contains(NOT_MEASURED, regex=False).sum())
        if unmeasured:
            out.append(
                f"{unmeasured} opt-out(s) in the group whose time to honour is not measured: 8x8 stated no "
                "time and no earlier check saw them (not a missed deadline: schedule the check to measure)."
            )
        if len(honoured):
            ways = honoured["honoured_by"].value_counts()
            late = self.rows[self.rows["late"].ne("")]
            out.append(
                f"Time to honour: {len(honoured)} opt-out(s) in the group ("
                + ", ".join(f"{n} {how}" for how, n in ways.items())
                + "); "
                + (f"{len(late)} past a deadline (see the 'late' column)." if len(late) else "none past a deadline.")
            )
        return out

    def _note_lines(self) -> list[str]:
        """Notes: one line a kind."""
        out = []
        for note in (Action.LEFT_SINCE, Action.SUPERSEDED, Action.TEST, Action.REDELIVERY):
            rows = self.needing(note)
            if len(rows):
                numbers = [n for n in rows["number"].drop_duplicates() if n]
                shown = some_of(numbers)
                out.append(
                    f"Note: {len(rows)} {note.value.removeprefix('note: ')}" + (f" ({shown})." if shown else ".")
                )
        return out


def _minutes(times: pd.Series) -> pd.Series:
    """ISO times as people read them on a screen: '2026-01-05 09:00' (UTC, the platform's time)."""
    return times.fillna("").astype(str).str.slice(0, 16).str.replace("T", " ")


def write_ledger(ledger: LedgerView, path: str | Path) -> Path:
    """The ledger as CSV: formula-safe cells, readable by its owner only (it holds phone numbers)."""
    from ..reports import check_writable, write_report

    return write_report(ledger.rows, check_writable(Path(path)))
