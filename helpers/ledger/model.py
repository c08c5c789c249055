"""The Ledger: the rows read in a window, the workflows and the group as read, and the questions
asked of them (what needs action, who opted out)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from ..groups import GroupSnapshot
from ..workflow import DeployedWorkflow
from .rendering import LedgerView
from .rows import REPAIRS, Action, Matched, Window, latest_words


@dataclass
class Ledger(LedgerView):
    rows: pd.DataFrame  # COLUMNS, oldest first
    window: Window
    workflows: dict[str, DeployedWorkflow]
    groups: dict[int, GroupSnapshot] = field(default_factory=dict)

    @property
    def group_id(self) -> int:
        return next(iter(self.workflows.values())).group_id

    @property
    def lost(self) -> pd.DataFrame:
        """Opt-outs not honoured (and opt-ins not applied) that a repair can fix."""
        return self.needing(*REPAIRS)

    @property
    def unrepairable(self) -> pd.DataFrame:
        return self.needing(Action.NO_NUMBER)

    def opted_out_numbers(self) -> set[str]:
        """Numbers whose latest word in the window is an opt-out (members or not): for the pre-send check."""
        latest = self._latest()
        return set(latest.loc[latest["matched"] == Matched.OPT_OUT, "number"])

    def opted_out_channel_users(self, channel: str = "WhatsApp") -> set[str]:
        """The channel user ids (on WhatsApp: BSUIDs) whose latest word in the window is an opt-out:
        for the pre-send check of a file that holds them. A customer known to 8x8 only by BSUID is in
        no group (the Contacts API has no address for it): only the ledger knows their STOP."""
        latest = latest_words(self.rows[self.rows["channel"].eq(channel)], "channel_user_id")
        return set(latest.loc[latest["matched"] == Matched.OPT_OUT, "channel_user_id"])

    def _latest(self) -> pd.DataFrame:
        return latest_words(self.rows, "number")

    def updated(self, rows: pd.DataFrame, group_id: int, snapshot: GroupSnapshot) -> Ledger:
        """A new Ledger with ``rows`` (changed copies of some of its rows, same index) in place, and
        the group as ``snapshot`` read it."""
        merged = self.rows.copy()
        merged.loc[rows.index, rows.columns] = rows
        return replace(self, rows=merged, groups={**self.groups, group_id: snapshot})
