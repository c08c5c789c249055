"""The sandbox's workflow engine: runs a definition's steps against a context ``data``.

``{{ }}`` values are JavaScript, evaluated by QuickJS (a real engine, as on the platform):
a value that is one template keeps its type, a string with templates inside is interpolated.
HttpRequest steps make real HTTP requests, to loopback hosts only (the sandbox calls no one
outside this machine); ChatAppsMessage and SMS steps go through the sandbox's Messaging API.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

import requests

from ...expressions import Expressions, ExpressionError, truthy

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_STEPS_PER_RUN = 100  # guards against a definition whose steps loop forever


class StepFailed(Exception):
    pass


@dataclass
class RunResult:
    status: str  # Complete or Terminated
    data: dict
    logs: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


class WorkflowEngine:
    def __init__(self, *, now: Callable[[], str], new_id: Callable[[], str],
                 send_message: Callable[[str, dict, str], dict], http: requests.Session | None = None):
        self._now = now
        self._new_id = new_id
        self._send_message = send_message
        self._http = http or requests.Session()

    def run(self, steps: list[dict], data: dict, workflow_id: str) -> RunResult:
        result = RunResult(status="Complete", data=data)
        if not steps:
            return result
        by_id = {s["id"]: s for s in steps}
        js = Expressions(data)
        queue: deque[str] = deque([steps[0]["id"]])
        executed = 0
        while queue:
            step = by_id[queue.popleft()]
            executed += 1
            started = self._now()
            log = {"id": self._new_id(), "stepName": step["id"], "startedAt": started}
            try:
                if executed > MAX_STEPS_PER_RUN:
                    raise StepFailed(f"more than {MAX_STEPS_PER_RUN} steps ran: does the definition loop?")
                queue.extend(self._run_step(step, js, data))
                log.update(completedAt=self._now(), status="Complete")
                result.logs.append(log)
            except (StepFailed, ExpressionError) as exc:
                log.update(completedAt=self._now(), status="Failed")
                result.logs.append(log)
                result.errors.append({"workflowId": workflow_id, "step": step["id"], "message": str(exc),
                                      "errorTime": log["completedAt"]})
                result.status = "Terminated"
                break
        return result

    def _run_step(self, step: dict, js: Expressions, data: dict) -> list[str]:
        kind = step.get("stepType")
        if kind == "Branch":
            chosen, default = [], None
            for target, condition in (step.get("selectNextStep") or {}).items():
                if condition is None:
                    default = target
                elif truthy(js.render(condition)):
                    chosen.append(target)
            return chosen or ([default] if default else [])
        inputs = js.render(step.get("inputs") or {})
        if kind == "HttpRequest":
            outcome = self._http_request(inputs)
        elif kind == "ChatAppsMessage":
            outcome = self._send_message(inputs.get("subAccountId"), inputs, "WhatsApp")
        elif kind == "SMS":
            body = {"user": {"msisdn": inputs.get("destination")}, "type": "text", "content": {"text": inputs.get("text")}}
            outcome = self._send_message(inputs.get("subAccountId"), body, "SMS")
        elif kind == "Wait":
            outcome = {}  # the sandbox does not sleep: time is the sandbox clock's business
        else:
            raise StepFailed(f"step type {kind!r} is not supported by the sandbox")
        js.set("step", outcome)
        for name, expression in (step.get("outputs") or {}).items():
            value = js.render(expression)
            data[name] = value
            js.set_data(name, value)
        js.set("step", None)
        return [step["nextStepId"]] if step.get("nextStepId") else []

    def _http_request(self, inputs: dict) -> dict:
        url = inputs.get("url") or ""
        host = urlsplit(url).hostname
        if host not in LOOPBACK_HOSTS:
            raise StepFailed(f"the sandbox only calls loopback hosts, not {host!r}: point the URL at the sandbox")
        try:
            response = self._http.request(str(inputs.get("method", "GET")).upper(), url,
                                          headers={str(k): str(v) for k, v in (inputs.get("headers") or {}).items()},
                                          params=inputs.get("parameters") or None,
                                          json=inputs.get("body"), timeout=inputs.get("timeoutSeconds") or 5)
        except requests.RequestException as exc:
            raise StepFailed(f"HTTP request to {url} failed: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return {"responseCode": response.status_code, "reasonPhrase": response.reason, "responseBody": body}
