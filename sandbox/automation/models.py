"""Automation API state and rules: workflow definitions (versioned) and their runs.

Runs execute synchronously when they start (the answer to the start request comes once the
run is finished or asleep), so a client that polls the instance sees it Complete at once, or
Runnable while a Wait step sleeps. :meth:`AutomationBackend.resume_due` wakes the runs whose
wait the sandbox clock has passed (after every clock move, and every second on wall time).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import orjson

from connect_rules import functions as script_functions
from connect_rules.scripts import definition_scripts

from ..errors import InvalidDefinition, InvalidDefinitionId, InvalidRequest, NotFound
from ..storage import Store
from .engine import RunResult, WorkflowEngine, wait_seconds

TRIGGERS = ("inbound_sms", "inbound_chat_apps", "http_request")
STEP_TYPES = (
    "SMS",
    "ChatAppsMessage",
    "HttpRequest",
    "Branch",
    "Wait",
    "WaitForReply",
    "VoiceMessage",
    "WaitForDTMF",
)  # the step schemas of automation_api.json

REQUIRED_INPUTS = {
    "SMS": ("subAccountId", "destination", "text"),
    "ChatAppsMessage": ("subAccountId", "user", "type", "content"),
    "HttpRequest": ("url", "method"),
    "Wait": ("duration",),
    "WaitForReply": ("from", "channel"),
    "VoiceMessage": ("action", "params"),
}  # as automation_api.json requires them
# Steps whose schemas require "outputs", and the outputs they require (automation_api.json).
NEEDS_OUTPUTS = {"WaitForReply": ("reply",), "WaitForDTMF": ("dtmfData",)}


@dataclass(frozen=True)
class DefinitionInput:
    """A definition as the API receives it (definitionInput), parsed by responses.py."""

    trigger: str
    status: str
    name: str
    steps: list
    subaccount_id: str | None = None

    def stored(self) -> dict:
        out = {"trigger": self.trigger, "status": self.status, "definition": {"name": self.name, "steps": self.steps}}
        if self.subaccount_id is not None:
            out["subAccountId"] = self.subaccount_id
        return out


SCHEMA = """
CREATE TABLE IF NOT EXISTS definitions (
    id TEXT NOT NULL, version INTEGER NOT NULL, account TEXT NOT NULL, created_at TEXT NOT NULL,
    body TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (id, version));
CREATE TABLE IF NOT EXISTS workflows (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, definition_id TEXT NOT NULL, version INTEGER NOT NULL,
    status TEXT NOT NULL, started_at TEXT NOT NULL, completed_at TEXT, data TEXT NOT NULL,
    logs TEXT NOT NULL, errors TEXT NOT NULL, seq INTEGER NOT NULL, wake_at TEXT, state TEXT);
CREATE INDEX IF NOT EXISTS workflows_newest_first ON workflows (account, definition_id, version, started_at, seq);
"""
# A sleeping run (Runnable, in a Wait step): when it wakes, and where it goes on.
_WAKE_SCHEMA = "CREATE INDEX IF NOT EXISTS workflows_sleeping ON workflows (wake_at) WHERE wake_at IS NOT NULL;"
INSTANCE_STATUSES = ("Runnable", "Suspended", "Complete", "Terminated")  # the list's status filter


def _step_targets(step: dict) -> list[str]:
    """A Branch step's checked shape, and the step ids it may go to (its choices and nextStepId)."""
    choices = step.get("selectNextStep")
    if not isinstance(choices, dict) or not choices:
        raise InvalidDefinition(f"Branch step {step['id']!r} needs selectNextStep.")
    if not all(c is None or isinstance(c, str) for c in choices.values()):
        raise InvalidDefinition(f"Branch step {step['id']!r}: each condition is a script or null.")
    return ([step["nextStepId"]] if step.get("nextStepId") else []) + list(choices)


