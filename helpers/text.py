"""Sentences for people: a few of many things, named."""

from __future__ import annotations

from collections.abc import Iterable


def some_of(items: Iterable[str], shown: int = 5, sep: str = ", ") -> str:
    """The first ``shown`` items joined by ``sep``, then how many more there are: "a, b and 3 more"."""
    items = list(items)
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return sep.join(items[:shown]) + more
