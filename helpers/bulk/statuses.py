"""The words a bulk run writes in its report: one enum for the plan, one for the outcome."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What reading and planning say about a row (the report's ``status`` column)."""

    VALID = "valid"  # read: a number, not seen before (planning replaces it by one of the four below)
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    TO_REMOVE = "to remove"
    NOT_IN_GROUP = "not in group"
    TO_ADD = "to add"
    ALREADY_IN_GROUP = "already in group"


STATUS_CATEGORIES = [s.value for s in Status]  # the categories of every status column, in this order


class Outcome(StrEnum):
    """What the final read of the group says about a row after an apply (the ``outcome`` column)."""

    REMOVED = "removed"  # in the group when the run began, absent at the check
    ADDED = "added"  # absent when the run began, a member at the check
    NOTHING_TO_DO = "nothing to do"  # already as wanted, and still so at the check
    STILL_IN_GROUP = "still in group"  # removal: a member at the check (a failure)
    MISSING_FROM_GROUP = "missing from group"  # import: not a member at the check (a failure)
    INVALID = "invalid"
    DUPLICATE = "duplicate"


FAILURES = frozenset({Outcome.STILL_IN_GROUP, Outcome.MISSING_FROM_GROUP, Outcome.INVALID})
