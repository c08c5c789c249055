"""Bulk work on the opt-out group from a CSV or Excel file, one module per stage.

- :mod:`.read`: the file, streamed, every row kept with its status and reason;
- :mod:`.plan`: the dry run, the file joined with the group as read now;
- :mod:`.apply`: chunks, the journal, one run per group at a time;
- :mod:`.check`: the group read back (until it holds still), which decides every outcome;
- the per-row CSV report through :mod:`helpers.reports`, the writer every job shares;
- :mod:`.run`: removal (``bulk_remove``, opt-ins) and import (``bulk_add``, opt-out lists).
"""

from ..errors import BadFile
from ..reports import write_report
from .apply import DEFAULT_CHUNK_SIZE, RunInProgress, RunInterrupted
from .plan import Mode, Plan, summarise
from .read import Numbers, read_numbers
from .run import BulkRun, UnknownGroup, bulk_add, bulk_remove, resolve_group
from .statuses import Outcome, Status

__all__ = [
    "BadFile",
    "BulkRun",
    "DEFAULT_CHUNK_SIZE",
    "Mode",
    "Numbers",
    "Outcome",
    "Plan",
    "RunInProgress",
    "RunInterrupted",
    "Status",
    "UnknownGroup",
    "bulk_add",
    "bulk_remove",
    "read_numbers",
    "resolve_group",
    "summarise",
    "write_report",
]
