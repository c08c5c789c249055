"""Contact groups: find, create, rename, mark as blacklisted, delete (mixed into ContactsBackend)."""

from __future__ import annotations

from typing import Any

from ..errors import DuplicateGroupName, InvalidRequest, NotFound
from .schema import GROUP_ID_START, PatchOperation


class Groups:
    """The group methods of ContactsBackend."""

    def _group_row(self, account: str, group_id: int):
        rows = self.store.query("SELECT * FROM groups WHERE account = ? AND id = ?", (account, group_id))
        if not rows:
            raise NotFound(f"Unable to find group with id {group_id}")
        return rows[0]

    def _render_groups(self, rows) -> list[dict]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        counts = {
            r["group_id"]: r["members"]
            for r in self.store.query(
                f"SELECT group_id, members FROM group_counts WHERE group_id IN ({','.join('?' * len(ids))})", ids
            )
        }
        out = []
        for r in rows:
            group = {
                "id": r["id"],
                "contacts": counts.get(r["id"], 0),
                "createdAt": r["created_at"],
                "name": r["name"],
                "isBlacklist": bool(r["is_blacklist"]),
            }
            if r["description"] is not None:
                group["description"] = r["description"]
            out.append(group)
        return out

    def get_group(self, account: str, group_id: int) -> dict:
        return self._render_groups([self._group_row(account, group_id)])[0]

    def search_groups(self, account: str, name: str | None, limit: int, offset: int) -> dict:
        where, params = "account = ?", [account]
        total = self.store.query("SELECT COUNT(*) AS n FROM groups WHERE account = ?", (account,))[0]["n"]
        if name:
            where += " AND instr(name_key, ?) > 0"
            params.append(name.casefold())
        filtered = self.store.query(f"SELECT COUNT(*) AS n FROM groups WHERE {where}", params)[0]["n"]
        start, envelope = self.page(total, filtered, limit, offset)
        rows = self.store.query(
            f"SELECT * FROM groups WHERE {where} ORDER BY id LIMIT ? OFFSET ?", [*params, limit, start]
        )
        return {"items": self._render_groups(rows), **envelope}

    @staticmethod
    def check_group_fields(name: Any = None, description: Any = None, *, name_required: bool) -> None:
        if name_required or name is not None:
            if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100 or len(name) > 100:
                raise InvalidRequest("Group 'name' is required: a string of 1 to 100 characters.")
        if description is not None and (not isinstance(description, str) or not 1 <= len(description) <= 100):
            raise InvalidRequest("Group 'description' must be a string of 1 to 100 characters.")

    def create_group(self, account: str, name: str, description: str | None, is_blacklist: bool) -> dict:
        self.check_group_fields(name, description, name_required=True)
        with self.store.transaction() as db:
            if db.execute(
                "SELECT 1 FROM groups WHERE account = ? AND name_key = ?", (account, name.casefold())
            ).fetchone():
                raise DuplicateGroupName()
            group_id = self.store.next_id("group", start=GROUP_ID_START)
            db.execute(
                "INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?, ?)",
                (group_id, account, name, name.casefold(), description, int(is_blacklist), self.store.clock.iso()),
            )
        return self.get_group(account, group_id)

    def update_group(self, account: str, group_id: int, operations: list[PatchOperation]) -> dict:
        """JSON Patch on name, description, isBlacklist (paths matched regardless of case)."""
        fields = {"/name": "name", "/description": "description", "/isblacklist": "isBlacklist"}
        with self.store.transaction() as db:
            row = self._group_row(account, group_id)
            group = {"name": row["name"], "description": row["description"], "isBlacklist": bool(row["is_blacklist"])}
            for op in operations:
                field = fields.get(op.path.lower())
                if field is None:
                    raise InvalidRequest(
                        f"Path {op.path!r} cannot be changed; use /name, /description or /isBlacklist."
                    )
                kind, value = op.op, op.value
                if field == "isBlacklist" and kind in ("add", "replace", "test"):
                    value = _as_bool(value)
                if kind in ("add", "replace"):
                    group[field] = value
                elif kind == "remove" and field == "description":
                    group[field] = None
                elif kind == "test":
                    if group[field] != value:
                        raise InvalidRequest(f"Test failed: {op.path} is not {value!r}; nothing was changed.")
                else:
                    raise InvalidRequest(f"Operation {kind!r} is not supported on {op.path!r}.")
            self.check_group_fields(group["name"], group["description"], name_required=True)
            clash = db.execute(
                "SELECT 1 FROM groups WHERE account = ? AND name_key = ? AND id != ?",
                (account, group["name"].casefold(), group_id),
            ).fetchone()
            if clash:
                raise DuplicateGroupName()
            db.execute(
                "UPDATE groups SET name = ?, name_key = ?, description = ?, is_blacklist = ? WHERE id = ?",
                (group["name"], group["name"].casefold(), group["description"], int(group["isBlacklist"]), group_id),
            )
        return self.get_group(account, group_id)

    def delete_group(self, account: str, group_id: int) -> None:
        with self.store.transaction() as db:
            self._group_row(account, group_id)
            db.execute("DELETE FROM groups WHERE id = ?", (group_id,))


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # 8x8's own example sends "true" as a string
    raise InvalidRequest(f"isBlacklist must be true or false, got {value!r}.")