def _check_step_inputs(step: dict) -> list[str]:
    """Any other step's checked type, inputs and outputs; the step id it goes to (if any)."""
    kind = step.get("stepType")
    if kind not in STEP_TYPES:
        raise InvalidDefinition(f"Step {step['id']!r}: unknown stepType {kind!r}.")
    inputs = step.get("inputs")
    if not isinstance(inputs, dict):
        raise InvalidDefinition(f"Step {step['id']!r} needs inputs.")
    outputs = step.get("outputs")
    if kind in NEEDS_OUTPUTS and (not isinstance(outputs, dict) or any(n not in outputs for n in NEEDS_OUTPUTS[kind])):
        raise InvalidDefinition(
            f"Step {step['id']!r} ({kind}) needs outputs ({', '.join(NEEDS_OUTPUTS[kind]) or 'an object'})."
        )
    missing = [k for k in REQUIRED_INPUTS.get(kind, ()) if inputs.get(k) in (None, "")]
    if missing:
        raise InvalidDefinition(f"Step {step['id']!r} ({kind}): inputs {', '.join(missing)} required.")
    if kind == "Wait" and "{{" not in str(inputs["duration"]):
        try:
            wait_seconds(inputs["duration"])
        except ValueError as exc:
            raise InvalidDefinition(f"Step {step['id']!r}: {exc}.") from None
    return [step["nextStepId"]] if step.get("nextStepId") else []


