"""Notebook 03's job as one call (``python -m helpers deploy``): build the opt-out workflows for the
chosen languages, check every script against 8x8's rules, deploy on request, and report each
workflow as 8x8 answers it afterwards.

What the report says was deployed is read back (GET .../definitions/{id}), never taken from what was
sent: a definition 8x8 holds at another version or status than the deploy left is refused
(VerificationFailed), not reported as deployed. Notebook 03 walks the same steps one cell at a time
and reads back with the same :func:`read_back_deployments`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .client import Client
from .errors import APIError, EightByEightError, RunInterrupted, VerificationFailed
from .groups import opt_out_group_id, who_enforces
from .policy import KeywordPolicy
from .workflow import (
    DeployLock,
    Deployment,
    WorkflowOptions,
    build_opt_out_definitions,
    check_help_values,
    deploy_definition,
    redact,
    script_table,
    validate_definition,
    write_builder_files,
)

if TYPE_CHECKING:  # for annotations only
    from .config import Settings


@dataclass(frozen=True)
class ReadBack:
    """One deployed workflow as 8x8 answers it right after the deploy (the key put back to the placeholder)."""

    channel: str
    action: str  # what the deploy did: created, updated or unchanged
    held: dict = field(repr=False)  # GET .../definitions/{id}
    platform: str = "8x8"  # who answered (Settings.platform_name)

    def values(self) -> dict:
        return {
            "action": self.action,
            "definition_id": self.held["id"],
            "version": self.held["version"],
            "status": self.held["status"],
            "steps": len(self.held["definition"]["steps"]),
        }

    def line(self) -> str:
        held = self.held
        return (
            f"{self.channel}: {self.action}; {self.platform} holds definition {held['id']} version {held['version']}, "
            f"status {held['status']}, trigger {held['trigger']} on subaccount {held['subAccountId']}, "
            f"{len(held['definition']['steps'])} steps."
        )


def read_back_deployments(
    client: Client, deployments: dict[str, Deployment], definitions: dict[str, dict]
) -> dict[str, ReadBack]:
    """Each channel's deployment read back from 8x8. VerificationFailed when 8x8 does not hold what
    the deploy left: another version (changed in between, e.g. in the Automation Builder UI) or
    another status than the definition deployed."""
    read = {}
    for channel, deployment in deployments.items():
        held = client.automation.get_definition(deployment.definition_id)
        wanted_status = definitions[channel]["status"]
        if held.get("version") != deployment.version or held.get("status") != wanted_status:
            raise VerificationFailed(
                f"{channel}: read back, {client.settings.platform_name} holds definition {deployment.definition_id} at version "
                f"{held.get('version')}, status {held.get('status')!r}, not version {deployment.version}, "
                f"{wanted_status!r}, as deployed. Something changed it meanwhile: deploy again, then run "
                "`python -m helpers check` to see what differs."
            )
        read[channel] = ReadBack(
            channel, deployment.action, redact(held, client.settings), client.settings.platform_name
        )
    return read


@dataclass
class DeployResult:
    """What :func:`deploy_opt_out` built, checked and (applied) deployed, as read back."""

    group_id: int
    group: str
    subaccount: str
    policy: KeywordPolicy
    validations: dict[str, str]  # channel: the official schema's verdict
    scripts: pd.DataFrame  # script_table: every script, its length, its verdict under 8x8's rules
    dry_run: bool
    help_note: str | None = None
    deployed: dict[str, ReadBack] = field(default_factory=dict)
    builder_files: list[Path] = field(default_factory=list)
    saved_settings: dict[str, str] = field(default_factory=dict)  # what the deploy wrote into .env

    @property
    def broken_scripts(self) -> pd.DataFrame:
        return self.scripts[self.scripts["rules"] != "ok"]

    @property
    def exit_code(self) -> int:
        """0: built and checked (and deployed, read back, when applied); 1: a script breaks 8x8's rules."""
        return 1 if len(self.broken_scripts) else 0

    def values(self) -> dict:
        values = {
            "group_id": self.group_id,
            "group": self.group,
            "languages": list(self.policy.languages),
            "dry_run": self.dry_run,
            "scripts": len(self.scripts),
            "longest_script": int(self.scripts["length"].max()),
            "broken_scripts": len(self.broken_scripts),
        }
        if self.deployed:
            values["deployed"] = {channel: read.values() for channel, read in self.deployed.items()}
        if self.builder_files:
            values["builder_files"] = [str(path) for path in self.builder_files]
        if self.saved_settings:
            values["saved_settings"] = dict(self.saved_settings)
        return {**values, "exit_code": self.exit_code}

    def lines(self) -> list[str]:
        lines = [
            f"Opt-out group {self.group_id} ({self.group!r}) for subaccount {self.subaccount}; languages: "
            f"{', '.join(self.policy.languages)}. {who_enforces(self.group)}",
            self.policy.language_table().drop(columns=["Branch steps"]).to_string(),
        ]
        lines += [f"{channel}: {verdict}" for channel, verdict in self.validations.items()]
        broken = len(self.broken_scripts)
        lines.append(
            f"{len(self.scripts)} scripts, the longest {self.scripts['length'].max()} characters (limit "
            "1000): " + ("all within 8x8's rules." if not broken else f"{broken} break 8x8's rules.")
        )
        if broken:
            return lines
        if self.dry_run:
            return lines + ["Dry run: nothing was deployed. Add --apply to deploy (create, or update in place)."]
        lines += [self.help_note] if self.help_note else []
        lines += [read.line() for read in self.deployed.values()]
        if self.saved_settings:
            lines.append(
                "Saved in .env, so that every command, notebook and the scheduled check use what was "
                "deployed: " + ", ".join(f"{k}={v}" for k, v in self.saved_settings.items()) + "."
            )
        return lines + [
            f"Wrote {path} for the Automation Builder UI (the key as a placeholder)." for path in self.builder_files
        ]


