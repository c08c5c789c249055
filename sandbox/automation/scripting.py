"""The sandbox's own evaluation of ``{{ }}`` workflow values, in QuickJS (a real JavaScript engine).

8x8's text (../shared/8x8-api/NOTES.md, "Automation API"): values inside ``{{ }}`` are JavaScript
over the workflow context ``data`` (and, in outputs, ``step``). A value that is exactly one
template yields the script's value with its type (``"{{step.responseCode}}"`` is 201, not "201");
templates inside a longer string are interpolated as text. Each script gets 8x8's run-time limit
(500 ms, then it is stopped and the step fails) and 8x8's own functions (stringContains, ...),
from the leaf ``connect_rules`` that both sides read; nothing here comes from the library.
"""

from __future__ import annotations

import json
import re
from typing import Any

import quickjs

from connect_rules import functions
from connect_rules.scripts import MAX_SCRIPT_RUN_MS

_ONE_SCRIPT = re.compile(r"\A\s*\{\{(?P<script>(?:(?!\{\{).)*?)\}\}\s*\Z", re.S)
_SCRIPTS = re.compile(r"\{\{(?P<script>.*?)\}\}", re.S)
MEMORY_LIMIT = 64 * 1024 * 1024  # the sandbox's own bound; 8x8 documents none


class ScriptFailed(Exception):
    """A script threw, or ran past 8x8's limit: the step fails and the run is Terminated.

    Strict reading, where 8x8's text is silent: a script that throws (the SMS Opt-Out tutorial's
    ``{{data.payload.recipient.channelId}}`` over an SMS webhook, which has no ``recipient``: a
    TypeError) fails its step; it is never rendered as an empty string that a request would carry on
    with. So the tutorial's SMS flow loses every STOP here as it would on 8x8, visibly, in its errors."""


class WorkflowScripts:
    """One run's JavaScript context: ``data`` lives in it for the whole run, ``step`` while a
    step's outputs are read."""

    def __init__(self, data: dict):
        self._context = quickjs.Context()
        self._context.set_memory_limit(MEMORY_LIMIT)
        functions.install(self._context)
        self._context.eval("var data = " + json.dumps(data) + "; var step = null;")
        self._context.set_time_limit(MAX_SCRIPT_RUN_MS / 1000)

    def put(self, name: str, value: Any) -> None:
        """``step`` (or another context variable) for the scripts that follow."""
        self._context.eval(f"{name} = {json.dumps(value)};")

    def put_output(self, key: str, value: Any) -> None:
        """An output written into ``data``, as later steps see it."""
        self._context.eval(f"data[{json.dumps(key)}] = {json.dumps(value)};")

    def run(self, script: str) -> Any:
        try:
            answer = self._context.eval(f"JSON.stringify(({script}))")
        except quickjs.JSException as exc:
            stopped = "interrupted" in str(exc)
            reason = f"ran longer than {MAX_SCRIPT_RUN_MS} ms and was stopped" if stopped else f"threw: {exc}"
            raise ScriptFailed(f"script {{{{{script.strip()[:80]}}}}} {reason}") from None
        return None if answer is None else json.loads(answer)

    def fill(self, value: Any) -> Any:
        """``value`` (a step's inputs, an output, a condition) with every template evaluated."""
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if not isinstance(value, str):
            return value
        whole = _ONE_SCRIPT.match(value)
        if whole:
            return self.run(whole["script"])
        return _SCRIPTS.sub(lambda m: _text(self.run(m["script"])), value)


def is_true(value: Any) -> bool:
    """A condition's value as JavaScript tests it (an empty array or object is true)."""
    return value is not None and value is not False and value != 0 and value != ""


def _text(value: Any) -> str:
    """A script's value inside a longer string, as JavaScript's String() writes it for JSON values."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
