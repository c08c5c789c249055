"""The sandbox's workflow engine: runs a definition's steps against a context ``data``.

``{{ }}`` values are JavaScript, evaluated by QuickJS (a real engine, as on the platform) in
the sandbox's own wiring (scripting.py): a value that is one template keeps its type, a
string with templates inside is interpolated.
HttpRequest steps make real HTTP requests, to loopback hosts only (the sandbox calls no one
outside this machine); ChatAppsMessage and SMS steps go through the sandbox's Messaging API.

A ``Wait`` step pauses the run as 8x8 documents it (examples/automation_definitions.json,
"wait_pauses"; the workflowLog statuses): the instance stays ``Runnable``, the step's log shows
``Sleeping`` until the sandbox clock has passed the wait, and only then does the next step run
(:meth:`WorkflowEngine.run` with ``resume``). The sandbox's clock decides, in deterministic mode
too: a run never wakes before the clock is moved past its wait.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import requests

from .scripting import ScriptFailed, WorkflowScripts, is_true

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_STEPS_PER_RUN = 100  # guards against a definition whose steps loop forever
# 8x8's duration format for Wait: "d.HH:mm:ss" (the day part optional), or whole days ("1").
WAIT_DURATION = re.compile(r"^(?:(?P<days_only>\d+)|(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2}))$")


class StepFailed(Exception):
    pass


def wait_seconds(duration: str) -> float:
    """Seconds of a Wait step's ``duration``; ValueError when it is not 8x8's timespan format."""
    match = WAIT_DURATION.match(str(duration))
    if not match:
        raise ValueError(f"duration {duration!r} is not a timespan d.HH:mm:ss")
    if match["days_only"] is not None:
        return int(match["days_only"]) * 86400.0
    hours, minutes, seconds = int(match["h"]), int(match["m"]), int(match["s"])
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"duration {duration!r}: hours 0-23, minutes and seconds 0-59")
    return int(match["days"] or 0) * 86400.0 + hours * 3600 + minutes * 60 + seconds


@dataclass
class RunResult:
    status: str  # Complete, Terminated, or Runnable (asleep in a Wait step until ``wake_at``)
    data: dict
    logs: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    queue: list[str] = field(default_factory=list)  # the steps still to run when it wakes
    executed: int = 0
    wake_at: str | None = None  # the sandbox clock's ISO time when a Runnable run wakes

    def state(self) -> dict:
        return {"queue": self.queue, "executed": self.executed}


class WorkflowEngine:
    def __init__(
        self,
        *,
        clock,
        new_id: Callable[[], str],
        send_message: Callable[[str, dict, str], dict],
        http: requests.Session | None = None,
    ):
        self._clock = clock  # the sandbox's Clock: now() and iso()
        self._new_id = new_id
        self._send_message = send_message
        self._http = http or requests.Session()

    def run(self, steps: list[dict], data: dict, workflow_id: str, *, resume: RunResult | None = None) -> RunResult:
        """Run from the first step, or (``resume``) wake a sleeping run and go on from its queue."""
        if resume is None:
            result = RunResult(status="Complete", data=data)
            if not steps:
                return result
            queue: deque[str] = deque([steps[0]["id"]])
        else:
            result = resume
            result.status, result.wake_at = "Complete", None
            for log in result.logs:
                if log.get("status") == "Sleeping":  # its completedAt already holds the end of the wait
                    log["status"] = "Complete"
            queue = deque(result.queue)
        by_id = {s["id"]: s for s in steps}
        js = WorkflowScripts(result.data)
        while queue:
            step = by_id[queue.popleft()]
            result.executed += 1
            started = self._clock.iso()
            log = {"id": self._new_id(), "stepName": step["id"], "startedAt": started}
            try:
                if result.executed > MAX_STEPS_PER_RUN:
                    raise StepFailed(f"more than {MAX_STEPS_PER_RUN} steps ran: does the definition loop?")
                if step.get("stepType") == "Wait":
                    try:
                        seconds = wait_seconds(js.fill(step["inputs"]["duration"]))
                    except ValueError as exc:
                        raise StepFailed(str(exc)) from None
                    wake = self._clock.now() + timedelta(seconds=seconds)
                    # workflowLog requires completedAt: a sleeping step's is the end of its wait.
                    log.update(completedAt=self._clock.iso(wake), status="Sleeping")
                    result.logs.append(log)
                    queue.extend([step["nextStepId"]] if step.get("nextStepId") else [])  # a last Wait sleeps too
                    result.status, result.wake_at, result.queue = "Runnable", log["completedAt"], list(queue)
                    return result
                queue.extend(self._run_step(step, js, result.data))
                log.update(completedAt=self._clock.iso(), status="Complete")
                result.logs.append(log)
            except (StepFailed, ScriptFailed) as exc:
                log.update(completedAt=self._clock.iso(), status="Failed")
                result.logs.append(log)
                result.errors.append(
                    {
                        "workflowId": workflow_id,
                        "step": step["id"],
                        "message": str(exc),
                        "errorTime": log["completedAt"],
                    }
                )
                result.status = "Terminated"
                break
        result.queue = []
        return result

    def _run_step(self, step: dict, js: WorkflowScripts, data: dict) -> list[str]:
        kind = step.get("stepType")
        if kind == "Branch":
            chosen, default = [], None
            for target, condition in (step.get("selectNextStep") or {}).items():
                if condition is None:
                    default = target
                elif is_true(js.fill(condition)):
                    chosen.append(target)
            return chosen or ([default] if default else [])
        inputs = js.fill(step.get("inputs") or {})
        if kind == "HttpRequest":
            outcome = self._http_request(inputs)
        elif kind == "ChatAppsMessage":
            outcome = self._send_message(inputs.get("subAccountId"), inputs, "WhatsApp")
        elif kind == "SMS":
            body = {
                "user": {"msisdn": inputs.get("destination")},
                "type": "text",
                "content": {"text": inputs.get("text")},
            }
            outcome = self._send_message(inputs.get("subAccountId"), body, "SMS")
        else:
            raise StepFailed(f"step type {kind!r} is not supported by the sandbox")
        js.put("step", outcome)
        for name, expression in (step.get("outputs") or {}).items():
            value = js.fill(expression)
            data[name] = value
            js.put_output(name, value)
        js.put("step", None)
        return [step["nextStepId"]] if step.get("nextStepId") else []

    def _http_request(self, inputs: dict) -> dict:
        url = inputs.get("url") or ""
        host = urlsplit(url).hostname
        if host not in LOOPBACK_HOSTS:
            raise StepFailed(f"the sandbox only calls loopback hosts, not {host!r}: point the URL at the sandbox")
        try:
            response = self._http.request(
                str(inputs.get("method", "GET")).upper(),
                url,
                headers={str(k): str(v) for k, v in (inputs.get("headers") or {}).items()},
                params=inputs.get("parameters") or None,
                json=inputs.get("body"),
                timeout=inputs.get("timeoutSeconds") or 5,
            )
        except requests.RequestException as exc:
            # 8x8's text is silent on what a timeout does; the strict reading: the step faults and
            # the run is Terminated (no responseCode for the workflow to branch on).
            raise StepFailed(f"HTTP request to {url} failed: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return {"responseCode": response.status_code, "reasonPhrase": response.reason, "responseBody": body}
