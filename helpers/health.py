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
"""
from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from .client import Client
from .errors import EightByEightError, GroupNotFound, WorkflowNotDeployed
from .groups import opt_out_group_id, opt_out_list_name
from .ledger import (CANARY_NUMBERS, REPAIRS, Action, BadWindow, iso, keep_without_number, make_window,
                     parse_time, store_key, without_number_path)
from .languages import PACKS
from .policy import KEYWORD_STEPS, KeywordPolicy, every_language
from .reports import write_private_json
from .flows import OPT_OUT, flows_on_triggers
from .testnumbers import check_may_send
from .workflow import (STEP,
                       DeployedWorkflow, WorkflowOptions, build_opt_out_definitions, inbound_payload, redact,
                       SubaccountLock, workflows_named)

_KEYWORD_PREFIXES = tuple(prefix + "_" for prefix in KEYWORD_STEPS.values())  # the keyword chains' step ids


def checkpoint_name(settings) -> str:
    """One checkpoint per platform, account and subaccount: each has its own workflows, runs and list
    (one of an earlier version, named by subaccount alone, is left unread: the first check reads a week)."""
    return f"check-checkpoint-{store_key(settings)}.json"
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

    def workflow(self, settings) -> WorkflowOptions:
        """The workflows these options would build with these settings (deploy's options)."""
        return WorkflowOptions.of(settings, name=self.name, channels=self.channels, brand=self.brand,
                                  support=self.support)


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
            return (f"check: {len(self.needing_action)} need action: "
                    + "; ".join(f"{f.area}: {f.what}" for f in self.needing_action))
        return f"check: ok: {len(self.findings)} checks passed, each read back from {self.platform} ({self.checked_at})."

    def lines(self) -> list[str]:
        out = [f.line() for f in self.findings]
        if self.window:
            out.append(f"Runs read: {self.window} (the platform's time).")
        out.append(self.summary())  # the last line, for people and for mail from cron
        return out

    def values(self) -> dict:
        """The report as named values: what ``--json`` prints, and notebooks record (helpers.record)."""
        return {"exit_code": self.exit_code, "summary": self.summary(), "checked_at": self.checked_at,
                "could_not_run": self.could_not_run or None, "window": self.window,
                "repaired": self.repaired, "findings": [asdict(f) for f in self.findings]}

    def table(self):
        import pandas as pd

        return pd.DataFrame([{"area": f.area, "status": "ok" if f.ok else "ACTION", "what": f.what, "fix": f.fix}
                             for f in self.findings])

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
        rows = [("optout_check_up", "gauge", "1 when the check ran (0: it could not run, nothing was verified)",
                 0 if self.could_not_run else 1),
                ("optout_check_exit_code", "gauge", "The check's exit code: 0 ok, 1 action needed, 2 could not run",
                 self.exit_code),
                ("optout_check_findings_needing_action", "gauge", "Findings that need action", len(self.needing_action))]
        if self.lost is not None:
            rows.append(("optout_lost_opt_outs", "gauge", "Opt-outs lost and opt-ins not applied, still open "
                         "after the check (read back from the group)", self.lost))
        if self.oldest_open_seconds is not None:
            rows.append(("optout_oldest_open_row_age_seconds", "gauge", "Age of the oldest opt-out or opt-in still "
                         "open (to repair, or retrying), in the platform's time", round(self.oldest_open_seconds)))
        if self.honour_seconds:
            ordered = sorted(self.honour_seconds)
            rows.append(("optout_time_to_honour_seconds_max", "gauge", "Longest time from a STOP to the group in "
                         "the window (times 8x8 stated or a read-back saw)", round(ordered[-1])))
            rows.append(("optout_time_to_honour_seconds_median", "gauge", "Median time from a STOP to the group in "
                         "the window", round(ordered[len(ordered) // 2])))
        last = _iso_seconds(self.checked_at) if not self.could_not_run else _previous_value(
            previous, "optout_last_success_timestamp_seconds")
        if last is not None:
            rows.append(("optout_last_success_timestamp_seconds", "gauge", "When the last check that ran finished "
                         "(the platform's time, Unix seconds)", last))
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


def write_metrics(report: "HealthReport", path: str | Path, labels: dict[str, str] | None = None) -> Path:
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


# --- 1. drift ---------------------------------------------------------------------------------

def _fix_command(options: CheckOptions, languages: tuple[str, ...], settings) -> str:
    """deploy --apply with what this check compared against: the options given that the settings do not hold."""
    parts = [FIX_DEPLOY]
    if tuple(languages) != tuple(settings.languages):
        parts.append(f"--languages {','.join(languages)}")
    if options.group is not None:
        parts.append(f"--group {options.group!r}")
    if settings.opt_out_list != "account":  # a subaccount's own list: name the subaccount too
        parts.append(f"--subaccount {settings.subaccount_id} --opt-out-list {settings.opt_out_list}")
    wanted = options.workflow(settings)
    for flag, value, setting in (("--name", wanted.name, settings.workflow_name),
                                 ("--channels", ",".join(wanted.channels), ",".join(settings.channels)),
                                 ("--brand", wanted.brand, settings.brand), ("--support", wanted.support, settings.support)):
        if value != setting:
            parts.append(f"{flag} {value!r}")
    return " ".join(parts)


def check_drift(client: Client, options: CheckOptions, report: HealthReport) -> dict[str, DeployedWorkflow]:
    """Compare each deployed workflow with what the runbook builds; answer the ones deployed."""
    settings = client.settings
    policy = KeywordPolicy(languages=options.languages if options.languages is not None else settings.languages)
    fix = _fix_command(options, policy.languages, settings)
    group_id = opt_out_group_id(client, opt_out_list_name(settings, options.group))  # GroupNotFound: said

    workflow_options = options.workflow(settings)

    def build(for_group: int) -> dict[str, dict]:
        return build_opt_out_definitions(settings, for_group, policy, workflow_options)

    wanted = build(group_id)
    name = workflow_options.name
    deployed = workflows_named(client, name)
    found: dict[str, DeployedWorkflow] = {}
    for channel, definition in wanted.items():
        same = deployed.get(channel, [])
        current = same[0] if same else None
        if (duplicates := _duplicates(channel, name, same)) is not None:
            report.findings.append(duplicates)
        if current is None:
            report.findings.append(Finding("workflow", False, f"{channel}: no workflow named {name!r} is "
                                           f"deployed on subaccount {settings.subaccount_id} (deleted, or never "
                                           "deployed).", fix))
            continue
        shown = redact(current, settings)
        deployed_group = _group_of(shown)
        # Steps are compared with the same build for the group the workflow adds to, so that another
        # group is said once, not as an edit of every step that names it.
        same_group = definition if deployed_group in (None, group_id) else build(deployed_group)[channel]
        problems = _differences(channel, shown, same_group, group_id, policy, workflow_options)
        if current.get("status") != "enabled":
            problems.insert(0, f"disabled (status {current.get('status')!r}): no customer's STOP is handled")
        if problems:
            report.findings.append(Finding("workflow", False, f"{channel} ({current['id']}, v{current['version']}): "
                                           + "; ".join(problems) + ".", fix))
        else:
            report.findings.append(Finding("workflow", True, f"{channel} ({current['id']}, v{current['version']}): "
                                           f"enabled and as the runbook builds it (group {group_id}, languages "
                                           f"{','.join(policy.languages)})."))
        found[channel] = DeployedWorkflow(channel, current["id"], current["version"], _group_of(shown) or group_id,
                                          current.get("status", ""), shown)
    return found


def foreign_opt_out_flows(flows: list) -> list[Finding]:
    """Each enabled workflow on the runbook's triggers and subaccount that acts on opt-out words and is not
    the runbook's (found from its steps, never by sending through it): 8x8 runs it beside the runbook's on
    every message, so each STOP gets two answers."""
    return [Finding("workflow", False, f"another opt-out flow runs on {flow.channel} beside the runbook's: "
                    f"{flow.label()}: each STOP is answered twice" + (f"; its defects: {'; '.join(flow.defects)}"
                                                                      if flow.defects else ""),
                    "python -m helpers adopt --apply (recovers what it lost, then disables it, never deletes it)")
            for flow in flows if flow.kind == OPT_OUT and flow.enabled]


def _duplicates(channel: str, name: str, same: list[dict]) -> Finding | None:
    """Workflows beside the one deploy updates (two deploys at once, a copy made in the UI): each
    enabled one runs on every message of the trigger, so every STOP is answered twice."""
    extra = [d["id"] for d in same[1:] if d.get("status") == "enabled"]
    if not extra:
        return None
    return Finding("workflow", False, f"{channel}: {len(extra)} more enabled workflow(s) named {name!r} on this "
                   f"trigger ({', '.join(extra)}) beside {same[0]['id']}: 8x8 runs every one on each customer's "
                   "message, so each STOP is answered more than once.",
                   f"delete {', '.join(extra)} in the Automation Builder (keep {same[0]['id']}, which deploy updates)")


def _group_of(definition: dict) -> int | None:
    for step in definition.get("definition", {}).get("steps", []):
        if step.get("id") == STEP["add"]:
            try:
                return int(step["inputs"]["body"]["groups"][0]["id"])
            except (KeyError, IndexError, TypeError, ValueError):
                return None
    return None


def _differences(channel: str, shown: dict, wanted: dict, group_id: int, policy: KeywordPolicy,
                 options: WorkflowOptions) -> list[str]:
    """What differs between the deployed definition and ``wanted`` (built for the group it adds to);
    ``group_id`` is the opt-out group the runbook would use."""
    problems = []
    for key in ("subAccountId", "trigger"):
        if shown.get(key) != wanted.get(key):
            problems.append(f"{key} is {shown.get(key)!r}, the runbook builds {wanted.get(key)!r}")
    have = {s.get("id"): s for s in shown.get("definition", {}).get("steps", [])}
    want = {s["id"]: s for s in wanted["definition"]["steps"]}
    deployed_group = _group_of(shown)
    if deployed_group != group_id:
        problems.append(f"adds to group {deployed_group}, not the opt-out group {group_id}")
    keyword_ids = {i for i in set(have) | set(want) if str(i).startswith(_KEYWORD_PREFIXES)}
    languages_differ = False
    if any(have.get(i) != want.get(i) for i in keyword_ids):
        understood = _languages_understood(channel, shown)
        if set(understood) != set(policy.languages):
            languages_differ = True
            problems.append(f"another language set: the deployed keyword steps understand "
                            f"{','.join(understood) or 'no language'}, the runbook builds {','.join(policy.languages)}")
    said = keyword_ids if languages_differ else set()
    help_step = have.get(STEP["help"])
    if help_step is not None and help_step != want.get(STEP["help"]):
        help_setting = _help_setting_changed(help_step, options)
        if help_setting:
            problems.append(help_setting)
            said = said | {STEP["help"]}
    return problems + _step_problems(have, want, said)


_HELP_TEXT = re.compile(r"(?P<brand>.*): for help, contact (?P<support>.*)\. Reply STOP to stop", re.S)


def _help_setting_changed(deployed_step: dict, options: WorkflowOptions) -> str:
    """When the deployed answer to HELP is the runbook's own with another brand or support contact: the
    setting that changed since the deploy, by name ("" when the step was edited otherwise)."""
    found = _HELP_TEXT.search(_help_text(deployed_step))
    if not found:
        return ""
    changed = [f"{name} is {now!r}, the deployed answer to HELP says {was!r}"
               for name, now, was in (("EIGHTXEIGHT_BRAND_NAME", options.brand, found["brand"]),
                                      ("EIGHTXEIGHT_SUPPORT_CONTACT", options.support, found["support"]))
               if now != was]
    return ("a setting changed since the deploy: " + "; ".join(changed)) if changed else ""


def _help_text(step: dict) -> str:
    """The text the HELP step sends (SMS: inputs.text; Messaging Apps: the send's body.content.text)."""
    inputs = step.get("inputs") if isinstance(step.get("inputs"), dict) else {}
    body = inputs.get("body") if isinstance(inputs.get("body"), dict) else {}
    content = body.get("content") if isinstance(body.get("content"), dict) else {}
    return str(inputs.get("text") or content.get("text") or "")


def _step_problems(have: dict, want: dict, said: set) -> list[str]:
    """Steps edited, missing or added (those in ``said`` are named already, as another language set)."""
    other = [i for i in sorted(set(have) | set(want), key=str) if i not in said and have.get(i) != want.get(i)]
    problems = []
    for words, ids in (("step(s) edited (in the Automation Builder UI?)", [i for i in other if i in have and i in want]),
                       ("step(s) missing", [i for i in other if i not in have]),
                       ("step(s) the runbook does not build", [i for i in other if i not in want])):
        if ids:
            problems.append(f"{words}: {', '.join(map(str, ids))}")
    return problems


def _languages_understood(channel: str, definition: dict) -> list[str]:
    """Which language packs the deployed Branch chain recognises: for each pack, a word of its own
    that no other pack reads as an opt-out is put through the deployed conditions (QuickJS), so the
    answer is what the workflow does, not what its steps look like."""
    from .expressions import Expressions

    workflow = DeployedWorkflow(channel, "", 0, 0, "", definition)
    js = Expressions({})
    return [code for code, word in _probe_words().items()
            if workflow.classify_event(inbound_payload("+6590000000", word, channel=channel.lower()), js) == "opt-out"]


@cache
def _probe_words() -> dict[str, str]:
    """Per language, an opt-out word of that pack that the policy of all the other packs does not take
    (English is always in: its probe is the carriers' STOP)."""
    probes = {"en": "STOP"}
    every = every_language()  # a pack's words are the same there as in the policy of the others
    for code, pack in PACKS.items():
        word = next((w for w in pack.opt_out_words if not every.opt_out_languages(w) - {code}), None)
        if code != "en" and word:
            probes[code] = word
    return probes


# --- 2. canary --------------------------------------------------------------------------------

def run_canary(client: Client, workflow: DeployedWorkflow, *, timeout: float = 30.0) -> Finding:
    """STOP then START from the channel's reserved number through the test-run endpoint, each
    checked by reading the group back; the number leaves the group whatever happens."""
    from .suppression import is_opted_out

    number, group_id, channel = CANARY_NUMBERS[workflow.channel], workflow.group_id, workflow.channel
    was_member = is_opted_out(client, group_id, number)
    problems = []
    try:
        stop = _test_run(client, workflow, number, "STOP", timeout)
        if not is_opted_out(client, group_id, number):
            problems.append(f"a test STOP did not put {number} in group {group_id} (run {stop['workflowId']}: "
                            f"{stop['status']}, Contacts answer {stop['data'].get('opt_out_response_code')})")
        start = _test_run(client, workflow, number, "START", timeout)
        if is_opted_out(client, group_id, number):
            problems.append(f"a test START did not take {number} out of the group (run {start['workflowId']}: "
                            f"{start['status']})")
    finally:
        _take_out(client, group_id, number)
    if was_member:
        problems.append(f"{number} (a reserved test number) was in the group before the check, left by an "
                        "interrupted check; it was taken out")
    if problems:
        return Finding("canary", False, f"{channel}: " + "; ".join(problems) + ".",
                       "look at the run's step log (notebook 04), then " + FIX_DEPLOY)
    return Finding("canary", True, f"{channel}: a test STOP from {number} put it in group {group_id} and a test "
                                   "START took it out, both read back; the group is as it was.")


def _test_run(client: Client, workflow: DeployedWorkflow, number: str, text: str, timeout: float) -> dict:
    check_may_send(client.settings, number, "The canary")  # fiction (555-01XX): never refused; said if changed
    payload = inbound_payload(number, text, client.settings.subaccount_id, channel=workflow.channel.lower(),
                              name="Health check canary", timestamp=iso(client.platform_time()))
    run_id = client.automation.start_workflow(workflow.definition_id, payload)
    deadline = time.monotonic() + timeout
    while True:  # a run that waits to retry stays Runnable: it did not succeed at the first try
        run = client.automation.get_workflow(workflow.definition_id, run_id)
        if run["status"] != "Runnable" or time.monotonic() > deadline or _sleeping(run):
            return run
        time.sleep(0.5)


def _sleeping(run: dict) -> bool:
    return any(log.get("status") == "Sleeping" for log in run.get("logs", []))


def _take_out(client: Client, group_id: int, number: str) -> None:
    """Remove the canary's membership (never its contact) if it is there."""
    from .suppression import member_ids

    ids = member_ids(client, group_id, number)
    if ids:
        client.contacts.remove_from_group(group_id, ids)


# --- 3. lost opt-outs since the last check ------------------------------------------------------

@dataclass
class Checkpoint:
    """Where the next check's window starts, and when read-backs first saw numbers in the group."""
    path: Path
    next_start: str | None = None
    seen_in_group: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Checkpoint":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise EightByEightError(f"the checkpoint {path} cannot be read ({exc}): delete it, and give --hours "
                                    "for the window to check") from None
        return cls(path, data.get("nextStart"), dict(data.get("seenInGroup") or {}))

    def save(self) -> None:
        write_private_json(self.path, {"nextStart": self.next_start, "seenInGroup": self.seen_in_group})


def check_opt_outs(client: Client, options: CheckOptions, report: HealthReport, reports_dir: Path) -> None:
    from .reconcile import reconcile

    checkpoint = Checkpoint.load(reports_dir / checkpoint_name(client.settings))
    since = options.since
    from_checkpoint = since is None and options.hours is None and bool(checkpoint.next_start)
    if from_checkpoint:
        since = checkpoint.next_start
    try:
        window = make_window(client, hours=options.hours, since=since)
    except BadWindow:
        if not from_checkpoint:
            raise
        # A window that starts after the platform's now: the checkpoint was written against another
        # clock (a sandbox reset or run deterministic shares the subaccount's name). Never an empty window.
        raise BadWindow(f"the checkpoint {checkpoint.path} says the next window starts at {since}, after the platform's "
                        "time now: it was written against another clock (a sandbox reset, or run deterministic). Delete "
                        "it, or give --hours for the window to check, then check again.") from None
    result = reconcile(client, name=options.name, window=window, apply=options.apply, reports_dir=reports_dir,
                       seen_in_group=checkpoint.seen_in_group, canary_numbers=set(CANARY_NUMBERS.values()),
                       read_confirmations=True)
    report.window = window.describe()
    report.repaired = dict(result.repaired)
    if result.repaired:
        report.findings.append(Finding("opt-outs", True, "repaired: " + ", ".join(
            f"{n} {what}" for what, n in result.repaired.items()) + " (each read back from the group)."))
    # before the checkpoint moves past them: the opt-outs no group can hold, kept (BadInput: nothing moves)
    kept_path = without_number_path(reports_dir, client.settings)
    kept, new = keep_without_number(kept_path, result.ledger)
    report.findings += _opt_out_findings(result.ledger, kept, new)
    kept_findings, kept_open = _kept_open_rows(client, result.ledger, reports_dir, options.apply)
    report.findings += kept_findings
    report.findings += _other_flows_findings(result)
    kept_open += len(result.still_lost_elsewhere)
    _measure(report, result.ledger)
    report.lost += kept_open
    _advance(checkpoint, result.ledger, window)


# --- rows still open whose runs 8x8 no longer lists ------------------------------------------------
# The ledger reads the runs of the workflows deployed now. A workflow deleted in the UI (then
# redeployed) takes its runs with it: a lost opt-out of its runs left the ledger, the checkpoint moved
# on, and the next check said "none lost". Each row that needs a repair is kept here until the group
# shows it done (or a later message of the same number decides it), whatever happens to its workflow.

def open_rows_path(reports_dir: Path, settings) -> Path:
    return Path(reports_dir) / f"open-opt-outs-{store_key(settings)}.json"


def _kept_open_rows(client: Client, ledger, reports_dir: Path, apply: bool) -> tuple[list[Finding], int]:
    """Keep the ledger's open rows; judge those the ledger no longer sees by reading the group (and, with
    ``apply``, repair them, read back). Answers the findings about the rows the ledger does not show, and
    how many of them are still open."""
    from .ledger import read_without_number

    path = open_rows_path(reports_dir, client.settings)
    kept = read_without_number(path)  # the same owner-readable JSON of dicts (BadInput when unreadable)
    rows = ledger.rows[ledger.rows["number"].ne("") & ledger.rows["matched"].isin(["opt-out", "opt-in"])
                       & ledger.rows["action"].ne(Action.TEST.value)]
    decided = set(rows["number"])  # the ledger judges these itself now
    kept = {n: r for n, r in kept.items() if n not in decided}
    unseen = dict(kept)
    for _, row in ledger.needing(*REPAIRS).iterrows():
        kept[row["number"]] = {"action": row["action"], "time": row["time"], "channel": row["channel"],
                               "groupId": int(row["group_id"]), "workflowId": row["workflow_id"]}
    findings, still, repaired = [], [], []
    for number, row in unseen.items():
        try:
            state = _judge_kept(client, number, row, apply)
        except EightByEightError as exc:  # one row's trouble never stops the check: said, and kept
            state = f"could not be read ({exc})"
        if state == "resolved":
            kept.pop(number)
        elif state == "repaired":
            kept.pop(number)
            repaired.append(number)
        else:
            still.append(f"{number} ({row.get('action', '?')}, {row.get('time', '?')}{'; ' + state if state != 'open' else ''})")
    if repaired:
        findings.append(Finding("opt-outs", True, f"repaired {len(repaired)} row(s) whose runs 8x8 no longer lists: "
                                f"{', '.join(repaired[:5])} (each read back from the group)."))
    if still:
        findings.append(Finding("opt-outs", False, f"{len(still)} open row(s) whose runs 8x8 no longer lists (their "
                                "workflow deleted, renamed or redeployed since): " + "; ".join(still[:5])
                                + (f" and {len(still) - 5} more" if len(still) > 5 else "") + ".",
                                "python -m helpers check --apply"))
    if kept or path.exists():
        write_private_json(path, kept)
    return findings, len(still)


def _judge_kept(client: Client, number: str, row: dict, apply: bool) -> str:
    """'resolved' when the group already shows the repair done, 'repaired' when ``apply`` did it (read
    back), else 'open'."""
    from .bulk.apply import GroupLock, add_chunk
    from .suppression import member_ids

    group_id, adding = int(row["groupId"]), row.get("action") == Action.ADD.value
    member = bool(member_ids(client, group_id, number))
    if member == adding:
        return "resolved"
    if not apply:
        return "open"
    with GroupLock(client, group_id, "reconcile"):
        if adding:
            refused = add_chunk(client, group_id, [number])
            if refused:
                return f"repair refused: {next(iter(refused.values()))}"
        else:
            ids = member_ids(client, group_id, number)
            if ids:
                client.contacts.remove_from_group(group_id, ids)  # the membership only, never the contact
    return "repaired" if bool(member_ids(client, group_id, number)) == adding else "open"


def _other_flows_findings(result) -> list[Finding]:
    """What the reconciliation found and recovered of the STOPs other opt-out flows lost."""
    findings = []
    if result.recovered_elsewhere:
        findings.append(Finding("opt-outs", True, f"recovered {len(result.recovered_elsewhere)} STOP(s) lost by other "
                                "opt-out flows, each read back from the group: " + "; ".join(
                                    f"{n} from {flow!r}" for n, flow in list(result.recovered_elsewhere.items())[:5])
                                + "."))
    still = sorted(result.still_lost_elsewhere)
    if still:
        findings.append(Finding("opt-outs", False, f"{len(still)} STOP(s) lost by other opt-out flows on the triggers "
                                "(in no blacklisted group): " + ", ".join(still[:5])
                                + (f" and {len(still) - 5} more" if len(still) > 5 else "") + ".",
                                "python -m helpers check --apply (or adopt --apply)"))
    return findings


def _measure(report: HealthReport, ledger) -> None:
    """The figures monitoring reads, from the ledger as this check left it (repairs read back)."""
    report.lost = len(ledger.needing(*REPAIRS))
    open_rows = ledger.needing(*REPAIRS, Action.IN_PROGRESS)
    starts = [t for t in (parse_time(x) for x in open_rows["time"]) if t is not None]
    report.oldest_open_seconds = max(0.0, (ledger.window.end - min(starts)).total_seconds()) if starts else 0.0
    honour = ledger.time_to_honour()
    report.honour_seconds = [float(m) * 60 for m in honour["minutes"] if m == m]


def _opt_out_findings(ledger, kept: dict, new: list[str]) -> list[Finding]:
    """What needs action (each kind with up to five numbers and its fix), what is late, else all well.
    An opt-out without a number is an action once, when it is first kept (``new``): no group can hold
    it, so campaigns must go through the audience check; later checks say it is kept."""
    findings = []
    for action in REPAIRS:
        rows = ledger.needing(action)
        if len(rows):
            who = ", ".join(rows["number"].head(5))
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            findings.append(Finding("opt-outs", False, f"{len(rows)} {action.value}: {who}{more}.",
                                    "python -m helpers check --apply"))
    if new:
        more = f" and {len(new) - 5} more" if len(new) > 5 else ""
        findings.append(Finding(
            "opt-outs", False, f"{len(new)} opt-out(s) without a phone number (channel user {', '.join(new[:5])}{more}): "
            "no group can hold them, so 8x8's blacklist does not stop messages to them. Kept in the reports folder "
            "(opt-outs-without-number-*.json) until the same id opts back in; the audience check leaves them out.",
            "send campaigns through the audience check (python -m helpers audience); there is nothing to repair on 8x8",
            severity="warning"))
    elif kept:
        findings.append(Finding("opt-outs", True, f"{len(kept)} opt-out(s) without a phone number kept in "
                                "the reports folder (no group can hold them; the audience check "
                                "leaves them out)."))
    waiting = ledger.needing(Action.IN_PROGRESS)
    late = ledger.rows[ledger.rows["late"].ne("")]
    if len(late):
        findings.append(Finding("opt-outs", False, f"{len(late)} opt-out(s) past a deadline: "
                                + "; ".join(f"{n} ({why})" for n, why in zip(late["number"].head(5),
                                                                              late["late"].head(5))) + ".",
                                "repair them now (check --apply), and find out why they were late"))
    if ledger.needing(*REPAIRS).empty and not new and not len(late):
        counts = ledger.counts()
        findings.append(Finding("opt-outs", True, f"{counts['opt-out']} opt-out(s) and {counts['opt-in']} "
                                f"opt-in(s) in the window, none lost"
                                + (f"; {len(waiting)} in progress (the workflow retries)" if len(waiting) else "")
                                + "."))
    return findings


def _advance(checkpoint: "Checkpoint", ledger, window) -> None:
    """The next window starts at the oldest row still open (to repair, or retrying), else now (the
    opt-outs without a number are kept by then: they hold nothing open); the first sightings in the
    group are kept for the numbers still in the window."""
    open_rows = ledger.rows[ledger.rows["action"].isin([a.value for a in (*REPAIRS, Action.IN_PROGRESS)])]
    starts = [t for t in (parse_time(x) for x in open_rows["time"]) if t is not None]
    # ... less a second: the platform tells its time in whole seconds, so the windows overlap by one
    # rather than miss a run of that second (a run read twice is judged the same).
    checkpoint.next_start = iso(min(starts) if starts else window.end - timedelta(seconds=1))
    numbers = set(ledger.rows["number"])
    seen = {n: t for n, t in checkpoint.seen_in_group.items() if n in numbers}
    for number, at in zip(ledger.rows["number"], ledger.rows["in_group_at"]):
        if number and at and number not in seen:
            seen[number] = at
    checkpoint.seen_in_group = seen
    checkpoint.save()

