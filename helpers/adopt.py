"""Coming from 8x8's tutorial (``python -m helpers adopt``): find what the account already runs, recover
every opt-out it lost, and leave one opt-out list and one opt-out flow per channel.

Read-only by default, every answer read from 8x8 (or the sandbox): the workflows on the subaccount's
two inbound triggers, classified (:mod:`helpers.flows`); each foreign opt-out flow's defects and its
runs measured (messages, who asked to stop by the runbook's policy, who of them a blacklisted group
holds, the lost ones by number); every blacklisted group with its size; and which group the runbook
would use: the account's own blacklisted group where it has one, never a second one beside it.

``apply`` (in this order, so that there is no moment without an opt-out flow):

1. the group: one blacklisted group is adopted (its name saved as EIGHTXEIGHT_OPT_OUT_GROUP); with
   several the operator names one (``group``) and until then nothing is made or changed;
2. every lost opt-out found in the foreign flows' runs is put in that group (create-or-merge, in
   journaled chunks, resumable), then read back: "recovered from <workflow>" only for those the group
   shows. Nothing is sent to these customers;
3. the runbook's workflows are deployed if they are not there (on the same triggers);
4. only once they are enabled and their canary passed (a test STOP and START, read back), each foreign
   opt-out flow on the same triggers is disabled, never deleted, with how to enable it again.

A second run changes nothing: the lost are in the group, the flows are disabled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import Client
from .config import save_settings
from .errors import BadInput
from .flows import OPT_OUT, RUNBOOK, Flow, Measured, flows_on_triggers, measure
from .groups import DEFAULT_GROUP_NAME, blacklisted_groups, read_group
from .ledger import iso, make_window
from .paths import reports_folder, shown
from .policy import KeywordPolicy

DEFAULT_HOURS = 90 * 24  # how far back the foreign flows' runs are read (8x8 keeps them; the strict side reads more)


@dataclass
class Adoption:
    flows: list[Flow]
    measured: dict[str, Measured]  # flow id -> its runs, measured
    groups: list[dict]  # the blacklisted groups, with their sizes
    group: dict | None  # the group the runbook uses (adopted or its own), None: the operator must choose
    group_note: str
    window: str
    applied: bool = False
    recovered: dict[str, list[str]] = field(default_factory=dict)  # flow name -> numbers the group shows now
    not_recovered: dict[str, str] = field(default_factory=dict)  # number -> why
    deployed: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    kept_enabled: str = ""  # why the foreign flows were left enabled
    saved_settings: dict[str, str] = field(default_factory=dict)
    journal: Path | None = None

    @property
    def foreign(self) -> list[Flow]:
        return [f for f in self.flows if f.kind == OPT_OUT]

    @property
    def lost(self) -> dict[str, tuple[str, str]]:
        """Every lost opt-out, once: number -> (the flow's name, the time of the STOP)."""
        found: dict[str, tuple[str, str]] = {}
        for flow in self.foreign:
            for number, when in self.measured[flow.id].lost.items():
                found.setdefault(number, (flow.name, when))
        return found

    @property
    def exit_code(self) -> int:
        """0: nothing to do (one opt-out flow per channel, none lost); 1: something needs action or was left;
        2: never here (errors raise)."""
        if self.applied:
            return 1 if (self.not_recovered or self.kept_enabled or any(f.enabled for f in self.foreign)) else 0
        return 1 if (self.lost or any(f.enabled for f in self.foreign) or self.group is None) else 0

    def values(self) -> dict:
        return {
            "exit_code": self.exit_code,
            "applied": self.applied,
            "window": self.window,
            "group": self.group and {"id": self.group["id"], "name": self.group["name"]},
            "group_note": self.group_note,
            "blacklisted_groups": [
                {"id": g["id"], "name": g["name"], "members": g.get("contacts")} for g in self.groups
            ],
            "flows": [
                {
                    "id": f.id,
                    "name": f.name,
                    "channel": f.channel,
                    "kind": f.kind,
                    "enabled": f.enabled,
                    "defects": f.defects,
                    "on_stop": f.on_stop,
                    **(
                        {
                            "messages": self.measured[f.id].messages,
                            "asked_to_stop": len(self.measured[f.id].asked),
                            "in_a_list": len(self.measured[f.id].in_a_list),
                            "lost": sorted(self.measured[f.id].lost),
                        }
                        if f.id in self.measured
                        else {}
                    ),
                }
                for f in self.flows
            ],
            "recovered": self.recovered,
            "not_recovered": self.not_recovered,
            "deployed": self.deployed,
            "disabled": self.disabled,
            "kept_enabled": self.kept_enabled or None,
            "saved_settings": self.saved_settings,
        }

    def lines(self) -> list[str]:
        out = [self.summary()]
        for flow in self.flows:
            out += self._flow_lines(flow)
        out.append(
            ("Blacklisted groups, as read before any change: " if self.applied else "Blacklisted groups: ")
            + (
                "; ".join(f"{g['name']!r} (id {g['id']}, {g.get('contacts', '?')} member(s))" for g in self.groups)
                or "none"
            )
            + "."
        )
        out.append(self.group_note)
        if self.applied:
            out += self._applied_lines()
        elif self.lost or any(f.enabled for f in self.foreign):
            out.append(
                "Dry run: nothing was changed. Add --apply to recover the lost opt-outs, deploy the runbook's "
                "workflows and disable the other opt-out flows once they run."
            )
        return out

    def _flow_lines(self, flow: Flow) -> list[str]:
        out = [
            f"- {flow.label()}: "
            + {
                RUNBOOK: "the runbook's",
                OPT_OUT: "an opt-out flow not the runbook's",
                "answers": f"answers inbound messages: {flow.on_stop}",
                "other": "acts on no message the runbook reads",
            }[flow.kind]
        ]
        out += [f"    defect: {defect}" for defect in flow.defects]
        if flow.id in self.measured:
            m = self.measured[flow.id]
            lost = f": {', '.join(sorted(m.lost)[:10])}" + (" ..." if len(m.lost) > 10 else "") if m.lost else ""
            out.append(
                f"    runs: {m.messages} message(s); {len(m.asked)} customer(s) asked to stop (the runbook's "
                f"policy); {len(m.in_a_list)} in an opt-out list now; {len(m.lost)} lost{lost}"
                + (f"; {m.without_number} without a phone number" if m.without_number else "")
            )
        return out

    def _applied_lines(self) -> list[str]:
        out = [
            f"Recovered from {name!r}: {len(numbers)} opt-out(s), each read back in the group (nothing was sent "
            f"to them)."
            for name, numbers in self.recovered.items()
        ]
        out += [f"NOT recovered: {number}: {why}" for number, why in self.not_recovered.items()]
        out += [f"Deployed: {d}" for d in self.deployed]
        out += [f"Disabled (not deleted): {d}" for d in self.disabled]
        if self.disabled:
            out.append(
                "To enable one again: open it in the Automation Builder and turn it on (two opt-out flows "
                "on one trigger answer each STOP twice)."
            )
        if self.kept_enabled:
            out.append(f"Left enabled: {self.kept_enabled}")
        if self.saved_settings:
            out.append("Saved in .env: " + ", ".join(f"{k}={v}" for k, v in self.saved_settings.items()) + ".")
        if self.journal:
            out.append(f"Journal: {shown(self.journal)}")
        return out

    def summary(self) -> str:
        foreign = [f for f in self.foreign if f.enabled]
        if self.applied:
            done = sum(len(v) for v in self.recovered.values())
            return (
                f"adopt: applied: {done} lost opt-out(s) recovered, {len(self.disabled)} flow(s) disabled"
                + (f"; {len(self.not_recovered)} NOT recovered" if self.not_recovered else "")
                + "."
            )
        return (
            f"adopt: {len(self.flows)} workflow(s) on the inbound triggers, {len(foreign)} other opt-out flow(s) "
            f"enabled, {len(self.lost)} lost opt-out(s) found, {len(self.groups)} blacklisted group(s)."
        )


def choose_group(client: Client, groups: list[dict], named: str | None) -> tuple[dict | None, str]:
    """The group the runbook uses: the one named, else the settings' own when it exists, else the account's
    only blacklisted group; with several and none named, None and what to do."""
    settings = client.settings
    by_name = {g["name"]: g for g in groups}
    if named is not None:
        if named not in by_name:
            raise BadInput(
                f"--group {named!r} is not a blacklisted group of this account; the blacklisted groups: "
                f"{', '.join(map(repr, by_name)) or 'none'}. Nothing was changed."
            )
        return by_name[named], f"The runbook uses {named!r} (named)."
    own = settings.opt_out_group or DEFAULT_GROUP_NAME
    if own in by_name:
        return by_name[own], f"The runbook uses {own!r}."
    if len(groups) == 1:
        return groups[0], (
            f"The runbook adopts {groups[0]['name']!r}, the account's blacklisted group, instead of making "
            f"a second one beside it (EIGHTXEIGHT_OPT_OUT_GROUP)."
        )
    if not groups:
        return None, "No blacklisted group yet: the runbook makes its own (notebook 01, or deploy --apply)."
    return None, (
        f"{len(groups)} blacklisted groups: give --group NAME to choose the one the runbook uses (8x8 blocks "
        "the members of every one, and the audience check leaves them all out). Until then nothing is made."
    )


def survey(client: Client, *, group: str | None = None, hours: float | None = None) -> Adoption:
    """Read-only: the flows, their defects and runs, the blacklisted groups, the group to use."""
    window = make_window(client, hours=hours or DEFAULT_HOURS)
    groups = blacklisted_groups(client)
    chosen, note = choose_group(client, groups, group)
    members: set[str] = set()
    for g in groups:
        members |= set(read_group(client, int(g["id"])).ever)
    flows = flows_on_triggers(client)
    policy = KeywordPolicy(languages=client.settings.languages)
    measured = {
        f.id: measure(client, f, policy, members, started_from=iso(window.start), started_to=iso(window.end))
        for f in flows
        if f.kind == OPT_OUT
    }
    return Adoption(flows, measured, groups, chosen, note, window.describe())


def adopt(
    client: Client,
    *,
    apply: bool = False,
    group: str | None = None,
    hours: float | None = None,
    reports_dir: str | Path | None = None,
    canary: Callable[[Client, Any], Any] | None = None,
    deploy: Callable[[Client], Any] | None = None,
) -> Adoption:
    """``survey``, and with ``apply`` the four steps of the module's docstring. ``canary`` and ``deploy``:
    the runbook's (helpers.health.run_canary, helpers.deploy.deploy_opt_out), given by the caller."""
    found = survey(client, group=group, hours=hours)
    if not apply:
        return found
    if found.group is None and found.groups:
        raise BadInput(found.group_note)
    found.applied = True
    settings = client.settings
    if found.group is not None and found.group["name"] != (settings.opt_out_group or DEFAULT_GROUP_NAME):
        found.saved_settings = {"EIGHTXEIGHT_OPT_OUT_GROUP": found.group["name"]}
        save_settings(found.saved_settings)
        client.settings = settings = settings.for_group(found.group["name"])
    _recover(client, found, Path(reports_dir) if reports_dir else reports_folder())
    workflows = _ensure_deployed(client, found, deploy)
    _disable_foreign(client, found, workflows, canary)
    return found


def _recover(client: Client, found: Adoption, reports_dir: Path) -> None:
    from .bulk.apply import GroupLock, Journal, adding, send_in_chunks
    from .groups import opt_out_group_id, opt_out_list_name
    from .ledger import read_membership

    lost = found.lost
    if not lost:
        return
    group_id = (
        int(found.group["id"])
        if found.group
        else opt_out_group_id(client, opt_out_list_name(client.settings), create_if_missing=True)
    )
    keys = sorted(n[1:] for n in lost)
    key = Journal.run_key("adopt", group_id, "adopt", {"numbers": keys})
    with GroupLock(client, group_id, "adopt"):
        journal = Journal(Journal.default_path(reports_dir / "journals", "adopt", group_id, key), key)
        journal.open({"mode": "adopt", "groupId": group_id, "add": len(keys)})
        found.journal = journal.path
        failed = send_in_chunks(
            client,
            journal,
            keys,
            100,
            adding(client, group_id),
            label="Recovering lost opt-outs",
            pass_number=1,
            progress=False,
        )
        after = read_membership(client, group_id, set(lost))
        journal.record({"type": "finished"})
    for number, (flow_name, _) in sorted(lost.items()):
        if number[1:] in after.keys:
            found.recovered.setdefault(flow_name, []).append(number)
        else:
            found.not_recovered[number] = failed.get(number[1:], "not in the group when read back")


def _ensure_deployed(client: Client, found: Adoption, deploy) -> dict:
    from .errors import WorkflowNotDeployed
    from .workflow import deployed_workflows

    try:
        workflows = deployed_workflows(client)
    except WorkflowNotDeployed:
        workflows = {}
    wanted = set(client.settings.channels)
    if wanted - set(workflows) and deploy is not None:
        result = deploy(client)
        found.deployed = [read.line() for read in result.deployed.values()]
        workflows = deployed_workflows(client)
    return workflows


def _disable_foreign(client: Client, found: Adoption, workflows: dict, canary) -> None:
    """Each enabled foreign opt-out flow on a trigger the runbook's enabled workflow covers, disabled once
    that workflow's canary passed."""
    if canary is None:
        found.kept_enabled = "no canary was given: the other opt-out flows stay as they are"
        return
    passed, failed = set(), []
    for channel, workflow in workflows.items():
        if workflow.status != "enabled":
            failed.append(f"the runbook's {channel} workflow is {workflow.status}")
            continue
        finding = canary(client, workflow)
        (passed.add(channel) if finding.ok else failed.append(f"{channel}: {finding.what}"))
    for flow in found.foreign:
        if not flow.enabled:
            continue
        if flow.channel not in passed:
            if flow.channel not in workflows:
                failed.append(f"the runbook has no {flow.channel} workflow deployed to take over from {flow.label()}")
            continue
        held = client.automation.get_definition(flow.id)
        body = {k: held[k] for k in ("subAccountId", "trigger", "definition") if k in held}
        client.automation.update_definition(
            flow.id, {**body, "accountId": client.settings.account_id, "status": "disabled"}
        )
        now = client.automation.get_definition(flow.id)
        if now.get("status") == "disabled":  # said from what 8x8 answers, never assumed
            found.disabled.append(f"{flow.name!r} ({flow.channel}, {flow.id}), read back: disabled")
            flow.held = now
        else:
            failed.append(f"{flow.label()} still reads {now.get('status')!r}")
    if failed:
        found.kept_enabled = (
            "the other opt-out flows of these channels stay enabled, so no STOP goes unhandled: " + "; ".join(failed)
        )
