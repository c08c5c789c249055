"""The health check's report: its findings, its exit codes, and the same for monitoring systems
(the Monitoring Plugins' status line, a Prometheus textfile)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..ledger import parse_time
from ..workflow import WorkflowOptions

if TYPE_CHECKING:  # for annotations only
    import pandas as pd

    from ..config import Settings

FIX_DEPLOY = "python -m helpers deploy --apply"


@dataclass
class Finding:
    area: str  # workflow, canary, opt-outs
    ok: bool
    what: str
    fix: str = ""
    # how bad a finding that needs action is, for monitoring (check --nagios): "critical" when customers'
    # STOPs are (or may be) not honoured; "warning" when the opt-outs are held but someone must look
    severity: str = "critical"

    def line(self) -> str:
        return f"{'ok' if self.ok else 'ACTION'} [{self.area}] {self.what}" + (f" Fix: {self.fix}" if self.fix else "")


@dataclass
class CheckOptions:
    """What the runbook would build (the same options as ``deploy``), and the window of runs."""

    group: str | None = None  # None: the settings' opt-out list (groups.opt_out_list_name)
    # None: what the settings say is deployed (EIGHTXEIGHT_WORKFLOW_NAME, _LANGUAGES, _CHANNELS,
    # _BRAND_NAME, _SUPPORT_CONTACT), the same values deploy takes
    name: str | None = None
    languages: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    brand: str | None = None
    support: str | None = None
    hours: float | None = None
    since: str | None = None
    apply: bool = False
    canary: bool = True

    def workflow(self, settings: Settings) -> WorkflowOptions:
        """The workflows these options would build with these settings (deploy's options)."""
        return WorkflowOptions.of(
            settings, name=self.name, channels=self.channels, brand=self.brand, support=self.support
        )


@dataclass
class HealthReport:
    findings: list[Finding] = field(default_factory=list)
    could_not_run: str = ""  # why the check could not run (exit 2); never "ok" then
    window: str = ""
    repaired: dict[str, int] = field(default_factory=dict)
    checked_at: str = ""
    platform: str = "8x8"  # where every answer was read back from (Settings.platform_name)
    # figures for monitoring, read from the ledger (check --metrics, --nagios): None when not measured
    lost: int | None = None  # opt-outs lost and opt-ins not applied still open after this check
    oldest_open_seconds: float | None = None  # age of the oldest row still open (to repair, or retrying)
    honour_seconds: list[float] = field(default_factory=list)  # STOP to the group, each opt-out measured

    @property
    def needing_action(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    @property
    def exit_code(self) -> int:
        """0: all is well; 1: something needs action (each finding says what); 2: the check could not run."""
        if self.could_not_run:
            return 2
        return 1 if self.needing_action else 0

    def summary(self) -> str:
        if self.could_not_run:
            return f"check: COULD NOT RUN: {self.could_not_run.rstrip('.')}. Nothing was verified."
        if self.needing_action:
            return f"check: {len(self.needing_action)} need action: " + "; ".join(
                f"{f.area}: {f.what}" for f in self.needing_action
            )
        return (
            f"check: ok: {len(self.findings)} checks passed, each read back from {self.platform} ({self.checked_at})."
        )

    def lines(self) -> list[str]:
        out = [f.line() for f in self.findings]
        if self.window:
            out.append(f"Runs read: {self.window} (the platform's time).")
        out.append(self.summary())  # the last line, for people and for mail from cron
        return out

    def values(self) -> dict:
        """The report as named values: what ``--json`` prints, and notebooks record (helpers.record)."""
        return {
            "exit_code": self.exit_code,
            "summary": self.summary(),
            "checked_at": self.checked_at,
            "could_not_run": self.could_not_run or None,
            "window": self.window,
            "repaired": self.repaired,
            "findings": [asdict(f) for f in self.findings],
        }

    def table(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [
                {"area": f.area, "status": "ok" if f.ok else "ACTION", "what": f.what, "fix": f.fix}
                for f in self.findings
            ]
        )

    # --- monitoring: the Monitoring Plugins' status line and a Prometheus textfile -------------------

    @property
    def nagios_code(self) -> int:
        """The Monitoring Plugins' exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not run)."""
        if self.could_not_run:
            return 3
        if any(f.severity == "critical" for f in self.needing_action):
            return 2
        return 1 if self.needing_action else 0

    def nagios(self) -> str:
        """One status line and performance data (Nagios plugin development guidelines), then the details."""
        state = ("OK", "WARNING", "CRITICAL", "UNKNOWN")[self.nagios_code]
        if self.could_not_run:
            text = f"could not run: {self.could_not_run.rstrip('.')}"
        elif self.needing_action:
            text = "; ".join(f"{f.area}: {f.what}" for f in self.needing_action)
        else:
            text = f"{len(self.findings)} checks passed, each read back from {self.platform}"
        text = text.replace("|", "/").replace("\n", " ")  # '|' starts the performance data
        perf = [f"findings_needing_action={len(self.needing_action)};;1;0"]
        if self.lost is not None:
            perf.append(f"lost_opt_outs={self.lost};;1;0")
        if self.oldest_open_seconds is not None:
            perf.append(f"oldest_open_row={self.oldest_open_seconds:.0f}s;;;0")
        if self.honour_seconds:
            perf.append(f"time_to_honour_max={max(self.honour_seconds):.0f}s;;;0")
        return f"OPT-OUTS {state} - {text} | {' '.join(perf)}\n" + "\n".join(f.line() for f in self.findings)

    def metrics(self, previous: str = "", labels: dict[str, str] | None = None) -> str:
        """The check as a Prometheus textfile (node_exporter's textfile collector). ``previous``: the file's
        text before this check, whose last successful check is kept when this one could not run."""
        lab = "{" + ",".join(f'{k}="{_label(v)}"' for k, v in sorted((labels or {}).items())) + "}" if labels else ""
        rows = [
            (
                "optout_check_up",
                "gauge",
                "1 when the check ran (0: it could not run, nothing was verified)",
                0 if self.could_not_run else 1,
            ),
            (
                "optout_check_exit_code",
                "gauge",
                "The check's exit code: 0 ok, 1 action needed, 2 could not run",
                self.exit_code,
            ),
            ("optout_check_findings_needing_action", "gauge", "Findings that need action", len(self.needing_action)),
        ]
        if self.lost is not None:
            rows.append(
                (
                    "optout_lost_opt_outs",
                    "gauge",
                    "Opt-outs lost and opt-ins not applied, still open after the check (read back from the group)",
                    self.lost,
                )
            )
        if self.oldest_open_seconds is not None:
            rows.append(
                (
                    "optout_oldest_open_row_age_seconds",
                    "gauge",
                    "Age of the oldest opt-out or opt-in still open (to repair, or retrying), in the platform's time",
                    round(self.oldest_open_seconds),
                )
            )
        if self.honour_seconds:
            ordered = sorted(self.honour_seconds)
            rows.append(
                (
                    "optout_time_to_honour_seconds_max",
                    "gauge",
                    "Longest time from a STOP to the group in the window (times 8x8 stated or a read-back saw)",
                    round(ordered[-1]),
                )
            )
            rows.append(
                (
                    "optout_time_to_honour_seconds_median",
                    "gauge",
                    "Median time from a STOP to the group in the window",
                    round(ordered[len(ordered) // 2]),
                )
            )
        last = (
            _iso_seconds(self.checked_at)
            if not self.could_not_run
            else _previous_value(previous, "optout_last_success_timestamp_seconds")
        )
        if last is not None:
            rows.append(
                (
                    "optout_last_success_timestamp_seconds",
                    "gauge",
                    "When the last check that ran finished (the platform's time, Unix seconds)",
                    last,
                )
            )
        out = []
        for name, kind, help_text, value in rows:
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name}{lab} {value}"]
        return "\n".join(out) + "\n"


def _label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _iso_seconds(text: str) -> int | None:
    when = parse_time(text) if text else None
    return int(when.timestamp()) if when is not None else None


def _previous_value(text: str, name: str) -> int | None:
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            try:
                return int(float(line.rsplit(" ", 1)[1]))
            except (IndexError, ValueError):
                return None
    return None


def write_metrics(report: HealthReport, path: str | Path, labels: dict[str, str] | None = None) -> Path:
    """The report as a Prometheus textfile at ``path``, replaced whole (node_exporter never reads half a
    file): written beside it, then moved into place; readable by others (metrics hold no phone number)."""
    import os

    path = Path(path)
    try:
        previous = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        previous = ""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(report.metrics(previous, labels), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