def deploy_opt_out(
    client: Client,
    group: str,
    policy: KeywordPolicy,
    options: WorkflowOptions = WorkflowOptions(),
    *,
    apply: bool = False,
    builder_dir: str | Path | None = None,
) -> DeployResult:
    """Build and check the workflows for ``group``; with ``apply``, deploy them (create, or update in
    place: idempotent), read them back and write the Builder files to ``builder_dir`` if given.
    Nothing is deployed when a script breaks 8x8's rules. On the sandbox an applied deploy makes the
    group when it is missing (as notebook 01 would); on 8x8 a missing group is GroupNotFound."""
    settings = client.settings
    group_id = opt_out_group_id(client, group, create_if_missing=settings.sandbox_mode and apply)
    definitions = build_opt_out_definitions(settings, group_id, policy, options)
    result = DeployResult(
        group_id,
        group,
        settings.subaccount_id,
        policy,
        {channel: validate_definition(d) for channel, d in definitions.items()},
        script_table(definitions),
        dry_run=not apply,
    )
    if result.exit_code or not apply:
        return result
    result.help_note = check_help_values(settings, options.brand, options.support)  # BadInput on 8x8
    if builder_dir:  # before the deploy: a folder that cannot be written stops it with nothing deployed
        result.builder_files = write_builder_files(settings, group_id, policy, options, folder=builder_dir)
    deployments = _deploy_each(client, definitions)
    try:
        result.deployed = read_back_deployments(client, deployments, definitions)
    except VerificationFailed:
        raise
    except EightByEightError as exc:  # deployed, but not read back: never "nothing was changed"
        raise RunInterrupted(
            f"the deploy stopped part-way: {_deployed(deployments)} deployed, then reading them "
            f"back failed: {exc}. Deploying again updates in place, so nothing is made twice."
        ).answered_by(exc) from exc
    result.saved_settings = remember_deployed(settings, group, policy, options)
    return result


def remember_deployed(
    settings: Settings, group: str, policy: KeywordPolicy, options: WorkflowOptions
) -> dict[str, str]:
    """After a deploy read back: the values it deployed that the settings do not hold yet, written into
    .env (other lines and comments kept), so that the scheduled check compares with what is deployed
    instead of crying wolf. Answers what was written (nothing when the settings already said it)."""
    from .config import deployed_values, save_settings
    from .groups import opt_out_list_name

    now = deployed_values(settings)
    deployed = {
        "EIGHTXEIGHT_BRAND_NAME": options.brand,
        "EIGHTXEIGHT_SUPPORT_CONTACT": options.support,
        "EIGHTXEIGHT_WORKFLOW_NAME": options.name,
        "EIGHTXEIGHT_CHANNELS": ",".join(options.channels),
        "EIGHTXEIGHT_LANGUAGES": ",".join(policy.languages),
        "EIGHTXEIGHT_OPT_OUT_GROUP": "" if group == opt_out_list_name(settings.for_group(None)) else group,
    }
    changed = {name: value for name, value in deployed.items() if value != now[name]}
    if changed:
        save_settings(changed)
    return changed


def _deploy_each(client: Client, definitions: dict[str, dict]) -> dict[str, Deployment]:
    """deploy_definitions, saying which channels were deployed when one fails after the first, or
    when a request got no answer."""
    deployments: dict[str, Deployment] = {}
    with DeployLock(client):  # refused before the first channel: nothing deployed
        for channel, definition in definitions.items():
            try:
                deployments[channel] = deploy_definition(client, definition)
            except EightByEightError as exc:
                if not deployments and isinstance(exc, APIError):  # 8x8 refused the first: nothing was deployed
                    raise
                # a later channel, or no answer at all (8x8 may hold what was sent): never "nothing was changed"
                raise RunInterrupted(
                    f"the deploy stopped part-way: {_deployed(deployments) or 'nothing'} deployed, "
                    f"then {channel} failed: {exc}. Deploying again updates in place, so nothing is "
                    "made twice."
                ).answered_by(exc) from exc
    return deployments


def _deployed(deployments: dict[str, Deployment]) -> str:
    return ", ".join(f"{channel} ({deployment})" for channel, deployment in deployments.items())
