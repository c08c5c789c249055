"""Stage 4, check: every row's outcome, judged from the group as read back after the work.

Never from what was sent: a row is ``removed`` only if the final read no longer finds its
number, ``added`` only if it does. What was sent (this run, or an interrupted one in the
journal) only says whether the change was ours or already so (``nothing to do``).
"""

from __future__ import annotations

import pandas as pd

from ..groups import GroupSnapshot
from ..numbers import digits_key
from .statuses import Outcome, Status


def key_of(msisdn: str) -> str:
    """The digits of an E.164 number: how 8x8 matches numbers (with or without the +)."""
    return msisdn[1:] if msisdn.startswith("+") else digits_key(msisdn)


def judge_removal(
    report: pd.DataFrame, final: GroupSnapshot, *, sent: set, earlier: set, failed: dict, joined: dict, ids: dict
) -> pd.DataFrame:
    """The report with each row's outcome after a removal (``joined``: key -> pass that removed it)."""

    def decide(k: str, cid):
        if k in final.ever:
            return (
                Outcome.STILL_IN_GROUP,
                failed.get(k) or "a member at the check: added back while this run worked",
                ids.get(k, cid),
            )
        if k in sent or k in earlier:
            reason = (
                f"joined the group during the run; removed in pass {joined[k]}"
                if k in joined
                else ""
                if k in sent
                else "removed by the interrupted run; absent at the check"
            )
            return Outcome.REMOVED, reason, ids.get(k, cid)
        return Outcome.NOTHING_TO_DO, "", ids.get(k, cid)

    return _judge(report, decide)


def judge_addition(
    report: pd.DataFrame, final: GroupSnapshot, *, sent: set, earlier: set, failed: dict
) -> pd.DataFrame:
    """The report with each row's outcome after an import (membership per the last read)."""

    def decide(k: str, cid):
        if k in final.keys:
            ours = k in sent or k in earlier
            reason = "" if k in sent or not ours else "added by the interrupted run; a member at the check"
            return (Outcome.ADDED if ours else Outcome.NOTHING_TO_DO), reason, final.keys[k]
        return (
            Outcome.MISSING_FROM_GROUP,
            failed.get(k)
            or ("not a member at the check: taken out while this run worked (an opt-in?); not added again"),
            pd.NA,
        )

    return _judge(report, decide)


def _judge(report: pd.DataFrame, decide) -> pd.DataFrame:
    """Invalid and duplicate rows keep their status as outcome; every other row is ``decide(key, contact id)``."""
    outcomes, reasons, contact_ids = [], [], []
    for status, msisdn, reason, cid in zip(report["status"], report["msisdn"], report["reason"], report["contact_id"]):
        if status in (Status.INVALID, Status.DUPLICATE):
            outcome = Outcome(status)
        else:
            outcome, reason, cid = decide(key_of(msisdn), cid)
        outcomes.append(outcome.value)
        reasons.append(reason)
        contact_ids.append(cid)
    out = report.copy(deep=False)
    out["outcome"] = outcomes
    out["reason"] = reasons
    out["contact_id"] = pd.array(contact_ids, dtype="Int64")
    return out
