"""The Contacts API: groups, contacts, membership, blacklist, batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from ..errors import BadInput
from .http import MAX_PAGE_SIZE, Caller, decode_json


class ContactsAPI:
    """Contacts API: groups, contacts, membership, blacklist and batches."""

    def __init__(self, client: Caller, account: str):
        self._client = client
        self._base = f"/api/v1/accounts/{account}"

    def _call(self, method: str, path: str, **kwargs) -> Any:
        return self._client.json("contacts", method, self._base + path, **kwargs)

    # Groups
    def search_groups(self, name: str | None = None, *, limit: int = MAX_PAGE_SIZE) -> Iterator[dict]:
        """Every group whose name contains ``name`` (all pages)."""
        params = {"name": name} if name else {}
        return self._client.paginate("contacts", self._base + "/groups", params, limit=limit)

    def count_groups(self) -> int:
        """How many groups the account has: one small read (a harmless connection check)."""
        return self._call("GET", "/groups", params={"limit": 1, "offset": 0})["totalCount"]

    def create_group(self, name: str, description: str | None = None, *, is_blacklist: bool = False) -> dict:
        body: dict[str, Any] = {"name": name, "isBlacklist": is_blacklist}
        if description:
            body["description"] = description
        return self._call("POST", "/groups", json=body)

    def get_group(self, group_id: int) -> dict:
        return self._call("GET", f"/groups/{int(group_id)}")

    def update_group(self, group_id: int, operations: list[dict]) -> dict:
        """Apply JSON Patch operations, e.g. ``[{"op": "replace", "path": "/isBlacklist", "value": True}]``."""
        return self._call("PATCH", f"/groups/{int(group_id)}", json=operations)

    def delete_group(self, group_id: int) -> None:
        self._call("DELETE", f"/groups/{int(group_id)}")

    # Contacts
    def upsert_contact(
        self, msisdn: str | None = None, *, addresses: dict | None = None, group_ids: Iterable[int] = (), **fields: str
    ) -> tuple[dict, bool]:
        """Create a contact, or merge into the one sharing an address. Returns (contact, created)."""
        addresses = dict(addresses or {})
        if msisdn is not None:
            addresses["msisdn"] = msisdn
        body: dict[str, Any] = {"addresses": addresses, **fields}
        groups = [{"id": int(g)} for g in group_ids]
        if groups:
            body["groups"] = groups
        response = self._client.request("contacts", "POST", self._base + "/contacts", json=body, ok=(200, 201))
        return decode_json(response, "POST", self._base + "/contacts"), response.status_code == 201

    def get_contact(self, contact_id: int) -> dict:
        return self._call("GET", f"/contacts/{int(contact_id)}")

    def search_contacts(
        self,
        query: str | None = None,
        *,
        group_id: int | None = None,
        country: str | None = None,
        limit: int = MAX_PAGE_SIZE,
        idle: Callable[[], bool] | None = None,
    ) -> Iterator[dict]:
        params: dict[str, Any] = {}
        if query:
            params["query"] = query
        if group_id is not None:
            params["groupId"] = int(group_id)
        if country:
            params["country"] = country
        return self._client.paginate("contacts", self._base + "/contacts", params, limit=limit, idle=idle)

    def group_members(
        self, group_id: int, *, limit: int = MAX_PAGE_SIZE, idle: Callable[[], bool] | None = None
    ) -> Iterator[dict]:
        """Every contact in the group (all pages; ``idle``: see Client.in_parallel)."""
        return self.search_contacts(group_id=group_id, limit=limit, idle=idle)

    # Membership: never deletes contacts
    def add_to_group(self, group_id: int, contact_ids: Iterable[int]) -> dict:
        return self._call("POST", f"/groups/{int(group_id)}/contacts", json={"contacts": [int(c) for c in contact_ids]})

    def remove_from_group(self, group_id: int, contact_ids: Iterable[int]) -> dict:
        """Take contacts out of the group. The contacts themselves are kept."""
        return self._call(
            "DELETE", f"/groups/{int(group_id)}/contacts", json={"contacts": [int(c) for c in contact_ids]}
        )

    def blacklist_msisdn(self, msisdn: str) -> None:
        self._call("POST", f"/contacts/blacklist/{quote(msisdn, safe='')}")

    # Batches
    def delete_contacts_batch(self, *, ids: Iterable[int] = (), msisdns: Iterable[str] = ()) -> dict:
        """Delete whole contacts (not only memberships). Never use it to undo an opt-out."""
        body = {"ids": [int(i) for i in ids], "msisdns": list(msisdns)}
        if not body["ids"] and not body["msisdns"]:
            raise BadInput("delete_contacts_batch needs ids or msisdns; it never deletes every contact")
        return self._call("POST", "/contacts/batches/deleteContacts", json=body)

    def batch_status(self, batch_id: str) -> dict:
        return self._call("GET", f"/batches/{quote(batch_id, safe='')}")
