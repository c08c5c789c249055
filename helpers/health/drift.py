"""1. Drift: are the deployed workflows there, enabled, and what the runbook builds from the settings?"""

from __future__ import annotations

import re
from functools import cache

from ..client import Client
from ..flows import OPT_OUT
from ..groups import opt_out_group_id, opt_out_list_name
from ..languages import PACKS
from ..payloads import part
from ..policy import KEYWORD_STEPS, KeywordPolicy, every_language
from ..workflow import (
    STEP,
    DeployedWorkflow,
    WorkflowOptions,
    build_opt_out_definitions,
    inbound_payload,
    redact,
    workflows_named,
)
from .report import FIX_DEPLOY, CheckOptions, Finding, HealthReport

_KEYWORD_PREFIXES = tuple(prefix + "_" for prefix in KEYWORD_STEPS.values())  # the keyword chains' step ids


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
    for flag, value, setting in (
        ("--name", wanted.name, settings.workflow_name),
        ("--channels", ",".join(wanted.channels), ",".join(settings.channels)),
        ("--brand", wanted.brand, settings.brand),
        ("--support", wanted.support, settings.support),
    ):
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
            report.findings.append(
                Finding(
                    "workflow",
                    False,
                    f"{channel}: no workflow named {name!r} is "
                    f"deployed on subaccount {settings.subaccount_id} (deleted, or never "
                    "deployed).",
                    fix,
                )
            )
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
            report.findings.append(
                Finding(
                    "workflow",
                    False,
                    f"{channel} ({current['id']}, v{current['version']}): " + "; ".join(problems) + ".",
                    fix,
                )
            )
        else:
            report.findings.append(
                Finding(
                    "workflow",
                    True,
                    f"{channel} ({current['id']}, v{current['version']}): "
                    f"enabled and as the runbook builds it (group {group_id}, languages "
                    f"{','.join(policy.languages)}).",
                )
            )
        found[channel] = DeployedWorkflow(
            channel, current["id"], current["version"], _group_of(shown) or group_id, current.get("status", ""), shown
        )
    return found


def foreign_opt_out_flows(flows: list) -> list[Finding]:
    """Each enabled workflow on the runbook's triggers and subaccount that acts on opt-out words and is not
    the runbook's (found from its steps, never by sending through it): 8x8 runs it beside the runbook's on
    every message, so each STOP gets two answers."""
    return [
        Finding(
            "workflow",
            False,
            f"another opt-out flow runs on {flow.channel} beside the runbook's: "
            f"{flow.label()}: each STOP is answered twice"
            + (f"; its defects: {'; '.join(flow.defects)}" if flow.defects else ""),
            "python -m helpers adopt --apply (recovers what it lost, then disables it, never deletes it)",
        )
        for flow in flows
        if flow.kind == OPT_OUT and flow.enabled
    ]


def _duplicates(channel: str, name: str, same: list[dict]) -> Finding | None:
    """Workflows beside the one deploy updates (two deploys at once, a copy made in the UI): each
    enabled one runs on every message of the trigger, so every STOP is answered twice."""
    extra = [d["id"] for d in same[1:] if d.get("status") == "enabled"]
    if not extra:
        return None
    return Finding(
        "workflow",
        False,
        f"{channel}: {len(extra)} more enabled workflow(s) named {name!r} on this "
        f"trigger ({', '.join(extra)}) beside {same[0]['id']}: 8x8 runs every one on each customer's "
        "message, so each STOP is answered more than once.",
        f"delete {', '.join(extra)} in the Automation Builder (keep {same[0]['id']}, which deploy updates)",
    )


def _group_of(definition: dict) -> int | None:
    for step in definition.get("definition", {}).get("steps", []):
        if step.get("id") == STEP["add"]:
            try:
                return int(step["inputs"]["body"]["groups"][0]["id"])
            except (KeyError, IndexError, TypeError, ValueError):
                return None
    return None


def _differences(
    channel: str, shown: dict, wanted: dict, group_id: int, policy: KeywordPolicy, options: WorkflowOptions
) -> list[str]:
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
            problems.append(
                f"another language set: the deployed keyword steps understand "
                f"{','.join(understood) or 'no language'}, the runbook builds {','.join(policy.languages)}"
            )
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
    changed = [
        f"{name} is {now!r}, the deployed answer to HELP says {was!r}"
        for name, now, was in (
            ("EIGHTXEIGHT_BRAND_NAME", options.brand, found["brand"]),
            ("EIGHTXEIGHT_SUPPORT_CONTACT", options.support, found["support"]),
        )
        if now != was
    ]
    return ("a setting changed since the deploy: " + "; ".join(changed)) if changed else ""


def _help_text(step: dict) -> str:
    """The text the HELP step sends (SMS: inputs.text; Messaging Apps: the send's body.content.text)."""
    inputs = part(step, "inputs")
    body = part(inputs, "body")
    content = part(body, "content")
    return str(inputs.get("text") or content.get("text") or "")


def _step_problems(have: dict, want: dict, said: set) -> list[str]:
    """Steps edited, missing or added (those in ``said`` are named already, as another language set)."""
    other = [i for i in sorted(set(have) | set(want), key=str) if i not in said and have.get(i) != want.get(i)]
    problems = []
    for words, ids in (
        ("step(s) edited (in the Automation Builder UI?)", [i for i in other if i in have and i in want]),
        ("step(s) missing", [i for i in other if i not in have]),
        ("step(s) the runbook does not build", [i for i in other if i not in want]),
    ):
        if ids:
            problems.append(f"{words}: {', '.join(map(str, ids))}")
    return problems


def _languages_understood(channel: str, definition: dict) -> list[str]:
    """Which language packs the deployed Branch chain recognises: for each pack, a word of its own
    that no other pack reads as an opt-out is put through the deployed conditions (QuickJS), so the
    answer is what the workflow does, not what its steps look like."""
    from ..expressions import Expressions

    workflow = DeployedWorkflow(channel, "", 0, 0, "", definition)
    js = Expressions({})
    return [
        code
        for code, word in _probe_words().items()
        if workflow.classify_event(inbound_payload("+6590000000", word, channel=channel.lower()), js) == "opt-out"
    ]


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
