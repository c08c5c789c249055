"""8x8's JSON taken as 8x8 gave it: a part that is absent, null or not an object reads as empty."""

from __future__ import annotations

from typing import Any


def part(value: Any, key: str) -> dict[str, Any]:
    """``value[key]`` when ``value`` is an object and that is an object too; else an empty dict."""
    if not isinstance(value, dict):
        return {}
    found = value.get(key)
    return found if isinstance(found, dict) else {}
