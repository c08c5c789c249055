"""The Automation API: definitions and their versions, test runs, workflow instances."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from ..errors import NotFound, TransportError
from ..payloads import part
from .http import MAX_PAGE_SIZE, Caller


def definition_identity(answer: Any) -> Any:
    """A definition as 8x8 answers it, with ``id`` and ``version`` at the top level.

    8x8's documents disagree (NOTES.md, "Where 8x8's documents disagree"): the schema puts them
    at the top level, the schema's own example and every Builder export inside ``definition``.
    Both readings are accepted; the top level wins where both are given."""
    if not isinstance(answer, dict):
        return answer
    inner = part(answer, "definition")
    lifted = {key: inner[key] for key in ("id", "version") if answer.get(key) is None and key in inner}
    return {**answer, **lifted} if lifted else answer


class AutomationAPI:
    """Automation API: workflow definitions and their runs."""

    def __init__(self, client: Caller, account: str):
        self._client = client
        self._base = f"/api/v1/accounts/{account}/definitions"

    def _call(self, method: str, path: str = "", **kwargs) -> Any:
        return self._client.json("automation", method, self._base + path, **kwargs)

    def list_definitions(self, *, page_size: int = 100) -> Iterator[dict]:
        """Every definition of the account (all pages)."""
        # paginate dedupes by a top-level id: lift it first where 8x8 put it inside "definition"
        return (
            definition_identity(d)
            for d in self._client.paginate(
                "automation", self._base, limit=page_size, id_key=lambda d: definition_identity(d).get("id")
            )
        )

    def versions(self, definition_id: str) -> list[int]:
        """The versions of a definition, oldest first."""
        return list(self.definition_versions(definition_id))

    def definition_versions(self, definition_id: str) -> dict[int, dict]:
        """Every version of a definition (the API answers them all), oldest first."""
        answer = [definition_identity(d) for d in self._call("GET", f"/{quote(definition_id, safe='')}") or []]
        return {int(d["version"]): d for d in sorted(answer, key=lambda d: int(d["version"]))}

    def list_workflows(
        self,
        definition_id: str,
        *,
        version: int | None = None,
        status: str | None = None,
        started_from: str | None = None,
        started_to: str | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict]:
        """The runs of one version (default: the latest) of a definition, newest first, all pages.

        ``started_from`` / ``started_to``: ISO 8601 bounds of the start time; ``status``:
        Runnable, Suspended, Complete or Terminated. Instances carry their ``data`` (the trigger's
        payload and every step output), not their step logs (``get_workflow`` has those).
        """
        params: dict[str, Any] = {}
        for name, value in (
            ("version", version),
            ("status", status),
            ("startTimeFrom", started_from),
            ("startTimeTo", started_to),
        ):
            if value is not None:
                params[name] = value
        return self._client.paginate(
            "automation",
            self._base + f"/{quote(definition_id, safe='')}/workflows",
            params,
            limit=limit,
            id_key="workflowId",
        )

    def create_definition(self, definition: dict) -> dict:
        return definition_identity(self._call("POST", json=definition))

    def get_definition(self, definition_id: str) -> dict:
        """The newest version of a definition (the API answers a list of versions)."""
        versions = [definition_identity(d) for d in self._call("GET", f"/{quote(definition_id, safe='')}") or []]
        if not versions:
            raise NotFound(404, "GET", self._base + f"/{definition_id}", message="no such definition")
        return max(versions, key=lambda d: d.get("version", 0))

    def update_definition(self, definition_id: str, definition: dict) -> dict:
        return definition_identity(self._call("PUT", f"/{quote(definition_id, safe='')}", json=definition))

    def delete_definition(self, definition_id: str) -> None:
        self._call("DELETE", f"/{quote(definition_id, safe='')}")

    def start_workflow(self, definition_id: str, data: dict) -> str:
        """Start a test run with a webhook-shaped body; returns the new workflow id."""
        path = self._base + f"/{quote(definition_id, safe='')}/workflows"
        response = self._client.request("automation", "POST", path, json=data, ok=(201,))
        location = response.headers.get("Location", "")
        workflow_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not workflow_id:
            raise TransportError(f"POST {path} answered 201 without a Location header")
        return workflow_id

    def get_workflow(self, definition_id: str, workflow_id: str, *, include_logs: bool = True) -> dict:
        return self._call(
            "GET",
            f"/{quote(definition_id, safe='')}/workflows/{quote(workflow_id, safe='')}",
            params={"includeLogs": str(include_logs).lower()},
        )

    def workflow_errors(self, definition_id: str, workflow_id: str) -> list[dict]:
        return (
            self._call("GET", f"/{quote(definition_id, safe='')}/workflows/{quote(workflow_id, safe='')}/errors") or []
        )
