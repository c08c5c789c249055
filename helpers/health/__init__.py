"""The one health check to schedule between runbook runs (``python -m helpers check``).

Honouring opt-outs is a continuous duty; a notebook proves it only when someone runs it. The
check answers, each time it runs, three questions, every answer read from 8x8 (or the sandbox):

1. **Drift.** Are both deployed workflows there, enabled, and equal to what the runbook would
   build from the same settings (group, languages, HELP answer)? Each difference is named:
   deleted, disabled, another group id, another language set, steps edited in the Automation
   Builder UI; the fix is ``deploy --apply``.
2. **Canary.** Does each deployed workflow still do its job? A test run (the test-run endpoint,
   no phone) sends STOP from a reserved test number, the group is read back, then START takes it
   out again through the workflow's own opt-in path (and, should that fail, by the API), so the
   check leaves the group as it found it. On 8x8 the canary's contact record stays (only its
   membership goes), and its confirmation messages are sent to the reserved number.
3. **Lost opt-outs** since the last check (a checkpoint in the reports folder; ``--since`` or
   ``--hours`` for a wider window): the ledger (:mod:`helpers.ledger`), repaired with ``apply``
   under the bulk lock and journal, each repair confirmed by reading back. The checkpoint never
   moves past a row that still needs action or a run still retrying, so nothing is forgotten.

A check that could not run (8x8 unreachable, a bad key) says so and never says "ok".

The package: ``check`` (the three in order), ``drift``, ``canary``, ``opt_outs`` and ``report`` (the
findings, exit codes, and the Monitoring Plugins' and Prometheus' formats).
"""

from __future__ import annotations

from ..ledger import CANARY_NUMBERS
from .canary import run_canary
from .check import CheckLock, run_check
from .drift import check_drift, foreign_opt_out_flows
from .opt_outs import Checkpoint, check_opt_outs, checkpoint_name, keep_without_number, open_rows_path
from .report import FIX_DEPLOY, CheckOptions, Finding, HealthReport, write_metrics

__all__ = [
    "CANARY_NUMBERS",
    "FIX_DEPLOY",
    "CheckLock",
    "CheckOptions",
    "Checkpoint",
    "Finding",
    "HealthReport",
    "check_drift",
    "check_opt_outs",
    "checkpoint_name",
    "foreign_opt_out_flows",
    "keep_without_number",
    "open_rows_path",
    "run_canary",
    "run_check",
    "write_metrics",
]
