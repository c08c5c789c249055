"""JavaScript for ``{{ }}`` workflow values, evaluated by QuickJS, a real JavaScript engine.

A value that is one template keeps its type (``"{{step.responseCode}}"`` -> 201); a string
with templates inside is interpolated. Used by the sandbox's workflow engine and by the
notebooks' previews of what a template yields for a sample message.
"""

from __future__ import annotations

import json
import re
from typing import Any

import quickjs

from connect_rules import functions as script_functions
from connect_rules.scripts import MAX_SCRIPT_RUN_MS, TEMPLATE

from .errors import EightByEightError

WHOLE_TEMPLATE = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.S)


class ExpressionError(EightByEightError):
    """A {{ }} script failed in QuickJS (a syntax error, a thrown error)."""


class ScriptTimeout(ExpressionError):
    """A script ran longer than 8x8 allows (500 ms): the platform stops it and the step fails."""


class Expressions:
    """A QuickJS context holding ``data`` (and ``step`` while a step's outputs are read)."""

    def __init__(self, data: dict):
        self._js = quickjs.Context()
        self._js.set_memory_limit(64 * 1024 * 1024)
        script_functions.install(self._js)  # 8x8's own functions: stringContains, isCountryCode, ...
        self._js.eval(f"var data = {json.dumps(data)}; var step = null;")
        self._js.set_time_limit(MAX_SCRIPT_RUN_MS / 1000)  # each eval (one script) gets 500 ms

    def set(self, name: str, value: Any) -> None:
        self._js.eval(f"{name} = {json.dumps(value)};")

    def set_data(self, key: str, value: Any) -> None:
        self._js.eval(f"data[{json.dumps(key)}] = {json.dumps(value)};")

    def evaluate(self, expression: str) -> Any:
        try:
            raw = self._js.eval(f"JSON.stringify(({expression}))")
        except quickjs.JSException as exc:
            if "interrupted" in str(exc):
                raise ScriptTimeout(
                    f"script {{{{{expression.strip()[:80]}}}}} ran longer than {MAX_SCRIPT_RUN_MS} ms and was stopped"
                ) from None
            raise ExpressionError(f"expression {{{{{expression.strip()[:80]}}}}} failed: {exc}") from None
        return None if raw is None else json.loads(raw)

    def render(self, value: Any) -> Any:
        """Evaluate every template inside a JSON value."""
        if isinstance(value, str):
            whole = WHOLE_TEMPLATE.match(value)
            if whole and "{{" not in whole.group(1):
                return self.evaluate(whole.group(1))
            return TEMPLATE.sub(lambda m: _as_text(self.evaluate(m.group(1))), value)
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        return value


def render(value: Any, data: dict) -> Any:
    """What ``value``'s templates yield for this workflow context."""
    return Expressions(data).render(value)


def truthy(value: Any) -> bool:
    """JavaScript's truthiness of a JSON value ([] and {} are true there)."""
    return value not in (False, None, 0, "")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
