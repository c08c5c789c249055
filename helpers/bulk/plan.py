"""Stage 2, plan (the dry run): join the file's numbers with the group's members as read now.

Removal: each valid number is ``to remove`` (a member) or ``not in group``. Import: ``to add``
or ``already in group``. Duplicates and invalid rows keep their status. Nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from ..client import Client
from ..concurrency import Steps, no_cycle_collection
from ..groups import GroupSnapshot, read_group
from .check import key_of
from .read import Numbers, OpenedFile
from .statuses import STATUS_CATEGORIES, Status

REPORT_COLUMNS = ["row", "input", "msisdn", "status", "contact_id", "reason", "outcome"]
_CODE = {s: i for i, s in enumerate(Status)}


class Mode(StrEnum):
    REMOVE = "remove"
    ADD = "add"


PLAN_ORDER = {
    Mode.REMOVE: [Status.TO_REMOVE, Status.NOT_IN_GROUP, Status.DUPLICATE, Status.INVALID],
    Mode.ADD: [Status.TO_ADD, Status.ALREADY_IN_GROUP, Status.DUPLICATE, Status.INVALID],
}


@dataclass
class Plan:
    mode: Mode
    group: dict
    numbers: Numbers
    report: pd.DataFrame  # REPORT_COLUMNS
    snapshot: GroupSnapshot

    @property
    def pending(self) -> pd.DataFrame:
        """The rows the apply will act on (to remove, or to add)."""
        return self.report[self.report["status"] == (Status.TO_REMOVE if self.mode is Mode.REMOVE else Status.TO_ADD)]

    @property
    def to_remove(self) -> pd.DataFrame:
        return self.pending if self.mode is Mode.REMOVE else self.report.iloc[0:0]

    def summary(self) -> pd.DataFrame:
        return summarise(self.report, self.mode)


def summarise(report: pd.DataFrame, mode: Mode = Mode.REMOVE) -> pd.DataFrame:
    """Rows per plan status, in a fixed order (for tables and charts)."""
    order = [s.value for s in PLAN_ORDER[mode]]
    counts = report["status"].value_counts()
    return pd.DataFrame({"rows": [int(counts.get(s, 0)) for s in order]}, index=pd.Index(order, name="status"))


@no_cycle_collection()  # a million rows are millions of objects, walked again and again
def make_plan(client: Client, group: dict, opened: OpenedFile, mode: Mode) -> Plan:
    """Read the group as it is now and the file's numbers (a step of the file per page, while the next
    pages are on their way), then plan each row."""
    reading = Steps(opened.read_in_steps())
    snapshot = read_group(client, group["id"], meanwhile=reading)
    numbers = reading.finish()
    return Plan(mode, group, numbers, plan_report(numbers.rows, snapshot.keys, mode), snapshot)


def plan_report(rows: pd.DataFrame, members: dict[str, int], mode: Mode) -> pd.DataFrame:
    """The report frame: each valid row's plan status and, for members, its contact id.

    Built column by column on a shallow copy (pandas copies on write), with the statuses as
    categorical codes: a 1,000,000-row plan stays within the memory the benchmark allows.
    """
    report = rows.copy(deep=False)
    codes = report["status"].cat.codes.to_numpy().copy()
    valid = codes == _CODE[Status.VALID]
    found = [members.get(key_of(m)) if ok else None for m, ok in zip(report["msisdn"].to_numpy(), valid)]
    report["contact_id"] = pd.array(found, dtype="Int64")
    member = valid & report["contact_id"].notna().to_numpy()
    if mode is Mode.REMOVE:
        codes[member], codes[valid & ~member] = _CODE[Status.TO_REMOVE], _CODE[Status.NOT_IN_GROUP]
    else:
        codes[member], codes[valid & ~member] = _CODE[Status.ALREADY_IN_GROUP], _CODE[Status.TO_ADD]
    report["status"] = pd.Categorical.from_codes(codes, categories=STATUS_CATEGORIES)
    report["outcome"] = ""
    return report[REPORT_COLUMNS]