class AutomationBackend:
    def __init__(self, store: Store, engine: WorkflowEngine, account_for_subaccount):
        self.store = store
        self.engine = engine
        self.account_for_subaccount = account_for_subaccount
        store.add_schema(SCHEMA)
        columns = {row["name"] for row in store.query("PRAGMA table_info(workflows)")}
        for column in ("wake_at", "state"):  # a state file written before Wait steps slept
            if column not in columns:
                store.add_schema(f"ALTER TABLE workflows ADD COLUMN {column} TEXT;")
        store.add_schema(_WAKE_SCHEMA)
        self._waking = threading.Lock()  # one thread wakes sleeping runs at a time

    # --- definitions ------------------------------------------------------------------
    @staticmethod
    def validate(spec: DefinitionInput) -> None:
        """8x8's rules for a definition: 400 with code 5001 and the reason otherwise."""
        if spec.trigger not in TRIGGERS:
            raise InvalidDefinition(f"Trigger must be one of {', '.join(TRIGGERS)}.")
        if spec.status not in ("enabled", "disabled"):
            raise InvalidDefinition("Status must be enabled or disabled.")
        if not spec.name.strip():
            raise InvalidDefinition("Workflow name is required.")
        if not spec.steps:
            raise InvalidDefinition("Workflow steps are required.")
        ids = [s.get("id") if isinstance(s, dict) else None for s in spec.steps]
        if not all(isinstance(i, str) and i for i in ids) or len(set(ids)) != len(ids):
            raise InvalidDefinition("Every step needs an id, unique within the definition.")
        for step in spec.steps:
            targets = _step_targets(step) if step.get("stepType") == "Branch" else _check_step_inputs(step)
            unknown = [t for t in targets if t not in ids]
            if unknown:
                raise InvalidDefinition(f"Step {step['id']!r} points to unknown step(s): {', '.join(unknown)}.")
        # 8x8's script rules (Context & Scripting): every {{ }} within them, or the definition is refused.
        for script in definition_scripts(spec.steps):
            broken = script.violations()
            if broken:
                raise InvalidDefinition(
                    f"Step {script.step!r}, field {script.field!r}: the script breaks 8x8's "
                    f"script rules: {'; '.join(map(str, broken))}."
                )

    def _render(self, row) -> dict:
        # 8x8's documents disagree on where id and version stand (NOTES.md): the sandbox answers the
        # schema's reading, the top level, and leaves them out of "definition" (the client reads both).
        body = json.loads(row["body"])
        return {
            "accountId": row["account"],
            "id": row["id"],
            "version": row["version"],
            "createdAt": row["created_at"],
            "subAccountId": body.get("subAccountId"),
            "trigger": body["trigger"],
            "status": body.get("status", "disabled"),
            "definition": body["definition"],
        }

    @staticmethod
    def _check_id(definition_id: str) -> None:
        try:
            uuid.UUID(definition_id)
        except ValueError:
            raise InvalidDefinitionId() from None

    def _latest(self, account: str, definition_id: str):
        self._check_id(definition_id)
        rows = self.store.query(
            "SELECT * FROM definitions WHERE account = ? AND id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1",
            (account, definition_id),
        )
        if not rows:
            raise NotFound(f"Definition {definition_id} not found.")
        return rows[0]

    def create(self, account: str, spec: DefinitionInput) -> dict:
        self.validate(spec)
        self._check_subaccount(account, spec)
        definition_id = self.store.new_uuid("definition")
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO definitions(id, version, account, created_at, body) VALUES (?, 1, ?, ?, ?)",
                (definition_id, account, self.store.clock.iso(), json.dumps(spec.stored())),
            )
        return self._render(self._latest(account, definition_id))

    def _check_subaccount(self, account: str, spec: DefinitionInput) -> None:
        if spec.subaccount_id is not None and self.account_for_subaccount(spec.subaccount_id) != account:
            raise InvalidRequest(f"Subaccount {spec.subaccount_id!r} does not belong to account {account!r}.")

    def update(self, account: str, definition_id: str, spec: DefinitionInput) -> dict:
        self.validate(spec)
        self._check_subaccount(account, spec)
        with self.store.transaction() as db:
            latest = self._latest(account, definition_id)
            db.execute(
                "INSERT INTO definitions(id, version, account, created_at, body) VALUES (?, ?, ?, ?, ?)",
                (definition_id, latest["version"] + 1, account, latest["created_at"], json.dumps(spec.stored())),
            )
        return self._render(self._latest(account, definition_id))

    def versions(self, account: str, definition_id: str, limit: int, offset: int) -> list[dict]:
        self._check_id(definition_id)
        rows = self.store.query(
            "SELECT * FROM definitions WHERE account = ? AND id = ? AND deleted = 0 "
            "ORDER BY version DESC LIMIT ? OFFSET ?",
            (account, definition_id, limit, offset),
        )
        return [self._render(r) for r in rows]

    def list(self, account: str, limit: int, offset: int) -> list[dict]:
        rows = self.store.query(
            "SELECT d.* FROM definitions d WHERE account = ? AND deleted = 0 AND version = "
            "(SELECT max(version) FROM definitions WHERE id = d.id) ORDER BY created_at, id LIMIT ? OFFSET ?",
            (account, limit, offset),
        )
        return [self._render(r) for r in rows]

    def delete(self, account: str, definition_id: str) -> None:
        with self.store.transaction() as db:
            self._latest(account, definition_id)
            db.execute("UPDATE definitions SET deleted = 1 WHERE id = ?", (definition_id,))

    # --- runs ---------------------------------------------------------------------------
    def start(self, account: str, definition_id: str, data: Any, version: int | None = None) -> dict:
        if not isinstance(data, dict):
            raise InvalidRequest("The workflow data must be a JSON object (a webhook-shaped body).")
        row = self._latest(account, definition_id)
        if version is not None and version != row["version"]:
            rows = self.store.query(
                "SELECT * FROM definitions WHERE account = ? AND id = ? AND version = ?",
                (account, definition_id, version),
            )
            if not rows:
                raise NotFound(f"Definition {definition_id} version {version} not found.")
            row = rows[0]
        definition = self._render(row)
        payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
        context = {**data, "accountId": account, "triggeredAt": self.store.clock.iso()}
        subaccount = payload.get("subAccountId") or definition.get("subAccountId")
        if subaccount:
            context["subAccountId"] = subaccount
        workflow_id = self.store.new_uuid("workflow")
        started = self.store.clock.iso()
        result = self.engine.run(definition["definition"]["steps"], context, workflow_id)
        with self.store.transaction() as db:
            seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM workflows").fetchone()[0]
            db.execute(
                "INSERT INTO workflows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    workflow_id,
                    account,
                    definition_id,
                    definition["version"],
                    result.status,
                    started,
                    self._completed_at(result),
                    json.dumps(result.data),
                    json.dumps(result.logs),
                    json.dumps(result.errors),
                    seq,
                    result.wake_at,
                    json.dumps(result.state()) if result.wake_at else None,
                ),
            )
        return self.get_workflow(account, definition_id, workflow_id, include_logs=True)

    def _completed_at(self, result: RunResult) -> str | None:
        return None if result.status == "Runnable" else self.store.clock.iso()

    def next_wake(self):
        """When the next sleeping run wakes (a datetime), or None."""
        rows = self.store.query("SELECT min(wake_at) AS wake FROM workflows WHERE wake_at IS NOT NULL")
        return self.store.clock.parse(rows[0]["wake"]) if rows and rows[0]["wake"] else None

    def resume_due(self) -> int:
        """Wake every sleeping run whose wait the clock has passed, oldest wake first; a run that
        sleeps again and is already due goes on at once. Answers how many steps of runs woke."""
        woken = 0
        with self._waking:
            while True:
                rows = self.store.query(
                    "SELECT * FROM workflows WHERE wake_at IS NOT NULL AND wake_at <= ? "
                    "ORDER BY wake_at, seq LIMIT 100",
                    (self.store.clock.iso(),),
                )
                if not rows:
                    return woken
                for row in rows:
                    self._wake(row)
                    woken += 1

    def _wake(self, row) -> None:
        body = self.store.query(
            "SELECT body FROM definitions WHERE account = ? AND id = ? AND version = ?",
            (row["account"], row["definition_id"], row["version"]),
        )
        steps = json.loads(body[0]["body"])["definition"]["steps"] if body else []
        state = json.loads(row["state"] or "{}")
        asleep = RunResult(
            status="Runnable",
            data=json.loads(row["data"]),
            logs=json.loads(row["logs"]),
            errors=json.loads(row["errors"]),
            queue=state.get("queue", []),
            executed=state.get("executed", 0),
            wake_at=row["wake_at"],
        )
        try:
            result = self.engine.run(steps, asleep.data, row["id"], resume=asleep)
        except Exception as exc:  # a run that cannot go on ends visibly, never wakes again and again
            asleep.status, asleep.wake_at = "Terminated", None
            asleep.errors.append(
                {
                    "workflowId": row["id"],
                    "step": (asleep.queue or ["?"])[0],
                    "message": f"the run could not go on after its Wait: {type(exc).__name__}",
                    "errorTime": self.store.clock.iso(),
                }
            )
            result = asleep
        with self.store.transaction() as db:
            db.execute(
                "UPDATE workflows SET status = ?, completed_at = ?, data = ?, logs = ?, errors = ?, "
                "wake_at = ?, state = ? WHERE id = ?",
                (
                    result.status,
                    self._completed_at(result),
                    json.dumps(result.data),
                    json.dumps(result.logs),
                    json.dumps(result.errors),
                    result.wake_at,
                    json.dumps(result.state()) if result.wake_at else None,
                    row["id"],
                ),
            )

    def get_workflow(self, account: str, definition_id: str, workflow_id: str, *, include_logs: bool) -> dict:
        self._check_id(definition_id)
        rows = self.store.query(
            "SELECT * FROM workflows WHERE account = ? AND definition_id = ? AND id = ?",
            (account, definition_id, workflow_id),
        )
        if not rows:
            raise NotFound(f"Workflow {workflow_id} not found.")
        return self._render_workflow(rows[0], include_logs)

    @staticmethod
    def _render_workflow(row, include_logs: bool, *, parse_data: bool = True) -> dict:
        out = {
            "workflowId": row["id"],
            "data": _loads(row["data"]) if parse_data else None,
            "definitionId": row["definition_id"],
            "version": row["version"],
            "status": row["status"],
            "startedAt": row["started_at"],
            "completedAt": row["completed_at"],
        }
        if include_logs:
            out["logs"] = json.loads(row["logs"])
        return out

    def list_workflows(
        self,
        account: str,
        definition_id: str,
        limit: int,
        offset: int,
        *,
        version: int | None = None,
        status: str | None = None,
        started_from: str | None = None,
        started_to: str | None = None,
    ) -> list[dict]:
        """A definition's instances, newest first, as automation_api.json describes the list.

        Without ``version``, the latest version's instances only (as documented); an unknown
        version is 404 (8x8's text is silent; the strict reading). ``offset`` counts items, as
        for definitions. The start-time bounds are inclusive.
        """
        latest = self._latest(account, definition_id)
        version = latest["version"] if version is None else version
        if not self.store.query(
            "SELECT 1 FROM definitions WHERE account = ? AND id = ? AND version = ?", (account, definition_id, version)
        ):
            raise NotFound(f"Definition {definition_id} version {version} not found.")
        where, params = ["account = ?", "definition_id = ?", "version = ?"], [account, definition_id, version]
        if status is not None:
            if status not in INSTANCE_STATUSES:
                raise InvalidRequest(f"status must be one of {', '.join(INSTANCE_STATUSES)}, got {status!r}.")
            where.append("status = ?")
            params.append(status)
        for bound, value, name in ((">=", started_from, "startTimeFrom"), ("<=", started_to, "startTimeTo")):
            if value is not None:
                where.append(f"started_at {bound} ?")
                params.append(self.store.clock.iso(_iso_8601(value, name)))
        rows = self.store.query(
            f"SELECT * FROM workflows WHERE {' AND '.join(where)} ORDER BY started_at DESC, seq DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        # data goes out as stored (valid JSON, written by json.dumps), not parsed and encoded again
        return [{**self._render_workflow(r, False, parse_data=False), "data": orjson.Fragment(r["data"])} for r in rows]

    def seed_instances(self, account: str, definition_id: str, instances: list[dict]) -> int:
        """Sandbox-only, for benchmarks: store finished runs as given (data, status, startedAt), fast."""
        version = self._latest(account, definition_id)["version"]
        with self.store.transaction() as db:
            seq = db.execute("SELECT coalesce(max(seq), 0) FROM workflows").fetchone()[0]
            db.executemany(
                "INSERT INTO workflows VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]', ?, NULL, NULL)",
                [
                    (
                        self.store.new_uuid("workflow"),
                        account,
                        definition_id,
                        version,
                        i["status"],
                        i["startedAt"],
                        i["startedAt"],
                        json.dumps(i["data"]),
                        seq + n + 1,
                    )
                    for n, i in enumerate(instances)
                ],
            )
        return len(instances)

    def errors(self, account: str, definition_id: str, workflow_id: str) -> list[dict]:
        self._check_id(definition_id)
        rows = self.store.query(
            "SELECT errors FROM workflows WHERE account = ? AND definition_id = ? AND id = ?",
            (account, definition_id, workflow_id),
        )
        if not rows:
            raise NotFound(f"Workflow {workflow_id} not found.")
        return json.loads(rows[0]["errors"])

    def deliver_inbound(self, subaccount: str, payload_data: dict, trigger: str) -> list[dict]:
        """Start every enabled definition whose trigger and subaccount match, as the platform would."""
        account = self.account_for_subaccount(subaccount)
        started = []
        for definition in self.list(account, 10_000, 0):
            if (
                definition["status"] == "enabled"
                and definition["trigger"] == trigger
                and definition.get("subAccountId") in (None, subaccount)
            ):
                started.append(self.start(account, definition["id"], payload_data))
        return started


def _loads(text: str):
    """The stored JSON (written by json.dumps): orjson is several times faster on instance pages;
    json for what orjson refuses (a lone surrogate a webhook may carry)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _iso_8601(value: str, name: str):
    from datetime import datetime

    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise InvalidRequest(
            f"{name} must be an ISO 8601 time such as 2021-06-24T09:33:06.60Z, got {value!r}."
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def functions() -> list[dict]:
    """8x8's own script functions (GET .../steps/functions)."""
    return script_functions.FUNCTIONS


def time_zones(contains: str | None) -> list[dict]:
    return script_functions.time_zones(contains)
