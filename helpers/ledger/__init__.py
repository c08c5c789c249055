"""The opt-out ledger: every inbound message the opt-out workflows handled, and what became of it.

8x8 keeps no history of group membership; the workflows' own runs are the record (NOTES.md,
"Workflow instances"). The ledger reads every run of the runbook's workflows (both channels,
every version: the list answers the latest version unless asked) in a window of time, from
the instance list alone: each run's ``data`` carries the trigger's payload (who, what, where)
and the step outputs the workflow records (``workflow.RECORDED``: the Contacts answer, the
confirmation's umid). Only runs that faulted (``Terminated``) cost one more request each, for
their error. Then it reads the opt-out group once and says, per message:

- time, number (or the channel's user id when the webhook had none), channel, subaccount, text
  (or the button's title), matched as opt-out, opt-in, help or other;
- the Contacts answer, whether the confirmation went out, membership now, and whether 8x8's
  hourly blacklist sync may not have caught up yet;
- the action needed. Per number, only the latest opt-out or opt-in counts:
  * a lost opt-out: the workflow's Contacts call did not succeed (no 2xx, or the step faulted)
    and the number is not in the group: add it;
  * an opt-in not applied: the number is still a member after the customer's latest word was
    an opt-in: remove it (the only case where a repair removes anyone);
  * an opt-out without a phone number (a v3 webhook without ``user.msisdn``): it cannot be
    repaired through the group; the operator must act (the channel user id says who).
  An opt-out whose Contacts call succeeded but whose number has left the group since is not
  re-added: someone took it out on purpose (a bulk removal of opt-ins); the ledger notes it.

Which texts count is the workflow's record where it has one (an opt-out run has a Contacts
answer, an opt-in run has its contact lookup); otherwise the deployed workflow's own Branch
conditions classify the text (run by QuickJS), so the audit judges with the languages that were
deployed. A ``policy`` given to :func:`build_ledger` classifies instead (what-if audits).

The package: ``rows`` (the row model, the window, the deadlines), ``reading`` (the runs and the
group, into rows), ``judging`` (what each row needs, the time to honour), ``model`` (the Ledger and
its questions) and ``rendering`` (for people: lines, tables, CSV).
"""

from __future__ import annotations

from .judging import after_repair
from .model import Ledger
from .reading import LedgerOptions, WindowOptions, build_ledger, read_membership
from .rendering import write_ledger
from .rows import (
    ALREADY,
    CANARY_NUMBERS,
    COLUMNS,
    DEFAULT_HOURS,
    NOT_MEASURED,
    RECORDED_ONLY,
    REPAIRS,
    UNRESOLVED,
    Action,
    BadWindow,
    Deadlines,
    LedgerRow,
    Matched,
    Window,
    add_business_days,
    iso,
    latest_words,
    make_window,
    parse_time,
    window_of,
)

__all__ = [
    "after_repair",
    "LedgerRow",
    "ALREADY",
    "CANARY_NUMBERS",
    "COLUMNS",
    "DEFAULT_HOURS",
    "NOT_MEASURED",
    "RECORDED_ONLY",
    "REPAIRS",
    "UNRESOLVED",
    "Action",
    "BadWindow",
    "Deadlines",
    "Ledger",
    "LedgerOptions",
    "Matched",
    "Window",
    "WindowOptions",
    "add_business_days",
    "build_ledger",
    "iso",
    "latest_words",
    "make_window",
    "window_of",
    "parse_time",
    "read_membership",
    "write_ledger",
]
