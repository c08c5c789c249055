"""The check in order: drift, canary, lost opt-outs, under the subaccount's check lock."""

from __future__ import annotations

from pathlib import Path

from ..client import Client
from ..concurrency import SubaccountLock
from ..errors import EightByEightError, GroupNotFound, WorkflowNotDeployed
from ..flows import flows_on_triggers
from ..ledger import iso
from .canary import run_canary
from .drift import check_drift, foreign_opt_out_flows
from .opt_outs import check_opt_outs
from .report import FIX_DEPLOY, CheckOptions, Finding, HealthReport


def run_check(client: Client, options: CheckOptions | None = None, *, reports_dir: str | Path) -> HealthReport:
    """Drift, canary and lost opt-outs, in that order; an error of 8x8 makes it 'could not run'."""
    options = options or CheckOptions()
    report = HealthReport(platform=client.settings.platform_name)
    try:
        with CheckLock(client):
            report.checked_at = iso(client.platform_time())
            workflows = check_drift(client, options, report)
            flows = flows_on_triggers(client)
            report.findings += foreign_opt_out_flows(flows)
            if options.canary:
                for workflow in workflows.values():
                    report.findings.append(run_canary(client, workflow))
            if workflows:
                check_opt_outs(client, options, report, Path(reports_dir))
    except (WorkflowNotDeployed, GroupNotFound) as exc:
        report.findings.append(Finding("workflow", False, str(exc), FIX_DEPLOY))
    except EightByEightError as exc:
        report.could_not_run = str(exc)
    return report


class CheckLock(SubaccountLock):
    """One health check at a time per subaccount. Two at once (a scheduled one and an operator's)
    would each see the other's canary: a test STOP the other took out again reads as a workflow
    that failed, a canary still in the group as an interrupted check; and both would move the
    checkpoint. The second one says it could not run (exit 2), never "ok"."""

    job, what = "check", "python -m helpers check"
    running, then = "another health check", "; this one checked nothing. Run it again when that one has finished."
